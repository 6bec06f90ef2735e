package org.lguest.cpu.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.compile.Block;
import org.lguest.cpu.impl.decode.Insn;

/**
 * Register file, lazy flags, segment caches, the soft TLB and every memory
 * access path (segmentation, then paging). Guest faults are raised by
 * {@link #fault} which throws the processor's one preallocated {@link Fault}.
 */
public abstract class CpuState {
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    public static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    // EFLAGS bits
    public static final int CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
            OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, ID = 0x200000;
    public static final int ARITH = CF | PF | AF | ZF | SF | OF;

    // exception vectors
    public static final int DE = 0, DB = 1, BP = 3, OFV = 4, BR = 5, UD = 6, NM = 7, DF_V = 8, TS = 10, NP = 11, SS_V = 12,
            GP = 13, PF_V = 14, MF = 16, AC_V = 17;

    // lazy flag kinds
    public static final int L_EAGER = 0, L_ADD = 1, L_ADC = 2, L_SUB = 3, L_SBB = 4, L_LOGIC = 5, L_INC = 6, L_DEC = 7,
            L_SHL = 8, L_SHR = 9, L_SAR = 10,
            /** a 32-bit IMUL from compiled code: lr the result, laux non-zero when it overflowed (CF = OF) */
            L_IMUL = 11;

    public final PhysicalMemory mem;
    public final IoPorts io;
    final Fault fault = new Fault();

    public final int[] r = new int[8];
    public int eip;
    /** EFLAGS; the arithmetic bits are valid only when lop == L_EAGER. */
    public int flags = 2;
    public int lop, lsz = 32, la, lb, lr, laux;

    // segment registers and their hidden caches
    public final int[] sel = new int[6], sbase = new int[6], slimit = new int[6], sacc = new int[6];
    /** lowest valid offset, and (highest - lowest) as unsigned, per segment */
    final int[] slo = new int[6];
    final long[] sspan = new long[6];
    /** 1 = readable, 2 = writable, 0 = unusable */
    public final int[] sperm = new int[6];
    public int cpl;
    public boolean csD = true, ssB = true;
    /**
     * Per segment: its limit when the segment has base 0, is readable and
     * writable, expands up and reaches at least a page, else 0. An access of
     * n bytes at offset o with o + n - 1 within that limit is at linear o and
     * cannot fault on the segment, so compiled code skips {@link #lin}: flat
     * 4 GiB segments, and an lguest guest's segments, which end below the
     * Switcher.
     */
    public final int[] fastLimit = new int[6];

    public int gdtBase, gdtLimit, idtBase, idtLimit;
    public int ldtSel, ldtBase, ldtLimit;
    public int trSel, trBase, trLimit, trAcc;
    public int cr0 = 0x11, cr2, cr3, cr4;
    long tsc;
    public long icount;

    // fault in flight
    public int fVector, fError;
    public boolean fHasError;

    // soft TLB: direct mapped, supervisor half then user half
    public static final int TLB_BITS = 10, TLB_N = 1 << TLB_BITS, TLB_MASK = TLB_N - 1;
    /**
     * The tlbUser value while alignment checking is on (CPL 3, CR0.AM, EFLAGS.AC): a third TLB region that is
     * never filled, so every data access takes the slow path, where misalignment raises #AC(0).
     */
    public static final int TLB_AC = 2 * TLB_N;
    public final int[] rTag = new int[3 * TLB_N], wTag = new int[3 * TLB_N];
    public final byte[][] rPage = new byte[3 * TLB_N][], wPage = new byte[3 * TLB_N][];
    final boolean[] tGlobal = new boolean[3 * TLB_N];
    /** Entries (either of rTag/wTag at the index) that may come from a 4 MiB page; anyLarge: some ever did. */
    final boolean[] tLarge = new boolean[3 * TLB_N];
    boolean anyLarge;
    /** 0 for supervisor accesses, TLB_N for user (CPL 3) */
    public int tlbUser;
    /** whether the slow path treats the access as a user access */
    public boolean userAccess;

    // instruction fetch window
    public int fetchPage = 1;
    public byte[] fetchBuf;
    /** decoded instructions of the frame in the fetch window, by page offset */
    public Insn[] fetchCode;
    /** frames holding decoded code: writes to them take the slow path and drop what they overlap */
    public final java.util.IdentityHashMap<byte[], Insn[]> code = new java.util.IdentityHashMap<>();

    public CpuState(PhysicalMemory mem, IoPorts io) {
        this.mem = mem;
        this.io = io;
        java.util.Arrays.fill(rTag, -1);
        java.util.Arrays.fill(wTag, -1);
    }

    // ---------------------------------------------------------------- faults

    public final RuntimeException fault(int vector) {
        fVector = vector;
        fError = 0;
        fHasError = false;
        throw fault;
    }

    public final RuntimeException fault(int vector, int error) {
        fVector = vector;
        fError = error;
        fHasError = true;
        throw fault;
    }

    // ---------------------------------------------------------------- flags

    public final int getCF() {
        switch (lop) {
            case L_EAGER: return flags & 1;
            case L_ADD: return Integer.compareUnsigned(lr, la) < 0 ? 1 : 0;
            case L_ADC: return (laux != 0 ? Integer.compareUnsigned(lr, la) <= 0 : Integer.compareUnsigned(lr, la) < 0) ? 1 : 0;
            case L_SUB: return Integer.compareUnsigned(la, lb) < 0 ? 1 : 0;
            case L_SBB: return (laux != 0 ? Integer.compareUnsigned(la, lb) <= 0 : Integer.compareUnsigned(la, lb) < 0) ? 1 : 0;
            case L_LOGIC: return 0;
            case L_INC: case L_DEC: return laux & 1;
            case L_SHL: return (int) ((((long) la & 0xFFFFFFFFL) << lb) >>> lsz) & 1;
            case L_SHR: return (la >>> (lb - 1)) & 1;
            case L_SAR: return (sext(la) >> Math.min(lb - 1, 31)) & 1;
            case L_IMUL: return laux != 0 ? 1 : 0;
            default: return 0;
        }
    }

    /**
     * CF of a compiled region's pending lazy flags (op, as a region holds it:
     * the kind, and above it how far its size is below 32 bits; 0 when the
     * flags are in the fields), without writing them to the fields where
     * the kind alone tells it.
     */
    public final int carryOf(int op, int a, int b, int r, int aux) {
        switch (op & 0xFF) {
            case L_ADD: return Integer.compareUnsigned(r, a) < 0 ? 1 : 0;
            case L_SUB: return Integer.compareUnsigned(a, b) < 0 ? 1 : 0;
            case L_LOGIC: return 0;
            case L_INC: case L_DEC: return aux & 1;
            case L_IMUL: return aux != 0 ? 1 : 0;
            case L_EAGER: return getCF();
            default:
                lop = op & 0xFF;
                lsz = 32 - (op >>> 8);
                la = a;
                lb = b;
                lr = r;
                laux = aux;
                return getCF();
        }
    }

    final int sext(int v) {
        return lsz == 32 ? v : lsz == 16 ? (short) v : (byte) v;
    }

    final int signBit() {
        return 1 << (lsz - 1);
    }

    public final boolean getZF() {
        return lop == L_EAGER ? (flags & ZF) != 0 : lr == 0;
    }

    final boolean getSF() {
        return lop == L_EAGER ? (flags & SF) != 0 : (lr & signBit()) != 0;
    }

    public final boolean getOF() {
        switch (lop) {
            case L_EAGER: return (flags & OF) != 0;
            case L_ADD: case L_ADC: return ((la ^ lr) & (lb ^ lr) & signBit()) != 0;
            case L_SUB: case L_SBB: return ((la ^ lb) & (la ^ lr) & signBit()) != 0;
            case L_LOGIC: return false;
            case L_INC: return lr == signBit();
            case L_DEC: return lr == signBit() - 1;
            case L_SHL: return (((lr & signBit()) != 0 ? 1 : 0) ^ getCF()) != 0;
            case L_SHR: return (la & signBit()) != 0 && lb == 1;
            case L_SAR: return false;
            case L_IMUL: return laux != 0;
            default: return false;
        }
    }

    final boolean getPF() {
        return lop == L_EAGER ? (flags & PF) != 0 : (Integer.bitCount(lr & 0xFF) & 1) == 0;
    }

    final boolean getAF() {
        switch (lop) {
            case L_EAGER: return (flags & AF) != 0;
            case L_ADD: case L_ADC: case L_SUB: case L_SBB: case L_INC: case L_DEC:
                return ((la ^ lb ^ lr) & 0x10) != 0;
            default: return false;
        }
    }

    /** EFLAGS with every arithmetic flag computed. */
    public final int getFlags() {
        if (lop == L_EAGER) return flags;
        int f = flags & ~ARITH;
        f |= getCF();
        if (getPF()) f |= PF;
        if (getAF()) f |= AF;
        if (lr == 0) f |= ZF;
        if ((lr & signBit()) != 0) f |= SF;
        if (getOF()) f |= OF;
        return f;
    }

    /** Makes the arithmetic flags eager (before a partial update). */
    final void materialize() {
        if (lop != L_EAGER) {
            flags = getFlags();
            lop = L_EAGER;
        }
    }

    public final void setArith(int f) {
        // every arithmetic flag is replaced, and the others are always current in flags: nothing to materialize
        // every arithmetic flag is replaced, and the others are always current in flags: nothing to materialize
        lop = L_EAGER;
        flags = (flags & ~ARITH) | (f & ARITH);
    }

    public final void setFlag(int bit, boolean v) {
        materialize();
        flags = v ? flags | bit : flags & ~bit;
    }

    final boolean cond(int cc) {
        boolean v;
        switch (cc >> 1) {
            case 0: v = getOF(); break;
            case 1: v = getCF() != 0; break;
            case 2: v = getZF(); break;
            case 3: v = getCF() != 0 || getZF(); break;
            case 4: v = getSF(); break;
            case 5: v = getPF(); break;
            case 6: v = getSF() != getOF(); break;
            default: v = getZF() || getSF() != getOF(); break;
        }
        return v ^ ((cc & 1) != 0);
    }

    /** Conditions from the lazy state without building flags where that is cheap. */
    public final boolean condFast(int cc) {
        int op = lop;
        if (op == L_SUB && lsz == 32) {
            int a = la, b = lb;
            switch (cc) {
                case 2: return Integer.compareUnsigned(a, b) < 0;
                case 3: return Integer.compareUnsigned(a, b) >= 0;
                case 4: return a == b;
                case 5: return a != b;
                case 6: return Integer.compareUnsigned(a, b) <= 0;
                case 7: return Integer.compareUnsigned(a, b) > 0;
                case 8: return lr < 0;
                case 9: return lr >= 0;
                case 0xC: return a < b;
                case 0xD: return a >= b;
                case 0xE: return a <= b;
                case 0xF: return a > b;
                default: break;
            }
        } else if (op == L_LOGIC && lsz == 32) {
            int v = lr;
            switch (cc) {
                case 0: case 2: return false;
                case 1: case 3: return true;
                case 4: return v == 0;
                case 5: return v != 0;
                case 6: return v == 0;
                case 7: return v != 0;
                case 8: case 0xC: return v < 0;
                case 9: case 0xD: return v >= 0;
                case 0xE: return v <= 0;
                case 0xF: return v > 0;
                default: break;
            }
        } else if (op != L_EAGER) {
            if (cc == 4) return lr == 0;
            if (cc == 5) return lr != 0;
        }
        return cond(cc);
    }

    /** Writes EFLAGS bits given by mask (arith bits included). */
    public final void writeFlags(int value, int mask) {
        materialize();
        flags = (flags & ~mask) | (value & mask);
        flags = (flags & ~0x8028 & ~0xFFC00000) | 2;
        updateAc();
    }

    /** #AC(0) when alignment checking is on and linear a is not a multiple of n (a power of two). */
    public final void alignCheck(int a, int n) {
        if (tlbUser == TLB_AC && (a & (n - 1)) != 0) throw fault(AC_V, 0);
    }

    /** Re-derives the TLB region from CPL, CR0.AM and EFLAGS.AC (call after any of them changes). */
    public final void updateAc() {
        if (cpl == 3) tlbUser = (cr0 & flags & 0x40000) != 0 ? TLB_AC : TLB_N;
    }

    // ---------------------------------------------------------------- registers

    public final int reg8(int n) {
        return n < 4 ? r[n] & 0xFF : (r[n - 4] >>> 8) & 0xFF;
    }

    public final void setReg8(int n, int v) {
        if (n < 4) r[n] = (r[n] & ~0xFF) | (v & 0xFF);
        else r[n - 4] = (r[n - 4] & ~0xFF00) | ((v & 0xFF) << 8);
    }

    public final void setReg16(int n, int v) {
        r[n] = (r[n] & 0xFFFF0000) | (v & 0xFFFF);
    }

    public final int getReg(int n, int sz) {
        return sz == 4 ? r[n] : sz == 2 ? r[n] & 0xFFFF : reg8(n);
    }

    public final void setReg(int n, int sz, int v) {
        if (sz == 4) r[n] = v;
        else if (sz == 2) setReg16(n, v);
        else setReg8(n, v);
    }

    // ---------------------------------------------------------------- segments

    /** Fills the hidden cache of a segment register from LAR-form access rights. */
    public final void cacheSegment(int s, int selector, int base, int limit, int access) {
        sel[s] = selector & 0xFFFF;
        sbase[s] = base;
        slimit[s] = limit;
        sacc[s] = access;
        boolean present = (access & 0x8000) != 0;
        boolean system = (access & 0x1000) == 0;
        int type = (access >> 8) & 0xF;
        int perm;
        if (!present || system) perm = 0;
        else if ((type & 8) != 0) perm = (type & 2) != 0 ? 1 : 0; // code: readable?
        else perm = (type & 2) != 0 ? 3 : 1;
        if (s == 1) perm = ((type & 8) != 0 && (type & 2) != 0) ? 1 : 0; // CS is never writable
        sperm[s] = perm;
        boolean expandDown = (access & 0x1800) == 0x1000 && (type & 4) != 0; // data, expand down
        if (expandDown) {
            int upper = (access & 0x400000) != 0 ? -1 : 0xFFFF;
            slo[s] = limit + 1;
            sspan[s] = ((long) upper & 0xFFFFFFFFL) - ((long) (limit + 1) & 0xFFFFFFFFL);
            if (sspan[s] < 0) { sperm[s] = 0; sspan[s] = 0; }
        } else {
            slo[s] = 0;
            sspan[s] = (long) limit & 0xFFFFFFFFL;
        }
        boolean fast = base == 0 && slo[s] == 0 && sspan[s] >= 0xFFF && sperm[s] == 3;
        fastLimit[s] = fast ? (int) sspan[s] : 0;
        if (s == 1) {
            csD = (access & 0x400000) != 0;
            fetchPage = 1;
        } else if (s == 2) {
            ssB = (access & 0x400000) != 0;
        }
    }

    final void segFault(int s) {
        if (s == 2) throw fault(SS_V, 0);
        throw fault(GP, 0);
    }

    /** Linear address of a checked access of n bytes; perm 1 = read, 2 = write. */
    /** Whether {@link #lin} would pass (no fault) for these arguments. */
    public final boolean linFits(int s, int off, int n, int perm) {
        return (sperm[s] & perm) != 0 && (((long) (off - slo[s])) & 0xFFFFFFFFL) <= sspan[s] - (n - 1);
    }

    public final int lin(int s, int off, int n, int perm) {
        if ((sperm[s] & perm) == 0 || (((long) (off - slo[s])) & 0xFFFFFFFFL) > sspan[s] - (n - 1)) segFault(s);
        return sbase[s] + off;
    }

    public final void setCpl(int c) {
        cpl = c;
        tlbUser = c == 3 ? TLB_N : 0;
        updateAc();
        userAccess = c == 3;
        fetchPage = 1;
    }

    // ---------------------------------------------------------------- TLB / paging

    public final void flushTlbAll() {
        java.util.Arrays.fill(rTag, -1);
        java.util.Arrays.fill(wTag, -1);
        java.util.Arrays.fill(rPage, null);
        java.util.Arrays.fill(wPage, null);
        java.util.Arrays.fill(tGlobal, false);
        java.util.Arrays.fill(tLarge, false);
        anyLarge = false;
        fetchPage = 1;
    }

    public final void flushTlbNonGlobal() {
        for (int i = 0; i < 2 * TLB_N; i++) {
            if (!tGlobal[i]) {
                rTag[i] = -1;
                wTag[i] = -1;
                rPage[i] = null;
                wPage[i] = null;
            }
        }
        fetchPage = 1;
    }

    public final void flushTlbPage(int linear) {
        int vpn = linear >>> 12;
        int i = vpn & TLB_MASK;
        for (int k = 0; k < 2; k++, i += TLB_N) {
            if (rTag[i] == vpn) { rTag[i] = -1; rPage[i] = null; tGlobal[i] = false; }
            if (wTag[i] == vpn) { wTag[i] = -1; wPage[i] = null; tGlobal[i] = false; }
        }
        if (anyLarge) {
            // INVLPG drops every entry of the page containing the address, whatever its size
            int big = vpn >>> 10;
            for (int j = 0; j < 2 * TLB_N; j++) {
                if (!tLarge[j]) continue;
                if (rTag[j] != -1 && rTag[j] >>> 10 == big) { rTag[j] = -1; rPage[j] = null; }
                if (wTag[j] != -1 && wTag[j] >>> 10 == big) { wTag[j] = -1; wPage[j] = null; }
            }
        }
        fetchPage = 1;
    }

    final boolean pagingOn() {
        return cr0 < 0 && (cr0 & 1) != 0;
    }

    int walkGlobal; // set by translate: 1 when the mapping is global
    boolean walkLarge; // set by translate: the mapping is a 4 MiB page

    /** Walks the page tables; returns the physical address or raises #PF. */
    public final int translate(int linear, boolean write, boolean user) {
        walkGlobal = 0;
        walkLarge = false;
        if (!pagingOn()) return linear;
        int pdeAddr = (cr3 & 0xFFFFF000) + ((linear >>> 22) << 2);
        int pde = physRead32(pdeAddr);
        int err = (write ? 2 : 0) | (user ? 4 : 0);
        if ((pde & 1) == 0) pageFault(linear, err);
        if ((pde & 0x80) != 0 && (cr4 & 0x10) != 0) {
            // 4 MiB page
            if (!permits(pde, write, user)) pageFault(linear, err | 1);
            int nde = pde | 0x20 | (write ? 0x40 : 0);
            if (nde != pde) physWrite32(pdeAddr, nde);
            if ((pde & 0x100) != 0 && (cr4 & 0x80) != 0) walkGlobal = 1;
            walkLarge = true;
            return (pde & 0xFFC00000) | (linear & 0x3FFFFF);
        }
        int pteAddr = (pde & 0xFFFFF000) + (((linear >>> 12) & 0x3FF) << 2);
        int pte = physRead32(pteAddr);
        if ((pte & 1) == 0) pageFault(linear, err);
        if (!permits(pde, write, user) || !permits(pte, write, user))
            pageFault(linear, err | 1);
        if ((pde & 0x20) == 0) physWrite32(pdeAddr, pde | 0x20);
        int npte = pte | 0x20 | (write ? 0x40 : 0);
        if (npte != pte) physWrite32(pteAddr, npte);
        if ((pte & 0x100) != 0 && (cr4 & 0x80) != 0) walkGlobal = 1;
        return (pte & 0xFFFFF000) | (linear & 0xFFF);
    }

    private boolean permits(int e, boolean write, boolean user) {
        if (user) {
            if ((e & 4) == 0) return false;
            return !write || (e & 2) != 0;
        }
        return !write || (e & 2) != 0 || (cr0 & 0x10000) == 0;
    }

    final void pageFault(int linear, int err) {
        cr2 = linear;
        throw fault(PF_V, err);
    }

    final byte[] frameOf(int phys) {
        int pfn = phys >>> 12;
        if (pfn >= mem.frameCount()) return null;
        return mem.frame(pfn);
    }

    final int physRead32(int pa) {
        byte[] f = frameOf(pa);
        if (f == null) return -1;
        if ((pa & 0xFFF) <= 0xFFC) return (int) I32.get(f, pa & 0xFFF);
        return physRead8(pa) | physRead8(pa + 1) << 8 | physRead8(pa + 2) << 16 | physRead8(pa + 3) << 24;
    }

    final int physRead8(int pa) {
        byte[] f = frameOf(pa);
        return f == null ? 0xFF : f[pa & 0xFFF] & 0xFF;
    }

    final void physWrite8(int pa, int v) {
        byte[] f = frameOf(pa);
        if (f != null) f[pa & 0xFFF] = (byte) v;
        physWriteHook(pa, 1);
    }

    final void physWrite32(int pa, int v) {
        byte[] f = frameOf(pa);
        if (f != null && (pa & 0xFFF) <= 0xFFC) {
            I32.set(f, pa & 0xFFF, v);
            physWriteHook(pa, 4);
        } else {
            for (int i = 0; i < 4; i++) physWrite8(pa + i, v >>> (8 * i));
        }
    }

    /** Called on writes that bypass the write TLB (page walks, slow path). */
    final void physWriteHook(int pa, int len) {
        if (code.isEmpty()) return;
        byte[] f = frameOf(pa);
        Insn[] d = f == null ? null : code.get(f);
        if (d != null) dropCode(d, pa & 0xFFF, len);
    }

    /** Compiled regions by decoded page (their entry instructions), for dropping those a store overlaps. */
    public final java.util.IdentityHashMap<Insn[], java.util.ArrayList<Insn>> regionHeads = new java.util.IdentityHashMap<>();
    /** Set when a store dropped decoded code: a running region leaves after the store (self-modifying code). */
    public boolean codeWritten;

    /** Drops decoded instructions that may overlap bytes [o, o+n) of their page, and the compiled regions that cover them. */
    public final void dropCode(Insn[] d, int o, int n) {
        int from = Math.max(0, o - 15), to = Math.min(0x1000, o + n);
        for (int i = from; i < to; i++) {
            if (d[i] != null) {
                d[i] = null;
                codeWritten = true;
            }
        }
        java.util.ArrayList<Insn> heads = regionHeads.get(d);
        if (heads == null) return;
        for (int k = heads.size() - 1; k >= 0; k--) {
            Insn h = heads.get(k);
            Block b = h.block;
            if (b == null || (b.lo < o + n && o < b.hi)) {
                if (b != null) {
                    h.block = null;
                    h.hits = 0; // may compile again once hot
                    codeWritten = true;
                }
                heads.set(k, heads.get(heads.size() - 1));
                heads.remove(heads.size() - 1);
            }
        }
    }

    /** The decoded-instruction array of frame f, made on first use (and the frame's fast write entries dropped). */
    final Insn[] codeOf(byte[] f) {
        Insn[] d = code.get(f);
        if (d == null) {
            d = new Insn[0x1000];
            code.put(f, d);
            for (int i = 0; i < 2 * TLB_N; i++) {
                if (wPage[i] == f) {
                    wPage[i] = null;
                    wTag[i] = -1;
                }
            }
        }
        return d;
    }

    /** Fills the read TLB for linear (user per userAccess); returns the frame or null (no memory there). */
    final byte[] tlbFillRead(int linear) {
        int pa = translate(linear, false, userAccess);
        byte[] f = frameOf(pa);
        if (f != null && (userAccess ? tlbUser == TLB_N : tlbUser == 0)) {
            int i = ((linear >>> 12) & TLB_MASK) | tlbUser;
            rTag[i] = linear >>> 12;
            rPage[i] = f;
            tGlobal[i] |= walkGlobal != 0;
            if (walkLarge) {
                tLarge[i] = true;
                anyLarge = true;
            }
        }
        return f;
    }

    final byte[] tlbFillWrite(int linear) {
        int pa = translate(linear, true, userAccess);
        byte[] f = frameOf(pa);
        if (f != null && (userAccess ? tlbUser == TLB_N : tlbUser == 0)) {
            int i = ((linear >>> 12) & TLB_MASK) | tlbUser;
            if (!code.containsKey(f)) {
                wTag[i] = linear >>> 12;
                wPage[i] = f;
            }
            rTag[i] = linear >>> 12;
            rPage[i] = f;
            tGlobal[i] |= walkGlobal != 0;
            if (walkLarge) {
                tLarge[i] = true;
                anyLarge = true;
            }
        }
        return f;
    }

    // linear reads
    final int readLin8(int a) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (rTag[i] == a >>> 12) return rPage[i][a & 0xFFF] & 0xFF;
        byte[] f = tlbFillRead(a);
        return f == null ? 0xFF : f[a & 0xFFF] & 0xFF;
    }

    final int readLin16(int a) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (rTag[i] == a >>> 12 && (a & 0xFFF) != 0xFFF) return (short) I16.get(rPage[i], a & 0xFFF) & 0xFFFF;
        return readLinSlow(a, 2);
    }

    final int readLin32(int a) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (rTag[i] == a >>> 12 && (a & 0xFFF) <= 0xFFC) return (int) I32.get(rPage[i], a & 0xFFF);
        return readLinSlow(a, 4);
    }

    final int readLinSlow(int a, int n) {
        if (tlbUser == TLB_AC && (a & (n - 1)) != 0) throw fault(AC_V, 0);
        if (((a & 0xFFF) + n) <= 0x1000) {
            byte[] f = tlbFillRead(a);
            if (f == null) return n == 2 ? 0xFFFF : -1;
            return n == 2 ? (short) I16.get(f, a & 0xFFF) & 0xFFFF : (int) I32.get(f, a & 0xFFF);
        }
        // page crossing: check both pages first
        tlbFillRead(a);
        tlbFillRead((a + n - 1) & ~0xFFF);
        int v = 0;
        for (int k = 0; k < n; k++) v |= readLin8(a + k) << (8 * k);
        return v;
    }

    final void writeLin8(int a, int v) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (wTag[i] == a >>> 12) { wPage[i][a & 0xFFF] = (byte) v; return; }
        writeLinSlow(a, 1, v);
    }

    final void writeLin16(int a, int v) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (wTag[i] == a >>> 12 && (a & 0xFFF) != 0xFFF) { I16.set(wPage[i], a & 0xFFF, (short) v); return; }
        writeLinSlow(a, 2, v);
    }

    final void writeLin32(int a, int v) {
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (wTag[i] == a >>> 12 && (a & 0xFFF) <= 0xFFC) { I32.set(wPage[i], a & 0xFFF, v); return; }
        writeLinSlow(a, 4, v);
    }

    final void writeLinSlow(int a, int n, int v) {
        if (tlbUser == TLB_AC && (a & (n - 1)) != 0) throw fault(AC_V, 0);
        if (((a & 0xFFF) + n) <= 0x1000) {
            byte[] f = tlbFillWrite(a);
            if (f == null) return;
            int o = a & 0xFFF;
            if (n == 1) f[o] = (byte) v;
            else if (n == 2) I16.set(f, o, (short) v);
            else I32.set(f, o, v);
            Insn[] d = code.get(f);
            if (d != null) dropCode(d, o, n);
            return;
        }
        int pa0 = translate(a, true, userAccess);
        int pa1 = translate((a + n - 1) & ~0xFFF, true, userAccess);
        for (int k = 0; k < n; k++) {
            int pa = ((a + k) & 0xFFF) < (a & 0xFFF) ? (pa1 & ~0xFFF) | ((a + k) & 0xFFF) : pa0 + k;
            physWrite8(pa, v >>> (8 * k));
        }
    }

    /** Checks that n bytes at linear a are writable (faults as a write would), without writing. */
    public final void probeWrite(int a, int n) {
        translate(a, true, userAccess);
        if (((a & 0xFFF) + n) > 0x1000) translate((a + n - 1) & ~0xFFF, true, userAccess);
    }

    /**
     * Reads the destination of a read-modify-write instruction: the segment is checked for writing and the
     * page translated with write intent before the read (as the processor does), so a fault carries the W
     * bit and happens before any register or flag changes.
     */
    public final int rmwSz(int s, int off, int sz) {
        int a = lin(s, off, sz, 2);
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (wTag[i] != a >>> 12 || (a & 0xFFF) > 0x1000 - sz) rmwProbe(a, sz);
        return sz == 4 ? readLin32(a) : sz == 2 ? readLin16(a) : readLin8(a);
    }

    // ---------------------------------------------------------------- memory access from compiled regions
    // Small and static, so that the JIT inlines them into a region while its bytecode stays short: the region
    // passes the soft TLB's arrays and the user/supervisor half from its locals, loaded once on entry.

    /** The linear address of an access: the offset itself within a segment's fast limit (see fastLimit), else lin(). */
    public static int linearOf(CpuState cpu, int[] fastLimit, int seg, int off, int n, int perm) {
        if (Integer.compareUnsigned(off, fastLimit[seg] - (n - 1)) <= 0 && fastLimit[seg] != 0) return off;
        return cpu.lin(seg, off, n, perm);
    }

    public static int load32(CpuState cpu, int a, int[] tags, byte[][] frames, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (tags[i] == a >>> 12 && (a & 0xFFF) <= 0xFFC) return (int) I32.get(frames[i], a & 0xFFF);
        return cpu.readLinSlow(a, 4);
    }

    public static int load16(CpuState cpu, int a, int[] tags, byte[][] frames, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (tags[i] == a >>> 12 && (a & 0xFFF) <= 0xFFE) return (short) I16.get(frames[i], a & 0xFFF) & 0xFFFF;
        return cpu.readLinSlow(a, 2);
    }

    public static int load8(CpuState cpu, int a, int[] tags, byte[][] frames, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (tags[i] == a >>> 12) return frames[i][a & 0xFFF] & 0xFF;
        return cpu.readLin8(a);
    }

    /**
     * The 32-bit value at offset {@code off} of segment {@code seg} if the
     * read TLB holds its page, else {@code fallback}: a look without side
     * effects (no walk, no fault, no A bit), for the compiler's guesses.
     */
    public final int peek32(int seg, int off, int fallback) {
        int a = sbase[seg] + off;
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (i < 0 || i >= rTag.length || rTag[i] != a >>> 12 || (a & 0xFFF) > 0xFFC) return fallback;
        return (int) I32.get(rPage[i], a & 0xFFF);
    }

    // the segment check and the access in one call: one call site per access in a region's bytecode

    public static int loadAt32(CpuState cpu, int[] fastLimit, int seg, int off, int[] tags, byte[][] frames, int user) {
        return load32(cpu, linearOf(cpu, fastLimit, seg, off, 4, 1), tags, frames, user);
    }

    public static int loadAt16(CpuState cpu, int[] fastLimit, int seg, int off, int[] tags, byte[][] frames, int user) {
        return load16(cpu, linearOf(cpu, fastLimit, seg, off, 2, 1), tags, frames, user);
    }

    public static int loadAt8(CpuState cpu, int[] fastLimit, int seg, int off, int[] tags, byte[][] frames, int user) {
        return load8(cpu, linearOf(cpu, fastLimit, seg, off, 1, 1), tags, frames, user);
    }

    public static void storeAt32(CpuState cpu, int[] fastLimit, int seg, int off, int v, int[] wtags, byte[][] wframes, int user) {
        store32(cpu, linearOf(cpu, fastLimit, seg, off, 4, 2), v, wtags, wframes, user);
    }

    public static void storeAt16(CpuState cpu, int[] fastLimit, int seg, int off, int v, int[] wtags, byte[][] wframes, int user) {
        store16(cpu, linearOf(cpu, fastLimit, seg, off, 2, 2), v, wtags, wframes, user);
    }

    public static void storeAt8(CpuState cpu, int[] fastLimit, int seg, int off, int v, int[] wtags, byte[][] wframes, int user) {
        store8(cpu, linearOf(cpu, fastLimit, seg, off, 1, 2), v, wtags, wframes, user);
    }

    // the stack page: a region holds the frame of the page its ESP points into, so that a 32-bit access to
    // SS within that page is one compare and the access itself (no segment check, no TLB lookup)

    /**
     * The frame a region may read and write directly for the page of SS at
     * offset {@code off}, or null: the page lies wholly within SS's fast limit
     * (so offset and linear address agree in it) and the write TLB holds it
     * (so it is present, writable at this privilege, dirty, and holds no
     * code). The region asks again on entry and after an interpreted
     * instruction.
     */
    public static byte[] stackFrame(CpuState cpu, int[] fastLimit, int off, int[] wtags, byte[][] wframes, int user) {
        int limit = fastLimit[org.lguest.cpu.Cpu.SS];
        if (limit == 0 || Integer.compareUnsigned(off | 0xFFF, limit) > 0) return null;
        int i = ((off >>> 12) & TLB_MASK) | user;
        return wtags[i] == off >>> 12 ? wframes[i] : null;
    }

    /**
     * The bound a region compares an SS offset's distance from the stack
     * page's base with (unsigned, biased by MIN_VALUE so that one signed
     * compare does it): a 4-byte access fits from 0 to 0xFFC; with no frame
     * nothing does.
     */
    public static int stackLimit(byte[] frame) {
        return frame == null ? Integer.MIN_VALUE : 0xFFD ^ Integer.MIN_VALUE;
    }

    /** A 32-bit read of SS at offset off off the stack page: the usual accessor, its arguments from the fields. */
    public static int stackLoad32(CpuState cpu, int off) {
        return loadAt32(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.SS, off, cpu.rTag, cpu.rPage, cpu.tlbUser);
    }

    /** A 32-bit write of SS at offset off off the stack page. */
    public static void stackStore32(CpuState cpu, int off, int v) {
        storeAt32(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.SS, off, v, cpu.wTag, cpu.wPage, cpu.tlbUser);
    }

    public static int frameLoad32(byte[] frame, int o) {
        return (int) I32.get(frame, o);
    }

    public static void frameStore32(byte[] frame, int o, int v) {
        I32.set(frame, o, v);
    }

    // the data pages: a page of DS a region reads and one it writes, held in these fields, so that an access to
    // them through DS is one compare and the access (a loop that walks an array stays in one page for a thousand
    // accesses; a loop that copies reads one page and writes another)

    /** The linear (and DS offset) base of the page a region reads. */
    public int readBase;
    /** The frame of that page (meaningful while readBound is not MIN_VALUE). */
    public byte[] readFrame;
    /**
     * The bound a region compares a read's distance from readBase with
     * (biased by MIN_VALUE, so that one signed compare does an unsigned one):
     * 0xFFD, so that any access of up to 4 bytes there lies in the page (a
     * smaller one in the page's last 3 bytes goes the usual way); MIN_VALUE
     * when there is no page to read.
     */
    public int readBound = Integer.MIN_VALUE;
    /** The same for writes: a page the write TLB holds (present, writable at this privilege, dirty, no code). */
    public int writeBase;
    public byte[] writeFrame;
    public int writeBound = Integer.MIN_VALUE;
    /** Accesses off the data page since it was last taken (see {@link #takesPage}). */
    int readMisses, writeMisses;

    /** The bound of a data page that is there. */
    static final int PAGE_BOUND = 0xFFD ^ Integer.MIN_VALUE;
    /** A page is taken after this many accesses off the data page that did not go on to the next or previous page. */
    static final int MISSES_BEFORE_MOVING = 16;

    /**
     * No data pages. On every entry to a region from the run loop and after
     * each instruction a region interprets: whatever changes the TLB, DS or
     * the privilege runs between regions or is interpreted, so within a
     * region (and the regions it calls, which share the fields) a page taken
     * stays good.
     */
    public final void dataPageOff() {
        readBound = writeBound = Integer.MIN_VALUE;
    }

    /**
     * Whether an access off the data page at {@code base} (bound
     * {@code bound}) to offset {@code off} should take off's page instead:
     * when there is none, when off's page comes next to it or just before it
     * (a walk through an array), and after every so many other misses (the
     * loop has moved on to other data); not on every miss, so that accesses
     * all over memory do not pay for taking pages they leave at once.
     */
    private static boolean takesPage(int off, int base, int bound, int misses) {
        int step = (off & ~0xFFF) - base;
        return bound == Integer.MIN_VALUE || step == 0x1000 || step == -0x1000 || misses >= MISSES_BEFORE_MOVING;
    }

    /** The frame of DS's page at offset off if it lies wholly within DS's fast limit (offset and linear address agree in it), else null. */
    private byte[] dataFrameOf(int off, int[] tags, byte[][] frames) {
        int limit = fastLimit[org.lguest.cpu.Cpu.DS];
        if (limit == 0 || Integer.compareUnsigned(off | 0xFFF, limit) > 0) return null;
        int i = ((off >>> 12) & TLB_MASK) | tlbUser;
        return tags[i] == off >>> 12 ? frames[i] : null;
    }

    /** After a read through DS off the read page (it did not fault): perhaps take its page. */
    final void readMissed(int off) {
        if (!takesPage(off, readBase, readBound, ++readMisses)) return;
        readMisses = 0;
        byte[] f = dataFrameOf(off, rTag, rPage);
        readFrame = f;
        readBase = off & ~0xFFF;
        readBound = f == null ? Integer.MIN_VALUE : PAGE_BOUND;
    }

    /** After a write through DS off the write page (it did not fault): perhaps take its page. */
    final void writeMissed(int off) {
        if (!takesPage(off, writeBase, writeBound, ++writeMisses)) return;
        writeMisses = 0;
        byte[] f = dataFrameOf(off, wTag, wPage);
        writeFrame = f;
        writeBase = off & ~0xFFF;
        writeBound = f == null ? Integer.MIN_VALUE : PAGE_BOUND;
    }

    // a byte or word access through DS off the data page: the usual accessor, its arguments from the fields, then
    // (after the access, so that a fault leaves the data pages as they were) perhaps its page becomes the data page

    /** A read of n (1 or 2) bytes through DS at offset off, off the read page. */
    public static int dataLoad(CpuState cpu, int off, int n) {
        int v = n == 2 ? loadAt16(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.DS, off, cpu.rTag, cpu.rPage, cpu.tlbUser)
                : loadAt8(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.DS, off, cpu.rTag, cpu.rPage, cpu.tlbUser);
        cpu.readMissed(off);
        return v;
    }

    /** A write of n (1 or 2) bytes through DS at offset off, off the write page. */
    public static void dataStore(CpuState cpu, int off, int v, int n) {
        if (n == 2) storeAt16(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.DS, off, v, cpu.wTag, cpu.wPage, cpu.tlbUser);
        else storeAt8(cpu, cpu.fastLimit, org.lguest.cpu.Cpu.DS, off, v, cpu.wTag, cpu.wPage, cpu.tlbUser);
        cpu.writeMissed(off);
    }

    public static int frameLoad16(byte[] frame, int o) {
        return (short) I16.get(frame, o) & 0xFFFF;
    }

    public static int frameLoad8(byte[] frame, int o) {
        return frame[o] & 0xFF;
    }

    public static void frameStore16(byte[] frame, int o, int v) {
        I16.set(frame, o, (short) v);
    }

    public static void frameStore8(byte[] frame, int o, int v) {
        frame[o] = (byte) v;
    }

    /** The destination of a read-modify-write, read with write intent (the write after it cannot fault). */
    public static int loadForWrite(CpuState cpu, int a, int n, int[] wtags, byte[][] wframes, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (wtags[i] == a >>> 12 && (a & 0xFFF) <= 0x1000 - n) {
            byte[] f = wframes[i];
            int o = a & 0xFFF;
            return n == 4 ? (int) I32.get(f, o) : n == 2 ? (short) I16.get(f, o) & 0xFFFF : f[o] & 0xFF;
        }
        return cpu.rmwLinear(a, n);
    }

    public static void store32(CpuState cpu, int a, int v, int[] wtags, byte[][] wframes, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (wtags[i] == a >>> 12 && (a & 0xFFF) <= 0xFFC) I32.set(wframes[i], a & 0xFFF, v);
        else cpu.writeLinSlow(a, 4, v);
    }

    public static void store16(CpuState cpu, int a, int v, int[] wtags, byte[][] wframes, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (wtags[i] == a >>> 12 && (a & 0xFFF) <= 0xFFE) I16.set(wframes[i], a & 0xFFF, (short) v);
        else cpu.writeLinSlow(a, 2, v);
    }

    public static void store8(CpuState cpu, int a, int v, int[] wtags, byte[][] wframes, int user) {
        int i = ((a >>> 12) & TLB_MASK) | user;
        if (wtags[i] == a >>> 12) wframes[i][a & 0xFFF] = (byte) v;
        else cpu.writeLinSlow(a, 1, v);
    }

    /** {@link #rmwSz} after its segment check, at linear address a (compiled code's slow path). */
    final int rmwLinear(int a, int sz) {
        rmwProbe(a, sz);
        return sz == 4 ? readLin32(a) : sz == 2 ? readLin16(a) : readLin8(a);
    }

    private void rmwProbe(int a, int sz) {
        alignCheck(a, sz);
        if (((a & 0xFFF) + sz) <= 0x1000) tlbFillWrite(a);
        else probeWrite(a, sz);
    }

    // supervisor (implicit) accesses: descriptor tables, TSS
    public final int sysRead32(int a) {
        boolean u = userAccess;
        int t = tlbUser;
        userAccess = false;
        tlbUser = 0;
        try {
            return readLin32(a);
        } finally {
            userAccess = u;
            tlbUser = t;
        }
    }

    public final int sysRead16(int a) {
        boolean u = userAccess;
        int t = tlbUser;
        userAccess = false;
        tlbUser = 0;
        try {
            return readLin16(a);
        } finally {
            userAccess = u;
            tlbUser = t;
        }
    }

    public final void sysWrite8(int a, int v) {
        boolean u = userAccess;
        int t = tlbUser;
        userAccess = false;
        tlbUser = 0;
        try {
            writeLin8(a, v);
        } finally {
            userAccess = u;
            tlbUser = t;
        }
    }

    // segmented accesses
    public final int read8(int s, int off) {
        return readLin8(lin(s, off, 1, 1));
    }

    public final int read16(int s, int off) {
        return readLin16(lin(s, off, 2, 1));
    }

    public final int read32(int s, int off) {
        return readLin32(lin(s, off, 4, 1));
    }

    public final void write8(int s, int off, int v) {
        writeLin8(lin(s, off, 1, 2), v);
    }

    public final void write16(int s, int off, int v) {
        writeLin16(lin(s, off, 2, 2), v);
    }

    public final void write32(int s, int off, int v) {
        writeLin32(lin(s, off, 4, 2), v);
    }

    public final int readSz(int s, int off, int sz) {
        return sz == 4 ? read32(s, off) : sz == 2 ? read16(s, off) : read8(s, off);
    }

    public final void writeSz(int s, int off, int sz, int v) {
        if (sz == 4) write32(s, off, v);
        else if (sz == 2) write16(s, off, v);
        else write8(s, off, v);
    }

    // ---------------------------------------------------------------- instruction fetch

    public final int fetch8() {
        int a = sbase[1] + eip;
        if ((a & ~0xFFF) != fetchPage) return fetch8Slow();
        eip++;
        return fetchBuf[a & 0xFFF] & 0xFF;
    }

    public final int fetch16() {
        int a = sbase[1] + eip;
        if ((a & ~0xFFF) != fetchPage || (a & 0xFFF) == 0xFFF) return fetch8() | fetch8() << 8;
        eip += 2;
        return (short) I16.get(fetchBuf, a & 0xFFF) & 0xFFFF;
    }

    public final int fetch32() {
        int a = sbase[1] + eip;
        if ((a & ~0xFFF) != fetchPage || (a & 0xFFF) > 0xFFC) return fetch16() | fetch16() << 16;
        eip += 4;
        return (int) I32.get(fetchBuf, a & 0xFFF);
    }

    /**
     * Moves the fetch window to linear address a's page when the read TLB
     * already maps it and the page lies wholly inside CS, as fetch8Slow
     * would (nothing here can fault): the run loop calls it when execution
     * moved to another page, so that a region there runs at once instead of
     * one instruction being interpreted first (a loop across a page boundary
     * changes page twice an iteration).
     */
    public final void moveFetchWindow(int a) {
        int ti = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (rTag[ti] != a >>> 12) return;
        byte[] f = rPage[ti];
        int pageStart = a & ~0xFFF;
        int offStart = pageStart - sbase[1];
        if (f != null && Integer.compareUnsigned(offStart + 0xFFF, slimit[1]) <= 0
                && Integer.compareUnsigned(offStart, offStart + 0xFFF) < 0) {
            fetchPage = pageStart;
            fetchBuf = f;
            fetchCode = codeOf(f);
        }
    }

    final int fetch8Slow() {
        // CS limit check for this byte
        if (Integer.compareUnsigned(eip, slimit[1]) > 0) throw fault(GP, 0);
        int a = sbase[1] + eip;
        int ti = ((a >>> 12) & TLB_MASK) | tlbUser;
        byte[] f = rTag[ti] == a >>> 12 ? rPage[ti] : tlbFillRead(a);
        int pageStart = a & ~0xFFF;
        // the window is usable without limit checks only if the whole page lies inside CS
        int offStart = pageStart - sbase[1];
        boolean whole = Integer.compareUnsigned(offStart + 0xFFF, slimit[1]) <= 0
                && Integer.compareUnsigned(offStart, offStart + 0xFFF) < 0 && f != null;
        if (whole) {
            fetchPage = pageStart;
            fetchBuf = f;
            fetchCode = codeOf(f);
        } else {
            fetchPage = 1;
        }
        eip++;
        return f == null ? 0xFF : f[a & 0xFFF] & 0xFF;
    }
}
