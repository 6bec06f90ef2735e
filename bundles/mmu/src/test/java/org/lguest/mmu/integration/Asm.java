package org.lguest.mmu.integration;

import java.io.ByteArrayOutputStream;

/** Just enough i386 machine code for the integration tests, encoded by hand. */
final class Asm {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Asm b(int... bytes) {
        for (int x : bytes) {
            out.write(x);
        }
        return this;
    }

    private Asm d(int v) {
        return b(v & 0xFF, v >>> 8 & 0xFF, v >>> 16 & 0xFF, v >>> 24 & 0xFF);
    }

    int size() {
        return out.size();
    }

    /** mov eax/ecx/edx/ebx, imm32 */
    Asm movEax(int v) { return b(0xB8).d(v); }
    Asm movEcx(int v) { return b(0xB9).d(v); }
    Asm movEdx(int v) { return b(0xBA).d(v); }
    Asm movEbx(int v) { return b(0xBB).d(v); }

    /** mov reg, [addr] */
    Asm loadEax(int addr) { return b(0xA1).d(addr); }
    Asm loadEcx(int addr) { return b(0x8B, 0x0D).d(addr); }
    Asm loadEbx(int addr) { return b(0x8B, 0x1D).d(addr); }
    Asm loadEsi(int addr) { return b(0x8B, 0x35).d(addr); }
    Asm loadEdi(int addr) { return b(0x8B, 0x3D).d(addr); }

    /** xor esi, esi */
    Asm movEsi0() { return b(0x31, 0xF6); }

    /** add esi, [addr] */
    Asm addEsi(int addr) { return b(0x03, 0x35).d(addr); }

    /** mov dword [addr], imm32 */
    Asm store(int addr, int v) { return b(0xC7, 0x05).d(addr).d(v); }

    /** dec ecx */
    Asm decEcx() { return b(0x49); }

    /** jnz short to a byte offset in this code. */
    Asm jnzTo(int offset) {
        int rel = offset - (out.size() + 2);
        if (rel < -128 || rel > 127) {
            throw new IllegalArgumentException("short jump too far: " + rel);
        }
        return b(0x75, rel & 0xFF);
    }

    /** int n */
    Asm interrupt(int n) { return b(0xCD, n); }

    /** The lguest hypercall: eax = call, edx/ebx/ecx = arguments, int $0x1f. */
    Asm hypercall(int call, int arg1, int arg2, int arg3) {
        return movEax(call).movEdx(arg1).movEbx(arg2).movEcx(arg3).interrupt(0x1F);
    }

    /** jmp short to a byte offset in this code. */
    Asm jmpTo(int offset) {
        int rel = offset - (out.size() + 2);
        if (rel < -128 || rel > 127) {
            throw new IllegalArgumentException("short jump too far: " + rel);
        }
        return b(0xEB, rel & 0xFF);
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
