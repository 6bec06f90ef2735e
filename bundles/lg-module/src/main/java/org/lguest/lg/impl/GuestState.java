package org.lguest.lg.impl;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.host.HostGuest;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherGuest;

/**
 * One guest's state ({@code struct lguest} of lg.h): its memory, processor,
 * shadow page tables and Switcher pages, what the hypercalls set (where
 * {@code lguest_data} is, the interrupt window, the gates, the GDT, TS, the
 * halt, the clock event), what the run loop hands out (a hypercall to do, a
 * DMA or an I/O access for the Launcher), and what other threads touch
 * (pending interrupts, the break, death). It is the {@link HostGuest} the
 * hypercall tables and the DMA router act on.
 *
 * <p>The other files work on it: {@link RunLoop} (core.c),
 * {@link InterruptsAndTraps} (interrupts_and_traps.c), {@link Emulation}
 * (the instructions the host emulates), {@link LgGuest} (lguest_user.c, the
 * control file), the tables {@link ParavirtOpsImpl} and {@link Paravirt4}
 * (hypercalls.c of each ABI).
 */
final class GuestState implements HostGuest {
    final LguestControlComponent host;

    int slot = -1;
    String name = "";
    GuestMemory memory;
    ShadowPageTables spt;
    volatile SwitcherGuest sw;
    Cpu cpu;
    GuestAbi abi = GuestAbi.LGUEST_2_6_23;
    long startNanos;

    // What the hypercalls set (guest thread only).
    int lguestData = NO_DATA;
    /** 2.6.23: the EIP range where no interrupt may be injected. */
    int noirqStart, noirqEnd;
    /** 4.x: the address of the guest's one {@code iret} in lguest_iret (0 until INIT). */
    int noirqIret;
    /** 4.x: the GDT the guest built with LOAD_GDT_ENTRY, {lo, hi} per entry. */
    final int[] gdt = new int[2 * Switcher.GDT_ENTRIES];
    int nextHcall;
    /** The guest's gates for vectors 0..63 and the system call: {lo, hi}, hi 0 when absent. */
    final int[] idtLo = new int[64 + 1], idtHi = new int[64 + 1];
    boolean ts;
    volatile boolean halted;

    // What the run loop hands out (guest thread only).
    boolean pendingHypercall;
    RunResult.Dma pendingDma;
    /** 4.x: a read handed to the Launcher, waiting for its answer. */
    IoInstruction pendingRead;
    /** 4.x: an I/O access for the Launcher, returned by the run loop. */
    RunResult pendingIo;

    // Shared with other threads.
    final AtomicInteger irqsPending = new AtomicInteger();
    volatile boolean breakOut;
    private final AtomicReference<String> deadReason = new AtomicReference<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition woken = lock.newCondition();
    private volatile long wakeups;
    private ScheduledFuture<?> clockEvent;
    final AtomicLong exits = new AtomicLong(), hypercalls = new AtomicLong(), interrupts = new AtomicLong();

    GuestState(LguestControlComponent host) {
        this.host = host;
    }

    /** The index of {@code vector}'s gate in {@link #idtLo}/{@link #idtHi}, or -1 for a vector the guest has no gate for. */
    static int gateIndex(int vector) {
        return vector == Hypercalls.SYSCALL_VECTOR ? 64 : vector < 64 && vector >= 0 ? vector : -1;
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

    /** Records a reason only if there is none yet, without the rest of a kill (the control file being released). */
    void markReleased() {
        deadReason.compareAndSet(null, "released");
    }

    @Override
    public GuestAbi abi() {
        return abi;
    }

    @Override
    public Cpu cpu() {
        return cpu;
    }

    @Override
    public ShadowPageTables pageTables() {
        return spt;
    }

    @Override
    public SwitcherGuest switcher() {
        return sw;
    }

    @Override
    public int lguestData() {
        return lguestData;
    }

    @Override
    public void setLguestData(int address) {
        lguestData = address;
    }

    @Override
    public void setNoInterruptRange(int start, int end) {
        noirqStart = start;
        noirqEnd = end;
    }

    @Override
    public void setNoInterruptIret(int eip) {
        noirqIret = eip;
    }

    @Override
    public int nextHcall() {
        return nextHcall;
    }

    @Override
    public void setNextHcall(int slot) {
        nextHcall = slot;
    }

    @Override
    public void setGuestGate(int vector, int lo, int hi) {
        int i = gateIndex(vector);
        if (i < 0) {
            return;
        }
        idtLo[i] = lo;
        idtHi[i] = hi;
        sw.setGuestGate(vector, lo, hi);
    }

    @Override
    public void setGdtEntry(int index, int lo, int hi) {
        gdt[2 * index] = lo;
        gdt[2 * index + 1] = hi;
        sw.loadGdt(gdt);
    }

    @Override
    public void setTaskSwitched(boolean on) {
        ts = on;
        sw.setTaskSwitched(on);
    }

    @Override
    public void halt() {
        halted = true;
    }

    @Override
    public synchronized void setClockEvent(long deltaNs) {
        cancelClock();
        if (deltaNs != 0 && !isDead()) {
            clockEvent = host.clock.schedule(() -> raiseInterrupt(0), deltaNs, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void dmaForLauncher(int dma, int key) {
        pendingDma = new RunResult.Dma(dma, key);
    }

    // ------------------------------------------------------------------ waking and sleeping

    synchronized void cancelClock() {
        if (clockEvent != null) {
            clockEvent.cancel(false);
            clockEvent = null;
        }
    }

    void wake() {
        lock.lock();
        try {
            wakeups++;
            woken.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A mark to sleep against: a wake after it ends {@link #sleep}. */
    long wakeups() {
        return wakeups;
    }

    /** Sleeps until woken since {@code seen}, a break, or death (a halted guest). */
    void sleep(long seen) throws InterruptedException {
        lock.lock();
        try {
            // No timeout: a halted guest with no clock event armed costs nothing until something
            // wakes it (an interrupt raised, a break, a kill: each of them calls wake()).
            while (wakeups == seen && !breakOut && !isDead()) {
                woken.await();
            }
        } finally {
            lock.unlock();
        }
    }
}
