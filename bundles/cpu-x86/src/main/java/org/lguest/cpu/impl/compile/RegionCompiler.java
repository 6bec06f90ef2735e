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
 * the code through fall-throughs, conditional and direct jumps and direct
 * calls, as far as it stays in the same 4 KiB page and the pre-decoder knows
 * the instructions: a whole loop nest, or a function with the loops and calls
 * inside it, becomes one region. {@link #define} makes a hidden class whose
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
 * them: an exit, an interpreted instruction, a fault.
 *
 * <p><b>Leaving.</b> A region returns the number of instructions it retired,
 * with EIP set, when a branch leaves it (another page, an indirect jump, a
 * return to a caller outside it), when the budget it was given runs out (it
 * is checked on back edges only: a path without one is at most the region's
 * length), or when a store changed code of any page (self-modifying code:
 * the next instruction is decoded again). A {@code ret} to a call made in the
 * region stays in it: the region's call sites are a return-address table.
 *
 * <p><b>Faults.</b> Memory accesses call the processor's checked accessors,
 * which throw {@link Fault}. The region's one exception handler writes back
 * the registers and flags as they were before the faulting instruction
 * (instructions change registers and flags only after their last access that
 * can fault), sets EIP to it, reports how many instructions retired, and
 * rethrows into the run loop, which delivers the exception.
 *
 * <p>Instructions without an inline form run through {@link Fast#exec}, the
 * interpreter's handler for a decoded instruction, with the registers and
 * flags written back around it.
 */
public final class RegionCompiler {
    /** Instructions in one region (a JVM method over 8000 bytecodes would never be compiled by HotSpot). */
    public static final int MAX_INSNS = 400;
    static final int MAX_CODE_BYTES = 7900;

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
    static final ClassDesc CD_FRAMES = java.lang.constant.ConstantDescs.CD_byte.arrayType().arrayType();

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    /** resolves our own types through this bundle's class loader (not the system one), for the stack maps */
    private static final ClassFile CLASSFILE = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            java.lang.classfile.ClassHierarchyResolver.ofClassLoading(RegionCompiler.class.getClassLoader())
                    .orElse(java.lang.classfile.ClassHierarchyResolver.defaultResolver())));

    private RegionCompiler() {
    }

    /** What a region is made of: its instructions in page order, their page offsets, and the index of its entry. */
    public record Plan(Insn[] ins, int[] offs, int head) {
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
     * goes); null if the instruction there cannot be compiled.
     */
    public static Plan plan(Fast f, byte[] page, Insn[] code, int head, int max) {
        BitSet in = new BitSet(0x1000);
        ArrayDeque<Integer> work = new ArrayDeque<>();
        work.add(head);
        int count = 0;
        while (!work.isEmpty() && count < max) {
            int o = work.poll();
            if (in.get(o)) continue;
            Insn i = code[o];
            if (i == null) {
                i = f.decodeAt(page, o);
                code[o] = i;
            }
            if (!compilable(i)) continue;
            in.set(o);
            count++;
            int next = o + i.len;
            switch (i.kind) {
                case JCC -> {
                    work.add(next);
                    work.add(next + i.imm);
                }
                case JMP_REL -> work.add(next + i.imm);
                case CALL_REL -> {
                    work.add(next + i.imm);
                    work.add(next); // where its ret comes back
                }
                case RET, JMP_RM, CALL_RM -> {
                    if (i.seen != null) {
                        for (int t : i.seen) work.add(t);
                    }
                }
                default -> work.add(next);
            }
            work.removeIf(t -> t < 0 || t >= 0x1000);
        }
        if (count == 0) return null;
        int[] offs = in.stream().toArray();
        Insn[] ins = new Insn[offs.length];
        for (int k = 0; k < offs.length; k++) {
            ins[k] = code[offs[k]];
        }
        return new Plan(ins, offs, Arrays.binarySearch(offs, head));
    }

    /**
     * The code of a region, and how many times {@link #shrink} cut its plan
     * to fit one JVM method: the code runs the plan shrunk that many times,
     * whose instructions it is handed. A hidden class made from the
     * instructions' decoded fields and offsets only (see {@link CompiledBlocks}).
     */
    record Compiled(BlockCode code, int shrinks) {
        public Plan plan(Plan planned) {
            Plan p = planned;
            for (int k = 0; k < shrinks; k++) p = shrink(p);
            return p;
        }
    }

    static Compiled define(Plan p) {
        Plan plan = p;
        int shrinks = 0;
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
            if (codeLength(cls) > MAX_CODE_BYTES && plan.ins.length > 8) {
                plan = shrink(plan);
                shrinks++;
                continue;
            }
            try {
                MethodHandles.Lookup l = LOOKUP.defineHiddenClass(cls, true);
                return new Compiled((BlockCode) l.findConstructor(l.lookupClass(), MethodType.methodType(void.class)).invoke(), shrinks);
            } catch (Throwable t) {
                throw new IllegalStateException("region compilation failed", t);
            }
        }
    }

    private static int codeLength(byte[] cls) {
        return CLASSFILE.parse(cls).methods().stream().filter(m -> m.methodName().equalsString("run"))
                .mapToInt(m -> m.code().map(c -> c instanceof java.lang.classfile.attribute.CodeAttribute a ? a.codeLength() : 0).orElse(0))
                .max().orElse(0);
    }

    /** The same region with its instructions farthest from the entry left out (they become exits). */
    static Plan shrink(Plan p) {
        int keep = p.ins.length * 2 / 3;
        Integer[] order = new Integer[p.ins.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        int headOff = p.offs[p.head];
        Arrays.sort(order, (a, b) -> Integer.compare(Math.abs(p.offs[a] - headOff), Math.abs(p.offs[b] - headOff)));
        boolean[] kept = new boolean[p.ins.length];
        for (int i = 0; i < keep; i++) kept[order[i]] = true;
        int n = 0;
        Insn[] ins = new Insn[keep];
        int[] offs = new int[keep];
        int head = 0;
        for (int i = 0; i < p.ins.length; i++) {
            if (!kept[i]) continue;
            if (i == p.head) head = n;
            ins[n] = p.ins[i];
            offs[n++] = p.offs[i];
        }
        return new Plan(ins, offs, head);
    }

    /** Generates one region's {@code run(Fast cpu, Insn[] ins, int budget)}. */
    private static final class Emitter {
        // local variable slots
        static final int CPU = 1, INS = 2, BUDGET = 3, R0 = 4, EIP_BASE = 12, COUNT = 13, POS = 14, FLAG_OP = 15,
                FLAG_A = 16, FLAG_B = 17, FLAG_R = 18, FLAG_AUX = 19, TARGET = 20, T0 = 21, T1 = 22, T2 = 23, T3 = 24,
                THROWN = 25, RTAG = 26, RPAGE = 27, WTAG = 28, WPAGE = 29, TLB_USER = 30, FAST_LIMIT = 31, LIN = 32,
                PRODUCT = 33; // a long: 33 and 34
        /** Static knowledge of the flags: in the fields, unknown (look at FLAG_OP), or pending in locals as this lazy op. */
        static final int IN_FIELDS = 0, UNKNOWN = -1;

        final CodeBuilder c;
        final Plan p;
        final Label[] labels;
        /** instructions reached other than by falling through from the previous one in page order */
        final boolean[] target;
        /** the region's return points (the instruction after each direct call) */
        final int[] returnPoints;
        final Label exit;
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
                    }
                    default -> {
                    }
                }
                if (falls && !(i + 1 < n && p.offs[i + 1] == next)) mark(next);
            }
            returnPoints = rets.stream().mapToInt(Integer::intValue).toArray();
        }

        private void mark(int off) {
            int k = p.indexOf(off);
            if (k >= 0) target[k] = true;
        }

        void emit() {
            int headOff = p.offs[p.head];
            c.aload(CPU).getfield(CD_FAST, F_EIP, CD_int).ldc(headOff).isub().istore(EIP_BASE);
            syncIn();
            // the soft TLB and the segments' fast limits: neither array nor mode changes while a region runs
            c.aload(CPU).getfield(CD_FAST, F_RTAG, CD_int.arrayType()).astore(RTAG);
            c.aload(CPU).getfield(CD_FAST, F_WTAG, CD_int.arrayType()).astore(WTAG);
            c.aload(CPU).getfield(CD_FAST, F_RPAGE, CD_FRAMES).astore(RPAGE);
            c.aload(CPU).getfield(CD_FAST, F_WPAGE, CD_FRAMES).astore(WPAGE);
            c.aload(CPU).getfield(CD_FAST, F_TLB_USER, CD_int).istore(TLB_USER);
            c.aload(CPU).getfield(CD_FAST, F_FAST_LIMIT, CD_int.arrayType()).astore(FAST_LIMIT);
            for (int slot : new int[] {COUNT, FLAG_OP, FLAG_A, FLAG_B, FLAG_R, FLAG_AUX, TARGET, T0, T1, T2, T3, LIN}) {
                c.iconst_0().istore(slot);
            }
            c.ldc(headOff).istore(POS);
            Label start = c.newLabel(), end = c.newLabel(), handler = c.newLabel();
            c.labelBinding(start);
            c.goto_(labels[p.head]);
            for (int i = 0; i < p.ins.length; i++) {
                if (target[i]) flushCount(); // every other way in arrives with the count written
                c.labelBinding(labels[i]);
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
                c.aload(CPU).getfield(CD_FAST, F_R, CD_int.arrayType()).ldc(n).iaload().istore(R0 + n);
            }
        }

        void syncOut() {
            for (int n = 0; n < 8; n++) {
                c.aload(CPU).getfield(CD_FAST, F_R, CD_int.arrayType()).ldc(n).iload(R0 + n).iastore();
            }
        }

        /** Writes pending flags (lazy op in FLAG_OP) to the processor's fields, if any are pending. */
        void dynamicFlush() {
            Label none = c.newLabel();
            c.iload(FLAG_OP).ifeq(none);
            c.aload(CPU).iload(FLAG_OP).putfield(CD_FAST, F_LOP, CD_int);
            storeFlagFields();
            c.labelBinding(none);
        }

        private void storeFlagFields() {
            c.aload(CPU).ldc(32).putfield(CD_FAST, F_LSZ, CD_int);
            c.aload(CPU).iload(FLAG_A).putfield(CD_FAST, F_LA, CD_int);
            c.aload(CPU).iload(FLAG_B).putfield(CD_FAST, F_LB, CD_int);
            c.aload(CPU).iload(FLAG_R).putfield(CD_FAST, F_LR, CD_int);
            c.aload(CPU).iload(FLAG_AUX).putfield(CD_FAST, F_LAUX, CD_int);
            c.iconst_0().istore(FLAG_OP);
        }

        /** Makes the processor's flag fields current (before code that reads or writes them). */
        void flush() {
            if (known == IN_FIELDS) return;
            if (known == UNKNOWN) {
                dynamicFlush();
            } else {
                c.aload(CPU).ldc(known).putfield(CD_FAST, F_LOP, CD_int);
                storeFlagFields();
            }
            known = IN_FIELDS;
        }

        /** The lazy flags of a 32-bit operation, from the values in slots a, b and r (-1: not needed). */
        void setFlags(int op, int a, int b, int r) {
            c.ldc(op).istore(FLAG_OP);
            if (a >= 0) c.iload(a).istore(FLAG_A);
            if (b >= 0) c.iload(b).istore(FLAG_B);
            c.iload(r).istore(FLAG_R);
            known = op;
        }

        // ------------------------------------------------------------ control flow

        /** Leaves the region for the EIP on the stack. */
        void exitWithEip() {
            c.istore(TARGET).goto_(exit);
        }

        void exitTo(int off) {
            c.iload(EIP_BASE).ldc(off).iadd();
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
                c.iload(COUNT).iload(BUDGET).if_icmplt(labels[k]);
                exitTo(off);
            } else {
                c.goto_(labels[k]);
            }
        }

        /**
         * Continues at the EIP on the stack after the indirect jump, call or
         * return at index i: at a place in the region it may go to (for a
         * return, the region's return points; for any, the targets it was
         * seen to take), or out, telling the run loop which instruction left.
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
                c.iload(COUNT).iload(BUDGET).if_icmpge(exit);
                java.util.List<java.lang.classfile.instruction.SwitchCase> cases = new java.util.ArrayList<>();
                for (int t : to) cases.add(java.lang.classfile.instruction.SwitchCase.of(t, labels[p.indexOf(t)]));
                c.iload(TARGET).iload(EIP_BASE).isub();
                c.lookupswitch(out, cases);
            }
            c.labelBinding(out);
            c.aload(CPU).ldc(i).putfield(CD_FAST, F_EXIT_SITE, CD_int);
            c.goto_(exit);
        }

        /** Jumps to {@code yes} when condition cc holds. */
        void condition(int cc, Label yes) {
            int op = known;
            if (op == CpuState.L_SUB) {
                switch (cc) {
                    case 2 -> unsigned(FLAG_A, FLAG_B).iflt(yes);
                    case 3 -> unsigned(FLAG_A, FLAG_B).ifge(yes);
                    case 4 -> c.iload(FLAG_A).iload(FLAG_B).if_icmpeq(yes);
                    case 5 -> c.iload(FLAG_A).iload(FLAG_B).if_icmpne(yes);
                    case 6 -> unsigned(FLAG_A, FLAG_B).ifle(yes);
                    case 7 -> unsigned(FLAG_A, FLAG_B).ifgt(yes);
                    case 8 -> c.iload(FLAG_R).iflt(yes);
                    case 9 -> c.iload(FLAG_R).ifge(yes);
                    case 0xC -> c.iload(FLAG_A).iload(FLAG_B).if_icmplt(yes);
                    case 0xD -> c.iload(FLAG_A).iload(FLAG_B).if_icmpge(yes);
                    case 0xE -> c.iload(FLAG_A).iload(FLAG_B).if_icmple(yes);
                    case 0xF -> c.iload(FLAG_A).iload(FLAG_B).if_icmpgt(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_LOGIC) {
                switch (cc) {
                    case 0, 2 -> {
                    }
                    case 1, 3 -> c.goto_(yes);
                    case 4, 6 -> c.iload(FLAG_R).ifeq(yes);
                    case 5, 7 -> c.iload(FLAG_R).ifne(yes);
                    case 8, 0xC -> c.iload(FLAG_R).iflt(yes);
                    case 9, 0xD -> c.iload(FLAG_R).ifge(yes);
                    case 0xE -> c.iload(FLAG_R).ifle(yes);
                    case 0xF -> c.iload(FLAG_R).ifgt(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_IMUL) {
                switch (cc) {
                    case 0, 2 -> c.iload(FLAG_AUX).ifne(yes);
                    case 1, 3 -> c.iload(FLAG_AUX).ifeq(yes);
                    case 4 -> c.iload(FLAG_R).ifeq(yes);
                    case 5 -> c.iload(FLAG_R).ifne(yes);
                    case 8 -> c.iload(FLAG_R).iflt(yes);
                    case 9 -> c.iload(FLAG_R).ifge(yes);
                    default -> viaFields(cc, yes);
                }
            } else if (op == CpuState.L_ADD || op == CpuState.L_INC || op == CpuState.L_DEC) {
                switch (cc) {
                    case 4 -> c.iload(FLAG_R).ifeq(yes);
                    case 5 -> c.iload(FLAG_R).ifne(yes);
                    case 8 -> c.iload(FLAG_R).iflt(yes);
                    case 9 -> c.iload(FLAG_R).ifge(yes);
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

        private CodeBuilder unsigned(int a, int b) {
            return c.iload(a).iload(b).invokestatic(CD_INTEGER, "compareUnsigned", MT_COMPARE);
        }

        private void viaFields(int cc, Label yes) {
            flush();
            c.aload(CPU).ldc(cc);
            Handlers.CONDITION.invoke(c);
            c.ifne(yes);
        }

        /** CF as it is before an instruction that keeps it (inc, dec): 0 or 1 on the stack. */
        void carry() {
            switch (known) {
                case CpuState.L_SUB -> unsigned(FLAG_A, FLAG_B).ldc(31).iushr();
                case CpuState.L_ADD -> unsigned(FLAG_R, FLAG_A).ldc(31).iushr();
                case CpuState.L_LOGIC -> c.iconst_0();
                case CpuState.L_INC, CpuState.L_DEC -> c.iload(FLAG_AUX);
                case CpuState.L_IMUL -> c.iload(FLAG_AUX).dup().ineg().ior().ldc(31).iushr();
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
                c.ldc(0xFFFF).iand();
            } else if (n < 4) {
                reg(n);
                c.ldc(0xFF).iand();
            } else {
                reg(n - 4);
                c.ldc(8).iushr().ldc(0xFF).iand();
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
            c.ldc(~mask).iand();
            c.iload(T3);
            if (sz == 1 && n >= 4) c.ldc(8).ishl();
            c.ldc(mask).iand().ior();
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
                if (in.scale != 0) c.ldc(in.scale).ishl();
                if (any) c.iadd();
                any = true;
            }
            if (!any) c.ldc(in.disp);
            else if (in.disp != 0) c.ldc(in.disp).iadd();
        }

        /** The linear address of an access of n bytes at the offset {@code offset} pushes, into LIN (perm 1 read, 2 write). */
        void linear(int seg, int n, int perm, Runnable offset) {
            c.aload(CPU).aload(FAST_LIMIT).ldc(seg);
            offset.run();
            c.ldc(n).ldc(perm);
            Handlers.LINEAR.invoke(c);
            c.istore(LIN);
        }

        /** Reads n bytes at linear LIN onto the stack (zero-extended). */
        void readLinear(int n) {
            c.aload(CPU).iload(LIN).aload(RTAG).aload(RPAGE).iload(TLB_USER);
            (n == 4 ? Handlers.LOAD32 : n == 2 ? Handlers.LOAD16 : Handlers.LOAD8).invoke(c);
        }

        /** Reads the destination of a read-modify-write (n bytes at LIN) with write intent onto the stack. */
        void readForWrite(int n) {
            c.aload(CPU).iload(LIN).ldc(n).aload(WTAG).aload(WPAGE).iload(TLB_USER);
            Handlers.LOAD_FOR_WRITE.invoke(c);
        }

        /** Writes slot v (n bytes) at linear LIN. */
        void writeLinear(int n, int v) {
            c.aload(CPU).iload(LIN).iload(v).aload(WTAG).aload(WPAGE).iload(TLB_USER);
            (n == 4 ? Handlers.STORE32 : n == 2 ? Handlers.STORE16 : Handlers.STORE8).invoke(c);
        }

        /** Reads the memory operand (size sz), zero-extended, onto the stack. */
        void load(Insn in, int sz) {
            linear(in.seg, sz, 1, () -> ea(in));
            readLinear(sz);
        }

        /** Writes slot v to the memory operand at the offset in slot off. */
        void store(Insn in, int sz, int off, int v) {
            linear(in.seg, sz, 2, () -> c.iload(off));
            writeLinear(sz, v);
        }

        /** Pushes slot v (32 bits) onto the stack. */
        void push(int v) {
            reg(4);
            c.iconst_4().isub().istore(T2);
            linear(2, 4, 2, () -> c.iload(T2));
            writeLinear(4, v);
            c.iload(T2);
            setReg(4);
        }

        /** Reads 32 bits at SS:(the value in register n) onto the stack. */
        void pop32(int n) {
            linear(2, 4, 1, () -> reg(n));
            readLinear(4);
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
                c.ldc(off).istore(POS);
            }
            boolean wrote = false;
            if (k == Kind.RR) {
                aluRegister(in.op, in.rm, () -> reg(in.reg));
            } else if (k == Kind.RI) {
                c.ldc(in.imm).istore(T1);
                aluRegister(in.op, in.rm, () -> c.iload(T1));
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
                        ea(in);
                        c.istore(T0);
                        store(in, 4, T0, R0 + in.reg);
                        wrote = true;
                    }
                    case LEA -> {
                        ea(in);
                        setReg(in.reg);
                    }
                    case SHL_RI, SHR_RI, SAR_RI -> {
                        reg(in.rm);
                        c.istore(T0);
                        c.ldc(in.imm).istore(T1);
                        c.iload(T0).iload(T1);
                        if (k == Kind.SHL_RI) c.ishl();
                        else if (k == Kind.SHR_RI) c.iushr();
                        else c.ishr();
                        c.istore(T2);
                        setFlags(k == Kind.SHL_RI ? CpuState.L_SHL : k == Kind.SHR_RI ? CpuState.L_SHR : CpuState.L_SAR, T0, T1, T2);
                        c.iload(T2);
                        setReg(in.rm);
                    }
                    case MOV_R_IMM -> {
                        c.ldc(in.imm);
                        setReg(in.rm, in.sz);
                    }
                    case MOV_RM_IMM -> {
                        if (in.mem) {
                            ea(in);
                            c.istore(T0);
                            c.ldc(in.imm).istore(T1);
                            store(in, in.sz, T0, T1);
                            wrote = true;
                        } else {
                            c.ldc(in.imm);
                            setReg(in.rm, in.sz);
                        }
                    }
                    case MOV_RM_R -> {
                        reg(in.reg, in.sz);
                        c.istore(T1);
                        if (in.mem) {
                            ea(in);
                            c.istore(T0);
                            store(in, in.sz, T0, T1);
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
                    case ALU_RM_R, ALU_R_RM, ALU_RM_IMM -> wrote = aluForm(in);
                    case TEST_RM_R, TEST_RM_IMM -> {
                        if (in.mem) load(in, in.sz);
                        else reg(in.rm, in.sz);
                        c.istore(T0);
                        if (k == Kind.TEST_RM_R) reg(in.reg, in.sz);
                        else c.ldc(in.imm);
                        c.istore(T1);
                        if (in.sz == 4) {
                            c.iload(T0).iload(T1).iand().istore(T2);
                            setFlags(CpuState.L_LOGIC, -1, -1, T2);
                        } else {
                            flush();
                            c.aload(CPU).iconst_4().iload(T0).iload(T1).ldc(in.sz);
                            Handlers.ALU.invoke(c);
                            c.pop();
                        }
                    }
                    case INC_R, DEC_R -> {
                        if (in.sz == 4) {
                            incDec(k == Kind.INC_R, () -> reg(in.rm));
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
                            incDec(in.op == 0, () -> c.iload(T0));
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
                        c.ldc(in.imm).istore(T1);
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
                        c.ldc(31).ishr();
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
                            else c.ldc(in.imm);
                            c.istore(T0);
                            c.iload(T0).i2l().iload(T1).i2l().lmul().lstore(PRODUCT);
                            c.lload(PRODUCT).l2i().istore(T2);
                            c.lload(PRODUCT).ldc(0x80000000L).ladd().ldc(32).lushr().l2i().istore(T3);
                            c.ldc(CpuState.L_IMUL).istore(FLAG_OP);
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
                        if (!in.mem && in.sz == 4) {
                            if (in.imm >= 0) c.ldc(in.imm);
                            else {
                                reg(1);
                                c.ldc(0xFF).iand();
                            }
                            c.istore(T1);
                            flush();
                            c.aload(CPU).ldc(in.op);
                            reg(in.rm);
                            c.iload(T1).iconst_4();
                            Handlers.SHIFT.invoke(c);
                            c.istore(T2);
                            Label keep = c.newLabel();
                            c.iload(T1).ldc(31).iand().ifeq(keep);
                            c.iload(T2);
                            setReg(in.rm);
                            c.labelBinding(keep);
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
                        c.iload(EIP_BASE).ldc(next).iadd().istore(T1);
                        push(T1);
                        retire();
                        flushCount();
                        c.iload(EIP_BASE).ldc(next + in.imm).iadd().istore(T1);
                        codeCheck(() -> c.iload(T1));
                        jumpTo(next + in.imm, off);
                        return;
                    }
                    case RET -> {
                        pop32(4);
                        c.istore(T1);
                        reg(4);
                        c.ldc(4 + in.imm).iadd();
                        setReg(4);
                        retire();
                        flushCount();
                        c.iload(T1);
                        indirect(i, true);
                        return;
                    }
                    case JMP_RM, CALL_RM -> {
                        if (in.mem) load(in, 4);
                        else reg(in.rm);
                        c.istore(T1);
                        if (k == Kind.CALL_RM) {
                            c.iload(EIP_BASE).ldc(next).iadd().istore(T0);
                            push(T0);
                        }
                        retire();
                        flushCount();
                        if (k == Kind.CALL_RM) codeCheck(() -> c.iload(T1));
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
            if (wrote) codeCheck(() -> c.iload(EIP_BASE).ldc(next).iadd());
            fallThrough(i, next);
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
            c.aload(CPU).iload(EIP_BASE).ldc(p.offs[i]).iadd().putfield(CD_FAST, F_START_EIP, CD_int);
            c.aload(CPU).iload(R0 + 4).putfield(CD_FAST, F_START_ESP, CD_int);
            c.aload(CPU).iload(EIP_BASE).ldc(next).iadd().putfield(CD_FAST, F_EIP, CD_int);
            c.aload(CPU).aload(INS).ldc(i).aaload();
            Handlers.EXEC.invoke(c);
            syncIn();
            known = IN_FIELDS;
        }

        /** inc/dec of the value {@code operand} pushes: result in T2, flags set (CF kept). */
        private void incDec(boolean inc, Runnable operand) {
            carry();
            c.istore(FLAG_AUX);
            operand.run();
            c.istore(FLAG_A);
            c.iload(FLAG_A);
            c.iconst_1();
            if (inc) c.iadd();
            else c.isub();
            c.istore(T2);
            c.iconst_1().istore(FLAG_B);
            c.ldc(inc ? CpuState.L_INC : CpuState.L_DEC).istore(FLAG_OP);
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

        /** 32-bit ALU op k on register d and the value {@code source} pushes. */
        private void aluRegister(int k, int d, Runnable source) {
            if (k == 2 || k == 3) {
                flush();
                c.aload(CPU).ldc(k);
                reg(d);
                source.run();
                c.iconst_4();
                Handlers.ALU.invoke(c);
                setReg(d);
                return;
            }
            reg(d);
            c.istore(T0);
            source.run();
            c.istore(T1);
            c.iload(T0).iload(T1);
            aluInstruction(k);
            c.istore(T2);
            setFlags(lazyOp(k), T0, T1, T2);
            if (k != 7) {
                c.iload(T2);
                setReg(d);
            }
        }

        /** The general ALU forms (any size, register or memory); returns whether memory was written. */
        private boolean aluForm(Insn in) {
            int k = in.op, sz = in.sz;
            boolean toMemory = in.mem && in.kind != Kind.ALU_R_RM;
            // operands a (destination) and b into T0 and T1; a memory destination's linear address in LIN
            if (toMemory) {
                linear(in.seg, sz, k != 7 ? 2 : 1, () -> ea(in));
                if (k != 7) readForWrite(sz);
                else readLinear(sz);
            } else if (in.kind == Kind.ALU_R_RM) {
                reg(in.reg, sz);
            } else {
                reg(in.rm, sz);
            }
            c.istore(T0);
            if (in.kind == Kind.ALU_RM_IMM) c.ldc(in.imm);
            else if (in.kind == Kind.ALU_R_RM) {
                if (in.mem) load(in, sz);
                else reg(in.rm, sz);
            } else reg(in.reg, sz);
            c.istore(T1);
            if (sz == 4 && k != 2 && k != 3) {
                c.iload(T0).iload(T1);
                aluInstruction(k);
                c.istore(T2);
            } else {
                flush();
                c.aload(CPU).ldc(k).iload(T0).iload(T1).ldc(sz);
                Handlers.ALU.invoke(c);
                c.istore(T2);
            }
            if (k != 7) {
                if (toMemory) {
                    writeLinear(sz, T2); // checked for writing first: it cannot fault after the flags changed
                } else {
                    c.iload(T2);
                    setReg(in.kind == Kind.ALU_R_RM ? in.reg : in.rm, sz);
                }
            }
            if (sz == 4 && k != 2 && k != 3) {
                setFlags(lazyOp(k), T0, T1, T2);
            }
            return toMemory && k != 7;
        }
    }
}
