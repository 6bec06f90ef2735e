package org.lguest.lg.impl;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * Just enough i386 machine code for the test guests, encoded by hand. Code is
 * assembled for a fixed load address so labels resolve to absolute addresses.
 */
final class Asm {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final int origin;
    private final Map<String, Integer> labels = new HashMap<>();

    Asm(int origin) {
        this.origin = origin;
    }

    Asm b(int... bytes) {
        for (int x : bytes) {
            out.write(x);
        }
        return this;
    }

    Asm d(int v) {
        return b(v & 0xFF, v >>> 8 & 0xFF, v >>> 16 & 0xFF, v >>> 24 & 0xFF);
    }

    /** The address the next instruction will have. */
    int here() {
        return origin + out.size();
    }

    Asm label(String name) {
        labels.put(name, here());
        return this;
    }

    int at(String name) {
        Integer a = labels.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no label " + name);
        }
        return a;
    }

    Asm movEax(int v) { return b(0xB8).d(v); }
    Asm movEcx(int v) { return b(0xB9).d(v); }
    Asm movEdx(int v) { return b(0xBA).d(v); }
    Asm movEbx(int v) { return b(0xBB).d(v); }
    Asm movEsp(int v) { return b(0xBC).d(v); }
    Asm movEsi(int v) { return b(0xBE).d(v); }

    /** mov eax, [addr] */
    Asm loadEax(int addr) { return b(0xA1).d(addr); }
    /** mov [addr], eax */
    Asm storeEax(int addr) { return b(0xA3).d(addr); }
    /** mov dword [addr], imm32 */
    Asm store(int addr, int v) { return b(0xC7, 0x05).d(addr).d(v); }
    /** inc dword [addr] */
    Asm inc(int addr) { return b(0xFF, 0x05).d(addr); }
    /** cmp dword [addr], imm32 */
    Asm cmp(int addr, int v) { return b(0x81, 0x3D).d(addr).d(v); }
    /** pop dword [addr] */
    Asm popTo(int addr) { return b(0x8F, 0x05).d(addr); }
    /** push imm32 */
    Asm push(int v) { return b(0x68).d(v); }
    Asm iret() { return b(0xCF); }
    Asm nop() { return b(0x90); }
    /** in al, dx / in eax, dx / out dx, al / in al, imm8 */
    Asm inAlDx() { return b(0xEC); }
    Asm inEaxDx() { return b(0xED); }
    Asm outDxAl() { return b(0xEE); }
    Asm inAlImm(int port) { return b(0xE4, port); }
    /** fninit: an FPU instruction (device-not-available when CR0.TS) */
    Asm fninit() { return b(0xDB, 0xE3); }

    Asm interrupt(int n) { return b(0xCD, n); }

    /** The lguest hypercall: eax = call, edx/ebx/ecx = arguments, int $0x1f. */
    Asm hypercall(int call, int arg1, int arg2, int arg3) {
        return movEax(call).movEdx(arg1).movEbx(arg2).movEcx(arg3).interrupt(0x1F);
    }

    Asm hypercall(int call, int arg1) {
        return hypercall(call, arg1, 0, 0);
    }

    /** A 4.x hypercall: eax = call, ebx/ecx/edx = arguments, int $0x1f. */
    Asm hypercall4(int call, int arg1, int arg2, int arg3) {
        return movEax(call).movEbx(arg1).movEcx(arg2).movEdx(arg3).interrupt(0x1F);
    }

    /** jmp short to an absolute address. */
    Asm jmp(int target) {
        return shortJump(0xEB, target);
    }

    Asm jne(int target) {
        return shortJump(0x75, target);
    }

    /** jmp $ : spin forever. */
    Asm spin() {
        return b(0xEB, 0xFE);
    }

    private Asm shortJump(int op, int target) {
        int rel = target - (here() + 2);
        if (rel < -128 || rel > 127) {
            throw new IllegalArgumentException("short jump too far: " + rel);
        }
        return b(op, rel & 0xFF);
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
