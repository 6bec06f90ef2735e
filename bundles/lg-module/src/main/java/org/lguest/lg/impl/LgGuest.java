package org.lguest.lg.impl;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.lguest.cpu.Cpu;
import org.lguest.lg.ControlException;
import org.lguest.lg.ControlException.Code;
import org.lguest.lg.GuestControl;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.GuestInfo;
import org.lguest.lg.GuestSetup;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.lg.abi.v4.Hypercalls4;
import org.lguest.lg.abi.v4.LguestData4;
import org.lguest.lg.host.HostGuest;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherExit;
import org.lguest.switcher.SwitcherGuest;

/**
 * One open control file and its guest ({@code struct lguest}): the run loop
 * of core.c, interrupt and trap delivery of interrupts_and_traps.c, and the
 * request handling of lguest_user.c.
 */
final class LgGuest implements GuestControl, HostGuest {
    static final int NO_DATA = -1;
    private static final int EFLAGS_IF = 0x200;

    private final LguestControlComponent host;
    private Thread owner;
    private volatile boolean initialized;
    private volatile boolean closed;
    private int slot = -1;
    private String name = "";
    private GuestMemory memory;
    ShadowPageTables spt;
    volatile SwitcherGuest sw;
    Cpu cpu;
    private long startNanos;

    private GuestAbi abi = GuestAbi.LGUEST_2_6_23;

    // Guest state the hypercalls change (guest thread only).
    int lguestData = NO_DATA;
    /** 2.6.23: the EIP range where no interrupt may be injected. */
    int noirqStart, noirqEnd;
    /** 4.x: the address of the guest's one {@code iret} in lguest_iret (0 until INIT). */
    int noirqIret;
    /** 4.x: the GDT the guest built with LOAD_GDT_ENTRY, {lo, hi} per entry. */
    final int[] gdt = new int[2 * Switcher.GDT_ENTRIES];
    private int nextHcall;
    /** The guest's gates for vectors 0..63 and the system call: {lo, hi}, hi 0 when absent. */
    final int[] idtLo = new int[64 + 1], idtHi = new int[64 + 1];
    boolean ts;
    volatile boolean halted;
    private boolean pendingHypercall;
    RunResult.Dma pendingDma;
    /** 4.x: a read handed to the Launcher, waiting for {@link #completeIo}. */
    private IoInstruction pendingRead;
    /** 4.x: an I/O access for the Launcher, returned by the run loop. */
    private RunResult pendingIo;

    // Shared with other threads.
    private final AtomicInteger irqsPending = new AtomicInteger();
    private volatile boolean breakOut;
    private final AtomicReference<String> deadReason = new AtomicReference<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition woken = lock.newCondition();
    private volatile long wakeups;
    private ScheduledFuture<?> clockEvent;
    private final AtomicLong exits = new AtomicLong(), hypercalls = new AtomicLong();

    LgGuest(LguestControlComponent host) {
        this.host = host;
    }

    static int gateIndex(int vector) {
        return vector == Hypercalls.SYSCALL_VECTOR ? 64 : vector < 64 && vector >= 0 ? vector : -1;
    }

    // ------------------------------------------------------------------ control requests

    private void checkOwner(String what) {
        if (owner != null && Thread.currentThread() != owner) {
            throw new ControlException(Code.EPERM, what + " by a thread that does not own guest " + name);
        }
    }

    private void checkLive(String what) {
        checkOwner(what);
        if (closed) {
            throw new ControlException(Code.EINVAL, what + " on a released guest");
        }
        if (!initialized) {
            throw new ControlException(Code.EINVAL, what + " before INITIALIZE");
        }
        if (deadReason.get() != null) {
            throw new ControlException(Code.ENOENT, what + " to a dead guest (" + deadReason.get() + ")");
        }
    }

    @Override
    public synchronized void initialize(GuestSetup setup) {
        String name = setup.name();
        GuestMemory memory = setup.memory();
        int pgdir = setup.pgdir(), start = setup.start(), pageOffset = setup.pageOffset();
        checkOwner("INITIALIZE");
        if (closed) {
            throw new ControlException(Code.EINVAL, "INITIALIZE on a released control file");
        }
        if (initialized) {
            throw new ControlException(Code.EBUSY, "guest " + this.name + " is already initialized");
        }
        if (memory == null || memory.pfnLimit() <= 0) {
            throw new ControlException(Code.EINVAL, "INITIALIZE without guest memory");
        }
        if ((pageOffset & 0x3FFFFF) != 0 || Integer.compareUnsigned(pageOffset, Switcher.SWITCHER_ADDR) >= 0
                || pageOffset == 0) {
            throw new ControlException(Code.EINVAL, String.format(
                    "page offset 0x%08x: must be 4 MiB aligned, above 0 and below the Switcher at 0xffc00000", pageOffset));
        }
        boolean linear = pgdir == ShadowPageTables.LINEAR && setup.abi() == GuestAbi.LGUEST_4_X;
        if (!linear && ((pgdir & 0xFFF) != 0 || !memory.isValid(pgdir, 4096))) {
            throw new ControlException(Code.EINVAL, String.format(
                    "page directory 0x%08x: must be a page-aligned page of guest memory (limit 0x%x)", pgdir,
                    memory.limitBytes()));
        }
        int s = host.takeSlot(this);
        try {
            ShadowPageTables tables = host.mmu.newShadowPageTables(memory, pgdir, pageOffset);
            try {
                tables.setIoWindow(setup.ioFirstPfn(), setup.ioEndPfn());
                sw = host.switcher.attach(memory, tables);
            } catch (RuntimeException e) {
                tables.release();
                throw e;
            }
            spt = tables;
        } catch (IllegalArgumentException | IllegalStateException e) {
            host.freeSlot(this, s);
            throw new ControlException(Code.EINVAL, "the guest could not be set up: " + e.getMessage());
        }
        owner = Thread.currentThread();
        slot = s;
        this.name = name == null ? "guest" + s : name;
        this.memory = memory;
        cpu = sw.cpu();
        cpu.setEip(start);
        abi = setup.abi();
        startNanos = System.nanoTime();
        initialized = true;
    }

    @Override
    public void completeIo(int value) {
        checkLive("an I/O answer");
        IoInstruction read = pendingRead;
        pendingRead = null;
        if (read != null) {
            read.complete(cpu, value);
        }
    }

    @Override
    public int getDma(int key) {
        checkLive("GETDMA");
        return host.router.getDma(this, key);
    }

    @Override
    public void irq(int irq) {
        checkLive("IRQ");
        if (irq < 0 || irq >= LguestData.IRQS) {
            throw new ControlException(Code.EINVAL, "interrupt " + irq + " (a guest has 0.." + (LguestData.IRQS - 1) + ")");
        }
        raiseInterrupt(irq);
    }

    @Override
    public void breakOn() {
        breakOut = true;
        SwitcherGuest s = sw;
        if (s != null) {
            s.requestExit();
        }
        wake();
    }

    @Override
    public void breakOff() {
        breakOut = false;
        wake();
    }

    @Override
    public GuestInfo info() {
        String dead = deadReason.get();
        String state = dead != null ? "dead: " + dead : halted ? "halted" : "running";
        return new GuestInfo(slot, name, state, memory == null ? 0 : memory.limitBytes(), startNanos, exits.get(),
                hypercalls.get(), cpu == null ? -1 : cpu.instructionsRetired());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkOwner("release");
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (!initialized) {
            return;
        }
        deadReason.compareAndSet(null, "released");
        cancelClock();
        host.router.unbindAll(this);
        sw.close();
        spt.release();
        host.freeSlot(this, slot);
    }

    // ------------------------------------------------------------------ HostGuest

    @Override
    public int id() {
        return slot;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void raiseInterrupt(int irq) {
        irqsPending.getAndUpdate(p -> p | 1 << irq);
        wake();
    }

    @Override
    public void kill(String reason) {
        if (deadReason.compareAndSet(null, reason)) {
            cancelClock();
            host.router.unbindAll(this);
            SwitcherGuest s = sw;
            if (s != null) {
                s.requestExit();
            }
            wake();
        }
    }

    @Override
    public boolean isDead() {
        return deadReason.get() != null;
    }

    String deadReason() {
        return deadReason.get();
    }

    private void wake() {
        lock.lock();
        try {
            wakeups++;
            woken.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ clock

    synchronized void setClockEvent(long deltaNs) {
        cancelClock();
        if (deltaNs != 0 && !isDead()) {
            clockEvent = host.clock.schedule(() -> raiseInterrupt(0), deltaNs, TimeUnit.NANOSECONDS);
        }
    }

    private synchronized void cancelClock() {
        if (clockEvent != null) {
            clockEvent.cancel(false);
            clockEvent = null;
        }
    }

    // ------------------------------------------------------------------ the run loop

    @Override
    public RunResult run() throws InterruptedException {
        checkOwner("read");
        if (!initialized) {
            throw new ControlException(Code.EINVAL, closed ? "read on a released guest" : "read before INITIALIZE");
        }
        if (closed) {
            throw new ControlException(Code.EINVAL, "read on a released guest");
        }
        pendingDma = null;
        if (pendingRead != null) {
            pendingRead.complete(cpu, -1); // unanswered: reads all ones
            pendingRead = null;
        }
        while (true) {
            String dead = deadReason.get();
            if (dead != null) {
                return new RunResult.Dead(dead);
            }
            if (breakOut) {
                return new RunResult.Break();
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("read of guest " + name + " interrupted");
            }
            long seen = wakeups;
            try {
                if (lguestData != NO_DATA) {
                    drainRing();
                }
                if (pendingDma == null && pendingHypercall && !isDead()) {
                    pendingHypercall = false;
                    hypercalls.incrementAndGet();
                    if (abi == GuestAbi.LGUEST_4_X) {
                        Paravirt4.execute(this, cpu.reg(Cpu.EAX), cpu.reg(Cpu.EBX), cpu.reg(Cpu.ECX), cpu.reg(Cpu.EDX),
                                cpu.reg(Cpu.ESI));
                    } else {
                        host.ops.execute(this, cpu.reg(Cpu.EAX), cpu.reg(Cpu.EDX), cpu.reg(Cpu.EBX), cpu.reg(Cpu.ECX), true);
                    }
                }
                if (pendingDma != null && !isDead()) {
                    RunResult.Dma d = pendingDma;
                    pendingDma = null;
                    return d;
                }
                if (pendingIo != null && !isDead()) {
                    RunResult io = pendingIo;
                    pendingIo = null;
                    return io;
                }
                if (isDead()) {
                    continue;
                }
                maybeInterrupt();
                if (halted) {
                    sleep(seen);
                    continue;
                }
                SwitcherExit exit = sw.run(host.slice);
                exits.incrementAndGet();
                handle(exit);
            } catch (GuestViolationException e) {
                kill(e.reason());
            } catch (RuntimeException e) {
                // A host-side failure while serving this guest: it must not take the host down.
                kill("host error while running the guest: " + e);
            }
        }
    }

    private void sleep(long seen) throws InterruptedException {
        lock.lock();
        try {
            while (wakeups == seen && !breakOut && !isDead()) {
                woken.await(1, TimeUnit.SECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** do_async_hcalls: run queued calls from the guest's cursor, stopping at a DMA for the Launcher. */
    private void drainRing() {
        if (abi == GuestAbi.LGUEST_4_X) {
            drainRing4();
            return;
        }
        int status = lguestData + LguestData.HCALL_STATUS;
        for (int n = 0; n < Hypercalls.RING_SIZE; n++) {
            int i = nextHcall;
            if (memory.readU8(status + i) == Hypercalls.RING_SLOT_FREE) {
                return;
            }
            int e = lguestData + LguestData.HCALLS + i * LguestData.HCALL_ENTRY_SIZE;
            int call = memory.readU32(e), a1 = memory.readU32(e + 4), a2 = memory.readU32(e + 8),
                    a3 = memory.readU32(e + 12);
            hypercalls.incrementAndGet();
            host.ops.execute(this, call, a1, a2, a3, false);
            if (isDead()) {
                return;
            }
            memory.writeU8(status + i, Hypercalls.RING_SLOT_FREE);
            nextHcall = (i + 1) % Hypercalls.RING_SIZE;
            if (pendingDma != null) {
                return;
            }
        }
    }

    /** The 4.x ring: five words per call (eax, ebx, ecx, edx, esi) at other offsets. */
    private void drainRing4() {
        int status = lguestData + LguestData4.HCALL_STATUS;
        for (int n = 0; n < Hypercalls4.RING_SIZE; n++) {
            int i = nextHcall;
            if (memory.readU8(status + i) == Hypercalls4.RING_SLOT_FREE) {
                return;
            }
            int e = lguestData + LguestData4.HCALLS + i * LguestData4.HCALL_ENTRY_SIZE;
            hypercalls.incrementAndGet();
            Paravirt4.execute(this, memory.readU32(e), memory.readU32(e + 4), memory.readU32(e + 8),
                    memory.readU32(e + 12), memory.readU32(e + 16));
            if (isDead()) {
                return;
            }
            memory.writeU8(status + i, Hypercalls4.RING_SLOT_FREE);
            nextHcall = (i + 1) % Hypercalls4.RING_SIZE;
        }
    }

    /** write_timestamp: the wall clock into lguest_data.time (4.x). */
    void writeTime() {
        java.time.Instant now = java.time.Instant.now();
        memory.writeU32(lguestData + LguestData4.TIME, (int) now.getEpochSecond());
        memory.writeU32(lguestData + LguestData4.TIME + 4, now.getNano());
    }

    /**
     * try_deliver_interrupt of 4.x: as 2.6.23, but a guest with interrupts
     * off is told one is pending (irq_pending), the time is written with each
     * delivery, and an interrupt arriving at the guest's {@code iret} is
     * delivered on the frame that iret was about to pop.
     */
    private void maybeInterrupt4() {
        int pending = irqsPending.get();
        if (pending == 0) {
            return;
        }
        int candidates = pending & ~memory.readU32(lguestData + LguestData4.BLOCKED_INTERRUPTS);
        if (candidates == 0) {
            return;
        }
        int irq = Integer.numberOfTrailingZeros(candidates);
        if (halted) {
            memory.writeU32(lguestData + LguestData4.IRQ_ENABLED, LguestData4.IRQS_ON);
            halted = false;
        } else if ((memory.readU32(lguestData + LguestData4.IRQ_ENABLED) & EFLAGS_IF) == 0) {
            memory.writeU32(lguestData + LguestData4.IRQ_PENDING, LguestData4.IRQS_ON);
            return;
        }
        int v = Hypercalls.FIRST_EXTERNAL_VECTOR + irq;
        if ((idtHi[v] & 0x8000) != 0) {
            int left = irqsPending.updateAndGet(p -> p & ~(1 << irq));
            if (noirqIret != 0 && cpu.eip() == noirqIret) {
                // At the iret: its frame (eip, cs, eflags) becomes the interrupt's; EFLAGS as it will be restored.
                int esp = cpu.reg(Cpu.ESP);
                int flags = memory.readU32(spt.guestPhysical(esp + 8));
                cpu.setEflags(flags & ~(0x100 | 0x4000 | 0x10000 | 0x20000) | EFLAGS_IF | 2); // no TF, NT, RF, VM
                cpu.setEip(idtLo[v] & 0xFFFF | idtHi[v] & 0xFFFF0000);
                if ((idtHi[v] >> 8 & 0xF) == 0xE) {
                    memory.writeU32(lguestData + LguestData4.IRQ_ENABLED, 0);
                }
            } else {
                setGuestInterrupt(idtLo[v], idtHi[v], false, 0);
            }
            writeTime();
            if ((left & ~memory.readU32(lguestData + LguestData4.BLOCKED_INTERRUPTS)) == 0) {
                memory.writeU32(lguestData + LguestData4.IRQ_PENDING, 0);
            }
        }
    }

    /** maybe_do_interrupt. */
    private void maybeInterrupt() {
        if (abi == GuestAbi.LGUEST_4_X && lguestData != NO_DATA) {
            maybeInterrupt4();
            return;
        }
        if (lguestData == NO_DATA) {
            return;
        }
        int pending = irqsPending.get();
        if (pending == 0) {
            return;
        }
        int candidates = pending & ~memory.readU32(lguestData + LguestData.BLOCKED_INTERRUPTS);
        if (candidates == 0) {
            return;
        }
        int irq = Integer.numberOfTrailingZeros(candidates);
        int eip = cpu.eip();
        if (Integer.compareUnsigned(eip, noirqStart) >= 0 && Integer.compareUnsigned(eip, noirqEnd) < 0) {
            return;
        }
        if (halted) {
            memory.writeU32(lguestData + LguestData.IRQ_ENABLED, LguestData.IRQS_ON);
            halted = false;
        } else if ((memory.readU32(lguestData + LguestData.IRQ_ENABLED) & EFLAGS_IF) == 0) {
            return;
        }
        int v = Hypercalls.FIRST_EXTERNAL_VECTOR + irq;
        if ((idtHi[v] & 0x8000) == 0) {
            return;
        }
        irqsPending.getAndUpdate(p -> p & ~(1 << irq));
        setGuestInterrupt(idtLo[v], idtHi[v], false, 0);
    }

    static boolean hasErrorCode(int trap) {
        return trap == 8 || trap >= 10 && trap <= 14 || trap == 17;
    }

    private void handle(SwitcherExit exit) {
        switch (exit.kind()) {
            case SLICE, INTERRUPTED -> {
            }
            case SHUTDOWN -> kill(String.format("triple fault at eip 0x%08x", cpu.eip()));
            case TRAP -> trap(exit.trap(), exit.errorCode(), exit.cr2());
        }
    }

    private void trap(int trap, int err, int cr2) {
        switch (trap) {
            case SwitcherExit.PAGE_FAULT -> {
                if (spt.demandPage(cr2, err)) {
                    return;
                }
                if (abi == GuestAbi.LGUEST_4_X && mmio(cr2, err)) {
                    return;
                }
                if (lguestData != NO_DATA) {
                    memory.writeU32(lguestData + LguestData.CR2, cr2);
                }
                deliverTrap(trap, err, cr2);
            }
            case SwitcherExit.GENERAL_PROTECTION -> {
                if (err == 0 && (abi == GuestAbi.LGUEST_4_X ? portIo() : emulateInsn())) {
                    return;
                }
                deliverTrap(trap, err, 0);
            }
            case SwitcherExit.DEVICE_NOT_AVAILABLE -> {
                if (!ts) {
                    sw.setTaskSwitched(false);
                    return;
                }
                deliverTrap(trap, 0, 0);
            }
            case Hypercalls.TRAP_ENTRY -> pendingHypercall = true;
            default -> {
                if (trap >= Hypercalls.FIRST_EXTERNAL_VECTOR && trap != Hypercalls.SYSCALL_VECTOR) {
                    return; // a host interrupt: already handled by the host
                }
                deliverTrap(trap, err, 0);
            }
        }
    }

    /** deliver_trap: reflect into the guest's own handler, or die. */
    private void deliverTrap(int trap, int err, int cr2) {
        int i = gateIndex(trap);
        if (i < 0 || lguestData == NO_DATA || (idtHi[i] & 0x8000) == 0 || trap == 8) {
            kill(String.format("unhandled trap %d at 0x%08x (0x%x%s)", trap, cpu.eip(), err,
                    trap == SwitcherExit.PAGE_FAULT ? String.format(", cr2 0x%08x", cr2) : ""));
            return;
        }
        setGuestInterrupt(idtLo[i], idtHi[i], hasErrorCode(trap), err);
    }

    /** set_guest_interrupt: the frame the processor would push, on the guest's own stack. */
    private void setGuestInterrupt(int lo, int hi, boolean hasErr, int err) {
        int ss = cpu.selector(Cpu.SS), esp = cpu.reg(Cpu.ESP);
        boolean fromUser = (ss & 3) != 1;
        int newSs = ss;
        if (fromUser) {
            newSs = sw.kernelStackSegment();
            esp = sw.kernelStackPointer();
            if ((newSs & 3) != 1) {
                throw new GuestViolationException("trap from user mode before SET_STACK gave a kernel stack");
            }
        }
        int eflags = cpu.eflags();
        if ((memory.readU32(lguestData + LguestData.IRQ_ENABLED) & EFLAGS_IF) == 0) {
            eflags &= ~EFLAGS_IF;
        }
        int[] frame = fromUser
                ? new int[] {ss, cpu.reg(Cpu.ESP), eflags, cpu.selector(Cpu.CS), cpu.eip(), err}
                : new int[] {eflags, cpu.selector(Cpu.CS), cpu.eip(), err};
        int words = frame.length - (hasErr ? 0 : 1);
        // Translate every byte first (a misaligned stack may straddle pages), then write: all or nothing.
        int[] at = new int[words * 4];
        for (int k = 0; k < words; k++) {
            esp -= 4;
            int pa = spt.guestPhysical(esp);
            for (int b = 0; b < 4; b++) {
                at[4 * k + b] = (esp + b & 0xFFF) >= b ? pa + b : spt.guestPhysical(esp + b);
            }
        }
        for (int k = 0; k < words; k++) {
            for (int b = 0; b < 4; b++) {
                memory.writeU8(at[4 * k + b], frame[k] >>> 8 * b);
            }
        }
        if (cpu.loadSegment(Cpu.CS, Switcher.KERNEL_CS) >= 0) {
            throw new GuestViolationException("the guest's kernel code segment does not load");
        }
        if (fromUser && cpu.loadSegment(Cpu.SS, newSs) >= 0) {
            throw new GuestViolationException(String.format("bad kernel stack segment 0x%x", newSs));
        }
        cpu.setReg(Cpu.ESP, esp);
        cpu.setEip(lo & 0xFFFF | hi & 0xFFFF0000);
        cpu.setEflags(cpu.eflags() & ~0x100); // TF, as the processor clears it
        if ((hi >> 8 & 0xF) == 0xE) {
            memory.writeU32(lguestData + LguestData.IRQ_ENABLED, 0);
        }
    }

    /** The instruction's bytes at EIP, through the guest's own page tables (the host looking). */
    private int codeByte(int offset) {
        return insnByte(cpu.eip() + offset);
    }

    /**
     * 4.x: {@code in}/{@code out} at ring 1 goes to the Launcher (PCI
     * configuration, and every other port it decides about); a stray
     * {@code cli} is stepped over, as lguest's Launcher does.
     */
    private boolean portIo() {
        if ((cpu.selector(Cpu.CS) & 3) != 1) {
            return false;
        }
        if (codeByte(0) == 0xFA) {
            cpu.setEip(cpu.eip() + 1);
            return true;
        }
        IoInstruction insn = IoInstruction.decodePort(this::codeByte, cpu);
        if (insn == null) {
            return false;
        }
        cpu.setEip(cpu.eip() + insn.length());
        if (!insn.write()) {
            pendingRead = insn;
        }
        pendingIo = new RunResult.PortIo(insn.port(), insn.size(), insn.write(), insn.value());
        return true;
    }

    /** 4.x: a fault inside the I/O window is a device register access for the Launcher. */
    private boolean mmio(int vaddr, int err) {
        int address = spt.ioAddress(vaddr, err);
        if (address == -1) {
            return false;
        }
        IoInstruction insn = IoInstruction.decodeMmio(this::codeByte, cpu);
        if (insn == null) {
            throw new GuestViolationException(String.format(
                    "an instruction at 0x%08x touches device memory 0x%08x in a way this host does not emulate (bytes %02x %02x %02x)",
                    cpu.eip(), address, codeByte(0), codeByte(1), codeByte(2)));
        }
        if ((address & 0xFFF) + insn.size() > 0x1000) {
            throw new GuestViolationException(String.format("a device access at 0x%08x crosses a page", address));
        }
        cpu.setEip(cpu.eip() + insn.length());
        if (!insn.write()) {
            pendingRead = insn;
        }
        pendingIo = new RunResult.Mmio(address, insn.size(), insn.write(), insn.value());
        return true;
    }

    /** emulate_insn: port probing at ring 1 reads all ones and writes nothing. */
    private boolean emulateInsn() {
        if ((cpu.selector(Cpu.CS) & 3) != 1) {
            return false;
        }
        int eip = cpu.eip();
        int b = insnByte(eip);
        int len = 1;
        boolean op16 = false;
        if (b == 0x66) {
            op16 = true;
            b = insnByte(eip + 1);
            len = 2;
        }
        boolean in;
        switch (b) {
            case 0xE4, 0xE5 -> { in = true; len += 1; }
            case 0xEC, 0xED -> in = true;
            case 0xE6, 0xE7 -> { in = false; len += 1; }
            case 0xEE, 0xEF -> in = false;
            default -> {
                return false;
            }
        }
        if (in) {
            int eax = cpu.reg(Cpu.EAX);
            if ((b & 1) == 0) {
                eax |= 0xFF;
            } else if (op16) {
                eax |= 0xFFFF;
            } else {
                eax = -1;
            }
            cpu.setReg(Cpu.EAX, eax);
        }
        cpu.setEip(eip + len);
        return true;
    }

    private int insnByte(int vaddr) {
        return memory.readU8(spt.guestPhysical(vaddr));
    }

    // ------------------------------------------------------------------ for the hypercalls

    void setHalted() {
        halted = true;
    }

    void setPendingDma(int dma, int key) {
        pendingDma = new RunResult.Dma(dma, key);
    }

    long instructionsRetired() {
        return cpu.instructionsRetired();
    }
}
