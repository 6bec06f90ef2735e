package org.lguest.lg.impl;

import java.util.function.IntUnaryOperator;

import org.lguest.cpu.Cpu;

/**
 * The instructions a 4.x guest touches its devices with, decoded so the run
 * loop can hand the access to the Launcher and finish the instruction when
 * the answer comes: lguest 4.x's {@code emulate_insn} and the Launcher's
 * {@code emulate_mmio}, in one place.
 *
 * <p>Port I/O: {@code in}/{@code out} with an immediate port or DX, byte,
 * word (0x66) or dword ({@code E4 E5 EC ED E6 E7 EE EF}). Memory-mapped I/O:
 * the {@code mov} forms Linux's readb/w/l and writeb/w/l compile to
 * ({@code 88 89 8A 8B C6 C7}, {@code 0F B6}/{@code 0F B7} movzx, and the
 * {@code A0}–{@code A3} moffs forms). Segment-override prefixes are skipped
 * (the faulting address is already known). Anything else is not emulated:
 * the fault goes back to the guest.
 *
 * @param length   bytes of the instruction, to step over
 * @param size     bytes moved: 1, 2 or 4
 * @param write    {@code out} or a store
 * @param register the register read or written (Cpu.EAX..EDI); for byte
 *                 registers 4..7 mean AH, CH, DH, BH
 * @param value    for a write: the bytes written
 * @param port     for port I/O: the port; -1 for memory-mapped I/O
 * @param signExtend unused (no movsx form is decoded); reads into a wider
 *                 register zero-extend when {@code zeroExtendTo} is 4
 * @param zeroExtendTo for movzx: 4 (the whole register is replaced); otherwise equal to {@code size}
 */
record IoInstruction(int length, int size, boolean write, int register, int value, int port, boolean signExtend,
        int zeroExtendTo) {

    /** Decodes port I/O at EIP, or returns null. {@code code} gives the instruction's bytes (offset from EIP). */
    static IoInstruction decodePort(IntUnaryOperator code, Cpu cpu) {
        int at = 0;
        boolean op16 = false;
        int b = code.applyAsInt(at);
        if (b == 0x66) {
            op16 = true;
            b = code.applyAsInt(++at);
        }
        int size = (b & 1) == 0 ? 1 : op16 ? 2 : 4;
        int port;
        int length;
        switch (b) {
            case 0xE4, 0xE5, 0xE6, 0xE7 -> {
                port = code.applyAsInt(at + 1);
                length = at + 2;
            }
            case 0xEC, 0xED, 0xEE, 0xEF -> {
                port = cpu.reg(Cpu.EDX) & 0xFFFF;
                length = at + 1;
            }
            default -> {
                return null;
            }
        }
        boolean out = b == 0xE6 || b == 0xE7 || b == 0xEE || b == 0xEF;
        int value = out ? cpu.reg(Cpu.EAX) & mask(size) : 0;
        return new IoInstruction(length, size, out, Cpu.EAX, value, port, false, size);
    }

    /** Decodes a memory-mapped I/O access at EIP, or returns null. */
    static IoInstruction decodeMmio(IntUnaryOperator code, Cpu cpu) {
        int at = 0;
        boolean op16 = false;
        int b;
        while (true) {
            b = code.applyAsInt(at);
            if (b == 0x66) {
                op16 = true;
            } else if (b != 0x26 && b != 0x2E && b != 0x36 && b != 0x3E && b != 0x64 && b != 0x65) {
                break;
            }
            if (++at > 4) {
                return null;
            }
        }
        int wide = op16 ? 2 : 4;
        switch (b) {
            case 0x88, 0x89, 0x8A, 0x8B -> {
                int modrm = code.applyAsInt(at + 1);
                int len = modrmLength(code, at + 1);
                if (len < 0) {
                    return null;
                }
                int size = (b & 1) == 0 ? 1 : wide;
                int reg = modrm >> 3 & 7;
                boolean write = b == 0x88 || b == 0x89;
                int value = write ? readRegister(cpu, reg, size) : 0;
                return new IoInstruction(at + 1 + len, size, write, reg, value, -1, false, size);
            }
            case 0xC6, 0xC7 -> {
                int modrm = code.applyAsInt(at + 1);
                if ((modrm >> 3 & 7) != 0) {
                    return null;
                }
                int len = modrmLength(code, at + 1);
                if (len < 0) {
                    return null;
                }
                int size = b == 0xC6 ? 1 : wide;
                int imm = at + 1 + len;
                int value = 0;
                for (int i = 0; i < size; i++) {
                    value |= code.applyAsInt(imm + i) << 8 * i;
                }
                return new IoInstruction(imm + size, size, true, -1, value, -1, false, size);
            }
            case 0x0F -> {
                int op = code.applyAsInt(at + 1);
                if (op != 0xB6 && op != 0xB7) {
                    return null;
                }
                int modrm = code.applyAsInt(at + 2);
                int len = modrmLength(code, at + 2);
                if (len < 0) {
                    return null;
                }
                return new IoInstruction(at + 2 + len, op == 0xB6 ? 1 : 2, false, modrm >> 3 & 7, 0, -1, false, wide);
            }
            case 0xA0, 0xA1, 0xA2, 0xA3 -> {
                int size = (b & 1) == 0 ? 1 : wide;
                boolean write = b >= 0xA2;
                int value = write ? readRegister(cpu, Cpu.EAX, size) : 0;
                return new IoInstruction(at + 5, size, write, Cpu.EAX, value, -1, false, size);
            }
            default -> {
                return null;
            }
        }
    }

    /** Bytes of a ModRM with its SIB and displacement (32-bit addressing), starting at {@code at}; -1 for a register operand. */
    private static int modrmLength(IntUnaryOperator code, int at) {
        int modrm = code.applyAsInt(at);
        int mod = modrm >> 6, rm = modrm & 7;
        if (mod == 3) {
            return -1;
        }
        int len = 1;
        if (rm == 4) {
            int sib = code.applyAsInt(at + 1);
            len++;
            if (mod == 0 && (sib & 7) == 5) {
                len += 4;
            }
        } else if (mod == 0 && rm == 5) {
            len += 4;
        }
        if (mod == 1) {
            len += 1;
        } else if (mod == 2) {
            len += 4;
        }
        return len;
    }

    static int mask(int size) {
        return size == 4 ? -1 : (1 << 8 * size) - 1;
    }

    private static int readRegister(Cpu cpu, int reg, int size) {
        if (size == 1) {
            return reg < 4 ? cpu.reg(reg) & 0xFF : cpu.reg(reg - 4) >>> 8 & 0xFF;
        }
        return cpu.reg(reg) & mask(size);
    }

    /** Puts a read's {@code value} into the destination register, as the instruction would have. */
    void complete(Cpu cpu, int value) {
        if (write || register < 0) {
            return;
        }
        int v = value & mask(size);
        if (zeroExtendTo == 4) {
            cpu.setReg(register, v);
        } else if (size == 1) {
            if (register < 4) {
                cpu.setReg(register, cpu.reg(register) & ~0xFF | v);
            } else {
                cpu.setReg(register - 4, cpu.reg(register - 4) & ~0xFF00 | v << 8);
            }
        } else if (size == 2 && zeroExtendTo == 2) {
            cpu.setReg(register, cpu.reg(register) & ~0xFFFF | v);
        } else if (zeroExtendTo == 2) {
            cpu.setReg(register, cpu.reg(register) & ~0xFFFF | v); // movzx byte to word
        } else {
            cpu.setReg(register, v);
        }
    }
}
