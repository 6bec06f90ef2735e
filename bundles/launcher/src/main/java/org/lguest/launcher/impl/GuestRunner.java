package org.lguest.launcher.impl;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.impl.virtio.IoSpace;
import org.lguest.lg.ControlException;
import org.lguest.lg.GuestControl;
import org.lguest.lg.GuestInfo;
import org.lguest.lg.LguestControl;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.DevicePage;
import org.lguest.lg.abi.DmaSections;
import org.lguest.lg.abi.LguestDma;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * One guest and its thread: the 2.6.23 Launcher's {@code main} loop after
 * INITIALIZE. The thread opens the control file, INITIALIZEs (so it owns
 * the guest), then calls {@link GuestControl#run()} until the guest dies:
 * a DMA is handed to the device that watches its key and the sender's
 * used_len is written; a Break means input is waiting: it is placed with
 * GETDMA, the copy and IRQ, then BREAK off.
 *
 * <p>Input from other threads (device back ends, the shell) is queued and
 * the guest's thread woken with BREAK on, as the Waker did.
 */
final class GuestRunner implements Guest {
    private static final System.Logger LOG = System.getLogger(GuestRunner.class.getName());

    private final int id;
    private final GuestSpec spec;
    private final GuestImage image;
    private final LguestControl lguest;
    private final List<LauncherDevice> devices = new ArrayList<>();
    private final Consumer<GuestRunner> onEnd;

    /** Work other threads hand to the guest's thread (deliveries, above all), done between two runs of the guest. */
    private final java.util.concurrent.LinkedBlockingQueue<GuestTask> inputs = new java.util.concurrent.LinkedBlockingQueue<>();
    /** Wakes the guest's thread waiting for a request's answer (GuestRunner.await); does nothing when run. */
    private static final GuestTask NUDGE = new GuestTask(() -> 0, new CompletableFuture<>());
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<End> ending = new CompletableFuture<>();
    private final AtomicReference<GuestInfo> lastInfo = new AtomicReference<>();
    private final List<String> events = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private volatile long endNanos;

    /** A 4.x guest's buses (ports, PCI configuration, BAR windows), set before it starts; a 2.6.23 guest makes no port or MMIO exits. */
    private volatile IoSpace io;
    /** Run on the guest's thread as it ends, before the devices close (flushes what a device still holds). */
    private final List<Runnable> beforeEnd = new ArrayList<>();
    private Thread thread;
    private volatile GuestControl control;
    /** Set by the guest's thread once INITIALIZE succeeded, before it first looks at the input queue. */
    private volatile boolean running;
    private volatile boolean ended;
    private volatile boolean stopRequested;
    /** Paused by suspend(): the guest's thread runs no guest code until resume(). */
    private volatile boolean paused;
    /** The power button's descriptor address and IRQ (a 2.6.23 guest), or 0. */
    private volatile int powerDescriptor, powerIrq;
    /** A restart was asked for: a power-off then means "start again". */
    private volatile boolean restartRequested;
    private final Object pauseLock = new Object();
    private volatile State state = State.RUNNING;
    private volatile String endReason;

    /** One piece of work for the guest's thread and its answer (for a delivery: the bytes placed, or -1). */
    private record GuestTask(java.util.function.IntSupplier work, CompletableFuture<Integer> done) {
    }

    GuestRunner(int id, GuestSpec spec, GuestImage image, LguestControl lguest, Consumer<GuestRunner> onEnd) {
        this.id = id;
        this.spec = spec;
        this.image = image;
        this.lguest = lguest;
        this.onEnd = onEnd;
    }

    /** Sets what a 4.x guest's I/O reaches; before {@link #start()}. */
    void setIo(IoSpace io) {
        this.io = io;
    }

    /** Adds work for the guest's thread as the guest ends, before its devices close; before {@link #start()}. */
    void beforeEnd(Runnable work) {
        beforeEnd.add(work);
    }

    void addDevice(LauncherDevice device) {
        devices.add(device);
    }

    List<LauncherDevice> devices() {
        return devices;
    }

    GuestMemory memory() {
        return image.memory;
    }

    /** Starts the guest's thread and waits until INITIALIZE succeeded or failed. */
    void start() throws LaunchException {
        thread = Thread.ofPlatform().name("lguest-guest-" + id + "-" + spec.name()).daemon().unstarted(this::main);
        thread.start();
        try {
            started.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ControlException ce && ce.code() == ControlException.Code.ENOSPC) {
                throw new LaunchException("no free guest slot: the host runs at most " + lguest.maxGuests()
                        + " guests (" + ce.getMessage() + ")", ce);
            }
            throw new LaunchException("INITIALIZE failed: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new LaunchException("interrupted while starting the guest", e);
        }
    }

    private void main() {
        GuestControl c;
        try {
            c = lguest.open();
            control = c;
            c.initialize(image.setup(spec.name()));
        } catch (RuntimeException | Error e) {
            finish(State.DEAD, "INITIALIZE failed: " + e.getMessage(), false);
            started.completeExceptionally(e);
            return;
        }
        running = true;
        started.complete(null);
        State endState = State.STOPPED;
        String reason = "stopped";
        try {
            while (!stopRequested) {
                if (paused) {
                    waitWhilePaused();
                    continue;
                }
                // Reset before looking at the queue: a delivery queued after this look wakes the next run() itself.
                wakePending.set(false);
                serviceInputs();
                RunResult result = c.run();
                if (result instanceof RunResult.Dma dma) {
                    handleDma(dma);
                } else if (result instanceof RunResult.PortIo p) {
                    IoSpace io = ioSpace();
                    if (p.out()) {
                        io.portOut(p.port(), p.size(), p.value());
                    } else {
                        c.completeIo(io.portIn(p.port(), p.size()));
                    }
                } else if (result instanceof RunResult.Mmio m) {
                    IoSpace io = ioSpace();
                    if (m.write()) {
                        io.mmioWrite(m.address(), m.size(), m.value());
                    } else {
                        c.completeIo(io.mmioRead(m.address(), m.size()));
                    }
                } else if (result instanceof RunResult.Break) {
                    wakePending.set(false);
                    serviceInputs();
                    c.breakOff();
                } else if (result instanceof RunResult.Dead dead) {
                    endState = dead.poweredOff() || dead.reason().startsWith(RESTART_REASON) ? State.POWERED_OFF : State.DEAD;
                    reason = dead.reason();
                    break;
                }
            }
        } catch (InterruptedException e) {
            if (!stopRequested) {
                endState = State.DEAD;
                reason = "Launcher: the guest's thread was interrupted";
            }
        } catch (GuestViolationException e) {
            endState = State.DEAD;
            reason = "Launcher: " + e.getMessage();
        } catch (RuntimeException | Error e) {
            endState = State.DEAD;
            reason = "Launcher: " + e;
            LOG.log(System.Logger.Level.ERROR, "guest " + id + ": the run loop failed", e);
        }
        for (Runnable r : beforeEnd) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest {0}: ending: {1}", id, e.toString());
            }
        }
        finish(endState, reason, true);
    }

    private IoSpace ioSpace() {
        IoSpace s = io;
        if (s == null) {
            throw new GuestViolationException("the guest used an I/O port or device memory, which a 2.6.23 guest has not");
        }
        return s;
    }

    /**
     * Output from the guest: the DMA's sections, checked, become a request
     * to the device watching the key; the sender's used_len is its answer.
     * The guest waits for it (a DMA-era send is synchronous), and meanwhile
     * this thread serves deliveries, which a model may need to answer.
     */
    private void handleDma(RunResult.Dma dma) throws InterruptedException {
        GuestMemory m = image.memory;
        int at = dma.dma();
        DmaSections sections = DmaSections.read(m, at);
        LauncherDevice device = deviceForKey(dma.key());
        int used;
        if (device == null) {
            event(String.format("DMA to unknown key 0x%x ignored", dma.key()));
            used = 0;
        } else {
            LauncherRequest r = new LauncherRequest(dma.key(), sections.views(m), this::nudge);
            device.output(r);
            used = await(r);
        }
        m.writeU32(at + LguestDma.USED_LEN, used);
    }

    /** Until {@code r} is answered: serves the queue (deliveries, abandon actions), woken by the answer. */
    private int await(LauncherRequest r) throws InterruptedException {
        while (!r.isDone()) {
            GuestTask t = inputs.poll(100, TimeUnit.MILLISECONDS);
            if (t != null && t != NUDGE) {
                try {
                    t.done().complete(t.work().getAsInt());
                } catch (RuntimeException e) {
                    t.done().complete(-1);
                    throw e;
                }
            }
        }
        return r.answer().join();
    }

    /** While paused: no guest code runs; work for the guest's thread (deliveries, completions) is still done. */
    private void waitWhilePaused() throws InterruptedException {
        while (paused && !stopRequested) {
            serviceInputs();
            synchronized (pauseLock) {
                if (paused && !stopRequested) {
                    pauseLock.wait(50);
                }
            }
        }
    }

    /** The power button of a 2.6.23 guest: its descriptor in the device page and its interrupt. */
    void powerButton(int descriptorAddress, int irq) {
        powerDescriptor = descriptorAddress;
        powerIrq = irq;
    }

    @Override
    public Optional<String> requestShutdown(boolean restart) {
        if (ended) {
            return Optional.empty();
        }
        restartRequested = restart; // the last request counts: a reboot ignored, then a shutdown, is a shutdown
        String line = restart ? "reboot" : "poweroff";
        if (powerIrq > 0) {
            int ask = restart ? DevicePage.POWER_RESTART : DevicePage.POWER_OFF;
            execute(() -> {
                image.memory.writeU16(powerDescriptor + DevicePage.FEATURES, ask);
                raiseIrq(powerIrq);
            });
            return Optional.of("the power button (" + line + ")");
        }
        // busybox's forced forms sync the disks and need no init daemon (the test initramfs's init is a shell)
        String typed = line + " -f";
        if (input("console", (typed + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            return Optional.of("\"" + typed + "\" typed on its console (lguest 4.x has no power button)");
        }
        return Optional.empty();
    }

    /** Whether this guest's end means "start it again": a restart asked for, or one it made itself (4.x). */
    boolean endsInRestart(End end) {
        return end.poweredOff() && (restartRequested || end.reason().startsWith(RESTART_REASON));
    }

    /** How lg-module ends a 4.x guest that asked to restart (LHCALL_SHUTDOWN, reason restart). */
    static final String RESTART_REASON = "SHUTDOWN (restart)";

    @Override
    public boolean suspend() {
        if (ended) {
            return false;
        }
        paused = true;
        GuestControl c = control;
        if (c != null && running) {
            try {
                c.breakOn(); // out of run(): the loop then waits
            } catch (RuntimeException e) {
                // ended meanwhile
            }
        }
        return true;
    }

    @Override
    public boolean resume() {
        if (!paused) {
            return false;
        }
        paused = false;
        synchronized (pauseLock) {
            pauseLock.notifyAll();
        }
        return true;
    }

    @Override
    public boolean isPaused() {
        return paused && !ended;
    }

    /** A request was answered: wake this guest's thread if another thread answered. */
    private void nudge() {
        if (Thread.currentThread() != thread) {
            inputs.offer(NUDGE);
        }
    }

    private LauncherDevice deviceForKey(int key) {
        for (LauncherDevice d : devices) {
            if (d.watchKey() == key) {
                return d;
            }
        }
        return null;
    }

    // ---- input ---------------------------------------------------------

    /**
     * A back end found, off the guest's thread (replaying output held during a
     * driver swap), that the guest asked for something it must not: the
     * guest's thread ends it with this reason at its next turn.
     */
    void violation(String reason) {
        submit(new GuestTask(() -> {
            throw new GuestViolationException(reason);
        }, new CompletableFuture<>()));
    }

    /** Queues work for the guest's thread and gets it out of run() (a BREAK) if it is in there. */
    private void submit(GuestTask task) {
        inputs.add(task);
        if (ended) {
            failPendingInputs();
        } else if (running && wakePending.compareAndSet(false, true)) {
            try {
                control.breakOn();
            } catch (RuntimeException e) {
                // The guest died or is being closed: its thread fails the queue.
                wakePending.set(false);
            }
        }
    }

    /** DeviceContext.deliver for the DMA transport: GETDMA, the copy and the IRQ (see {@link #onGuestThread}). */
    int deliver(int key, ByteBuffer data) {
        return onGuestThread(() -> place(key, data));
    }

    /**
     * Runs {@code work} on the guest's thread, between two runs of the guest,
     * and returns its answer: directly when called there, from any other
     * thread through the queue and a BREAK, waiting for it. -1 when the guest
     * has ended (the work is not done).
     */
    int onGuestThread(java.util.function.IntSupplier work) {
        if (Thread.currentThread() == thread) {
            return work.getAsInt();
        }
        if (ended) {
            return -1;
        }
        GuestTask request = new GuestTask(work, new CompletableFuture<>());
        submit(request);
        try {
            while (true) {
                try {
                    return request.done().get(200, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (ended) {
                        failPendingInputs();
                    }
                }
            }
        } catch (InterruptedException e) {
            // Withdraw the request if the guest's thread has not taken it; if it has, the answer is moments away.
            Thread.currentThread().interrupt();
            if (inputs.remove(request)) {
                return -1;
            }
            return request.done().join();
        } catch (ExecutionException e) {
            return -1;
        }
    }

    /**
     * On the guest's thread at its next turn: {@code before}, then an
     * empty delivery at {@code key}. Returns at once (the request
     * timeout's answer for a device whose driver stays away).
     */
    void abandon(Runnable before, int key) {
        submit(new GuestTask(() -> {
            before.run();
            return place(key, ByteBuffer.allocate(0));
        }, new CompletableFuture<>()));
    }

    /**
     * The guest's thread as an Executor (for a virtio device's completions
     * made on other threads): queued, and the guest woken with a BREAK; work
     * for an ended guest is dropped.
     */
    void execute(Runnable work) {
        submit(new GuestTask(() -> {
            work.run();
            return 0;
        }, new CompletableFuture<>()));
    }

    /** Raises interrupt {@code irq} in the guest (LHREQ_IRQ). */
    void raiseIrq(int irq) {
        GuestControl c = control;
        if (c != null && !ended) {
            c.irq(irq);
        }
    }

    private void serviceInputs() {
        GuestTask r;
        while ((r = inputs.poll()) != null) {
            if (r == NUDGE) {
                continue;
            }
            try {
                r.done().complete(r.work().getAsInt());
            } catch (RuntimeException e) {
                r.done().complete(-1);
                throw e;
            }
        }
    }

    /** LHREQ_GETDMA, the copy into the guest's buffer, used_len, LHREQ_IRQ. On the guest's thread. */
    private int place(int key, ByteBuffer data) {
        GuestControl c = control;
        int at = c.getDma(key);
        if (at == -1) {
            return -1;
        }
        GuestMemory m = image.memory;
        DmaSections sections = DmaSections.read(m, at);
        int irq = m.readU32(at + LguestDma.USED_LEN);
        int placed = sections.copyIn(m, data);
        m.writeU32(at + LguestDma.USED_LEN, placed);
        c.irq(irq);
        return placed;
    }

    private void failPendingInputs() {
        GuestTask r;
        while ((r = inputs.poll()) != null) {
            r.done().complete(-1);
        }
    }

    // ---- ending --------------------------------------------------------

    private void finish(State endState, String reason, boolean initialized) {
        GuestControl c = control;
        if (c != null) {
            try {
                lastInfo.set(c.info());
            } catch (RuntimeException e) {
                // no counters from a control that never initialized
            }
        }
        ended = true;
        running = false;
        endNanos = System.nanoTime();
        state = endState;
        endReason = reason;
        failPendingInputs();
        for (LauncherDevice d : devices) {
            d.close();
        }
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest {0}: closing the control failed: {1}", id, e.toString());
            }
        }
        image.memory.close();
        if (initialized) {
            ending.complete(new End(endState, reason));
            onEnd.accept(this);
        }
    }

    /** For a start that failed after the thread was made but before INITIALIZE: release the rest. */
    void abandon() {
        if (!ended) {
            for (LauncherDevice d : devices) {
                d.close();
            }
            image.memory.close();
            ended = true;
        }
    }

    @Override
    public void stop() {
        if (ended || thread == null) {
            return;
        }
        stopRequested = true;
        thread.interrupt();
        GuestControl c = control;
        // If the run loop does not notice the interrupt, a BREAK gets it out of run().
        Thread.ofPlatform().daemon().name("lguest-stop-" + id).start(() -> {
            try {
                if (!ending.isDone()) {
                    thread.join(500);
                }
                if (thread.isAlive() && c != null) {
                    c.breakOn();
                }
            } catch (InterruptedException | RuntimeException e) {
                // the guest ended meanwhile
            }
        });
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Records something the guest did that the Launcher could not honour (the
     * last 100 are kept for lguest:devices). The host log gets at most one
     * line a second per guest, saying how many were left out, so a guest
     * cannot flood the host's log.
     */
    synchronized void event(String text) {
        if (events.size() == 100) {
            events.remove(0);
        }
        events.add(text);
        long now = System.nanoTime();
        if (now - lastLoggedNanos < EVENT_LOG_INTERVAL_NANOS && lastLoggedNanos != 0) {
            eventsNotLogged++;
            return;
        }
        lastLoggedNanos = now;
        if (eventsNotLogged == 0) {
            LOG.log(System.Logger.Level.WARNING, "guest {0}: {1}", id, text);
        } else {
            LOG.log(System.Logger.Level.WARNING, "guest {0}: {1} ({2} more since the last report)", id, text, eventsNotLogged);
            eventsNotLogged = 0;
        }
    }

    private static final long EVENT_LOG_INTERVAL_NANOS = 1_000_000_000L;
    private long lastLoggedNanos;
    private long eventsNotLogged;

    synchronized List<String> events() {
        return List.copyOf(events);
    }

    // ---- Guest -----------------------------------------------------------

    @Override
    public int id() {
        return id;
    }

    @Override
    public GuestSpec spec() {
        return spec;
    }

    @Override
    public State state() {
        return state;
    }

    String endReason() {
        return endReason;
    }

    @Override
    public Duration uptime() {
        long end = ended ? endNanos : System.nanoTime();
        return Duration.ofNanos(end - startNanos);
    }

    @Override
    public Optional<GuestInfo> info() {
        GuestControl c = control;
        if (!ended && running && c != null) {
            try {
                GuestInfo info = c.info();
                lastInfo.set(info);
                return Optional.of(info);
            } catch (RuntimeException e) {
                // ended meanwhile
            }
        }
        return Optional.ofNullable(lastInfo.get());
    }

    @Override
    public CompletionStage<End> ending() {
        return ending.minimalCompletionStage();
    }

    @Override
    public Optional<String> transcript(String type) {
        return devices.stream().filter(d -> d.typeName().equals(type)).findFirst().flatMap(LauncherDevice::transcript);
    }

    @Override
    public AutoCloseable watch(String type, java.util.function.Consumer<byte[]> sink) {
        LauncherDevice d = devices.stream().filter(x -> x.typeName().equals(type)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("guest " + id + " has no " + type + " device"));
        return d.watch(sink);
    }

    @Override
    public boolean input(String type, byte[] data) {
        return devices.stream().filter(d -> d.typeName().equals(type)).findFirst().map(d -> d.input(data)).orElse(false);
    }

    @Override
    public List<DeviceInfo> deviceInfo() {
        List<DeviceInfo> all = new ArrayList<>();
        for (LauncherDevice d : devices) {
            all.add(d.info());
        }
        return all;
    }

    @Override
    public Map<String, Map<String, Long>> deviceMetrics() {
        Map<String, Map<String, Long>> all = new LinkedHashMap<>();
        for (LauncherDevice d : devices) {
            all.put(d.label(), d.metrics());
        }
        return all;
    }
}
