package org.lguest.lg.impl;

import org.lguest.lg.ControlException;
import org.lguest.lg.ControlException.Code;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.GuestControl;
import org.lguest.lg.GuestInfo;
import org.lguest.lg.GuestSetup;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.LguestData;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherGuest;

/**
 * One open control file (lguest_user.c): the requests a Launcher makes of
 * its guest. INITIALIZE sets the guest up (a slot, shadow page tables, the
 * Switcher's pages, the processor at the entry point, the hypercall table of
 * the kernel's ABI); a read runs it ({@link RunLoop}); IRQ, BREAK, GETDMA
 * and an I/O answer act on it; release takes it down. Only the thread that
 * initialized the guest may use it. The guest itself is {@link #state}.
 */
final class LgGuest implements GuestControl {
    private final LguestControlComponent host;
    /** The guest ({@code struct lguest}), which the hypercall tables and the router see. */
    final GuestState state;
    private Thread owner;
    private volatile boolean initialized;
    private volatile boolean closed;
    private Emulation emulation;
    private RunLoop loop;

    LgGuest(LguestControlComponent host) {
        this.host = host;
        this.state = new GuestState(host);
    }

    private void checkOwner(String what) {
        if (owner != null && Thread.currentThread() != owner) {
            throw new ControlException(Code.EPERM, what + " by a thread that does not own guest " + state.name);
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
        if (state.deadReason() != null) {
            throw new ControlException(Code.ENOENT, what + " to a dead guest (" + state.deadReason() + ")");
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
            throw new ControlException(Code.EBUSY, "guest " + state.name + " is already initialized");
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
        ParavirtOps ops = host.opsFor(setup.abi());
        int s = host.takeSlot(this);
        SwitcherGuest sw;
        ShadowPageTables spt;
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
        GuestState g = state;
        g.slot = s;
        g.name = name == null ? "guest" + s : name;
        g.memory = memory;
        g.spt = spt;
        g.sw = sw;
        g.cpu = sw.cpu();
        g.cpu.setEip(start);
        g.abi = setup.abi();
        g.startNanos = System.nanoTime();
        emulation = new Emulation(g);
        loop = new RunLoop(g, ops, new InterruptsAndTraps(g, emulation));
        initialized = true;
    }

    @Override
    public RunResult run() throws InterruptedException {
        checkOwner("read");
        if (!initialized) {
            throw new ControlException(Code.EINVAL, closed ? "read on a released guest" : "read before INITIALIZE");
        }
        if (closed) {
            throw new ControlException(Code.EINVAL, "read on a released guest");
        }
        emulation.completeRead(-1); // a read the Launcher did not answer reads all ones
        return loop.run();
    }

    @Override
    public void completeIo(int value) {
        checkLive("an I/O answer");
        emulation.completeRead(value);
    }

    @Override
    public int getDma(int key) {
        checkLive("GETDMA");
        return host.router.getDma(state, key);
    }

    @Override
    public void irq(int irq) {
        checkLive("IRQ");
        if (irq < 0 || irq >= LguestData.IRQS) {
            throw new ControlException(Code.EINVAL, "interrupt " + irq + " (a guest has 0.." + (LguestData.IRQS - 1) + ")");
        }
        state.raiseInterrupt(irq);
    }

    @Override
    public void breakOn() {
        state.breakOut = true;
        SwitcherGuest s = state.sw;
        if (s != null) {
            s.requestExit();
        }
        state.wake();
    }

    @Override
    public void breakOff() {
        state.breakOut = false;
        state.wake();
    }

    @Override
    public GuestInfo info() {
        GuestState g = state;
        String dead = g.deadReason();
        String text = dead != null ? "dead: " + dead : g.halted ? "halted" : "running";
        return new GuestInfo(g.slot, g.name, text, g.memory == null ? 0 : g.memory.limitBytes(), g.startNanos,
                g.exits.get(), g.hypercalls.get(), g.cpu == null ? -1 : g.cpu.instructionsRetired(), g.interrupts.get(),
                g.memory == null ? 0 : g.memory.touchedBytes());
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
        state.markReleased();
        state.cancelClock();
        host.router.unbindAll(state);
        state.sw.close();
        state.spt.release();
        host.freeSlot(this, state.slot);
    }

    /** The module is going away (or a test): the guest dies with {@code reason}. */
    void kill(String reason) {
        state.kill(reason);
    }
}
