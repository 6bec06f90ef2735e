package org.lguest.lg.impl;

import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.lg.abi.v4.LguestData4;
import org.lguest.mmu.GuestViolationException;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherExit;

/**
 * interrupts_and_traps.c: what the host does when the guest trapped, and how
 * an interrupt reaches it. A trap the host owns is handled here (a page the
 * shadow tables fill in, a port or device access for the Launcher, the lazy
 * FPU's #NM, a hypercall); any other is reflected into the guest's own
 * handler on its own stack, as the processor would have, or kills a guest
 * that has no handler. A pending interrupt is delivered the same way when
 * the guest has interrupts on, has not blocked it, and is not inside its
 * no-interrupt window.
 */
final class InterruptsAndTraps {
    private static final int EFLAGS_IF = 0x200;

    private final GuestState g;
    private final Emulation emulation;

    InterruptsAndTraps(GuestState g, Emulation emulation) {
        this.g = g;
        this.emulation = emulation;
    }

    static boolean hasErrorCode(int trap) {
        return trap == 8 || trap >= 10 && trap <= 14 || trap == 17;
    }

    /** A trap the Switcher returned with. */
    void trap(int trap, int err, int cr2) {
        switch (trap) {
            case SwitcherExit.PAGE_FAULT -> {
                if (g.spt.demandPage(cr2, err)) {
                    return;
                }
                if (g.abi == GuestAbi.LGUEST_4_X && emulation.mmio(cr2, err)) {
                    return;
                }
                if (g.lguestData != GuestState.NO_DATA) {
                    g.memory.writeU32(g.lguestData + LguestData.CR2, cr2);
                }
                deliverTrap(trap, err, cr2);
            }
            case SwitcherExit.GENERAL_PROTECTION -> {
                if (err == 0 && (g.abi == GuestAbi.LGUEST_4_X ? emulation.portIo() : emulation.emulateInsn())) {
                    return;
                }
                deliverTrap(trap, err, 0);
            }
            case SwitcherExit.DEVICE_NOT_AVAILABLE -> {
                if (!g.ts) {
                    g.sw.setTaskSwitched(false);
                    return;
                }
                deliverTrap(trap, 0, 0);
            }
            case Hypercalls.TRAP_ENTRY -> g.pendingHypercall = true;
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
        int i = GuestState.gateIndex(trap);
        if (i < 0 || g.lguestData == GuestState.NO_DATA || (g.idtHi[i] & 0x8000) == 0 || trap == 8) {
            g.kill(String.format("unhandled trap %d at 0x%08x (0x%x%s)", trap, g.cpu.eip(), err,
                    trap == SwitcherExit.PAGE_FAULT ? String.format(", cr2 0x%08x", cr2) : ""));
            return;
        }
        setGuestInterrupt(g.idtLo[i], g.idtHi[i], hasErrorCode(trap), err);
    }

    /** maybe_do_interrupt: delivers the lowest pending interrupt the guest takes now, if any. */
    void maybeInterrupt() {
        if (g.lguestData == GuestState.NO_DATA) {
            return;
        }
        if (g.abi == GuestAbi.LGUEST_4_X) {
            maybeInterrupt4();
            return;
        }
        int pending = g.irqsPending.get();
        if (pending == 0) {
            return;
        }
        int candidates = pending & ~g.memory.readU32(g.lguestData + LguestData.BLOCKED_INTERRUPTS);
        if (candidates == 0) {
            return;
        }
        int irq = Integer.numberOfTrailingZeros(candidates);
        int eip = g.cpu.eip();
        if (Integer.compareUnsigned(eip, g.noirqStart) >= 0 && Integer.compareUnsigned(eip, g.noirqEnd) < 0) {
            return;
        }
        if (g.halted) {
            g.memory.writeU32(g.lguestData + LguestData.IRQ_ENABLED, LguestData.IRQS_ON);
            g.halted = false;
        } else if ((g.memory.readU32(g.lguestData + LguestData.IRQ_ENABLED) & EFLAGS_IF) == 0) {
            return;
        }
        int v = Hypercalls.FIRST_EXTERNAL_VECTOR + irq;
        if ((g.idtHi[v] & 0x8000) == 0) {
            return;
        }
        g.irqsPending.getAndUpdate(p -> p & ~(1 << irq));
        g.interrupts.incrementAndGet();
        setGuestInterrupt(g.idtLo[v], g.idtHi[v], false, 0);
    }

    /**
     * try_deliver_interrupt of 4.x: as 2.6.23, but a guest with interrupts
     * off is told one is pending (irq_pending), the time is written with each
     * delivery, and an interrupt arriving at the guest's {@code iret} is
     * delivered on the frame that iret was about to pop.
     */
    private void maybeInterrupt4() {
        int pending = g.irqsPending.get();
        if (pending == 0) {
            return;
        }
        int blocked = g.lguestData + LguestData4.BLOCKED_INTERRUPTS;
        int candidates = pending & ~g.memory.readU32(blocked);
        if (candidates == 0) {
            return;
        }
        int irq = Integer.numberOfTrailingZeros(candidates);
        if (g.halted) {
            g.memory.writeU32(g.lguestData + LguestData4.IRQ_ENABLED, LguestData4.IRQS_ON);
            g.halted = false;
        } else if ((g.memory.readU32(g.lguestData + LguestData4.IRQ_ENABLED) & EFLAGS_IF) == 0) {
            g.memory.writeU32(g.lguestData + LguestData4.IRQ_PENDING, LguestData4.IRQS_ON);
            return;
        }
        int v = Hypercalls.FIRST_EXTERNAL_VECTOR + irq;
        if ((g.idtHi[v] & 0x8000) == 0) {
            return;
        }
        int left = g.irqsPending.updateAndGet(p -> p & ~(1 << irq));
        g.interrupts.incrementAndGet();
        Cpu cpu = g.cpu;
        if (g.noirqIret != 0 && cpu.eip() == g.noirqIret) {
            // At the iret: its frame (eip, cs, eflags) becomes the interrupt's; EFLAGS as it will be restored.
            int esp = cpu.reg(Cpu.ESP);
            int flags = g.memory.readU32(g.spt.guestPhysical(esp + 8));
            cpu.setEflags(flags & ~(0x100 | 0x4000 | 0x10000 | 0x20000) | EFLAGS_IF | 2); // no TF, NT, RF, VM
            cpu.setEip(g.idtLo[v] & 0xFFFF | g.idtHi[v] & 0xFFFF0000);
            if ((g.idtHi[v] >> 8 & 0xF) == 0xE) {
                g.memory.writeU32(g.lguestData + LguestData4.IRQ_ENABLED, 0);
            }
        } else {
            setGuestInterrupt(g.idtLo[v], g.idtHi[v], false, 0);
        }
        LguestData4.writeTime(g.memory, g.lguestData, java.time.Instant.now());
        if ((left & ~g.memory.readU32(blocked)) == 0) {
            g.memory.writeU32(g.lguestData + LguestData4.IRQ_PENDING, 0);
        }
    }

    /** set_guest_interrupt: the frame the processor would push, on the guest's own stack. */
    private void setGuestInterrupt(int lo, int hi, boolean hasErr, int err) {
        Cpu cpu = g.cpu;
        int ss = cpu.selector(Cpu.SS), esp = cpu.reg(Cpu.ESP);
        boolean fromUser = (ss & 3) != 1;
        int newSs = ss;
        if (fromUser) {
            newSs = g.sw.kernelStackSegment();
            esp = g.sw.kernelStackPointer();
            if ((newSs & 3) != 1) {
                throw new GuestViolationException("trap from user mode before SET_STACK gave a kernel stack");
            }
        }
        int eflags = cpu.eflags();
        if ((g.memory.readU32(g.lguestData + LguestData.IRQ_ENABLED) & EFLAGS_IF) == 0) {
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
            int pa = g.spt.guestPhysical(esp);
            for (int b = 0; b < 4; b++) {
                at[4 * k + b] = (esp + b & 0xFFF) >= b ? pa + b : g.spt.guestPhysical(esp + b);
            }
        }
        for (int k = 0; k < words; k++) {
            for (int b = 0; b < 4; b++) {
                g.memory.writeU8(at[4 * k + b], frame[k] >>> 8 * b);
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
            g.memory.writeU32(g.lguestData + LguestData.IRQ_ENABLED, 0);
        }
    }
}
