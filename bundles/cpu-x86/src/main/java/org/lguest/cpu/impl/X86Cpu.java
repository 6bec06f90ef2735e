package org.lguest.cpu.impl;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.compile.Block;
import org.lguest.cpu.impl.compile.CompiledBlocks;
import org.lguest.cpu.impl.compile.RegionCompiler;
import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.interpret.Fast;
import org.lguest.cpu.impl.x87.FpuHost;
import org.lguest.cpu.impl.x87.FpuUnit;

/**
 * The processor: the public {@link Cpu} surface, the run loop, exception
 * delivery with double and triple fault, CPUID, MSRs and the x87 hookup.
 */
public final class X86Cpu extends Fast implements Cpu, FpuHost {
    private volatile boolean exitRequested;
    private boolean shutdown;
    private final FpuUnit fpu;

    /** CPUID.1:EDX feature bits this core implements. */
    static final int FEATURES_BASE = (1 << 3) /* PSE */ | (1 << 4) /* TSC */ | (1 << 5) /* MSR */
            | (1 << 8) /* CX8 */ | (1 << 13) /* PGE */ | (1 << 15) /* CMOV */;

    public X86Cpu(PhysicalMemory memory, IoPorts ports) {
        this(memory, ports, new CompiledBlocks());
    }

    /** A processor whose compiled blocks come from (and go to) {@code blocks}, shared with other processors. */
    X86Cpu(PhysicalMemory memory, IoPorts ports, CompiledBlocks blocks) {
        super(memory, ports);
        this.blocks = blocks;
        fpu = FpuUnit.create(this);
        reset();
    }

    private final CompiledBlocks blocks;

    private void reset() {
        flushTlbAll();
        java.util.Arrays.fill(r, 0);
        eip = 0;
        flags = 2;
        lop = L_EAGER;
        cr0 = 0x11;
        cr2 = cr3 = cr4 = 0;
        setCpl(0);
        for (int s = 0; s < 6; s++) {
            int acc = s == 1 ? 0xCF9B00 : 0xCF9300;
            cacheSegment(s, s == 1 ? 0x08 : 0x10, 0, -1, acc);
        }
        gdtBase = gdtLimit = idtBase = 0;
        idtLimit = 0x3FF;
        trAcc = 0x8B00;
        trLimit = 0xFFFF;
        if (fpu != null) fpu.reset();
    }

    // ---------------------------------------------------------------- run loop

    @Override
    public CpuExit run(long budget) {
        hostExit = false;
        shutdown = false;
        long end = budget > Long.MAX_VALUE - icount ? Long.MAX_VALUE : icount + Math.max(0, budget);
        runEnd = end;
        while (true) {
            if (exitRequested) {
                exitRequested = false;
                return CpuExit.of(CpuExit.Reason.EXIT_REQUESTED);
            }
            if (icount >= end) return CpuExit.of(CpuExit.Reason.BUDGET);
            boolean single = (flags & TF) != 0;
            limit = single ? icount + 1 : Math.min(end, icount + CHUNK);
            noStepTrap = false;
            try {
                while (icount < limit) {
                    int a = sbase[1] + eip;
                    if ((a & ~0xFFF) != fetchPage && csD) moveFetchWindow(a);
                    if ((a & ~0xFFF) == fetchPage && csD) {
                        Insn in = fetchCode[a & 0xFFF];
                        if (in != null) {
                            Block b = in.block;
                            if (b != null) {
                                // A region retires fewer than its budget plus its length. Within the chunk it stops
                                // short of the chunk's end; near that end it may run past it (the end is only where the
                                // loop looks at exits and interrupts) by less than its length, never past the caller's.
                                long room = limit - icount;
                                long regionBudget = room > b.n ? room - b.n : !single && end - icount >= room + b.n ? Math.max(1, room) : 0;
                                if (regionBudget > 0 && ssB) {
                                    inBlock = true;
                                    codeWritten = false;
                                    dataPageOff();
                                    int done = b.code.run(this, b.ins, (int) Math.min(regionBudget, 1 << 30));
                                    inBlock = false;
                                    icount += done;
                                    if (exitSite >= 0) indirectExit(in, b, a & ~0xFFF);
                                    if (budgetSpent) {
                                        // it left at a back edge inside it, for the run loop: where it stopped is no
                                        // new way in, so the steps back to a region's head are not counted
                                        budgetSpent = false;
                                        uncounted = UNCOUNTED_STEPS;
                                    }
                                    continue;
                                }
                            } else if (uncounted > 0) {
                                uncounted--;
                            } else {
                                countEntry(in, a & 0xFFF);
                            }
                        }
                    }
                    stepFast();
                    icount++;
                }
            } catch (Fault f) {
                if (inBlock) {
                    icount += bpos;
                    inBlock = false;
                    unwinding = false;
                }
                eip = startEip;
                r[4] = startEsp;
                exception(fVector, fError, fHasError);
                if (shutdown) return CpuExit.of(CpuExit.Reason.SHUTDOWN);
                if (hostExit) return hostExitRecord();
                continue;
            }
            if (hostExit) return hostExitRecord();
            if (single && !noStepTrap) {
                dr[6] |= 0x4000;
                exception(DB, 0, false);
                if (shutdown) return CpuExit.of(CpuExit.Reason.SHUTDOWN);
                if (hostExit) return hostExitRecord();
            }
            if (halted) {
                halted = false;
                return CpuExit.of(CpuExit.Reason.HALT);
            }
        }
    }

    /** the caller's end, for {@link #extendBudget} */
    private long runEnd;
    /** set when a region left because its budget ran out */
    private boolean budgetSpent;
    /** interpreted steps not counted toward making a region (after a region left for its budget) */
    private int uncounted;
    static final int UNCOUNTED_STEPS = 256;
    /** instructions between the run loop's looks at requested exits (a region asks again after as many) */
    static final int CHUNK = 16384;

    /**
     * Instructions one entry of a region, with the regions it calls, may
     * hold in their counts before it leaves for the run loop: its count is
     * an int. Regions bank theirs long before (Fast.BANK_AT), so a long run
     * leaves only at its end; this is the bound should one not.
     */
    static final int MAX_RETIRED_PER_ENTRY = 1 << 30;
    /** Regions that left at a back edge because their budget ran out (for tests). */
    long budgetLeaves;

    @Override
    public int extendBudget(int retired, int length) {
        long inEntry = nestedCount + retired;
        long room = Math.min(runEnd - icount, MAX_RETIRED_PER_ENTRY) - inEntry - nestedSlack;
        if (exitRequested || room <= 2L * length) {
            budgetSpent = true;
            budgetLeaves++;
            return retired;
        }
        return retired + (int) Math.min(room - length, CHUNK);
    }

    @Override
    public void bank(int retired) {
        icount += retired;
    }

    /** system property lguest.cpu.trace: each region compiled, and each compiled again, on stderr */
    static final boolean TRACE = Boolean.getBoolean("lguest.cpu.trace");
    static final int HOT = 32;
    /** how many more entries make an instruction inside a compiled region the head of a region of its own */
    static final int RECOUNT = 1024;
    /** exits through an indirect jump before its new targets make its region compile again */
    static final int RECOMPILE_EXITS = 256;
    /** compiled blocks on (system property lguest.cpu.blocks=false turns them off) */
    private boolean blocksEnabled = !"false".equals(System.getProperty("lguest.cpu.blocks"));

    /** One more entry at {@code in} (page offset off), which has no region: the entry that makes it hot compiles one. */
    private void countEntry(Insn in, int off) {
        if (blocksEnabled && in != Insn.GENERIC && ++in.hits == HOT) compileBlock(in, off);
    }

    private void compileBlock(Insn head, int off) {
        RegionCompiler.Plan plan = RegionCompiler.plan(this, fetchBuf, fetchCode, off, RegionCompiler.MAX_INSNS, NESTED_CALLS);
        if (plan == null || fetchCode[off] != head) return;
        try {
            head.block = blocks.block(plan);
            if (TRACE) System.err.printf("region %08x+%03x: %d instructions (%d planned), at instruction %d%n", fetchPage, off, head.block.n, plan.ins().length, icount);
            for (Insn in : head.block.ins) {
                // the rest of the region turned hot with its head: entries there (exits of other regions) start counting again
                if (in != head && in.block == null) in.hits = -RECOUNT;
            }
            java.util.ArrayList<Insn> heads = regionHeads.computeIfAbsent(fetchCode, k -> new java.util.ArrayList<>());
            if (!heads.contains(head)) heads.add(head);
        } catch (RuntimeException | LinkageError e) {
            // the JVM refused to define the class (restricted environment): keep interpreting
            blocksEnabled = false;
        }
    }

    /**
     * Direct and indirect calls between regions of one page nest as JVM
     * calls (system property lguest.cpu.calls=false turns this off: a
     * caller's region then takes in its callees, see RegionCompiler.plan).
     */
    static final boolean NESTED_CALLS = !"false".equals(System.getProperty("lguest.cpu.calls"));
    /**
     * Calls nested deeper than this go through the run loop (the JVM's stack
     * holds a frame per nested region; a guest recursing without end must not
     * exhaust it).
     */
    static final int MAX_CALL_DEPTH = 40;
    /** regions nested in the running one now */
    private int callDepth;
    /** instructions retired by the regions that called the running one, not yet in icount (for extendBudget) */
    private long nestedCount;
    /**
     * The sum of the lengths of the regions that called the running one:
     * after it returns, each of them may run up to its length before it looks
     * at its budget again, so extendBudget leaves that much room before the
     * caller's end.
     */
    private int nestedSlack;
    /** calls made as nested JVM calls so far (for the tests) */
    long callsNested;

    @Override
    public int callFunction(int target, int ret, int count, int budget, int length) {
        callResult = CALL_NOT_MADE;
        if (callDepth >= MAX_CALL_DEPTH) return count;
        int a = sbase[1] + target;
        if ((a & ~0xFFF) != fetchPage || fetchCode == null) return count;
        int off = a & 0xFFF;
        Insn in = fetchCode[off]; // not yet decoded: never run, so not hot either
        if (in == null) return count;
        Block b = in.block;
        if (b == null) {
            // a call that is not yet hot goes on as before; the call that makes it hot compiles the callee
            countEntry(in, off);
            b = in.block;
            if (b == null) return count;
        }
        // the callee retires fewer than its budget plus its length: so the caller stays within its own budget
        int room = budget - count - b.n;
        if (room <= 0) return count;
        long outerCount = nestedCount;
        int outerSlack = nestedSlack;
        callsNested++;
        nestedCount += count;
        nestedSlack += length;
        callDepth++;
        fnReturn = ret;
        fnReturned = false;
        eip = target; // the callee's region finds its page's base from it
        int done;
        try {
            done = b.code.run(this, b.ins, room);
        } catch (Fault f) {
            bpos += count; // the callee's handler set what it retired; the caller's own come before
            throw f;
        } finally {
            nestedCount = outerCount;
            nestedSlack = outerSlack;
            callDepth--;
            fnReturn = NO_RETURN;
        }
        if (fnReturned) {
            fnReturned = false;
            callResult = CALL_RETURNED;
        } else {
            callResult = CALL_LEFT;
            if (exitSite >= 0) indirectExit(in, b, a & ~0xFFF);
        }
        return count + done;
    }

    /**
     * A region left through the indirect jump, call or return at
     * {@code exitSite}: a target in the region's own page is noted on that
     * instruction; once it has left often enough (RECOMPILE_EXITS) and some
     * of its targets were new, the region is dropped so that it compiles
     * again, going there directly (up to Insn.SEEN_LIMIT targets per
     * instruction). Waiting for several targets spares the JIT from
     * compiling a large region again for each. (When calls nest, regions
     * report only their indirect jumps' exits: see RegionCompiler.)
     */
    private void indirectExit(Insn head, Block b, int page) {
        Insn site = b.ins[exitSite];
        exitSite = -1;
        int target = sbase[1] + eip;
        if ((target & ~0xFFF) != page || fetchCode == null || head.block != b) return;
        if (site.noteTarget(target & 0xFFF)) site.fresh++;
        if (++site.exits >= RECOMPILE_EXITS && site.fresh > 0) {
            if (TRACE) System.err.printf("a region of %08x compiles again: an indirect exit went to %d new places, the last %08x%n", page, site.fresh, target);
            site.exits = site.fresh = 0;
            head.block = null;
            head.hits = HOT - 2; // compiles again on its next entries
        }
    }

    private CpuExit hostExitRecord() {
        hostExit = false;
        return new CpuExit(CpuExit.Reason.HOST_VECTOR, hostVector, hostHasError ? hostError : 0, hostHasError);
    }

    /** Delivers a hardware exception, escalating to #DF and to shutdown as the SDM says. */
    private void exception(int v, int e, boolean h) {
        for (int tries = 0; tries < 8; tries++) {
            try {
                deliver(v, e, h, false);
                return;
            } catch (Fault f) {
                int nv = fVector;
                if (v == DF_V) {
                    shutdown = true;
                    return;
                }
                if ((contributory(v) && contributory(nv)) || (v == PF_V && (contributory(nv) || nv == PF_V))) {
                    v = DF_V;
                    e = 0;
                    h = true;
                } else {
                    v = nv;
                    e = fError;
                    h = fHasError;
                }
            }
        }
        shutdown = true;
    }

    // ---------------------------------------------------------------- CPUID, MSR

    @Override
    public void cpuid() {
        int leaf = r[0];
        if (leaf == 0) {
            r[0] = 1;
            r[3] = 0x756E6547; // "Genu"
            r[2] = 0x49656E69; // "ineI"
            r[1] = 0x6C65746E; // "ntel"
            return;
        }
        r[0] = 0x683; // family 6, model 8, stepping 3
        r[3] = 0;
        r[1] = 0;
        r[2] = FEATURES_BASE | (fpu.present() ? 1 : 0) | (fpu.hasFxsr() ? 1 << 24 : 0);
    }

    @Override
    public void rdmsr() {
        needCpl0();
        if (r[1] == 0x10) {
            long t = icount + tscOffset;
            r[0] = (int) t;
            r[2] = (int) (t >>> 32);
            return;
        }
        throw fault(GP, 0);
    }

    @Override
    public void wrmsr() {
        needCpl0();
        if (r[1] == 0x10) {
            long t = (r[0] & 0xFFFFFFFFL) | ((long) r[2] << 32);
            tscOffset = t - icount;
            return;
        }
        throw fault(GP, 0);
    }

    // ---------------------------------------------------------------- x87 hookup

    @Override
    public void fpu(int op, int modrm) {
        if (!FpuUnit.isDefined(op, modrm)) throw fault(UD); // the x87 README: #UD before #NM, as the hardware does
        if ((cr0 & 0xC) != 0) throw fault(NM); // EM or TS
        if (FpuUnit.isWaiting(op, modrm) && fpu.hasPendingException() && (cr0 & 0x20) != 0) throw fault(MF);
        if (tlbUser == TLB_AC && modrm < 0xC0) {
            // one alignment check for the whole operand (SDM table "alignment requirements by data type"), made
            // at the unit's first access after its segment check; the unit's dword/word pieces run unchecked
            fpuAlign = fpuAlignment(op, (modrm >> 3) & 7);
            tlbUser = TLB_N;
            try {
                fpu.execute(op, modrm, eaSeg, eaOff, o32);
            } finally {
                fpuAlign = 0;
                updateAc();
            }
            return;
        }
        fpu.execute(op, modrm, eaSeg, eaOff, o32);
    }

    /** Non-zero while an x87 instruction's alignment check is pending: the operand's required alignment. */
    private int fpuAlign;

    private void fpuAlignFirst(int seg, int offset, int len, int perm) {
        if (fpuAlign == 0) return;
        int a = lin(seg, offset, len, perm);
        int n = fpuAlign;
        fpuAlign = 0;
        if ((a & (n - 1)) != 0) throw fault(AC_V, 0);
    }

    /** The alignment #AC requires of an x87 memory operand (op D8-DF, reg field of ModRM). */
    private int fpuAlignment(int op, int reg) {
        switch (op) {
            case 0xD8: case 0xDA: return 4;
            case 0xD9: return reg == 5 || reg == 7 ? 2 : reg == 4 || reg == 6 ? (o32 ? 4 : 2) : 4;
            case 0xDB: return reg == 5 || reg == 7 ? 8 : 4;
            case 0xDC: return 8;
            case 0xDD: return reg == 7 ? 2 : reg == 4 || reg == 6 ? (o32 ? 4 : 2) : 8;
            case 0xDE: return 2;
            default: return reg >= 4 ? 8 : 2;
        }
    }

    @Override
    public void fwait() {
        if ((cr0 & 0xA) == 0xA) throw fault(NM); // MP and TS
        if (fpu.present() && fpu.hasPendingException() && (cr0 & 0x20) != 0) throw fault(MF);
    }

    @Override
    public void grp15(int modrm) {
        int k = (modrm >> 3) & 7;
        if (modrm >= 0xC0 || k > 1 || !fpu.hasFxsr()) throw fault(UD);
        if ((cr0 & 0xC) != 0) throw fault(NM);
        if ((eaOff & 15) != 0) throw fault(GP, 0);
        if (k == 0) fpu.fxsave(eaSeg, eaOff);
        else fpu.fxrstor(eaSeg, eaOff);
    }

    // FpuHost
    @Override
    public int readByte(int seg, int offset) {
        fpuAlignFirst(seg, offset, 1, 1);
        return read8(seg, offset);
    }

    @Override
    public int readWord(int seg, int offset) {
        fpuAlignFirst(seg, offset, 2, 1);
        return read16(seg, offset);
    }

    @Override
    public int readDword(int seg, int offset) {
        fpuAlignFirst(seg, offset, 4, 1);
        return read32(seg, offset);
    }

    @Override
    public void writeByte(int seg, int offset, int value) {
        fpuAlignFirst(seg, offset, 1, 2);
        write8(seg, offset, value);
    }

    @Override
    public void writeWord(int seg, int offset, int value) {
        fpuAlignFirst(seg, offset, 2, 2);
        write16(seg, offset, value);
    }

    @Override
    public void writeDword(int seg, int offset, int value) {
        fpuAlignFirst(seg, offset, 4, 2);
        write32(seg, offset, value);
    }

    @Override
    public void checkWritable(int seg, int offset, int length) {
        fpuAlignFirst(seg, offset, length, 2);
        probeWrite(lin(seg, offset, length, 2), length);
    }

    @Override
    public void checkReadableEnds(int seg, int offset, int length) {
        fpuAlignFirst(seg, offset, length, 1);
        int a = lin(seg, offset, length, 1);
        translate(a, false, userAccess);
        if ((a & 0xFFF) > 0xFFC) translate((a + 3) & ~0xFFF, false, userAccess);
        translate(a + length - 1, false, userAccess);
    }

    @Override
    public void setAx(int value) {
        setReg16(0, value);
    }

    @Override
    public void setCompareFlags(int zpc) {
        setArith(zpc & (ZF | PF | CF));
    }

    @Override
    public int instructionEip() {
        return startEip;
    }

    @Override
    public int codeSelector() {
        return sel[1];
    }

    // ---------------------------------------------------------------- Cpu

    @Override
    public int reg(int n) {
        return r[n];
    }

    @Override
    public void setReg(int n, int value) {
        r[n] = value;
    }

    @Override
    public int eip() {
        return eip;
    }

    @Override
    public void setEip(int value) {
        eip = value;
    }

    @Override
    public int eflags() {
        return getFlags();
    }

    @Override
    public void setEflags(int value) {
        lop = L_EAGER;
        flags = (value & 0x003F7FD5) | 2;
        updateAc();
    }

    @Override
    public int cr(int n) {
        switch (n) {
            case 0: return cr0;
            case 2: return cr2;
            case 3: return cr3;
            case 4: return cr4;
            default: throw new IllegalArgumentException("no CR" + n);
        }
    }

    @Override
    public void setCr(int n, int value) {
        switch (n) {
            case 0: cr0 = value | 0x10; flushTlbAll(); updateAc(); break;
            case 2: cr2 = value; break;
            case 3: cr3 = value; flushTlbNonGlobal(); break;
            case 4: cr4 = value; flushTlbAll(); break;
            default: throw new IllegalArgumentException("no CR" + n);
        }
    }

    @Override
    public int gdtBase() {
        return gdtBase;
    }

    @Override
    public int gdtLimit() {
        return gdtLimit;
    }

    @Override
    public void setGdt(int base, int lim) {
        gdtBase = base;
        gdtLimit = lim & 0xFFFF;
    }

    @Override
    public int idtBase() {
        return idtBase;
    }

    @Override
    public int idtLimit() {
        return idtLimit;
    }

    @Override
    public void setIdt(int base, int lim) {
        idtBase = base;
        idtLimit = lim & 0xFFFF;
    }

    @Override
    public int selector(int seg) {
        return sel[seg];
    }

    @Override
    public int segmentBase(int seg) {
        return sbase[seg];
    }

    @Override
    public int segmentLimit(int seg) {
        return slimit[seg];
    }

    @Override
    public int segmentAccess(int seg) {
        return sacc[seg];
    }

    @Override
    public void setSegment(int seg, int selector, int base, int lim, int access) {
        if (seg == CS) setCpl(selector & 3);
        cacheSegment(seg, selector, base, lim, access);
    }

    @Override
    public int loadSegment(int seg, int selector) {
        int saveEip = eip;
        try {
            if (seg == CS) {
                if ((selector & 0xFFFC) == 0) throw fault(GP, 0);
                if (!readDesc(selector)) throw fault(GP, selector & 0xFFFC);
                int saveCpl = cpl;
                setCpl(selector & 3);
                try {
                    checkDirectCode(selector);
                } catch (Fault f) {
                    setCpl(saveCpl);
                    throw f;
                }
                setAccessed(selector);
                setCS(selector, selector & 3);
            } else {
                loadSeg(seg, selector);
            }
            return -1;
        } catch (Fault f) {
            eip = saveEip;
            return fVector;
        }
    }

    @Override
    public void setTaskRegister(int selector, int base, int lim, int access) {
        trSel = selector;
        trBase = base;
        trLimit = lim;
        trAcc = access;
    }

    @Override
    public int taskRegisterSelector() {
        return trSel;
    }

    @Override
    public void setLdt(int selector, int base, int lim) {
        ldtSel = selector;
        ldtBase = base;
        ldtLimit = lim;
    }

    @Override
    public int cpl() {
        return cpl;
    }

    @Override
    public void setHostRegion(int start, int end) {
        hostStart = start;
        hostEnd = end;
    }

    @Override
    public void requestExit() {
        exitRequested = true;
        limit = 0; // ends the current chunk soon (read by the running thread at its next instruction boundary)
    }

    @Override
    public long instructionsRetired() {
        return icount;
    }

    @Override
    public void flushTlb() {
        flushTlbAll();
    }

    @Override
    public void invalidatePage(int linear) {
        flushTlbPage(linear);
    }

    @Override
    public void physicalWritten(long address, int length) {
        if (code.isEmpty() || length <= 0) return;
        for (long a = address & ~0xFFFL; a < address + length; a += 0x1000) {
            if (a >>> 12 >= mem.frameCount()) break;
            byte[] f = mem.frame((int) (a >>> 12));
            Insn[] d = f == null ? null : code.get(f);
            if (d == null) continue;
            int from = (int) Math.max(a, address) & 0xFFF;
            int to = (int) Math.min(a + 0x1000, address + length);
            dropCode(d, from, to - (int) Math.max(a, address));
        }
    }

    @Override
    public void physicalMapChanged() {
        code.clear();
        regionHeads.clear();
        fetchCode = null;
        flushTlbAll();
    }

    @Override
    public void saveFpu(byte[] into108) {
        fpu.fnsave(into108);
    }

    @Override
    public void restoreFpu(byte[] from108) {
        fpu.frstor(from108);
    }

    /** Debug registers (DR0..DR7), for tests. */
    int debugRegister(int n) {
        return dr[n];
    }
}
