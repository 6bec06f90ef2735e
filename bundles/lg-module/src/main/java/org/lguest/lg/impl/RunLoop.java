package org.lguest.lg.impl;

import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.RunResult;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.GuestViolationException;
import org.lguest.switcher.SwitcherExit;

/**
 * core.c's {@code run_guest}: what a read of the control file does. Until
 * there is something for the Launcher (a DMA, a port or device access, the
 * guest's death, a break), it runs the guest's queued hypercalls and the one
 * it trapped with, delivers a pending interrupt, sleeps while the guest is
 * halted, and otherwise runs the guest through the Switcher for a time slice
 * and handles the exit ({@link InterruptsAndTraps}).
 */
final class RunLoop {
    private final GuestState g;
    private final ParavirtOps ops;
    private final InterruptsAndTraps traps;

    RunLoop(GuestState g, ParavirtOps ops, InterruptsAndTraps traps) {
        this.g = g;
        this.ops = ops;
        this.traps = traps;
    }

    RunResult run() throws InterruptedException {
        g.pendingDma = null;
        while (true) {
            String dead = g.deadReason();
            if (dead != null) {
                return new RunResult.Dead(dead);
            }
            if (g.breakOut) {
                return new RunResult.Break();
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("read of guest " + g.name + " interrupted");
            }
            long seen = g.wakeups();
            try {
                if (g.lguestData != GuestState.NO_DATA) {
                    g.hypercalls.addAndGet(ops.drainRing(g));
                }
                if (g.pendingDma == null && g.pendingHypercall && !g.isDead()) {
                    g.pendingHypercall = false;
                    g.hypercalls.incrementAndGet();
                    hypercall();
                }
                if (g.pendingDma != null && !g.isDead()) {
                    RunResult.Dma d = g.pendingDma;
                    g.pendingDma = null;
                    return d;
                }
                if (g.pendingIo != null && !g.isDead()) {
                    RunResult io = g.pendingIo;
                    g.pendingIo = null;
                    return io;
                }
                if (g.isDead()) {
                    continue;
                }
                traps.maybeInterrupt();
                if (g.halted) {
                    g.sleep(seen);
                    continue;
                }
                SwitcherExit exit = g.sw.run(g.host.slice);
                g.exits.incrementAndGet();
                switch (exit.kind()) {
                    case SLICE, INTERRUPTED -> {
                    }
                    case SHUTDOWN -> g.kill(String.format("triple fault at eip 0x%08x", g.cpu.eip()));
                    case TRAP -> traps.trap(exit.trap(), exit.errorCode(), exit.cr2());
                }
            } catch (GuestViolationException e) {
                g.kill(e.reason());
            } catch (RuntimeException e) {
                // A host-side failure while serving this guest: it must not take the host down.
                g.kill("host error while running the guest: " + e);
            }
        }
    }

    /** The call the guest trapped with ({@code int $0x1f}): its number and arguments from the registers of its ABI. */
    private void hypercall() {
        Cpu cpu = g.cpu;
        if (g.abi == GuestAbi.LGUEST_4_X) {
            ops.hypercall(g, cpu.reg(Cpu.EAX), cpu.reg(Cpu.EBX), cpu.reg(Cpu.ECX), cpu.reg(Cpu.EDX), cpu.reg(Cpu.ESI), true);
        } else {
            ops.hypercall(g, cpu.reg(Cpu.EAX), cpu.reg(Cpu.EDX), cpu.reg(Cpu.EBX), cpu.reg(Cpu.ECX), 0, true);
        }
    }
}
