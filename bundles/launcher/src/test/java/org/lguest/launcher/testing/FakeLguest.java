package org.lguest.launcher.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.lguest.lg.ControlException;
import org.lguest.lg.GuestControl;
import org.lguest.lg.GuestInfo;
import org.lguest.lg.LguestControl;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.ControlRequests;
import org.lguest.lg.abi.LguestDma;
import org.lguest.mmu.GuestMemory;

/**
 * A stand-in for lg-module's control interface that keeps its rules (owner
 * thread, slots, BREAK, GETDMA with the IRQ in used_len) and plays a
 * scripted guest: each {@link Step} is what the next {@code run()} does.
 * Guest "code" writes its DMA descriptors into a scratch area at 0x200000.
 */
public final class FakeLguest implements LguestControl {
    public static final int SCRATCH = 0x200000;
    public static final int INPUT_DMA = SCRATCH + 0x1000;
    public static final int INPUT_BUFFER = SCRATCH + 0x2000;
    public static final int OUTPUT_DMA = SCRATCH + 0x3000;
    public static final int OUTPUT_BUFFER = SCRATCH + 0x4000;

    /** What the guest does in one run(). */
    public sealed interface Step {
    }

    /** SEND_DMA to key 0 of {@code text}. */
    public record Print(String text) implements Step {
    }

    /** BIND_DMA of one {@code size}-byte input buffer at key 0 with {@code irq}; no exit. */
    public record BindInput(int size, int irq) implements Step {
    }

    /** Halts until {@code bytes} of input arrived (re-arming its buffer after each IRQ), then echoes it. */
    public record ReadInput(int bytes) implements Step {
    }

    /** Dies with {@code reason}. */
    public record Die(String reason) implements Step {
    }

    /** Keeps running (returns only on BREAK), until the test adds steps. */
    public record Idle() implements Step {
    }

    public final List<Guest> opened = new CopyOnWriteArrayList<>();
    private final int slots;

    public FakeLguest() {
        this(ControlRequests.MAX_GUESTS);
    }

    public FakeLguest(int slots) {
        this.slots = slots;
    }

    @Override
    public GuestControl open() {
        Guest g = new Guest();
        opened.add(g);
        return g;
    }

    @Override
    public synchronized List<GuestInfo> guests() {
        List<GuestInfo> list = new ArrayList<>();
        for (Guest g : opened) {
            if (g.initialized && !g.closed) {
                list.add(g.info());
            }
        }
        return list;
    }

    private synchronized int takeSlot() {
        boolean[] used = new boolean[slots];
        for (Guest g : opened) {
            if (g.initialized && !g.closed) {
                used[g.slot] = true;
            }
        }
        for (int i = 0; i < slots; i++) {
            if (!used[i]) {
                return i;
            }
        }
        return -1;
    }

    public final class Guest implements GuestControl {
        public final BlockingQueue<Step> steps = new LinkedBlockingQueue<>();
        public final StringBuilder received = new StringBuilder();
        public final List<Integer> irqs = new CopyOnWriteArrayList<>();
        public final List<Integer> outputUsedLens = new CopyOnWriteArrayList<>();
        public volatile boolean initialized;
        public volatile boolean closed;
        public volatile int slot = -1;
        public volatile String name;
        public volatile GuestMemory memory;
        public volatile int pgdir;
        public volatile int start;
        public volatile int pageOffset;
        public volatile int breaks;
        private Thread owner;
        private volatile boolean breakOut;
        private RunResult.Dead dead;
        private int inputIrq = -1;
        private int inputSize;
        private boolean pendingSend;
        private int lastSendLength;
        private int consumedIrqs;
        private long exits;
        private long hypercalls;
        private final long startNanos = System.nanoTime();

        private void owned() {
            if (Thread.currentThread() != owner) {
                throw new ControlException(ControlException.Code.EPERM, "not the thread that initialized the guest");
            }
        }

        @Override
        public void initialize(org.lguest.lg.GuestSetup setup) {
            initialize(setup.name(), setup.memory(), setup.pgdir(), setup.start(), setup.pageOffset());
        }

        @Override
        public void completeIo(int value) {
            owned();
        }

        @Override
        public void initialize(String name, GuestMemory memory, int pgdir, int start, int pageOffset) {
            synchronized (FakeLguest.this) {
                if (initialized) {
                    throw new ControlException(ControlException.Code.EBUSY, "already initialized");
                }
                int s = takeSlot();
                if (s < 0) {
                    throw new ControlException(ControlException.Code.ENOSPC, "every guest slot is taken");
                }
                this.slot = s;
                this.name = name;
                this.memory = memory;
                this.pgdir = pgdir;
                this.start = start;
                this.pageOffset = pageOffset;
                this.owner = Thread.currentThread();
                initialized = true;
            }
        }

        @Override
        public int getDma(int key) {
            owned();
            if (key != LguestDma.CONSOLE_KEY || inputIrq < 0 || memory.readU32(INPUT_DMA) != 0) {
                return -1;
            }
            memory.writeU32(INPUT_DMA, inputIrq);
            return INPUT_DMA;
        }

        @Override
        public void irq(int irq) {
            owned();
            if (irq < 0 || irq >= 32) {
                throw new ControlException(ControlException.Code.EINVAL, "irq " + irq);
            }
            irqs.add(irq);
            synchronized (this) {
                notifyAll();
            }
        }

        @Override
        public void breakOn() {
            synchronized (this) {
                breakOut = true;
                notifyAll();
            }
        }

        @Override
        public void breakOff() {
            synchronized (this) {
                breakOut = false;
                notifyAll();
            }
        }

        @Override
        public RunResult run() throws InterruptedException {
            owned();
            if (!initialized) {
                throw new ControlException(ControlException.Code.EINVAL, "not initialized");
            }
            if (dead != null) {
                return dead;
            }
            if (pendingSend) {
                pendingSend = false;
                outputUsedLens.add(memory.readU32(OUTPUT_DMA + LguestDma.USED_LEN));
            }
            while (true) {
                exits++;
                synchronized (this) {
                    if (breakOut) {
                        breaks++;
                        return new RunResult.Break();
                    }
                }
                Step step = steps.peek();
                if (step == null || step instanceof Idle) {
                    synchronized (this) {
                        if (!breakOut) {
                            wait(50);
                        }
                    }
                    if (step instanceof Idle && steps.size() > 1) {
                        steps.poll();
                    }
                    continue;
                }
                switch (step) {
                    case Print p -> {
                        steps.poll();
                        return print(p.text());
                    }
                    case BindInput b -> {
                        steps.poll();
                        hypercalls++;
                        inputSize = b.size();
                        inputIrq = b.irq();
                        memory.writeU32(INPUT_DMA + LguestDma.USED_LEN, 0);
                        memory.writeU32(INPUT_DMA + LguestDma.ADDR, INPUT_BUFFER);
                        memory.writeU16(INPUT_DMA + LguestDma.LEN, inputSize);
                    }
                    case ReadInput r -> {
                        int used = memory.readU32(INPUT_DMA + LguestDma.USED_LEN);
                        if (irqs.size() > consumedIrqs) {
                            consumedIrqs = irqs.size();
                            received.append(new String(memory.read(INPUT_BUFFER, used), StandardCharsets.UTF_8));
                            memory.writeU32(INPUT_DMA + LguestDma.USED_LEN, 0); // re-arm
                        }
                        if (received.length() >= r.bytes()) {
                            steps.poll();
                            return print("echo:" + received);
                        }
                        synchronized (this) {
                            if (!breakOut) {
                                wait(20);
                            }
                        }
                    }
                    case Die d -> {
                        steps.poll();
                        dead = new RunResult.Dead(d.reason());
                        return dead;
                    }
                    case Idle i -> throw new AssertionError();
                }
            }
        }

        private RunResult print(String text) {
            hypercalls++;
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            memory.write(OUTPUT_BUFFER, bytes);
            memory.writeU32(OUTPUT_DMA + LguestDma.USED_LEN, 0);
            memory.writeU32(OUTPUT_DMA + LguestDma.ADDR, OUTPUT_BUFFER);
            memory.writeU16(OUTPUT_DMA + LguestDma.LEN, bytes.length);
            memory.writeU16(OUTPUT_DMA + LguestDma.LEN + 2, 0);
            pendingSend = true;
            lastSendLength = bytes.length;
            return new RunResult.Dma(OUTPUT_DMA, LguestDma.CONSOLE_KEY);
        }

        @Override
        public GuestInfo info() {
            return new GuestInfo(slot, name, dead == null ? "running" : "dead: " + dead.reason(),
                    memory == null ? 0 : memory.limitBytes(), startNanos, exits, hypercalls);
        }

        @Override
        public void close() {
            if (initialized) {
                owned();
            }
            closed = true;
        }

        /** Waits until the guest was closed. */
        public boolean awaitClosed(long millis) throws InterruptedException {
            long end = System.currentTimeMillis() + millis;
            while (!closed && System.currentTimeMillis() < end) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            return closed;
        }
    }
}
