package org.lguest.cpu.impl;

import java.util.ArrayList;
import java.util.List;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.compile.CompiledBlocks;

/**
 * A small machine for specification tests: RAM, a port log, and a protected
 * mode set-up with a GDT, an IDT whose gates point at HLT stubs, and a TSS.
 *
 * <p>Layout: GDT 0x1000, IDT 0x2000, TSS 0x3000, handler stubs 0x5000 + 16*v,
 * code at 0x10000, ring-0 stack top 0x8000, ring-3 stack top 0x9000.
 */
final class TestMachine {
    static final int GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, STUBS = 0x5000, CODE = 0x10000;
    static final int KCODE = 0x08, KDATA = 0x10, UCODE = 0x1B, UDATA = 0x23, TSS_SEL = 0x28;

    final byte[][] frames;
    final X86Cpu cpu;
    final List<String> io = new ArrayList<>();
    int inValue = 0xFF;

    TestMachine() {
        this(4);
    }

    TestMachine(int mib) {
        this(mib, new CompiledBlocks());
    }

    /** A machine whose compiled blocks are shared through {@code blocks} (as the CPU service's processors share them). */
    TestMachine(int mib, CompiledBlocks blocks) {
        frames = new byte[mib * 256][];
        for (int i = 0; i < frames.length; i++) frames[i] = new byte[4096];
        PhysicalMemory mem = new PhysicalMemory() {
            @Override
            public int frameCount() {
                return frames.length;
            }

            @Override
            public byte[] frame(int pfn) {
                return pfn < frames.length ? frames[pfn] : null;
            }
        };
        IoPorts ports = new IoPorts() {
            @Override
            public int in(int port, int size) {
                io.add("in " + Integer.toHexString(port) + "/" + size);
                return inValue;
            }

            @Override
            public void out(int port, int size, int value) {
                io.add("out " + Integer.toHexString(port) + "/" + size + "=" + Integer.toHexString(value));
            }
        };
        cpu = new X86Cpu(mem, ports, blocks);
        setupProtected();
    }

    /** Writes a byte behind the processor's back, telling it (as a host must). */
    void poke8(int a, int v) {
        frames[a >>> 12][a & 0xFFF] = (byte) v;
        cpu.physicalWritten(a, 1);
    }

    void poke32(int a, int v) {
        for (int k = 0; k < 4; k++) poke8(a + k, v >>> (8 * k));
    }

    int peek8(int a) {
        return frames[a >>> 12][a & 0xFFF] & 0xFF;
    }

    int peek32(int a) {
        return peek8(a) | peek8(a + 1) << 8 | peek8(a + 2) << 16 | peek8(a + 3) << 24;
    }

    void bytes(int a, int... b) {
        for (int i = 0; i < b.length; i++) poke8(a + i, b[i]);
    }

    /** Places code at CODE and points EIP at it. */
    TestMachine code(int... b) {
        bytes(CODE, b);
        cpu.setEip(CODE);
        return this;
    }

    /** Where {@link #loopRewritingItsImmediateOnce} keeps the immediate it rewrites. */
    static final int REWRITTEN_IMMEDIATE = CODE + 0x31;

    /**
     * Places at CODE a loop that rewrites, once, an immediate of its own:
     * <pre>
     * 0x00 mov ecx,100
     * 0x05 L: add edx,ebx; inc eax; jmp M    -- the loop's head, far from the bytes it rewrites
     * 0x30 M: mov ebx,1 (imm32 at REWRITTEN_IMMEDIATE)
     * 0x35    cmp ecx,50; jne N
     * 0x3A    the three bytes {@code store}   -- once, on pass 51, long after the loop was compiled
     * 0x3D N: dec ecx; jnz L; hlt
     * </pre>
     * A store that makes the immediate 51 has passes 2 to 52 add 1 to EDX
     * and passes 53 to 100 add 51, when the running region sees it.
     */
    TestMachine loopRewritingItsImmediateOnce(int... store) {
        int[] b = new int[0x41];
        java.util.Arrays.fill(b, 0xCC);
        System.arraycopy(new int[] {0xB9, 100, 0, 0, 0, 0x01, 0xDA, 0x40, 0xEB, 0x26}, 0, b, 0, 10);
        System.arraycopy(new int[] {0xBB, 1, 0, 0, 0, 0x83, 0xF9, 0x32, 0x75, 0x03}, 0, b, 0x30, 10);
        System.arraycopy(store, 0, b, 0x3A, 3);
        System.arraycopy(new int[] {0x49, 0x75, 0xC5, 0xF4}, 0, b, 0x3D, 4);
        return code(b);
    }

    CpuExit run() {
        return cpu.run(10_000);
    }

    /** Runs exactly n instructions. */
    CpuExit steps(int n) {
        return cpu.run(n);
    }

    void setDesc(int index, int base, int limit, int access, int flags) {
        int lo = (limit & 0xFFFF) | (base << 16);
        int hi = ((base >>> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20) | (base & 0xFF000000);
        poke32(GDT + index * 8, lo);
        poke32(GDT + index * 8 + 4, hi);
    }

    void setGate(int vector, int selector, int offset, int type, int dpl) {
        poke32(IDT + vector * 8, (offset & 0xFFFF) | (selector << 16));
        poke32(IDT + vector * 8 + 4, (offset & 0xFFFF0000) | 0x8000 | (dpl << 13) | (type << 8));
    }

    void setupProtected() {
        setDesc(1, 0, 0xFFFFF, 0x9A, 0xC);
        setDesc(2, 0, 0xFFFFF, 0x92, 0xC);
        setDesc(3, 0, 0xFFFFF, 0xFA, 0xC);
        setDesc(4, 0, 0xFFFFF, 0xF2, 0xC);
        setDesc(5, TSS, 0x67, 0x89, 0);
        cpu.setGdt(GDT, 0x7F);
        for (int v = 0; v < 256; v++) {
            setGate(v, KCODE, STUBS + 16 * v, 0xE, 0);
            poke8(STUBS + 16 * v, 0xF4); // hlt
        }
        cpu.setIdt(IDT, 0x7FF);
        poke32(TSS + 4, 0x8000); // ESP0
        poke32(TSS + 8, KDATA); // SS0
        poke32(TSS + 0x64, 0x00680000); // I/O bitmap base 0x68 (beyond limit: no bitmap)
        cpu.setTaskRegister(TSS_SEL, TSS, 0x67, 0x8B00);
        cpu.setSegment(Cpu.CS, KCODE, 0, -1, 0xCF9B00);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) cpu.setSegment(s, KDATA, 0, -1, 0xCF9300);
        cpu.setReg(Cpu.ESP, 0x8000);
    }

    /** Switches to ring 3 with flat user segments. */
    void toUser() {
        cpu.setSegment(Cpu.CS, UCODE, 0, -1, 0xCFFB00);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) cpu.setSegment(s, UDATA, 0, -1, 0xCFF300);
        cpu.setReg(Cpu.ESP, 0x9000);
    }

    /** Makes vector v's handler lie in the host region (so delivery returns HOST_VECTOR). */
    void hostVectors() {
        cpu.setHostRegion(STUBS, STUBS + 16 * 256);
    }

    /** Vector whose HLT stub the processor stopped in (after a HALT exit), or -1. */
    int haltedInVector() {
        int e = cpu.eip() - 1;
        if (e < STUBS || e >= STUBS + 16 * 256) return -1;
        return (e - STUBS) / 16;
    }

    /** Identity page tables for the first 4 MiB at 0x20000 (PD) / 0x21000 (PT) with given PTE flags. */
    void identityPaging(int pteFlags) {
        int pd = 0x20000, pt = 0x21000;
        poke32(pd, pt | 0x7);
        for (int i = 0; i < 1024; i++) poke32(pt + 4 * i, (i << 12) | pteFlags);
        cpu.setCr(3, pd);
        cpu.setCr(0, cpu.cr(0) | 0x80000001);
    }
}
