package org.lguest.cpu.impl.compile;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;

import org.lguest.cpu.impl.CpuState;
import org.lguest.cpu.impl.Fault;
import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.decode.Kind;
import org.lguest.cpu.impl.interpret.Fast;

/**
 * The compiler: turns the hot code of one page into one JVM method.
 *
 * <p><b>Regions.</b> Starting at a hot instruction, {@link #plan} follows
 * the code through fall-throughs and conditional and direct jumps, as far
 * as it stays in the same function and 4 KiB page and the pre-decoder knows
 * the instructions: a whole loop nest, or a function with its loops, becomes
 * one region. A call to a function of the same page is a JVM call of the
 * callee's own region ({@link Fast#callFunction}): the registers and flags
 * go to the processor, the callee's {@code ret} to the address its caller
 * expects ends the callee's method, and the caller reloads them and goes on
 * at its return point. (Without nested calls, {@code -Dlguest.cpu.calls=false},
 * a region takes in the functions it calls and the callers it returns to.) {@link #define} makes a hidden class whose
 * {@code run} method holds the region: each guest instruction is a label,
 * a branch inside the region is a JVM {@code goto}, and the JIT sees the
 * guest's loops as its own loops.
 *
 * <p><b>Registers in locals.</b> The eight guest registers are loaded into
 * JVM locals on entry and written back on exit, so the JIT keeps them in host
 * registers. The lazy flags (operation, operands, result) are locals too:
 * {@code cmp eax,ebx; jl} becomes a JVM {@code if_icmplt} on the two
 * registers, and flags that the next instruction overwrites cost nothing.
 * The processor's flag fields are written only where something may read
 * them: an exit, an interpreted instruction, a fault. Which flags anything
 * may read after each instruction is worked out first, over the region's
 * branches ({@link Emitter#flagLiveness}): an ALU operation, test or inc
 * whose flags are set again before anything reads them computes none, and
 * an inc or dec whose CF nothing reads does not look it up.
 *
 * <p><b>Leaving.</b> A region returns the number of instructions it retired,
 * with EIP set, when a branch leaves it (another page, an indirect jump, a
 * return to a caller outside it), when the budget it was given runs out (it
 * is checked on back edges only: a path without one is at most the region's
 * length), or when a store changed code of any page (self-modifying code:
 * the next instruction is decoded again). A {@code ret} to a call made in the
 * region stays in it: the region's call sites are a return-address table.
 * When a nested callee leaves, every region that called it returns at once,
 * its state already written by the callee.
 *
 * <p><b>The stack page.</b> On entry, and again after each interpreted
 * instruction, a region takes the frame of the page ESP points into, if that page lies wholly within SS's fast limit and the write TLB
 * holds it ({@code CpuState.stackFrame}: present, writable at this
 * privilege, dirty, holding no code). A 32-bit access to SS that lies
 * within that page is then one compare (its distance from the page's base,
 * unsigned) and the access itself (a 32-bit ALU read-modify-write of the
 * stack reads and writes the frame the same way); any other takes the
 * usual accessor. A
 * nested call that returns leaves the page good: the instructions that
 * flush the TLB or load SS end regions, and a callee compiles code only in
 * its own page, which already holds code. A function's spills and pushes cost a few
 * host instructions, and C2's inlining budget goes to the other accesses.
 * ({@code -Dlguest.cpu.stackpage=false} turns it off.)
 *
 * <p><b>The data pages.</b> A byte or word read through DS that lies in
 * the page the region last read (the processor's {@code readBase},
 * {@code readFrame}, {@code readBound}) is one compare and the
 * {@code byte[]} access; a write, the same with the page it last wrote,
 * which the write TLB held. An access off the page takes the usual accessor,
 * then perhaps its page ({@code CpuState.readMissed}, {@code writeMissed}:
 * when there is none, when it is the next or previous page, and after
 * sixteen other misses), so a walk through an array moves with it and
 * accesses all over memory do not pay for pages they leave at once. The
 * run loop drops both pages before each region it enters, and a region
 * after each instruction it interprets. Dwords keep the usual accessor:
 * a table and the buffer it indexes (crc32) would take turns in one page.
 * ({@code -Dlguest.cpu.datapage=false} turns it off.)
 *
 * <p><b>Faults.</b> Memory accesses call the processor's checked accessors,
 * which throw {@link Fault}. The region's one exception handler writes back
 * the registers and flags as they were before the faulting instruction
 * (instructions change registers and flags only after their last access that
 * can fault), sets EIP to it, reports how many instructions retired, and
 * rethrows into the run loop, which delivers the exception. A fault in a
 * nested callee is written by the callee's handler, which marks it as on its
 * way out ({@code unwinding}); the callers' handlers pass it on, and each
 * call on the way adds what its caller retired before it.
 *
 * <p>Instructions without an inline form run through {@link Fast#exec}, the
 * interpreter's handler for a decoded instruction, with the registers and
 * flags written back around it.
 */
public final class RegionCompiler {
    /** Instructions in one region (a JVM method over 8000 bytecodes would never be compiled by HotSpot). */
    public static final int MAX_INSNS = 400;
    /** Regions reach the stack page directly (system property lguest.cpu.stackpage=false turns it off). */
    static final boolean STACK_PAGE = !"false".equals(System.getProperty("lguest.cpu.stackpage"));
    /** Regions reach the data page directly (system property lguest.cpu.datapage=false turns it off). */
    static final boolean DATA_PAGE = !"false".equals(System.getProperty("lguest.cpu.datapage"));
    /**
     * Bytecodes in one region's method. HotSpot compiles no method over 8000
     * bytecodes unless it runs with -XX:-DontCompileHugeMethods (bin/lguest
     * gives it); then a region may be half as large again, which a large
     * function with many stack accesses needs to fit in one region (each
     * access to the stack page has a path of its own beside the usual one).
     */
    static final int MAX_CODE_BYTES = hugeMethodsCompiled() ? 12000 : 7900;

    private static final ClassDesc CD_FAST = ClassDesc.of("org.lguest.cpu.impl.interpret.Fast");
    private static final ClassDesc CD_INSN = ClassDesc.of("org.lguest.cpu.impl.decode.Insn");
    private static final ClassDesc CD_FAULT = ClassDesc.of("org.lguest.cpu.impl.Fault");
    private static final ClassDesc CD_CODE = ClassDesc.of("org.lguest.cpu.impl.compile.BlockCode");
    private static final ClassDesc CD_INTEGER = ClassDesc.of("java.lang.Integer");
    private static final MethodTypeDesc MT_RUN = MethodTypeDesc.of(CD_int, CD_FAST, CD_INSN.arrayType(), CD_int);
    private static final MethodTypeDesc MT_COMPARE = MethodTypeDesc.of(CD_int, CD_int, CD_int);

    // the processor fields generated code uses, checked once (see Handlers.field)
    private static final String F_R = Handlers.field("r", int[].class);
    private static final String F_EIP = Handlers.field("eip", int.class);
    private static final String F_START_EIP = Handlers.field("startEip", int.class);
    private static final String F_START_ESP = Handlers.field("startEsp", int.class);
    private static final String F_BPOS = Handlers.field("bpos", int.class);
    private static final String F_LOP = Handlers.field("lop", int.class);
    private static final String F_LSZ = Handlers.field("lsz", int.class);
    private static final String F_LA = Handlers.field("la", int.class);
    private static final String F_LB = Handlers.field("lb", int.class);
    private static final String F_LR = Handlers.field("lr", int.class);
    private static final String F_LAUX = Handlers.field("laux", int.class);
    private static final String F_CODE_WRITTEN = Handlers.field("codeWritten", boolean.class);
    private static final String F_FAST_LIMIT = Handlers.field("fastLimit", int[].class);
    private static final String F_EXIT_SITE = Handlers.field("exitSite", int.class);
    private static final String F_TLB_USER = Handlers.field("tlbUser", int.class);
    private static final String F_RTAG = Handlers.field("rTag", int[].class);
    private static final String F_WTAG = Handlers.field("wTag", int[].class);
    private static final String F_RPAGE = Handlers.field("rPage", byte[][].class);
    private static final String F_WPAGE = Handlers.field("wPage", byte[][].class);
    private static final String F_CALL_RESULT = Handlers.field("callResult", int.class);
    private static final String F_READ_BASE = Handlers.field("readBase", int.class);
    private static final String F_READ_FRAME = Handlers.field("readFrame", byte[].class);
    private static final String F_READ_BOUND = Handlers.field("readBound", int.class);
    private static final String F_WRITE_BASE = Handlers.field("writeBase", int.class);
    private static final String F_WRITE_FRAME = Handlers.field("writeFrame", byte[].class);
    private static final String F_WRITE_BOUND = Handlers.field("writeBound", int.class);
    private static final String F_FN_RETURN = Handlers.field("fnReturn", int.class);
    private static final String F_FN_RETURNED = Handlers.field("fnReturned", boolean.class);
    private static final String F_UNWINDING = Handlers.field("unwinding", boolean.class);
    static final ClassDesc CD_FRAMES = java.lang.constant.ConstantDescs.CD_byte.arrayType().arrayType();
    static final ClassDesc CD_BYTES = java.lang.constant.ConstantDescs.CD_byte.arrayType();

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    /** resolves our own types through this bundle's class loader (not the system one), for the stack maps */
    private static final ClassFile CLASSFILE = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            java.lang.classfile.ClassHierarchyResolver.ofClassLoading(RegionCompiler.class.getClassLoader())
                    .orElse(java.lang.classfile.ClassHierarchyResolver.defaultResolver())));

    private RegionCompiler() {
    }

    /**
     * What a region is made of: its instructions in page order, their page
     * offsets, the index of its entry, and for each instruction the order in
     * which {@link #plan} reached it from the entry (0 for the entry), which
     * is the order {@link #cut} keeps them in.
     */
    public record Plan(Insn[] ins, int[] offs, int head, int[] reached, boolean nestedCalls) {
        int lo() {
            return offs[0];
        }

        int hi() {
            int h = 0;
            for (int i = 0; i < ins.length; i++) {
                h = Math.max(h, offs[i] + ins[i].len);
            }
            return h;
        }

        int indexOf(int off) {
            return off < 0 || off >= 0x1000 ? -1 : Math.max(-1, Arrays.binarySearch(offs, off));
        }
    }

    /** Whether the compiler can place this instruction in a region. */
    static boolean compilable(Insn in) {
        return in != null && in.kind != Kind.GENERIC;
    }

    /**
     * The region entered at offset {@code head} of a page whose bytes are
     * {@code page} and decoded instructions {@code code} (filled in as it
     * goes); null if the instruction there cannot be compiled. With
     * {@code nestedCalls} a direct call in the page is a JVM call of the
     * callee's own region ({@link Fast#callFunction}), so the plan keeps to
     * the entry's own function (no callee tier and no caller tier), and each
     * function is compiled once, in its own region, whoever calls it.
     */
    public static Plan plan(Fast f, byte[] page, Insn[] code, int head, int max, boolean nestedCalls) {
        BitSet in = new BitSet(0x1000);
        int[] reachedAt = new int[0x1000];
        // Three tiers, each taken only when the ones before it are done: the code of the entry's own function
        // (fall-throughs, jumps, the targets its indirect jumps were seen to take, the return points of its
        // calls), then the functions it calls, then the callers its returns were seen to go back to. A region
        // holds a function whole (its loops, its switch, its recursive calls and their returns) before its
        // callees, and those before its callers; what follows from an instruction stays in its tier.
        ArrayDeque<Integer>[] tiers = new ArrayDeque[] {new ArrayDeque<Integer>(), new ArrayDeque<Integer>(), new ArrayDeque<Integer>()};
        tiers[0].add(head);
        int count = 0;
        for (int tier = 0; tier < (nestedCalls ? 1 : 3) && count < max; ) {
            if (tiers[tier].isEmpty()) {
                tier++;
                continue;
            }
            int o = tiers[tier].poll();
            if (o < 0 || o >= 0x1000 || in.get(o)) continue;
            Insn i = code[o];
            if (i == null) {
                i = f.decodeAt(page, o);
                code[o] = i;
            }
            if (!compilable(i)) continue;
            in.set(o);
            reachedAt[o] = count++;
            int next = o + i.len;
            ArrayDeque<Integer> same = tiers[tier], callee = tiers[Math.max(tier, 1)], caller = tiers[2];
            switch (i.kind) {
                case JCC -> {
                    same.add(next);
                    same.add(next + i.imm);
                }
                case JMP_REL -> same.add(next + i.imm);
                case CALL_REL -> {
                    same.add(next); // where its ret comes back
                    if (!nestedCalls) callee.add(next + i.imm);
                }
                case JMP_RM -> {
                    if (i.mem && i.base < 0 && i.index >= 0 && i.scale == 2) readJumpTable(f, i);
                    if (i.seen != null) {
                        for (int t : i.seen) same.add(t);
                    }
                }
                case CALL_RM -> {
                    same.add(next);
                    if (i.seen != null) {
                        for (int t : i.seen) callee.add(t);
                    }
                }
                case RET -> {
                    if (i.seen != null) {
                        for (int t : i.seen) caller.add(t);
                    }
                }
                default -> same.add(next);
            }
        }
        if (count == 0) return null;
        int[] offs = in.stream().toArray();
        Insn[] ins = new Insn[offs.length];
        int[] reached = new int[offs.length];
        for (int k = 0; k < offs.length; k++) {
            ins[k] = code[offs[k]];
            reached[k] = reachedAt[offs[k]];
        }
        return new Plan(ins, offs, Arrays.binarySearch(offs, head), reached, nestedCalls);
    }

    /**
     * A {@code jmp [table+reg*4]} (a C {@code switch}): the table's entries
     * that point into the code's page, read now through the read TLB, become
     * targets the jump is taken to have been seen to take. So the region has
     * every case at once, instead of learning them one exit at a time and
     * being compiled again for each few. A guess only: an entry that is no
     * case costs code that never runs, and the jump still compares the
     * target it really takes.
     */
    static void readJumpTable(Fast f, Insn jump) {
        int page = f.fetchPage;
        for (int k = 0; k < Insn.SEEN_LIMIT; k++) {
            int t = f.peek32(jump.seg, jump.disp + 4 * k, ~page);
            if ((t & ~0xFFF) != page) return;
            jump.noteTarget(t & 0xFFF);
        }
    }

    /**
     * The code of a region, and how many of its planned instructions it
     * holds: a plan too big for one JVM method is cut to the instructions
     * {@link #plan} reached first ({@link #cut}), and the code runs that cut
     * plan, whose instructions it is handed. A hidden class made from the
     * instructions' decoded fields and offsets only (see {@link CompiledBlocks}).
     */
    record Compiled(BlockCode code, int kept) {
        public Plan plan(Plan planned) {
            return kept == planned.ins.length ? planned : cut(planned, kept);
        }
    }

    static Compiled define(Plan p) {
        Plan plan = p;
        while (true) {
            Plan current = plan;
            byte[] cls = CLASSFILE.build(ClassDesc.of("org.lguest.cpu.impl.compile.Region"), cb -> {
                cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
                cb.withInterfaceSymbols(CD_CODE);
                cb.withMethodBody("<init>", MethodTypeDesc.of(CD_void), ClassFile.ACC_PUBLIC, code -> {
                    code.aload(0);
                    code.invokespecial(CD_Object, "<init>", MethodTypeDesc.of(CD_void));
                    code.return_();
                });
                cb.withMethodBody("run", MT_RUN, ClassFile.ACC_PUBLIC, code -> new Emitter(code, current).emit());
            });
            int n = plan.ins.length, bytes = codeLength(cls);
            if (bytes > MAX_CODE_BYTES && n > 8) {
                // keep as many as should fit at this region's bytes per instruction, and try again
                plan = cut(plan, Math.max(8, Math.min(n - 1, (int) (n * 0.97 * MAX_CODE_BYTES / bytes))));
                continue;
            }
            if (DUMP_DIR != null) dump(cls, plan);
            try {
                MethodHandles.Lookup l = LOOKUP.defineHiddenClass(cls, true);
                return new Compiled((BlockCode) l.findConstructor(l.lookupClass(), MethodType.methodType(void.class)).invoke(), plan.ins.length);
            } catch (Throwable t) {
                throw new IllegalStateException("region compilation failed", t);
            }
        }
    }

    /**
     * Where each region's class file goes, for {@code javap -c} (system
     * property lguest.cpu.dumpRegions): a JVM message about a region names
     * a bytecode index (a deoptimization's trap_bci, an OSR entry), and the
     * dump tells which guest instruction it belongs to. Unset: none written.
     */
    static final String DUMP_DIR = System.getProperty("lguest.cpu.dumpRegions");
    private static int dumped;

    private static synchronized void dump(byte[] cls, Plan plan) {
        String name = String.format("region-%03d-%03x.class", dumped++, plan.offs[plan.head]);
        try {
            java.nio.file.Path dir = java.nio.file.Path.of(DUMP_DIR);
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.write(dir.resolve(name), cls);
        } catch (java.io.IOException e) {
            System.err.println("lguest.cpu.dumpRegions: cannot write " + name + ": " + e);
        }
    }

    /** Whether this JVM was told to compile methods over 8000 bytecodes (the last -XX:±DontCompileHugeMethods wins). */
    static boolean hugeMethodsCompiled() {
        boolean compiled = false;
        try {
            for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (a.equals("-XX:-DontCompileHugeMethods")) compiled = true;
                else if (a.equals("-XX:+DontCompileHugeMethods")) compiled = false;
            }
        } catch (RuntimeException | LinkageError e) {
            // no management in this runtime: HotSpot's default, huge methods stay interpreted
        }
        return compiled;
    }

    private static int codeLength(byte[] cls) {
        return CLASSFILE.parse(cls).methods().stream().filter(m -> m.methodName().equalsString("run"))
                .mapToInt(m -> m.code().map(c -> c instanceof java.lang.classfile.attribute.CodeAttribute a ? a.codeLength() : 0).orElse(0))
                .max().orElse(0);
    }

    /**
     * The same region with only the {@code keep} instructions that
     * {@link #plan} reached first (the others become exits): the code
     * nearest the entry along its branches stays, whatever its address.
     */
    static Plan cut(Plan p, int keep) {
        int n = 0, head = 0;
        Insn[] ins = new Insn[keep];
        int[] offs = new int[keep], reached = new int[keep];
        // the ranks are 0..length-1 in some order: keep those below the cut, renumbered in the same order
        int[] byRank = new int[p.ins.length];
        for (int i = 0; i < p.ins.length; i++) byRank[p.reached[i]] = i;
        int[] newRank = new int[p.ins.length];
        Arrays.fill(newRank, -1);
        for (int r = 0; r < keep; r++) newRank[byRank[r]] = r;
        for (int i = 0; i < p.ins.length; i++) {
            if (newRank[i] < 0) continue;
            if (i == p.head) head = n;
            ins[n] = p.ins[i];
            offs[n] = p.offs[i];
            reached[n++] = newRank[i];
        }
        return new Plan(ins, offs, head, reached, p.nestedCalls);
    }

    /** Generates one region's {@code run(Fast cpu, Insn[] ins, int budget)}. */
    private static final class Emitter {
        // local variable slots
        static final int CPU = 1, INS = 2, BUDGET = 3, R0 = 4, EIP_BASE = 12, COUNT = 13, POS = 14, FLAG_OP = 15,
                FLAG_A = 16, FLAG_B = 17, FLAG_R = 18, FLAG_AUX = 19, TARGET = 20, T0 = 21, T1 = 22, T2 = 23, T3 = 24,
                THROWN = 25, RTAG = 26, RPAGE = 27, WTAG = 28, WPAGE = 29, TLB_USER = 30, FAST_LIMIT = 31, LIN = 32,
                PRODUCT = 33, // a long: 33 and 34
                EXPECT = 35, // where a return goes back to the region that called this one (Fast.NO_RETURN if none did)
                STACK_BASE = 36, STACK_FRAME = 37, STACK_OFF = 38, STACK_LIMIT = 39, STACK_IN = 40, // the stack page (see stackPage)
                DATA_OFF = 41, DATA_IN = 42; // an access through DS: its offset, and its distance from the data page's base
        /** Static knowledge of the flags: in the fields, unknown (look at FLAG_OP), or pending in locals as this lazy op. */
        static final int IN_FIELDS = 0, UNKNOWN = -1;
        /**
         * Only CF is pending, in FLAG_AUX, for the inc or dec that comes next
         * (after a rotate; see flagsSeen): never flushed, never tested.
         */
        static final int CARRY_ONLY = 0x7F;

        final CodeBuilder c;
        final Plan p;
        final Label[] labels;
        /** instructions reached other than by falling through from the previous one in page order */
        final boolean[] target;
        /** the region's return points (the instruction after each call) */
        final int[] returnPoints;
        final Label exit;
        /** per instruction, the flags something may read after it (see {@link #flagLiveness}) */
        final int[] liveOut;
        int known;

        Emitter(CodeBuilder c, Plan p) {
            this.c = c;
            this.p = p;
            int n = p.ins.length;
            labels = new Label[n];
            for (int i = 0; i < n; i++) labels[i] = c.newLabel();
            exit = c.newLabel();
            target = new boolean[n];
            target[p.head] = true;
            java.util.TreeSet<Integer> rets = new java.util.TreeSet<>();
            for (int i = 0; i < n; i++) {
                Insn in = p.ins[i];
                int next = p.offs[i] + in.len;
                boolean falls = true;
                switch (in.kind) {
                    case JCC -> mark(next + in.imm);
                    case JMP_REL -> {
                        mark(next + in.imm);
                        falls = false;
                    }
                    case CALL_REL -> {
                        mark(next + in.imm);
                        if (p.indexOf(next) >= 0) {
                            rets.add(next);
                            mark(next);
                        }
                        falls = false;
                    }
                    case RET, JMP_RM, CALL_RM -> {
                        falls = false;
                        if (in.seen != null) {
                            for (int t : in.seen) mark(t);
                        }
                        if (in.kind == Kind.CALL_RM && p.indexOf(next) >= 0) {
                            rets.add(next);
                            mark(next);
                        }
                    }
                    default -> {
                    }
                }
                if (falls && !(i + 1 < n && p.offs[i + 1] == next)) mark(next);
            }
            returnPoints = rets.stream().mapToInt(Integer::intValue).toArray();
            liveOut = flagLiveness();
        }

        /** Flags as {@link #flagLiveness} tells them apart: CF, and the others (OF, SF, ZF, AF, PF) together. */
        static final int LIVE_CF = 1, LIVE_OTHER = 2, LIVE_ALL = 3;

        /**
         * Which flags something may read after each instruction, before an
         * instruction sets them again: a backward pass over the region's
         * branches to a fixed point. Whatever leaves the region (an exit, a
         * back edge, which leaves when the budget runs out, a call, a
         * return), may fault (a fault hands the flags to the processor) or
         * is not one of the few kinds told apart here counts as reading every
         * flag; an instruction that sets them all from its operands alone
         * ends what came before; a 32-bit inc or dec sets all but CF, which
         * it passes on; a conditional jump reads what its condition needs.
         */
        private int[] flagLiveness() {
            int n = p.ins.length;
            int[] in = new int[n], out = new int[n];
            for (boolean changed = true; changed; ) {
                changed = false;
                for (int i = n - 1; i >= 0; i--) {
                    int o = liveAfter(i, in), l = liveBefore(p.ins[i], o);
                    if (o != out[i] || l != in[i]) {
                        out[i] = o;
                        in[i] = l;
                        changed = true;
                    }
                }
            }
            return out;
        }

        private int liveAfter(int i, int[] liveIn) {
            Insn in = p.ins[i];
            int off = p.offs[i], next = off + in.len;
            return switch (in.kind) {
                case JCC -> liveAt(next, off, false, liveIn) | liveAt(next + in.imm, off, true, liveIn);
                case JMP_REL -> liveAt(next + in.imm, off, true, liveIn);
                case CALL_REL, CALL_RM, JMP_RM, RET -> LIVE_ALL;
                default -> liveAt(next, off, false, liveIn);
            };
        }

        /** What is live on the way from the instruction at {@code from} to offset {@code to}. */
        private int liveAt(int to, int from, boolean jump, int[] liveIn) {
            int k = p.indexOf(to);
            return k < 0 || (jump && to <= from) ? LIVE_ALL : liveIn[k];
        }

        private static int liveBefore(Insn in, int after) {
            if (mayFault(in)) return LIVE_ALL;
            if (setsEveryFlag(in)) return 0;
            if ((in.kind == Kind.INC_R || in.kind == Kind.DEC_R) && in.sz == 4) return after & LIVE_CF;
            if (flagNeutral(in) || in.kind == Kind.JMP_REL) return after;
            if (in.kind == Kind.JCC) {
                int cc = in.op >> 1; // 1: CF (b, ae), 3: CF or ZF (be, a), else OF, SF, ZF or PF
                return after | (cc == 1 ? LIVE_CF : cc == 3 ? LIVE_ALL : LIVE_OTHER);
            }
            return LIVE_ALL;
        }

        private void mark(int off) {
            int k = p.indexOf(off);
            if (k >= 0) target[k] = true;
        }

        void emit() {
            int headOff = p.offs[p.head];
            c.aload(CPU).getfield(CD_FAST, F_EIP, CD_int).loadConstant(headOff).isub().istore(EIP_BASE);
            syncIn();
            // the soft TLB and the segments' fast limits: neither array nor mode changes while a region runs
            c.aload(CPU).getfield(CD_FAST, F_RTAG, CD_int.arrayType()).astore(RTAG);
            c.aload(CPU).getfield(CD_FAST, F_WTAG, CD_int.arrayType()).astore(WTAG);
            c.aload(CPU).getfield(CD_FAST, F_RPAGE, CD_FRAMES).astore(RPAGE);
            c.aload(CPU).getfield(CD_FAST, F_WPAGE, CD_FRAMES).astore(WPAGE);
            c.aload(CPU).getfield(CD_FAST, F_TLB_USER, CD_int).istore(TLB_USER);
            c.aload(CPU).getfield(CD_FAST, F_FAST_LIMIT, CD_int.arrayType()).astore(FAST_LIMIT);
            if (p.nestedCalls) c.aload(CPU).getfield(CD_FAST, F_FN_RETURN, CD_int).istore(EXPECT);
            c.iconst_0().istore(STACK_OFF);
            c.iconst_0().istore(STACK_IN);
            stackPage();
            for (int slot : new int[] {COUNT, FLAG_OP, FLAG_A, FLAG_B, FLAG_R, FLAG_AUX, TARGET, T0, T1, T2, T3, LIN}) {
                c.iconst_0().istore(slot);
            }
            c.loadConstant(headOff).istore(POS);
            Label start = c.newLabel(), end = c.newLabel(), handler = c.newLabel();
            c.labelBinding(start);
            c.goto_(labels[p.head]);
            for (int i = 0; i < p.ins.length; i++) {
                if (target[i]) flushCount(); // every other way in arrives with the count written
                c.labelBinding(labels[i]);
                c.lineNumber(p.offs[i]); // the "line" of a region's bytecode is the guest instruction's page offset
                if (target[i]) known = UNKNOWN;
                instruction(i);
            }
            c.labelBinding(end);
            // the one way out: registers and flags back to the processor, EIP from TARGET
            c.labelBinding(exit);
            syncOut();
            dynamicFlush();
            c.aload(CPU).iload(TARGET).putfield(CD_FAST, F_EIP, CD_int);
            c.iload(COUNT).ireturn();
            // a fault: the state before the faulting instruction (at POS), then on to the run loop
            c.labelBinding(handler);
            c.astore(THROWN);
            if (p.nestedCalls) {
                // a fault in a region this one called: the innermost region has written the state; pass it on
                Label own = c.newLabel();
                c.aload(CPU).getfield(CD_FAST, F_UNWINDING, java.lang.constant.ConstantDescs.CD_boolean).ifeq(own);
                c.aload(THROWN).athrow();
                c.labelBinding(own);
                c.aload(CPU).iconst_1().putfield(CD_FAST, F_UNWINDING, java.lang.constant.ConstantDescs.CD_boolean);
            }
            syncOut();
            dynamicFlush();
            c.aload(CPU).iload(EIP_BASE).iload(POS).iadd().putfield(CD_FAST, F_EIP, CD_int);
            c.aload(CPU).iload(EIP_BASE).iload(POS).iadd().putfield(CD_FAST, F_START_EIP, CD_int);
            c.aload(CPU).iload(R0 + 4).putfield(CD_FAST, F_START_ESP, CD_int);
            c.aload(CPU).iload(COUNT).putfield(CD_FAST, F_BPOS, CD_int);
            c.aload(THROWN).athrow();
            c.exceptionCatch(start, end, handler, CD_FAULT);
        }

        // ------------------------------------------------------------ state transfer

        void syncIn() {
            for (int n = 0; n < 8; n++) {
                c.aload(CPU).getfield(CD_FAST, F_R, CD_int.arrayType()).loadConstant(n).iaload().istore(R0 + n);
            }
        }

        /**
         * Takes the page ESP points into as the stack page, if the region may
         * reach it directly (CpuState.stackFrame): at entry, and again after
         * each interpreted instruction (defensively: those that change the
         * TLB or SS end regions). A 32-bit access to SS in that page is
         * then one compare and the access; any other goes the usual way.
         */
        void stackPage() {
            if (!STACK_PAGE) {
                c.iconst_0().istore(STACK_BASE);
                c.loadConstant(Integer.MIN_VALUE).istore(STACK_LIMIT);
                c.aconst_null().astore(STACK_FRAME);
                return;
            }
            c.aload(CPU).aload(FAST_LIMIT);
            reg(4);
            c.aload(WTAG).aload(WPAGE).iload(TLB_USER);
            Handlers.STACK_FRAME.invoke(c);
            c.astore(STACK_FRAME);
            c.aload(STACK_FRAME);
            Handlers.STACK_LIMIT.invoke(c);
            c.istore(STACK_LIMIT);
            reg(4);
            c.loadConstant(~0xFFF).iand().istore(STACK_BASE);
        }

        void syncOut() {
            for (int n = 0; n < 8; n++) {
                c.aload(CPU).getfield(CD_FAST, F_R, CD_int.arrayType()).loadConstant(n).iload(R0 + n).iastore();
            }
        }

        /** Writes pending flags (lazy op in FLAG_OP) to the processor's fields, if any are pending. */
        void dynamicFlush() {
            Label none = c.newLabel();
            c.iload(FLAG_OP).ifeq(none);
            // FLAG_OP holds the lazy op and, above it, how far its size is below 32 bits (see sized)
            c.aload(CPU).iload(FLAG_OP).loadConstant(0xFF).iand().putfield(CD_FAST, F_LOP, CD_int);
            c.aload(CPU).loadConstant(32).iload(FLAG_OP).loadConstant(8).iushr().isub().putfield(CD_FAST, F_LSZ, CD_int);
            storeFlagFields();
            c.labelBinding(none);
        }

        /** The lazy op of an operation of {@code bits} (8, 16 or 32): FLAG_OP's value and {@code known}'s. */
        static int sized(int op, int bits) {
            return op | (32 - bits) << 8;
        }

        /** The operand size of a lazy op in {@code known} form, in bits. */
        static int bitsOf(int known) {
            return 32 - (known >>> 8);
        }

        private void storeFlagFields() {
            c.aload(CPU).iload(FLAG_A).putfield(CD_FAST, F_LA, CD_int);
            c.aload(CPU).iload(FLAG_B).putfield(CD_FAST, F_LB, CD_int);
            c.aload(CPU).iload(FLAG_R).putfield(CD_FAST, F_LR, CD_int);
            c.aload(CPU).iload(FLAG_AUX).putfield(CD_FAST, F_LAUX, CD_int);
            c.iconst_0().istore(FLAG_OP);
        }

        /** Makes the processor's flag fields current (before code that reads or writes them). */
        void flush() {
            if (known == CARRY_ONLY) throw new IllegalStateException("the flags of a rotate were read before its inc or dec");
            if (known == IN_FIELDS) return;
            if (known == UNKNOWN) {
                dynamicFlush();
            } else {
                c.aload(CPU).loadConstant(known & 0xFF).putfield(CD_FAST, F_LOP, CD_int);
                c.aload(CPU).loadConstant(bitsOf(known)).putfield(CD_FAST, F_LSZ, CD_int);
                storeFlagFields();
            }
            known = IN_FIELDS;
        }

        /** The lazy flags of a 32-bit operation, from the values in slots a, b and r (-1: not needed). */
        void setFlags(int op, int a, int b, int r) {
            c.loadConstant(op).istore(FLAG_OP);
            if (a >= 0) c.iload(a).istore(FLAG_A);
            else c.iconst_0().istore(FLAG_A); // not read for this op: nothing kept live for it
            if (b >= 0) c.iload(b).istore(FLAG_B);
            else c.iconst_0().istore(FLAG_B);
            c.iload(r).istore(FLAG_R);
            known = op;
        }

        // ------------------------------------------------------------ control flow

        /** Leaves the region for the EIP on the stack. */
        void exitWithEip() {
            c.istore(TARGET).goto_(exit);
        }

        void exitTo(int off) {
            c.iload(EIP_BASE).loadConstant(off).iadd();
            exitWithEip();
        }

        /** Instructions retired since COUNT was last written (counted at compile time, written where it matters). */
        int pendingCount;

        /** One more instruction retired. */
        void retire() {
            pendingCount++;
        }

        /** Writes the pending count into COUNT on the path being emitted, which goes on from here. */
        void flushCount() {
            if (pendingCount > 0) c.iinc(COUNT, pendingCount);
            pendingCount = 0;
        }

        /** Writes the pending count on a side path that leaves (the path that goes on still owes it). */
        void pendingOnSidePath() {
            if (pendingCount > 0) c.iinc(COUNT, pendingCount);
        }

        /** Continues at page offset {@code off} from the instruction at {@code from}: a goto, budget-checked when backwards. */
        void jumpTo(int off, int from) {
            flushCount();
            int k = p.indexOf(off);
            if (k < 0) {
                exitTo(off);
                return;
            }
            if (off <= from) {
                budgetCheck(labels[k]);
                exitTo(off);
            } else {
                c.goto_(labels[k]);
            }
        }

        /**
         * Goes to {@code go} while the budget lasts, asking the processor for
         * more when it has run out (a back edge: every endless path has one);
         * falls through when the region must leave.
         *
         * <p>Its tests branch forwards, and an unconditional {@code goto}
         * goes back: C2, compiling a loop on its own (on-stack replacement)
         * before the loop around it ever went round, treats a backward
         * conditional branch that has never run as code it knows nothing
         * about and compiles a trap there ("unreached"), which throws the
         * compiled loop away the first time the outer loop goes round.
         */
        void budgetCheck(Label go) {
            Label spent = c.newLabel(), out = c.newLabel();
            c.iload(COUNT).iload(BUDGET).if_icmpge(spent);
            c.goto_(go);
            c.labelBinding(spent);
            bankLargeCount();
            c.aload(CPU).iload(COUNT).loadConstant(p.ins.length);
            Handlers.EXTEND.invoke(c);
            c.dup().istore(BUDGET);
            c.iload(COUNT).if_icmple(out);
            c.goto_(go);
            c.labelBinding(out);
        }

        /**
         * Once COUNT reaches Fast.BANK_AT, moves it into the processor's count
         * and takes it off BUDGET: counts stay far from wrapping however long
         * a region (or a nest of them) runs without leaving.
         */
        void bankLargeCount() {
            Label small = c.newLabel();
            c.iload(COUNT).loadConstant(Fast.BANK_AT).if_icmplt(small);
            c.aload(CPU).iload(COUNT);
            Handlers.BANK.invoke(c);
            c.iload(BUDGET).iload(COUNT).isub().istore(BUDGET);
            c.iconst_0().istore(COUNT);
            c.labelBinding(small);
        }

        /**
         * Continues at the EIP on the stack after the indirect jump, call or
         * return at index i: at a place in the region it may go to (for a
         * return, the region's return points; for any, the targets it was
         * seen to take), or out, telling the run loop which instruction left
         * where what it learns can join the region (when calls nest, only an
         * indirect jump's targets can: a call's run in the callee's own region,
         * a return's in its caller's).
         */
        void indirect(int i, boolean isReturn) {
            c.istore(TARGET);
            java.util.TreeSet<Integer> to = new java.util.TreeSet<>();
            if (isReturn) {
                for (int r : returnPoints) to.add(r);
            }
            Insn in = p.ins[i];
            if (in.seen != null) {
                for (int t : in.seen) {
                    if (p.indexOf(t) >= 0) to.add(t);
                }
            }
            Label out = c.newLabel();
            if (!to.isEmpty()) {
                Label go = c.newLabel();
                budgetCheck(go);
                c.goto_(exit);
                c.labelBinding(go);
                java.util.List<java.lang.classfile.instruction.SwitchCase> cases = new java.util.ArrayList<>();
                for (int t : to) cases.add(java.lang.classfile.instruction.SwitchCase.of(t, labels[p.indexOf(t)]));
                c.iload(TARGET).iload(EIP_BASE).isub();
                c.lookupswitch(out, cases);
            }
            c.labelBinding(out);
            if (!p.nestedCalls || in.kind == Kind.JMP_RM) c.aload(CPU).loadConstant(i).putfield(CD_FAST, F_EXIT_SITE, CD_int);
            c.goto_(exit);
        }

        /** Jumps to {@code yes} when condition cc holds. */
        void condition(int cc, Label yes) {
            int op = known == UNKNOWN || known == IN_FIELDS ? known : known & 0xFF;
            if (op == CpuState.L_SUB) {
                switch (cc) {
                    case 2 -> unsigned(FLAG_A, FLAG_B).iflt(yes);
                    case 3 -> unsigned(FLAG_A, FLAG_B).ifge(yes);
                    case 4 -> c.iload(FLAG_A).iload(FLAG_B).if_icmpeq(yes);
                    case 5 -> c.iload(FLAG_A).iload(FLAG_B).if_icmpne(yes);
                    case 6 -> unsigned(FLAG_A, FLAG_B).ifle(yes);
                    case 7 -> unsigned(FLAG_A, FLAG_B).ifgt(yes);
                    case 8 -> signed(FLAG_R).iflt(yes);
                    case 9 -> signed(FLAG_R).ifge(yes);
                    case 0xC -> signedOperands().if_icmplt(yes);
                    case 0xD -> signedOperands().if_icmpge(yes);
                    case 0xE -> signedOperands().if_icmple(yes);
                    case 0xF -> signedOperands().if_icmpgt(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_LOGIC) {
                switch (cc) {
                    case 0, 2 -> {
                    }
                    case 1, 3 -> c.goto_(yes);
                    case 4, 6 -> c.iload(FLAG_R).ifeq(yes);
                    case 5, 7 -> c.iload(FLAG_R).ifne(yes);
                    case 8, 0xC -> signed(FLAG_R).iflt(yes);
                    case 9, 0xD -> signed(FLAG_R).ifge(yes);
                    case 0xE -> signed(FLAG_R).ifle(yes);
                    case 0xF -> signed(FLAG_R).ifgt(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_IMUL) {
                switch (cc) {
                    case 0, 2 -> c.iload(FLAG_AUX).ifne(yes);
                    case 1, 3 -> c.iload(FLAG_AUX).ifeq(yes);
                    case 4 -> c.iload(FLAG_R).ifeq(yes);
                    case 5 -> c.iload(FLAG_R).ifne(yes);
                    case 8 -> signed(FLAG_R).iflt(yes);
                    case 9 -> signed(FLAG_R).ifge(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_ADD || op == CpuState.L_INC || op == CpuState.L_DEC) {
                switch (cc) {
                    case 4 -> c.iload(FLAG_R).ifeq(yes);
                    case 5 -> c.iload(FLAG_R).ifne(yes);
                    case 8 -> signed(FLAG_R).iflt(yes);
                    case 9 -> signed(FLAG_R).ifge(yes);
                    default -> {
                        if (op == CpuState.L_ADD && (cc == 2 || cc == 3)) {
                            // carry out of an add: the result is below an operand
                            CodeBuilder u = unsigned(FLAG_R, FLAG_A);
                            if (cc == 2) u.iflt(yes);
                            else u.ifge(yes);
                        } else {
                            viaFields(cc, yes);
                        }
                    }
                }
            } else {
                viaFields(cc, yes);
            }
        }

        /** The value in a flag slot as the signed number of the pending op's size (zero-extended below 32 bits). */
        private CodeBuilder signed(int slot) {
            c.iload(slot);
            int bits = known == UNKNOWN || known == IN_FIELDS ? 32 : bitsOf(known);
            if (bits == 8) c.i2b();
            else if (bits == 16) c.i2s();
            return c;
        }

        /** Both operands of the pending op, as signed numbers of its size. */
        private CodeBuilder signedOperands() {
            signed(FLAG_A);
            return signed(FLAG_B);
        }

        private CodeBuilder unsigned(int a, int b) {
            return c.iload(a).iload(b).invokestatic(CD_INTEGER, "compareUnsigned", MT_COMPARE);
        }

        private void viaFields(int cc, Label yes) {
            flush();
            c.aload(CPU).loadConstant(cc);
            Handlers.CONDITION.invoke(c);
            c.ifne(yes);
        }

        /** CF as it is before an instruction that keeps it (inc, dec): 0 or 1 on the stack. */
        void carry() {
            switch (known == UNKNOWN || known == IN_FIELDS ? known : known & 0xFF) {
                case CpuState.L_SUB -> unsigned(FLAG_A, FLAG_B).loadConstant(31).iushr();
                case CpuState.L_ADD -> unsigned(FLAG_R, FLAG_A).loadConstant(31).iushr();
                case CpuState.L_LOGIC -> c.iconst_0();
                case CpuState.L_INC, CpuState.L_DEC, CARRY_ONLY -> c.iload(FLAG_AUX);
                case CpuState.L_IMUL -> c.iload(FLAG_AUX).dup().ineg().ior().loadConstant(31).iushr();
                case UNKNOWN -> {
                    // whatever the locals hold (FLAG_OP 0: the fields), looked up without writing them out
                    c.aload(CPU).iload(FLAG_OP).iload(FLAG_A).iload(FLAG_B).iload(FLAG_R).iload(FLAG_AUX);
                    Handlers.CARRY_OF.invoke(c);
                }
                default -> {
                    flush();
                    c.aload(CPU);
                    Handlers.CARRY.invoke(c);
                }
            }
        }

        // ------------------------------------------------------------ operands

        void reg(int n) {
            c.iload(R0 + n);
        }

        void setReg(int n) {
            c.istore(R0 + n);
        }

        /** A register of the given size, zero-extended (AL..BH for size 1). */
        void reg(int n, int sz) {
            if (sz == 4) {
                reg(n);
            } else if (sz == 2) {
                reg(n);
                c.loadConstant(0xFFFF).iand();
            } else if (n < 4) {
                reg(n);
                c.loadConstant(0xFF).iand();
            } else {
                reg(n - 4);
                c.loadConstant(8).iushr().loadConstant(0xFF).iand();
            }
        }

        /** Stores the value on the stack into a register of the given size. */
        void setReg(int n, int sz) {
            if (sz == 4) {
                setReg(n);
                return;
            }
            c.istore(T3);
            int whole = sz == 1 && n >= 4 ? n - 4 : n;
            int mask = sz == 2 ? 0xFFFF : n >= 4 ? 0xFF00 : 0xFF;
            reg(whole);
            c.loadConstant(~mask).iand();
            c.iload(T3);
            if (sz == 1 && n >= 4) c.loadConstant(8).ishl();
            c.loadConstant(mask).iand().ior();
            setReg(whole);
        }

        /** The effective address (offset in its segment) of a memory operand. */
        void ea(Insn in) {
            boolean any = false;
            if (in.base >= 0) {
                reg(in.base);
                any = true;
            }
            if (in.index >= 0) {
                reg(in.index);
                if (in.scale != 0) c.loadConstant(in.scale).ishl();
                if (any) c.iadd();
                any = true;
            }
            if (!any) c.loadConstant(in.disp);
            else if (in.disp != 0) c.loadConstant(in.disp).iadd();
        }

        /** The linear address of an access of n bytes at the offset {@code offset} pushes, into LIN (perm 1 read, 2 write). */
        void linear(int seg, int n, int perm, Runnable offset) {
            c.aload(CPU).aload(FAST_LIMIT).loadConstant(seg);
            offset.run();
            c.loadConstant(n).loadConstant(perm);
            Handlers.LINEAR.invoke(c);
            c.istore(LIN);
        }

        /** Reads the destination of a read-modify-write (n bytes at LIN) with write intent onto the stack. */
        void readForWrite(int n) {
            c.aload(CPU).iload(LIN).loadConstant(n).aload(WTAG).aload(WPAGE).iload(TLB_USER);
            Handlers.LOAD_FOR_WRITE.invoke(c);
        }

        /** Writes slot v (n bytes) at linear LIN. */
        void writeLinear(int n, int v) {
            c.aload(CPU).iload(LIN).iload(v).aload(WTAG).aload(WPAGE).iload(TLB_USER);
            (n == 4 ? Handlers.STORE32 : n == 2 ? Handlers.STORE16 : Handlers.STORE8).invoke(c);
        }

        /** Reads n bytes at the offset {@code offset} pushes in segment seg onto the stack (zero-extended). */
        void loadAt(int seg, int n, Runnable offset) {
            if (seg == 3 && n < 4 && DATA_PAGE) {
                Label usual = c.newLabel(), done = c.newLabel();
                onDataPage(offset, F_READ_BASE, F_READ_BOUND, usual);
                c.aload(CPU).getfield(CD_FAST, F_READ_FRAME, CD_BYTES).iload(DATA_IN);
                (n == 2 ? Handlers.FRAME_LOAD16 : Handlers.FRAME_LOAD8).invoke(c);
                c.goto_(done);
                c.labelBinding(usual);
                c.aload(CPU).iload(DATA_OFF).loadConstant(n);
                Handlers.DATA_LOAD.invoke(c);
                c.labelBinding(done);
                return;
            }
            if (seg == 2 && n == 4 && STACK_PAGE) {
                Label usual = c.newLabel(), done = c.newLabel();
                readStackPage(offset, usual, done);
                c.aload(CPU).iload(STACK_OFF);
                Handlers.STACK_LOAD32.invoke(c);
                c.labelBinding(done);
                return;
            }
            c.aload(CPU).aload(FAST_LIMIT).loadConstant(seg);
            offset.run();
            c.aload(RTAG).aload(RPAGE).iload(TLB_USER);
            (n == 4 ? Handlers.LOAD_AT32 : n == 2 ? Handlers.LOAD_AT16 : Handlers.LOAD_AT8).invoke(c);
        }

        /** Writes slot v (n bytes) at the offset {@code offset} pushes in segment seg. */
        void storeAt(int seg, int n, Runnable offset, int v) {
            if (seg == 3 && n < 4 && DATA_PAGE) {
                Label usual = c.newLabel(), done = c.newLabel();
                onDataPage(offset, F_WRITE_BASE, F_WRITE_BOUND, usual);
                c.aload(CPU).getfield(CD_FAST, F_WRITE_FRAME, CD_BYTES).iload(DATA_IN).iload(v);
                (n == 2 ? Handlers.FRAME_STORE16 : Handlers.FRAME_STORE8).invoke(c);
                c.goto_(done);
                c.labelBinding(usual);
                c.aload(CPU).iload(DATA_OFF).iload(v).loadConstant(n);
                Handlers.DATA_STORE.invoke(c);
                c.labelBinding(done);
                return;
            }
            if (seg == 2 && n == 4 && STACK_PAGE) {
                Label usual = c.newLabel(), done = c.newLabel();
                offset.run();
                c.istore(STACK_OFF);
                onStackPage(usual);
                c.aload(STACK_FRAME).iload(STACK_IN).iload(v);
                Handlers.FRAME_STORE32.invoke(c);
                c.goto_(done);
                c.labelBinding(usual);
                c.aload(CPU).iload(STACK_OFF).iload(v);
                Handlers.STACK_STORE32.invoke(c);
                c.labelBinding(done);
                return;
            }
            c.aload(CPU).aload(FAST_LIMIT).loadConstant(seg);
            offset.run();
            c.iload(v).aload(WTAG).aload(WPAGE).iload(TLB_USER);
            (n == 4 ? Handlers.STORE_AT32 : n == 2 ? Handlers.STORE_AT16 : Handlers.STORE_AT8).invoke(c);
        }

        /**
         * The 32 bits at the SS offset {@code offset} pushes, read from the
         * stack page, then a jump to {@code done}; the offset is left in
         * STACK_OFF and the code at {@code usual} (bound by the caller) runs
         * instead when it is off the page.
         */
        private void readStackPage(Runnable offset, Label usual, Label done) {
            offset.run();
            c.istore(STACK_OFF);
            onStackPage(usual);
            c.aload(STACK_FRAME).iload(STACK_IN);
            Handlers.FRAME_LOAD32.invoke(c);
            c.goto_(done);
            c.labelBinding(usual);
        }

        /**
         * Computes the DS offset {@code offset} pushes into DATA_OFF and its
         * distance from the data page's base (field {@code base}) into
         * DATA_IN, and goes to {@code usual} unless an access of up to 4
         * bytes there lies in that page (field {@code bound}; see CpuState,
         * "the data pages").
         */
        private void onDataPage(Runnable offset, String base, String bound, Label usual) {
            offset.run();
            c.dup().istore(DATA_OFF);
            c.aload(CPU).getfield(CD_FAST, base, CD_int).isub().dup().istore(DATA_IN);
            c.loadConstant(Integer.MIN_VALUE).ixor().aload(CPU).getfield(CD_FAST, bound, CD_int).if_icmpge(usual);
        }

        /** Goes to {@code usual} unless the 4 bytes at SS offset STACK_OFF lie in the stack page. */
        private void onStackPage(Label usual) {
            // (offset - base) < STACK_LIMIT unsigned: the bias makes it a signed compare of one instruction
            c.iload(STACK_OFF).iload(STACK_BASE).isub().dup().istore(STACK_IN);
            c.loadConstant(Integer.MIN_VALUE).ixor().iload(STACK_LIMIT).if_icmpge(usual);
        }

        /** Reads the memory operand (size sz), zero-extended, onto the stack. */
        void load(Insn in, int sz) {
            loadAt(in.seg, sz, () -> ea(in));
        }

        /** Writes slot v to the memory operand (size sz). */
        void store(Insn in, int sz, int v) {
            storeAt(in.seg, sz, () -> ea(in), v);
        }

        /** Pushes slot v (32 bits) onto the stack. */
        void push(int v) {
            reg(4);
            c.iconst_4().isub().istore(T2);
            storeAt(2, 4, () -> c.iload(T2), v);
            c.iload(T2);
            setReg(4);
        }

        /** Reads 32 bits at SS:(the value in register n) onto the stack. */
        void pop32(int n) {
            loadAt(2, 4, () -> reg(n));
        }

        /**
         * After a store: if it changed code, leave for the EIP {@code eip}
         * pushes (the next instruction, or a call's target), so that it is
         * decoded again.
         */
        void codeCheck(Runnable eip) {
            Label same = c.newLabel();
            c.aload(CPU).getfield(CD_FAST, F_CODE_WRITTEN, java.lang.constant.ConstantDescs.CD_boolean).ifeq(same);
            pendingOnSidePath();
            eip.run();
            exitWithEip();
            c.labelBinding(same);
        }

        // ------------------------------------------------------------ instructions

        void instruction(int i) {
            Insn in = p.ins[i];
            int off = p.offs[i];
            int next = off + in.len;
            Kind k = in.kind;
            if (mayFault(in)) {
                flushCount(); // a fault reports the instructions retired before this one
                c.loadConstant(off).istore(POS);
            }
            boolean wrote = false;
            if (k == Kind.RR) {
                aluRegister(i, in.op, in.rm, () -> reg(in.reg));
            } else if (k == Kind.RI) {
                aluRegister(i, in.op, in.rm, () -> c.loadConstant(in.imm));
            } else {
                switch (k) {
                    case MOV_RR32 -> {
                        reg(in.reg);
                        setReg(in.rm);
                    }
                    case LOAD32 -> {
                        load(in, 4);
                        setReg(in.reg);
                    }
                    case STORE32 -> {
                        store(in, 4, R0 + in.reg);
                        wrote = true;
                    }
                    case LEA -> {
                        ea(in);
                        setReg(in.reg);
                    }
                    case SHL_RI, SHR_RI, SAR_RI -> {
                        reg(in.rm);
                        c.istore(T0);
                        c.loadConstant(in.imm).istore(T1);
                        c.iload(T0).iload(T1);
                        if (k == Kind.SHL_RI) c.ishl();
                        else if (k == Kind.SHR_RI) c.iushr();
                        else c.ishr();
                        c.istore(T2);
                        if (liveOut[i] != 0) setFlags(k == Kind.SHL_RI ? CpuState.L_SHL : k == Kind.SHR_RI ? CpuState.L_SHR : CpuState.L_SAR, T0, T1, T2);
                        c.iload(T2);
                        setReg(in.rm);
                    }
                    case MOV_R_IMM -> {
                        c.loadConstant(in.imm);
                        setReg(in.rm, in.sz);
                    }
                    case MOV_RM_IMM -> {
                        if (in.mem) {
                            c.loadConstant(in.imm).istore(T1);
                            store(in, in.sz, T1);
                            wrote = true;
                        } else {
                            c.loadConstant(in.imm);
                            setReg(in.rm, in.sz);
                        }
                    }
                    case MOV_RM_R -> {
                        reg(in.reg, in.sz);
                        c.istore(T1);
                        if (in.mem) {
                            store(in, in.sz, T1);
                            wrote = true;
                        } else {
                            c.iload(T1);
                            setReg(in.rm, in.sz);
                        }
                    }
                    case MOV_R_RM -> {
                        if (in.mem) load(in, in.sz);
                        else reg(in.rm, in.sz);
                        setReg(in.reg, in.sz);
                    }
                    case ALU_RM_R, ALU_R_RM, ALU_RM_IMM -> wrote = aluForm(i);
                    case TEST_RM_R, TEST_RM_IMM -> {
                        if (in.sz == 4) {
                            boolean dead = flagsSeen(i) == SEES_NONE;
                            if (in.mem) load(in, 4); // first: it may fault
                            else if (!dead) reg(in.rm);
                            if (dead) {
                                if (in.mem) c.pop();
                                break;
                            }
                            if (k == Kind.TEST_RM_R) reg(in.reg);
                            else c.loadConstant(in.imm);
                            c.iand().istore(FLAG_R);
                            logicOp();
                            break;
                        }
                        if (in.mem) load(in, in.sz);
                        else reg(in.rm, in.sz);
                        c.istore(T0);
                        if (k == Kind.TEST_RM_R) reg(in.reg, in.sz);
                        else c.loadConstant(in.imm & (in.sz == 2 ? 0xFFFF : 0xFF));
                        c.iload(T0).iand().istore(T2);
                        setFlags(sized(CpuState.L_LOGIC, in.sz * 8), -1, -1, T2);
                    }
                    case INC_R, DEC_R -> {
                        if (in.sz == 4) {
                            incDec(i, k == Kind.INC_R, () -> reg(in.rm));
                            c.iload(T2);
                            setReg(in.rm);
                        } else {
                            generic(i, next);
                        }
                    }
                    case INCDEC_RM -> {
                        if (in.mem && in.sz == 4) {
                            linear(in.seg, 4, 2, () -> ea(in));
                            readForWrite(4);
                            c.istore(T0);
                            incDec(i, in.op == 0, () -> c.iload(T0));
                            // the write cannot fault (checked for writing first), so setting the flags before it is safe
                            writeLinear(4, T2);
                            wrote = true;
                        } else {
                            generic(i, next);
                        }
                    }
                    case PUSH_R -> {
                        reg(in.rm);
                        c.istore(T1);
                        push(T1);
                        wrote = true;
                    }
                    case PUSH_IMM -> {
                        c.loadConstant(in.imm).istore(T1);
                        push(T1);
                        wrote = true;
                    }
                    case PUSH_RM -> {
                        if (in.mem) load(in, 4);
                        else reg(in.rm);
                        c.istore(T1);
                        push(T1);
                        wrote = true;
                    }
                    case POP_R -> {
                        pop32(4);
                        c.istore(T1);
                        reg(4);
                        c.iconst_4().iadd();
                        setReg(4);
                        c.iload(T1);
                        setReg(in.rm);
                    }
                    case LEAVE -> {
                        pop32(5);
                        c.istore(T1);
                        reg(5);
                        c.iconst_4().iadd();
                        setReg(4);
                        c.iload(T1);
                        setReg(5);
                    }
                    case CDQ -> {
                        reg(0);
                        c.loadConstant(31).ishr();
                        setReg(2);
                    }
                    case CWDE -> {
                        reg(0);
                        c.i2s();
                        setReg(0);
                    }
                    case NOP -> {
                    }
                    case XCHG -> {
                        if (!in.mem && in.sz == 4) {
                            reg(in.rm);
                            c.istore(T0);
                            reg(in.reg);
                            setReg(in.rm);
                            c.iload(T0);
                            setReg(in.reg);
                        } else {
                            generic(i, next);
                            wrote = true;
                        }
                    }
                    case MOVX -> {
                        int from = in.op == 0 || in.op == 2 ? 1 : 2;
                        if (in.mem) load(in, from);
                        else reg(in.rm, from);
                        if (in.op == 2) c.i2b();
                        else if (in.op == 3) c.i2s();
                        setReg(in.reg, in.sz);
                    }
                    case IMUL_RM, IMUL_RM_IMM -> {
                        if (in.sz == 4) {
                            // the 64-bit product; CF = OF = it does not fit 32 bits (lazily, as L_IMUL)
                            if (in.mem) load(in, 4);
                            else reg(in.rm);
                            c.istore(T1);
                            if (k == Kind.IMUL_RM) reg(in.reg);
                            else c.loadConstant(in.imm);
                            c.istore(T0);
                            c.iload(T0).i2l().iload(T1).i2l().lmul().lstore(PRODUCT);
                            c.lload(PRODUCT).l2i().istore(T2);
                            c.lload(PRODUCT).loadConstant(0x80000000L).ladd().loadConstant(32).lushr().l2i().istore(T3);
                            c.loadConstant(CpuState.L_IMUL).istore(FLAG_OP);
                            c.iload(T2).istore(FLAG_R);
                            c.iload(T3).istore(FLAG_AUX);
                            known = CpuState.L_IMUL;
                            c.iload(T2);
                            setReg(in.reg);
                        } else {
                            generic(i, next);
                        }
                    }
                    case SHIFT -> {
                        int seen = in.mem || in.sz != 4 || in.op > 1 || in.imm < 0 || (in.imm & 31) == 0 ? SEES_ALL : flagsSeen(i);
                        if (seen != SEES_ALL) {
                            // rol/ror by a constant whose ZF, SF, PF, AF and OF nothing sees
                            int n = in.imm & 31;
                            reg(in.rm);
                            c.loadConstant(in.op == 0 ? n : 32 - n).ishl();
                            reg(in.rm);
                            c.loadConstant(in.op == 0 ? 32 - n : n).iushr().ior();
                            if (seen == SEES_CARRY) {
                                c.dup();
                                if (in.op == 0) c.iconst_1().iand(); // rol: CF is the bit rotated into bit 0
                                else c.loadConstant(31).iushr(); // ror: the bit rotated into bit 31
                                c.istore(FLAG_AUX);
                                known = CARRY_ONLY;
                            }
                            setReg(in.rm);
                        } else if (!in.mem && in.sz == 4) {
                            if (in.imm >= 0) c.loadConstant(in.imm);
                            else {
                                reg(1);
                                c.loadConstant(0xFF).iand();
                            }
                            c.istore(T1);
                            flush();
                            c.aload(CPU).loadConstant(in.op);
                            reg(in.rm);
                            c.iload(T1).iconst_4();
                            Handlers.SHIFT.invoke(c);
                            c.istore(T2);
                            Label keep = c.newLabel();
                            c.iload(T1).loadConstant(31).iand().ifeq(keep);
                            c.iload(T2);
                            setReg(in.rm);
                            c.labelBinding(keep);
                        } else if (in.mem && in.sz == 4) {
                            // read with write intent first (a fault leaves everything as it was), then the shift
                            linear(in.seg, 4, 2, () -> ea(in));
                            readForWrite(4);
                            c.istore(T0);
                            if (in.imm >= 0) c.loadConstant(in.imm);
                            else {
                                reg(1);
                                c.loadConstant(0xFF).iand();
                            }
                            c.istore(T1);
                            flush();
                            c.aload(CPU).loadConstant(in.op).iload(T0).iload(T1).iconst_4();
                            Handlers.SHIFT.invoke(c);
                            c.istore(T2);
                            Label keep = c.newLabel();
                            c.iload(T1).loadConstant(31).iand().ifeq(keep);
                            writeLinear(4, T2); // checked for writing: it cannot fault
                            c.labelBinding(keep);
                            wrote = true;
                        } else {
                            generic(i, next);
                            wrote = in.mem;
                        }
                    }
                    case GRP3 -> {
                        if (!in.mem && in.sz == 4 && in.op == 2) {
                            reg(in.rm);
                            c.iconst_m1().ixor();
                            setReg(in.rm);
                        } else if (!in.mem && in.sz == 4 && in.op == 3) {
                            c.iconst_0().istore(T0);
                            reg(in.rm);
                            c.istore(T1);
                            c.iconst_0().iload(T1).isub().istore(T2);
                            setFlags(CpuState.L_SUB, T0, T1, T2);
                            c.iload(T2);
                            setReg(in.rm);
                        } else {
                            generic(i, next);
                            wrote = in.mem;
                        }
                    }
                    case CMOV -> {
                        if (in.sz == 4) {
                            if (in.mem) load(in, 4);
                            else reg(in.rm);
                            c.istore(T1);
                            Label move = c.newLabel(), done = c.newLabel();
                            condition(in.op, move);
                            c.goto_(done);
                            c.labelBinding(move);
                            c.iload(T1);
                            setReg(in.reg);
                            c.labelBinding(done);
                        } else {
                            generic(i, next);
                        }
                    }
                    case SETCC -> {
                        if (!in.mem) {
                            c.iconst_0().istore(T1);
                            Label set = c.newLabel(), done = c.newLabel();
                            condition(in.op, set);
                            c.goto_(done);
                            c.labelBinding(set);
                            c.iconst_1().istore(T1);
                            c.labelBinding(done);
                            c.iload(T1);
                            setReg(in.rm, 1);
                        } else {
                            generic(i, next);
                            wrote = true;
                        }
                    }
                    case JCC -> {
                        retire();
                        flushCount();
                        int to = next + in.imm;
                        int kt = p.indexOf(to);
                        if (kt >= 0 && to > off) {
                            condition(in.op, labels[kt]);
                        } else {
                            Label taken = c.newLabel(), fall = c.newLabel();
                            condition(in.op, taken);
                            c.goto_(fall);
                            c.labelBinding(taken);
                            jumpTo(to, off);
                            c.labelBinding(fall);
                        }
                        fallThrough(i, next);
                        return;
                    }
                    case JMP_REL -> {
                        retire();
                        flushCount();
                        jumpTo(next + in.imm, off);
                        return;
                    }
                    case CALL_REL -> {
                        c.iload(EIP_BASE).loadConstant(next).iadd().istore(T1);
                        push(T1);
                        retire();
                        flushCount();
                        c.iload(EIP_BASE).loadConstant(next + in.imm).iadd().istore(T1);
                        codeCheck(() -> c.iload(T1));
                        if (p.nestedCalls) nestedCall(next, off);
                        jumpTo(next + in.imm, off);
                        return;
                    }
                    case RET -> {
                        pop32(4);
                        c.istore(T1);
                        reg(4);
                        c.loadConstant(4 + in.imm).iadd();
                        setReg(4);
                        retire();
                        flushCount();
                        if (p.nestedCalls) {
                            // back to the region that called this one: it goes on at its return point
                            Label elsewhere = c.newLabel();
                            c.iload(T1).iload(EXPECT).if_icmpne(elsewhere);
                            c.aload(CPU).iconst_1().putfield(CD_FAST, F_FN_RETURNED, java.lang.constant.ConstantDescs.CD_boolean);
                            c.iload(T1);
                            exitWithEip();
                            c.labelBinding(elsewhere);
                        }
                        c.iload(T1);
                        indirect(i, true);
                        return;
                    }
                    case JMP_RM, CALL_RM -> {
                        if (in.mem) load(in, 4);
                        else reg(in.rm);
                        c.istore(T1);
                        if (k == Kind.CALL_RM) {
                            c.iload(EIP_BASE).loadConstant(next).iadd().istore(T0);
                            push(T0);
                        }
                        retire();
                        flushCount();
                        if (k == Kind.CALL_RM) codeCheck(() -> c.iload(T1));
                        if (k == Kind.CALL_RM && p.nestedCalls) nestedCall(next, off);
                        c.iload(T1);
                        indirect(i, false);
                        return;
                    }
                    default -> {
                        generic(i, next);
                        wrote = true;
                    }
                }
            }
            retire();
            if (wrote) codeCheck(() -> c.iload(EIP_BASE).loadConstant(next).iadd());
            fallThrough(i, next);
        }

        /**
         * A call (return address pushed, target in T1) as a JVM call of the
         * callee's region ({@link Fast#callFunction}): the state goes to the
         * processor, and when the callee returned to {@code next} it comes
         * back and the region goes on there; when the callee left for the run
         * loop this region returns at once (the state is the callee's); when
         * no call was made, the code after this goes to the target itself.
         */
        private void nestedCall(int next, int off) {
            Label notMade = c.newLabel(), returned = c.newLabel();
            syncOut();
            dynamicFlush();
            c.aload(CPU).iload(T1).iload(EIP_BASE).loadConstant(next).iadd().iload(COUNT).iload(BUDGET).loadConstant(p.ins.length);
            Handlers.CALL.invoke(c);
            c.istore(COUNT);
            c.aload(CPU).getfield(CD_FAST, F_CALL_RESULT, CD_int).istore(T0);
            c.iload(T0).ifeq(notMade);
            c.iload(T0).loadConstant(Fast.CALL_RETURNED).if_icmpeq(returned);
            c.iload(COUNT).ireturn();
            c.labelBinding(returned);
            bankLargeCount();
            syncIn();
            // the stack page stays good: a callee that returned here ran nothing that flushes the TLB or loads
            // SS (those instructions end regions), and compiled code only in its own page, which holds code
            c.iconst_0().istore(FLAG_OP); // the flags are in the processor's fields
            codeCheck(() -> c.iload(EIP_BASE).loadConstant(next).iadd());
            jumpTo(next, off);
            c.labelBinding(notMade);
        }

        private void fallThrough(int i, int next) {
            if (i + 1 < p.ins.length && p.offs[i + 1] == next) return;
            jumpTo(next, p.offs[i]);
        }

        /** Whether the instruction can fault (it touches memory, divides, or is interpreted). */
        static boolean mayFault(Insn in) {
            Kind k = in.kind;
            if (k == Kind.RR || k == Kind.RI) return false;
            return switch (k) {
                case MOV_RR32, LEA, SHL_RI, SHR_RI, SAR_RI, CDQ, CWDE,
                        NOP, JCC, JMP_REL -> false;
                case MOV_R_IMM -> false;
                case INC_R, DEC_R -> in.sz != 4; // the 16-bit forms are interpreted
                case ALU_RM_R, ALU_R_RM, ALU_RM_IMM, TEST_RM_R, TEST_RM_IMM, MOV_RM_R,
                        MOV_R_RM, MOV_RM_IMM, MOVX, CMOV, SETCC -> in.mem;
                case XCHG, IMUL_RM, IMUL_RM_IMM, SHIFT -> in.mem || in.sz != 4;
                case GRP3 -> in.mem || in.sz != 4 || in.op >= 4;
                default -> true;
            };
        }

        /** An interpreted instruction: registers and flags out, {@link Fast#exec}, registers back. */
        private void generic(int i, int next) {
            flush();
            syncOut();
            c.aload(CPU).iload(EIP_BASE).loadConstant(p.offs[i]).iadd().putfield(CD_FAST, F_START_EIP, CD_int);
            c.aload(CPU).iload(R0 + 4).putfield(CD_FAST, F_START_ESP, CD_int);
            c.aload(CPU).iload(EIP_BASE).loadConstant(next).iadd().putfield(CD_FAST, F_EIP, CD_int);
            c.aload(CPU).aload(INS).loadConstant(i).aaload();
            Handlers.EXEC.invoke(c);
            if (DATA_PAGE) {
                c.aload(CPU);
                Handlers.DATA_PAGE_OFF.invoke(c);
            }
            syncIn();
            stackPage();
            known = IN_FIELDS;
        }

        /**
         * inc/dec (instruction i) of the value {@code operand} pushes: result
         * in T2, flags set (CF kept) as far as anything reads them: none when
         * nothing does, and CF not looked up when only the others are read.
         */
        private void incDec(int i, boolean inc, Runnable operand) {
            if (liveOut[i] == 0) {
                operand.run();
                c.iconst_1();
                if (inc) c.iadd();
                else c.isub();
                c.istore(T2);
                return;
            }
            if ((liveOut[i] & LIVE_CF) != 0) {
                carry();
                c.istore(FLAG_AUX);
            }
            operand.run();
            c.istore(FLAG_A);
            c.iload(FLAG_A);
            c.iconst_1();
            if (inc) c.iadd();
            else c.isub();
            c.istore(T2);
            c.iconst_1().istore(FLAG_B);
            c.loadConstant(inc ? CpuState.L_INC : CpuState.L_DEC).istore(FLAG_OP);
            c.iload(T2).istore(FLAG_R);
            known = inc ? CpuState.L_INC : CpuState.L_DEC;
        }

        /** The JVM instruction of 32-bit ALU operation k (not ADC or SBB) on the two ints on the stack. */
        private void aluInstruction(int k) {
            switch (k) {
                case 0 -> c.iadd();
                case 1 -> c.ior();
                case 4 -> c.iand();
                case 6 -> c.ixor();
                default -> c.isub();
            }
        }

        /** The lazy flags kind of ALU operation k (not ADC or SBB). */
        private static int lazyOp(int k) {
            return k == 0 ? CpuState.L_ADD : k == 5 || k == 7 ? CpuState.L_SUB : CpuState.L_LOGIC;
        }

        /**
         * 32-bit ALU op k of instruction i on register d and the value
         * {@code source} pushes (which may fault: a memory operand). The
         * flags go to the lazy-flag locals only if something can read them
         * ({@link #flagsSeen}); a compare whose flags nothing reads is no
         * code at all.
         */
        private void aluRegister(int i, int k, int d, Runnable source) {
            if (k == 2 || k == 3) {
                flush();
                c.aload(CPU).loadConstant(k);
                reg(d);
                source.run();
                c.iconst_4();
                Handlers.ALU.invoke(c);
                setReg(d);
                return;
            }
            if (flagsSeen(i) == SEES_NONE) {
                if (k == 7) {
                    if (mayFault(p.ins[i])) { // the read still happens, and may fault
                        source.run();
                        c.pop();
                    }
                    return;
                }
                reg(d);
                source.run();
                aluInstruction(k);
                setReg(d);
                return;
            }
            int op = lazyOp(k);
            Runnable b = source;
            if (mayFault(p.ins[i])) {
                // read first: a fault must find the flag locals as they were before this instruction
                source.run();
                c.istore(T1);
                b = () -> c.iload(T1);
            }
            reg(d);
            if (op != CpuState.L_LOGIC) c.dup().istore(FLAG_A); // a logic op's flags come from its result alone
            b.run();
            if (op != CpuState.L_LOGIC) c.dup().istore(FLAG_B);
            aluInstruction(k);
            c.dup().istore(FLAG_R);
            if (k != 7) setReg(d);
            else c.pop();
            if (op == CpuState.L_LOGIC) logicOp();
            else if (known != op) c.loadConstant(op).istore(FLAG_OP);
            known = op;
        }

        /**
         * A 32-bit logic operation's lazy op, its result already in FLAG_R:
         * its flags come from the result alone, so the other flag locals
         * become 0. The values they held stop there instead of staying live
         * to every instruction after it that may fault (the region's
         * exception handler reads every flag local).
         */
        private void logicOp() {
            if (known != CpuState.L_LOGIC) {
                c.loadConstant(CpuState.L_LOGIC).istore(FLAG_OP);
                c.iconst_0().dup().dup().istore(FLAG_A).istore(FLAG_B).istore(FLAG_AUX);
            }
            known = CpuState.L_LOGIC;
        }

        /** What later code can see of the flags instruction i sets (see {@link #flagsSeen}). */
        static final int SEES_NONE = 0, SEES_CARRY = 1, SEES_ALL = 2;

        /**
         * What can see the flags instruction i sets: nothing, when nothing
         * reads them on any way on before they are set again
         * ({@link #flagLiveness}); only CF, when on its one way on (it falls
         * through) a 32-bit inc or dec comes first (it keeps CF and sets the
         * rest) with no entry from elsewhere on the way; else all of them.
         */
        int flagsSeen(int i) {
            if (liveOut[i] == 0) return SEES_NONE;
            int next = p.offs[i] + p.ins[i].len;
            boolean entered = false;
            for (int j = i + 1; j < p.ins.length && p.offs[j] == next; j++) {
                Insn n = p.ins[j];
                entered |= target[j];
                if (mayFault(n)) return SEES_ALL;
                if ((n.kind == Kind.INC_R || n.kind == Kind.DEC_R) && n.sz == 4) return entered ? SEES_ALL : SEES_CARRY;
                if (!flagNeutral(n)) return SEES_ALL;
                next = p.offs[j] + n.len;
            }
            return SEES_ALL;
        }

        /** A register-only instruction that sets every arithmetic flag from its operands alone (compiled inline, 32-bit). */
        static boolean setsEveryFlag(Insn n) {
            return switch (n.kind) {
                case RR, RI -> n.op != 2 && n.op != 3;
                case ALU_RM_R, ALU_R_RM, ALU_RM_IMM -> !n.mem && n.sz == 4 && n.op != 2 && n.op != 3;
                case TEST_RM_R, TEST_RM_IMM -> !n.mem && n.sz == 4;
                case SHL_RI, SHR_RI, SAR_RI -> true; // counts 1..31 only: the flags come from the shift alone
                default -> false;
            };
        }

        /** A register-only instruction compiled inline that neither reads nor writes flags and does not branch. */
        static boolean flagNeutral(Insn n) {
            return switch (n.kind) {
                case MOV_RR32, LEA, MOV_R_IMM, CDQ, CWDE, NOP -> true;
                case MOV_RM_IMM, MOV_RM_R, MOV_R_RM, MOVX -> !n.mem;
                case XCHG -> !n.mem && n.sz == 4;
                case GRP3 -> !n.mem && n.sz == 4 && n.op == 2;
                default -> false;
            };
        }

        /** The general ALU forms (any size, register or memory); returns whether memory was written. */
        private boolean aluForm(int i) {
            Insn in = p.ins[i];
            int k = in.op, sz = in.sz;
            boolean toMemory = in.mem && in.kind != Kind.ALU_R_RM;
            if (sz == 4 && !toMemory && k != 2 && k != 3) {
                // a register destination: as the register forms
                if (in.kind == Kind.ALU_R_RM) aluRegister(i, k, in.reg, in.mem ? () -> load(in, 4) : () -> reg(in.rm));
                else if (in.kind == Kind.ALU_RM_IMM) aluRegister(i, k, in.rm, () -> c.loadConstant(in.imm));
                else aluRegister(i, k, in.rm, () -> reg(in.reg));
                return false;
            }
            // operands a (destination) and b into T0 and T1; a memory destination's linear address in LIN
            // (or, in the stack page, its offset there in STACK_IN; -1 when it is not)
            boolean stackRmw = toMemory && k != 7 && in.seg == 2 && sz == 4 && STACK_PAGE;
            if (stackRmw) {
                Label usual = c.newLabel(), read = c.newLabel();
                readStackPage(() -> ea(in), usual, read);
                c.iconst_m1().istore(STACK_IN);
                linear(in.seg, sz, 2, () -> c.iload(STACK_OFF));
                readForWrite(sz);
                c.labelBinding(read);
            } else if (toMemory && k != 7) {
                linear(in.seg, sz, 2, () -> ea(in));
                readForWrite(sz);
            } else if (toMemory) {
                load(in, sz); // a compare only reads its destination
            } else if (in.kind == Kind.ALU_R_RM) {
                reg(in.reg, sz);
            } else {
                reg(in.rm, sz);
            }
            c.istore(T0);
            int mask = sz == 4 ? -1 : sz == 2 ? 0xFFFF : 0xFF;
            if (in.kind == Kind.ALU_RM_IMM) c.loadConstant(in.imm & mask);
            else if (in.kind == Kind.ALU_R_RM) {
                if (in.mem) load(in, sz);
                else reg(in.rm, sz);
            } else reg(in.reg, sz);
            c.istore(T1);
            boolean inline = k != 2 && k != 3;
            if (inline) {
                // both operands zero-extended; so is the result
                c.iload(T0).iload(T1);
                aluInstruction(k);
                if (sz != 4) c.loadConstant(mask).iand();
                c.istore(T2);
            } else {
                flush();
                c.aload(CPU).loadConstant(k).iload(T0).iload(T1).loadConstant(sz);
                Handlers.ALU.invoke(c);
                c.istore(T2);
            }
            if (k != 7) {
                if (stackRmw) {
                    Label usual = c.newLabel(), written = c.newLabel();
                    c.iload(STACK_IN).iflt(usual);
                    c.aload(STACK_FRAME).iload(STACK_IN).iload(T2);
                    Handlers.FRAME_STORE32.invoke(c);
                    c.goto_(written);
                    c.labelBinding(usual);
                    writeLinear(sz, T2);
                    c.labelBinding(written);
                } else if (toMemory) {
                    writeLinear(sz, T2); // checked for writing first: it cannot fault after the flags changed
                } else {
                    c.iload(T2);
                    setReg(in.kind == Kind.ALU_R_RM ? in.reg : in.rm, sz);
                }
            }
            if (inline) {
                setFlags(sized(lazyOp(k), sz * 8), T0, T1, T2);
            }
            return toMemory && k != 7;
        }
    }
}
