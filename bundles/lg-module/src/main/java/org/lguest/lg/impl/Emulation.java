package org.lguest.lg.impl;

import org.lguest.cpu.Cpu;
import org.lguest.lg.RunResult;
import org.lguest.mmu.GuestViolationException;

/**
 * The instructions the host finishes for the guest (2.6.23's
 * {@code emulate_insn}, 4.x's I/O exits): a ring-1 {@code in}/{@code out}
 * traps as #GP(0), a load or store in the I/O window as a page fault. The
 * 2.6.23 guest probes ports at boot and gets all ones; a 4.x guest's port and
 * device-memory accesses go to the Launcher ({@link RunResult.PortIo},
 * {@link RunResult.Mmio}), a read's value coming back with
 * {@code completeIo}. The instruction is read through the guest's own page
 * tables, as the host sees it.
 */
final class Emulation {
    private final GuestState g;

    Emulation(GuestState g) {
        this.g = g;
    }

    /** The instruction's bytes at EIP. */
    private int codeByte(int offset) {
        return insnByte(g.cpu.eip() + offset);
    }

    private int insnByte(int vaddr) {
        return g.memory.readU8(g.spt.guestPhysical(vaddr));
    }

    /**
     * 4.x: {@code in}/{@code out} at ring 1 goes to the Launcher (PCI
     * configuration, and every other port it decides about); a stray
     * {@code cli} is stepped over, as lguest's Launcher does.
     */
    boolean portIo() {
        Cpu cpu = g.cpu;
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
            g.pendingRead = insn;
        }
        g.pendingIo = new RunResult.PortIo(insn.port(), insn.size(), insn.write(), insn.value());
        return true;
    }

    /** 4.x: a fault inside the I/O window is a device register access for the Launcher. */
    boolean mmio(int vaddr, int err) {
        int address = g.spt.ioAddress(vaddr, err);
        if (address == -1) {
            return false;
        }
        Cpu cpu = g.cpu;
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
            g.pendingRead = insn;
        }
        g.pendingIo = new RunResult.Mmio(address, insn.size(), insn.write(), insn.value());
        return true;
    }

    /** The Launcher's answer to the read handed out last (all ones when it gave none before the guest ran again). */
    void completeRead(int value) {
        IoInstruction read = g.pendingRead;
        g.pendingRead = null;
        if (read != null) {
            read.complete(g.cpu, value);
        }
    }

    /** emulate_insn (2.6.23): port probing at ring 1 reads all ones and writes nothing. */
    boolean emulateInsn() {
        Cpu cpu = g.cpu;
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
}
