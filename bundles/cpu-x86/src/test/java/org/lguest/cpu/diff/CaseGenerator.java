package org.lguest.cpu.diff;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import org.lguest.cpu.diff.OpcodeTable.Form;
import org.lguest.cpu.diff.OpcodeTable.Kind;

/**
 * Makes test cases from a seed: case {@code i} of seed {@code s} is always the
 * same instruction with the same state, so any mismatch can be made again
 * (see {@link #generate(long)}).
 *
 * <p>Each case draws one form from {@link OpcodeTable}, then prefixes (66, 67,
 * segment overrides, LOCK, REP/REPE/REPNE), a ModRM/SIB/displacement, and
 * registers, flags and memory operands biased toward boundary values. Memory
 * operands are steered by choosing the address first and solving the base (or
 * displacement, or index) register for it: most land in the data area,
 * some straddle its ends, some hit the read-only code page, some go to
 * addresses neither side maps, so both sides must fault alike. Nothing is
 * ever accessed or executed outside {@link Layout#safe}; branch targets are
 * either INT3 bytes in the code page or unmapped addresses.
 */
final class CaseGenerator {

    static final int[] BOUNDARY32 = {0, 1, 2, -1, -2, 0x7fffffff, 0x80000000, 0x80000001, 0x7fff, 0x8000, 0xffff,
        0x10000, 0xffff8000, 0x7f, 0x80, 0xff, 0x100, 0xffffff80, 0xffffff7f, 0x0f, 0x10, 0x55555555, 0xaaaaaaaa};
    static final int[] COUNTS = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 0x20, 0x3f, 0x40};
    static final int[] UNMAPPED = {0x0, 0x4, 0xffc, 0x1000, 0x7fff0, 0xfffe, 0x0fffff00, 0x10001000, 0x1ffffff0,
        0x20002000, 0x2000fff0, 0x30000000, 0x7ffffffc, 0x80000000, 0xbffffff8};

    private final long seed;
    private final int userCs;
    private final int userDs;
    private final List<Form> forms;
    private final byte[] pattern;
    private final Set<String> avoid;

    CaseGenerator(long seed, int userCs, int userDs, Predicate<Form> include) {
        this(seed, userCs, userDs, include, Set.of());
    }

    /**
     * @param avoid the {@link KnownCpuGaps} features ("feature ...") whose triggering states are not generated
     */
    CaseGenerator(long seed, int userCs, int userDs, Predicate<Form> include, Set<String> avoid) {
        this.avoid = Set.copyOf(avoid);
        this.seed = seed;
        this.userCs = userCs;
        this.userDs = userDs;
        List<Form> f = new ArrayList<>();
        for (Form form : OpcodeTable.FORMS) {
            if (include.test(form)) {
                f.add(form);
            }
        }
        this.forms = f;
        this.pattern = patternFor(seed);
    }

    /** The data area's contents before every case of a run with this seed. */
    static byte[] patternFor(long seed) {
        byte[] p = new byte[Layout.DATA_SIZE];
        new SplittableRandom(seed ^ 0x5eed_da7aL).nextBytes(p);
        return p;
    }

    /** The data area's contents before every case: random bytes fixed by the seed. */
    byte[] pattern() {
        return pattern.clone();
    }

    int formCount() {
        return forms.size();
    }

    /** Case {@code index} of this generator's seed. */
    DiffCase generate(long index) {
        for (int attempt = 0; ; attempt++) {
            long s = seed * 0x9e37_79b9_7f4a_7c15L + index * 0xbf58_476d_1ce4_e5b9L + attempt * 0x94d0_49bb_1331_11ebL;
            DiffCase c = new Builder(new SplittableRandom(s), index).build();
            if (c != null) {
                return c;
            }
        }
    }

    private int[] dataSelectors() {
        return new int[] {userDs, userDs, userDs, userDs & ~3, userCs, 0, 1, 3, 0x07, 0xfffb};
    }

    private int[] codeSelectors() {
        return new int[] {userCs, userCs, userCs, userCs, userCs & ~3, userDs, 0, 0xfffb};
    }

    /** One case under construction. */
    private final class Builder {
        final SplittableRandom r;
        final long index;
        Form form;
        boolean o16;
        boolean a16;
        final List<Integer> prefixes = new ArrayList<>();
        int seg = -1;
        boolean lock;
        int rep;
        int width;
        final int[] regs = new int[8];
        final boolean[] pinned = new boolean[8];
        int eflags;
        final byte[] overlay = new byte[Layout.DATA_SIZE];
        final boolean[] touched = new boolean[Layout.DATA_SIZE];
        int[] opcode;
        int mod = -1;
        int regField;
        int rm;
        boolean sib;
        int scale;
        int indexReg = 4;
        int baseReg = -1;
        int dispSize;
        int disp;
        int memSize;
        int ea;
        final ByteArrayOutputStream imm = new ByteArrayOutputStream();
        final ByteArrayOutputStream x87Before = new ByteArrayOutputStream();
        final ByteArrayOutputStream x87After = new ByteArrayOutputStream();
        int x87Loads;
        boolean tooLong;
        int branchTarget;
        boolean relBranch;
        int relSize;
        int shiftImm = -1;
        int offset;
        int start;
        final List<Integer> undefinedMemory = new ArrayList<>();
        final int[] undefinedRegBits = new int[8];

        Builder(SplittableRandom r, long index) {
            this.r = r;
            this.index = index;
        }

        boolean chance(int percent) {
            return r.nextInt(100) < percent;
        }

        int pick(int[] values) {
            return values[r.nextInt(values.length)];
        }

        int value(int bits) {
            int v;
            int p = r.nextInt(100);
            if (p < 35) {
                v = pick(BOUNDARY32);
                if (bits < 32 && chance(50)) {
                    int keep = bits == 8 ? 0xff : 0xffff;
                    v = (r.nextInt() & ~keep) | (v & keep);
                }
                if (bits < 32 && chance(30)) {
                    v = (bits == 8 ? (byte) v : (short) v);
                }
            } else if (p < 50) {
                v = r.nextInt(-300, 300);
            } else {
                v = r.nextInt();
            }
            return v;
        }

        int stackAddress() {
            if (chance(92)) {
                return Layout.DATA + (r.nextInt(0x100, Layout.DATA_SIZE - 0x100) & ~3) + (chance(5) ? 2 : 0);
            }
            if (avoid.contains(KnownCpuGaps.PAGE_CROSSING)) {
                return Layout.DATA + pick(new int[] {0, 0x40, 0x1fc0, 0x1ffc, 0x2000});
            }
            return Layout.DATA + pick(new int[] {0, 2, 4, 8, 0x10, 0x1ff0, 0x1ff8, 0x1ffc, 0x1ffe, 0x2000});
        }

        /** Whether this form's memory destination must stay writable (a known gap avoided). */
        boolean safeRmw() {
            if (!avoid.contains(KnownCpuGaps.FAULTING_RMW)) {
                return false;
            }
            UndefinedBehaviour.Rule rule = form.flags();
            return form.lockable() || rule == UndefinedBehaviour.Rule.SHIFT || rule == UndefinedBehaviour.Rule.ROTATE
                    || rule == UndefinedBehaviour.Rule.RCROTATE || rule == UndefinedBehaviour.Rule.SHIFT_DOUBLE;
        }

        void patch(int address, long value, int size) {
            for (int i = 0; i < size; i++) {
                int a = address + i - Layout.DATA;
                if (a >= 0 && a < Layout.DATA_SIZE) {
                    overlay[a] = (byte) (value >>> (8 * i));
                    touched[a] = true;
                }
            }
        }

        /** A branch or return target: an INT3 in the code page outside the instruction, or an unmapped address. */
        int target(int start, int len) {
            if (chance(80)) {
                int t;
                do {
                    t = Layout.CODE + r.nextInt(Layout.CODE_SIZE);
                } while (t >= start && t < start + len);
                return t;
            }
            return pick(UNMAPPED) + r.nextInt(16);
        }

        DiffCase build() {
            form = forms.get(r.nextInt(forms.size()));
            // x87 cases carry loads before the instruction: they always start mid-page.
            offset = chance(2) && !avoid.contains(KnownCpuGaps.PAGE_END_FETCH) && form.kind() != Kind.X87
                    ? Layout.CODE_SIZE - r.nextInt(1, 9)
                    : Layout.CODE_OFFSET;
            start = Layout.CODE + offset;
            Kind kind = form.kind();
            o16 = form.opsize() && chance(22);
            for (int i = 0; i < 8; i++) {
                regs[i] = value(32);
            }
            regs[4] = stackAddress();
            pinned[4] = true;
            eflags = 0x202;
            for (int f : new int[] {UndefinedBehaviour.CF, UndefinedBehaviour.PF, UndefinedBehaviour.AF,
                UndefinedBehaviour.ZF, UndefinedBehaviour.SF, UndefinedBehaviour.OF}) {
                if (r.nextBoolean()) {
                    eflags |= f;
                }
            }
            if (chance(kind == Kind.STRING ? 50 : 12)) {
                eflags |= UndefinedBehaviour.DF;
            }
            if (!avoid.contains(KnownCpuGaps.ALIGNMENT_CHECK) && chance(3)) {
                eflags |= UndefinedBehaviour.AC;
            }
            width = operandWidth();

            boolean memoryForm = form.hasModrm() && form.mod() != 'r';
            boolean usesAddress = memoryForm || kind == Kind.STRING || kind == Kind.XLAT || form.has("Ob")
                    || form.has("Ov") || kind == Kind.LOOP;
            a16 = usesAddress && chance(kind == Kind.STRING || kind == Kind.LOOP ? 10 : 6) && !safeRmw();
            if ((memoryForm || kind == Kind.STRING || kind == Kind.XLAT || form.has("Ob") || form.has("Ov"))
                    && chance(15)) {
                seg = chance(88) ? pick(new int[] {0, 1, 2, 3}) : pick(new int[] {4, 5});
                if (safeRmw() && (seg == 1 || seg >= 4)) {
                    seg = 3;
                }
            }
            if (kind == Kind.STRING && chance(60)) {
                boolean cmp = form.mnemonic().startsWith("CMPS") || form.mnemonic().startsWith("SCAS");
                rep = cmp ? (r.nextBoolean() ? 0xf3 : 0xf2) : (chance(90) ? 0xf3 : 0xf2);
            }

            opcode = form.opcode().clone();
            if (form.mnemonic().endsWith("cc")) {
                opcode[opcode.length - 1] += r.nextInt(16);
            }
            if (form.opcodeReg()) {
                opcode[opcode.length - 1] += r.nextInt(8);
            }

            if (kind == Kind.IRET || kind == Kind.RETF) {
                regs[4] = Layout.DATA + (r.nextInt(0x100, Layout.DATA_SIZE - 0x100) & ~3);
            }
            prepareKind(kind);
            if (form.hasModrm()) {
                if (!modrm(kind)) {
                    return null;
                }
            }
            immediates(kind);
            lock = form.lockable() && mod >= 0 && mod != 3 ? chance(35)
                    : !form.mnemonic().startsWith("VER") && !form.mnemonic().startsWith("MOV Cd")
                    && !form.mnemonic().startsWith("MOV Rd,C") && chance(1);
            afterOperands(kind);
            if (kind == Kind.X87) {
                x87Setup();
            }
            if (!accessesAreSafe(kind)) {
                return null;
            }

            // Prefixes in random order.
            if (o16) {
                prefixes.add(0x66);
            }
            if (a16) {
                prefixes.add(0x67);
            }
            if (seg >= 0) {
                prefixes.add(new int[] {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65}[seg]);
            }
            if (lock) {
                prefixes.add(0xf0);
            }
            if (rep != 0) {
                prefixes.add(rep);
            }
            for (int i = prefixes.size() - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                Integer t = prefixes.get(i);
                prefixes.set(i, prefixes.get(j));
                prefixes.set(j, t);
            }

            ByteArrayOutputStream code = new ByteArrayOutputStream();
            if (kind != Kind.X87 && (seg < 0 || seg == 3) && !avoid.contains(KnownCpuGaps.LENGTH_LIMIT) && chance(1)) {
                // Longer than 15 bytes with redundant DS overrides: #GP(0) before anything happens.
                tooLong = true;
                int rest = opcode.length + (form.hasModrm() ? 1 + (sib ? 1 : 0) + dispSize : 0) + imm.size()
                        + (relBranch ? relSize : 0) + prefixes.size();
                for (int i = rest; i < 16 + r.nextInt(2); i++) {
                    code.write(0x3e);
                }
            }
            for (int p : prefixes) {
                code.write(p);
            }
            for (int b : opcode) {
                code.write(b);
            }
            if (form.hasModrm()) {
                code.write(mod << 6 | regField << 3 | rm);
                if (sib) {
                    code.write(scale << 6 | indexReg << 3 | (baseReg < 0 ? 5 : baseReg));
                }
                for (int i = 0; i < dispSize; i++) {
                    code.write(disp >>> (8 * i));
                }
            }
            byte[] immBytes = imm.toByteArray();
            code.writeBytes(immBytes);
            int len = code.size() + (relBranch ? relSize : 0);
            if (relBranch) {
                int t;
                if (relSize == 1) {
                    int rel;
                    do {
                        rel = (byte) r.nextInt();
                        t = start + len + rel;
                    } while (t >= start && t < start + len);
                    code.write(rel);
                } else {
                    t = target(start, len);
                    int rel = t - (start + len);
                    for (int i = 0; i < relSize; i++) {
                        code.write(rel >>> (8 * i));
                    }
                }
            }
            if (len > 15 && !tooLong) {
                return null;
            }
            byte[] bytes = code.toByteArray();
            if (kind == Kind.X87) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                all.writeBytes(x87Before.toByteArray());
                all.writeBytes(bytes);
                all.writeBytes(x87After.toByteArray());
                bytes = all.toByteArray();
            }
            masks();
            List<DiffCase.Patch> patches = new ArrayList<>();
            for (int i = 0; i < Layout.DATA_SIZE; ) {
                if (!touched[i]) {
                    i++;
                    continue;
                }
                int j = i;
                while (j < Layout.DATA_SIZE && touched[j] && j - i < 255) {
                    j++;
                }
                byte[] b = new byte[j - i];
                System.arraycopy(overlay, i, b, 0, b.length);
                patches.add(new DiffCase.Patch(i, b));
                i = j;
            }
            int[] um = new int[undefinedMemory.size()];
            for (int i = 0; i < um.length; i++) {
                um[i] = undefinedMemory.get(i);
            }
            return new DiffCase(index, form, describe(), offset, bytes, regs.clone(), eflags, patches,
                    undefinedFlags(), undefinedRegBits.clone(), um, faultLeeway(kind), kind == Kind.X87,
                    kind == Kind.X87 ? X87Values.undefinedStatus(form.mnemonic())
                            | (form.mnemonic().equals("FXAM") && x87Loads == 0 ? X87Values.C1 : 0) : 0);
        }

        int operandWidth() {
            for (String o : form.operands()) {
                if (o.endsWith("b") || o.equals("AL")) {
                    if (!o.equals("Ib") && !o.equals("Jb") && !o.equals("Ob")) {
                        return 8;
                    }
                }
            }
            for (String o : form.operands()) {
                if (o.equals("Ew") || o.equals("Gw")) {
                    return 16;
                }
            }
            if (form.opcode()[0] == 0xa4 || form.opcode()[0] == 0xa6 || form.opcode()[0] == 0xaa
                    || form.opcode()[0] == 0xac || form.opcode()[0] == 0xae || form.opcode()[0] == 0x6c
                    || form.opcode()[0] == 0x6e || (form.opcode()[0] == 0x80 || form.opcode()[0] == 0x82)
                    || form.opcode()[0] == 0xc0 || form.opcode()[0] == 0xd0 || form.opcode()[0] == 0xd2
                    || form.opcode()[0] == 0xf6 || form.opcode()[0] == 0xfe) {
                return 8;
            }
            return o16 ? 16 : 32;
        }

        /** Registers a kind needs before the ModRM is chosen. */
        void prepareKind(Kind kind) {
            switch (kind) {
                case STRING -> {
                    int size = width / 8;
                    int count = rep != 0 ? (chance(15) ? 0 : r.nextInt(1, 18)) : 1;
                    if (rep != 0) {
                        regs[1] = a16 ? (r.nextInt() & 0xffff0000) | count : count;
                        pinned[1] = true;
                    }
                    boolean down = (eflags & UndefinedBehaviour.DF) != 0;
                    regs[6] = stringAddress(size, count, down, true);
                    regs[7] = stringAddress(size, count, down, false);
                    pinned[6] = true;
                    pinned[7] = true;
                }
                case XLAT -> {
                    pinned[3] = true;
                    int t = memoryTarget(1, false);
                    regs[3] = t - (regs[0] & 0xff);
                    ea = t;
                    memSize = 1;
                }
                case LEAVE, ENTER -> {
                    regs[5] = stackAddress();
                    pinned[5] = true;
                }
                case LOOP -> regs[1] = chance(70) ? r.nextInt(0, 4) | (chance(30) ? 0x10000 : 0) : value(32);
                default -> { }
            }
        }

        int stringAddress(int size, int count, boolean down, boolean source) {
            int p = r.nextInt(100);
            if (p < 85) {
                int room = Math.max(count, 1) * size;
                int lo = down ? room - size : 0;
                int hi = down ? Layout.DATA_SIZE - size : Layout.DATA_SIZE - room;
                int off = r.nextInt(lo, hi + 1);
                if (chance(70)) {
                    off &= -size;
                    if (off < lo) {
                        off += size;
                    }
                }
                return Layout.DATA + off;
            } else if (p < 93 && !avoid.contains(KnownCpuGaps.PAGE_CROSSING)) {
                int k = r.nextInt(0, Math.max(count, 1)) * size;
                return down ? Layout.DATA + k - (chance(50) ? 1 : 0) : Layout.DATA + Layout.DATA_SIZE - k - size
                        + (chance(50) ? 1 : 0);
            } else if (p < 97 && source) {
                return Layout.CODE + Layout.CODE_SIZE / 2 + r.nextInt(-256, 256);
            }
            return pick(UNMAPPED) + 0x100;
        }

        /** An address for a memory operand of {@code size} bytes. */
        int memoryTarget(int size, boolean selectorLoad) {
            int p = r.nextInt(100);
            int s = Math.max(size, 1);
            if (p >= 80 && p < 86 && avoid.contains(KnownCpuGaps.PAGE_CROSSING)) {
                p = 0;
            }
            if (p < 80 || (selectorLoad && p < 92) || safeRmw()) {
                int off = r.nextInt(0, Layout.DATA_SIZE - s + 1);
                if (chance(65) && Integer.bitCount(s) == 1) {
                    off &= -s;
                }
                return Layout.DATA + off;
            } else if (p < 86) {
                int k = s > 1 ? r.nextInt(1, s) : 0;
                return r.nextBoolean() ? Layout.DATA + Layout.DATA_SIZE - k : Layout.DATA - k;
            } else if (p < 92) {
                return Layout.CODE + r.nextInt(0, Layout.CODE_SIZE - s + 1);
            }
            return pick(UNMAPPED) + r.nextInt(0, 8);
        }

        int memorySize() {
            String o = form.rmOperand();
            if (o == null) {
                return 0;
            }
            int v = o16 ? 2 : 4;
            return switch (o) {
                case "Eb" -> 1;
                case "Ew" -> 2;
                case "Ev" -> form.kind() == Kind.CALL_IND || form.kind() == Kind.JMP_IND || form.kind() == Kind.PUSH
                        || form.kind() == Kind.POP ? v : width / 8;
                case "Mp" -> v + 2;
                case "Ma" -> 2 * v;
                case "Mq" -> 8;
                case "Mfs", "Md" -> 4;
                case "Mfd" -> 8;
                case "Mft", "Mbcd" -> 10;
                case "Mw", "Mcw" -> 2;
                case "Menv" -> 28;
                case "Mstate" -> 108;
                default -> 0;
            };
        }

        boolean modrm(Kind kind) {
            char m = form.mod();
            mod = m == 'r' ? 3 : m == 'm' ? r.nextInt(3) : (chance(45) ? 3 : r.nextInt(3));
            regField = form.reg() == 8 ? r.nextInt(8) : form.reg();
            if (kind == Kind.MOV_TO_SREG && chance(80)) {
                regField = pick(new int[] {0, 2, 3, 4, 5});
            }
            if (form.mnemonic().equals("MOV Ev,Sw") && chance(85)) {
                regField = r.nextInt(6);
            }
            rm = r.nextInt(8);
            if (mod == 3) {
                if (rm == 4 && (kind == Kind.CALL_IND || kind == Kind.JMP_IND || kind == Kind.MOV_TO_SREG
                        || kind == Kind.SEL_QUERY)) {
                    return false;
                }
                return true;
            }
            memSize = memorySize();
            if (kind == Kind.BT_MEM && !pinned[regField]) {
                // The bit offset in the G register moves the address: keep it small, sometimes extreme.
                int bitOffset = chance(80) || safeRmw() ? r.nextInt(-512, 1024) : pick(BOUNDARY32);
                regs[regField] = bitOffset;
                pinned[regField] = true;
            }
            if (a16) {
                dispSize = mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0;
                disp = dispSize == 0 ? 0 : dispSize == 1 ? (byte) r.nextInt() : r.nextInt() & 0xffff;
                return true;
            }
            if (rm == 4) {
                sib = true;
                scale = r.nextInt(4);
                indexReg = r.nextInt(8);
                baseReg = r.nextInt(8);
                if (baseReg == 5 && mod == 0) {
                    baseReg = -1;
                }
            } else if (rm == 5 && mod == 0) {
                baseReg = -1;
            } else {
                baseReg = rm;
            }
            dispSize = mod == 1 ? 1 : mod == 2 || baseReg < 0 ? 4 : 0;
            disp = dispSize == 0 ? 0 : dispSize == 1 ? (chance(30) ? pick(new int[] {0, 0x7f, -0x80, 4, -4}) : (byte) r.nextInt()) : r.nextInt();
            boolean selectorLoad = kind == Kind.LOAD_FAR || kind == Kind.MOV_TO_SREG || kind == Kind.SEL_QUERY
                    || kind == Kind.CALLF_IND || kind == Kind.JMPF_IND;
            int t = kind == Kind.BT_MEM ? Layout.DATA + r.nextInt(0x100, Layout.DATA_SIZE - 0x100)
                    : memoryTarget(memSize, selectorLoad);
            boolean hasIndex = sib && indexReg != 4;
            int idx = 0;
            if (hasIndex && !pinned[indexReg]) {
                idx = chance(60) ? r.nextInt(-64, 65) : r.nextInt(0, 0x400);
                regs[indexReg] = idx;
            } else if (hasIndex) {
                idx = regs[indexReg];
            }
            if (baseReg >= 0 && !pinned[baseReg]) {
                if (hasIndex && baseReg == indexReg) {
                    regs[baseReg] = (t - disp) / (1 + (1 << scale));
                } else {
                    regs[baseReg] = t - disp - (hasIndex ? idx << scale : 0);
                }
                pinned[baseReg] = true;
            } else if (dispSize == 4) {
                disp = t - (baseReg >= 0 ? regs[baseReg] : 0) - (hasIndex ? regs[indexReg] << scale : 0);
            } else if (hasIndex && !pinned[indexReg] && indexReg != baseReg) {
                regs[indexReg] = (t - disp - regs[baseReg]) >> scale;
            }
            if (hasIndex) {
                pinned[indexReg] = true;
            }
            ea = effectiveAddress();
            return true;
        }

        int effectiveAddress() {
            int a = disp;
            if (baseReg >= 0) {
                a += regs[baseReg];
            }
            if (sib && indexReg != 4) {
                a += regs[indexReg] << scale;
            }
            return a;
        }

        void imm8(int v) {
            imm.write(v);
        }

        void immN(int v, int n) {
            for (int i = 0; i < n; i++) {
                imm.write(v >>> (8 * i));
            }
        }

        void immediates(Kind kind) {
            int v = o16 ? 2 : 4;
            boolean shiftLike = form.flags() == UndefinedBehaviour.Rule.SHIFT
                    || form.flags() == UndefinedBehaviour.Rule.ROTATE || form.flags() == UndefinedBehaviour.Rule.RCROTATE
                    || form.flags() == UndefinedBehaviour.Rule.SHIFT_DOUBLE;
            for (String o : form.operands()) {
                switch (o) {
                    case "Ib" -> {
                        if (kind == Kind.INT) {
                            int n;
                            do {
                                n = chance(20) ? pick(new int[] {3, 4}) : r.nextInt(256);
                            } while (n == 0x80);
                            imm8(n);
                        } else if (shiftLike) {
                            shiftImm = chance(70) ? pick(COUNTS) : r.nextInt(256);
                            imm8(shiftImm);
                        } else if (form.mnemonic().equals("AAM") || form.mnemonic().equals("AAD")) {
                            imm8(chance(50) ? 10 : chance(20) ? 0 : r.nextInt(256));
                        } else if (form.mnemonic().equals("ENTER")) {
                            imm8(chance(50) ? 0 : chance(50) ? 1 : chance(70) ? r.nextInt(2, 6) : r.nextInt(256));
                        } else if (form.mnemonic().equals("BT") || form.mnemonic().startsWith("BT")) {
                            imm8(chance(60) ? pick(COUNTS) : r.nextInt(256));
                        } else {
                            imm8(value(8));
                        }
                    }
                    case "Iw" -> immN(chance(60) || kind == Kind.RETF ? r.nextInt(0, 0x41) & ~1 : r.nextInt(0x10000), 2);
                    case "Iz" -> immN(value(v * 8), v);
                    case "Iv" -> immN(value(v * 8), v);
                    case "Ob", "Ov" -> {
                        memSize = o.equals("Ob") ? 1 : v;
                        if (a16) {
                            ea = r.nextInt(0x10000);
                            immN(ea, 2);
                        } else {
                            ea = memoryTarget(memSize, false);
                            immN(ea, 4);
                        }
                    }
                    case "Ap" -> {
                        int t = target(start, 16);
                        immN(o16 ? t & 0xffff : t, v);
                        immN(pick(codeSelectors()), 2);
                    }
                    case "Jb" -> {
                        relBranch = true;
                        relSize = 1;
                    }
                    case "Jz" -> {
                        relBranch = true;
                        relSize = v;
                    }
                    default -> { }
                }
            }
        }

        boolean memoryOperand() {
            return mod >= 0 && mod != 3;
        }

        /** Values that make the instruction do something interesting: stack contents, selectors, targets. */
        void afterOperands(Kind kind) {
            int v = o16 ? 2 : 4;
            int esp = regs[4];
            if (form.hasModrm() && !a16 && memoryOperand() && memSize > 0 && kind != Kind.BT_MEM) {
                if (form.rmOperand().equals("Mq")) {
                    patch(ea, r.nextLong(), 8);
                } else if (memSize <= 4) {
                    patch(ea, value(memSize * 8), memSize);
                }
            }
            switch (kind) {
                case POP -> patch(esp, value(32), v);
                case POP_SREG -> patch(esp, pick(dataSelectors()) | (r.nextInt() & 0xffff0000), v);
                case POPF -> patch(esp, r.nextInt() & ~UndefinedBehaviour.TF, v);
                case RET -> patch(esp, target(start, 16), v);
                case RETF -> {
                    patch(esp, target(start, 16), v);
                    patch(esp + v, pick(codeSelectors()), v);
                }
                case IRET -> {
                    patch(esp, target(start, 16), v);
                    patch(esp + v, pick(codeSelectors()), v);
                    patch(esp + 2 * v, r.nextInt() & ~(UndefinedBehaviour.TF | UndefinedBehaviour.NT), v);
                }
                case CALL_IND, JMP_IND -> {
                    int t = target(start, 16);
                    if (mod == 3) {
                        regs[rm] = t;
                    } else if (!a16) {
                        patch(ea, t, v);
                    }
                }
                case CALLF_IND, JMPF_IND, LOAD_FAR -> {
                    if (!a16 && memoryOperand()) {
                        int t = kind == Kind.LOAD_FAR ? value(32) : target(start, 16);
                        patch(ea, t, v);
                        patch(ea + v, kind == Kind.LOAD_FAR ? pick(dataSelectors()) : pick(codeSelectors()), 2);
                    }
                }
                case MOV_TO_SREG, SEL_QUERY -> {
                    int sel = pick(dataSelectors());
                    if (form.mnemonic().equals("LAR") || form.mnemonic().equals("LSL") || form.mnemonic().startsWith("VER")) {
                        sel = chance(50) ? pick(new int[] {userCs, userDs}) : sel;
                    }
                    if (mod == 3) {
                        regs[rm] = (regs[rm] & 0xffff0000) | sel;
                    } else if (!a16) {
                        patch(ea, sel, 2);
                    }
                }
                case BOUND -> {
                    if (!a16) {
                        int idx = regs[regField];
                        int w = o16 ? 16 : 32;
                        int lo = chance(60) ? idx - r.nextInt(0, 3) : value(w);
                        int hi = chance(60) ? idx + r.nextInt(0, 3) : value(w);
                        patch(ea, lo, v);
                        patch(ea + v, hi, v);
                    }
                }
                default -> { }
            }
            String mn = form.mnemonic();
            if (mn.equals("DIV") || mn.equals("IDIV")) {
                divisionOperands(mn.equals("IDIV"));
            }
            if (mn.equals("CMPXCHG") && chance(50) && !pinned[0]) {
                int dest = mod == 3 ? regValue(rm, width) : 0;
                if (mod == 3) {
                    setRegValue(0, width, dest);
                } else if (!a16) {
                    patch(ea, regs[0], width / 8);
                }
            }
            if (mn.equals("CMPXCHG8B") && chance(50) && !a16 && memoryOperand()) {
                patch(ea, (regs[0] & 0xffffffffL) | (long) regs[2] << 32, 8);
            }
            if ((mn.equals("BSF") || mn.equals("BSR")) && chance(15)) {
                if (mod == 3 && !pinned[rm]) {
                    setRegValue(rm, width, 0);
                } else if (!a16) {
                    patch(ea, 0, width / 8);
                }
            }
            if (form.has("CL") && !pinned[1] && chance(70)) {
                regs[1] = (regs[1] & ~0xff) | pick(COUNTS) & 0xff;
            }
        }

        /** Mostly divisions that do not overflow. */
        void divisionOperands(boolean signed) {
            if (!chance(65)) {
                return;
            }
            int divisor = mod == 3 ? regValue(rm, width) : (int) readPatched(ea, width / 8);
            if (mod != 3 && (a16 || !Layout.inData(ea, width / 8))) {
                return;
            }
            if (divisor == 0) {
                return;
            }
            if (width == 8) {
                int al = regs[0] & 0xff;
                int ah;
                if (signed) {
                    ah = (byte) al < 0 ? 0xff : 0;
                } else {
                    ah = Integer.remainderUnsigned(r.nextInt(), divisor & 0xff);
                }
                if (mod == 3 && (rm == 0 || rm == 4) || pinned[0]) {
                    return;
                }
                regs[0] = (regs[0] & 0xffff0000) | ah << 8 | al;
            } else {
                int mask = width == 16 ? 0xffff : -1;
                int lo = regs[0] & mask;
                int hi;
                if (signed) {
                    hi = (width == 16 ? (short) lo : lo) < 0 ? mask : 0;
                } else {
                    hi = (int) Long.remainderUnsigned(r.nextInt() & 0xffffffffL, divisor & mask & 0xffffffffL);
                }
                if (mod == 3 && (rm == 0 || rm == 2) || pinned[2]) {
                    return;
                }
                regs[2] = (regs[2] & ~mask) | (hi & mask);
            }
        }

        long readPatched(int address, int size) {
            long v = 0;
            for (int i = 0; i < size; i++) {
                int a = address + i - Layout.DATA;
                int b = a >= 0 && a < Layout.DATA_SIZE ? (touched[a] ? overlay[a] : pattern[a]) & 0xff : 0;
                v |= (long) b << (8 * i);
            }
            return v;
        }

        int regValue(int reg, int bits) {
            if (bits == 8) {
                return reg < 4 ? regs[reg] & 0xff : regs[reg - 4] >>> 8 & 0xff;
            }
            return bits == 16 ? regs[reg] & 0xffff : regs[reg];
        }

        void setRegValue(int reg, int bits, int value) {
            if (bits == 8) {
                if (reg < 4) {
                    regs[reg] = (regs[reg] & ~0xff) | (value & 0xff);
                } else {
                    regs[reg - 4] = (regs[reg - 4] & ~0xff00) | (value & 0xff) << 8;
                }
            } else if (bits == 16) {
                regs[reg] = (regs[reg] & 0xffff0000) | (value & 0xffff);
            } else {
                regs[reg] = value;
            }
        }

        boolean mapped(int address) {
            return Layout.inData(address, 1) || Layout.inCode(address);
        }

        boolean accessesAreSafe(Kind kind) {
            if (memoryOperand() && !a16 && memSize > 0 && seg != 4 && seg != 5) {
                int size = memSize;
                int a = ea;
                if (kind == Kind.BT_MEM) {
                    int bits = regs[regField];
                    a = ea + (o16 ? ((short) bits >> 4) * 2 : (bits >> 5) * 4);
                    size = o16 ? 2 : 4;
                }
                if (!Layout.safe(a, size)) {
                    return false;
                }
                if (safeRmw() && !Layout.inData(a, size)) {
                    return false;
                }
                long lo = Layout.DATA + X87Values.AREA;
                if (kind == Kind.X87 && (a & 0xffffffffL) < lo + 0x90 && (a & 0xffffffffL) + size > lo) {
                    return false; // the operand would overwrite the values and control word loaded before it
                }
                if ("Menv".equals(form.rmOperand()) && !Layout.inData(a, size)) {
                    return false; // an environment from elsewhere could mark stale host registers valid
                }
                if (avoid.contains(KnownCpuGaps.PAGE_CROSSING) && mapped(a) != mapped(a + size - 1)) {
                    return false;
                }
                if (kind == Kind.LOAD_FAR || kind == Kind.MOV_TO_SREG || kind == Kind.SEL_QUERY
                        || kind == Kind.CALLF_IND || kind == Kind.JMPF_IND || kind == Kind.CALL_IND || kind == Kind.JMP_IND) {
                    // Selectors and targets read from memory must be the ones written there.
                    if (Layout.inCode(a) || Layout.inCode(a + size - 1)
                            || (Layout.inData(a, 1) != Layout.inData(a + size - 1, 1))) {
                        return false;
                    }
                }
            }
            if ((form.has("Ob") || form.has("Ov")) && !a16 && !Layout.safe(ea, memSize)) {
                return false;
            }
            if (kind == Kind.XLAT && !a16 && !Layout.safe(regs[3] + (regs[0] & 0xff), 1)) {
                return false;
            }
            // A jump through a register or memory must not land in the data area (the host maps it NX).
            return true;
        }

        void masks() {
            int count = 0;
            if (form.has("1")) {
                count = 1;
            } else if (form.has("CL")) {
                count = regs[1] & 0xff;
            } else if (shiftImm >= 0) {
                count = shiftImm;
            }
            String mn = form.mnemonic();
            if (mn.equals("BSWAP") && o16) {
                undefinedRegBits[opcode[opcode.length - 1] & 7] = 0xffff;
            }
            if (form.flags() == UndefinedBehaviour.Rule.SHIFT_DOUBLE
                    && UndefinedBehaviour.shiftDoubleResultUndefined(width, count)) {
                if (mod == 3) {
                    undefinedRegBits[rm] |= 0xffff;
                } else if (!a16 && Layout.inData(ea, 2)) {
                    undefinedMemory.add(ea - Layout.DATA);
                    undefinedMemory.add(2);
                }
            }
            if (mn.equals("LAR")) {
                undefinedRegBits[regField] |= 0x000f0000;
            }
            boolean pushSreg = mn.startsWith("PUSH ") && !o16;
            if (pushSreg && Layout.inData(regs[4] - 2, 2)) {
                undefinedMemory.add(regs[4] - 2 - Layout.DATA);
                undefinedMemory.add(2);
            }
            if (mn.equals("CALLF") && !o16 && Layout.inData(regs[4] - 2, 2)) {
                undefinedMemory.add(regs[4] - 2 - Layout.DATA);
                undefinedMemory.add(2);
            }
        }

        /**
         * An x87 case runs, after FNINIT: up to three loads of interesting values (FLD m64fp, FLD m80fp,
         * FILD m32int from the top of the data area), sometimes FLDCW with random masks, rounding and
         * precision, then the instruction under test, then sometimes FWAIT (so an unmasked exception shows
         * as #MF there). The memory operand of the instruction gets a value of its type.
         */
        void x87Setup() {
            int n = r.nextInt(0, 4);
            x87Loads = n;
            for (int i = 0; i < n; i++) {
                int a = Layout.DATA + X87Values.AREA + 16 * i;
                int p = r.nextInt(10);
                if (p < 5) {
                    x87Before.writeBytes(new byte[] {(byte) 0xdd, 0x05});
                    patch(a, X87Values.f64(r), 8);
                } else if (p < 8) {
                    x87Before.writeBytes(new byte[] {(byte) 0xdb, 0x2d});
                    patchBytes(a, X87Values.f80(r));
                } else {
                    x87Before.writeBytes(new byte[] {(byte) 0xdb, 0x05});
                    patch(a, value(32), 4);
                }
                for (int k = 0; k < 4; k++) {
                    x87Before.write(a >>> (8 * k));
                }
            }
            boolean unmasked = false;
            if (chance(25)) {
                int a = Layout.DATA + X87Values.AREA + 0x80;
                int cw = (r.nextInt() & 0x0f3f) | 0x0040 | (unmaskedX87() ? 0 : 0x3f);
                unmasked = (cw & 0x3f) != 0x3f;
                patch(a, cw, 2);
                x87Before.writeBytes(new byte[] {(byte) 0xd9, 0x2d});
                for (int k = 0; k < 4; k++) {
                    x87Before.write(a >>> (8 * k));
                }
            }
            if (chance(unmasked ? 70 : 20)) {
                x87After.write(0x9b);
            }
            if (memoryOperand() && !a16 && Layout.inData(ea, 1)) {
                switch (form.rmOperand()) {
                    case "Mfs" -> patch(ea, X87Values.f32(r), 4);
                    case "Mfd" -> patch(ea, X87Values.f64(r), 8);
                    case "Mft" -> patchBytes(ea, X87Values.f80(r));
                    case "Mw" -> patch(ea, value(16), 2);
                    case "Md" -> patch(ea, value(32), 4);
                    case "Mq" -> patch(ea, chance(50) ? (long) value(32) : r.nextLong(), 8);
                    case "Mbcd" -> patchBytes(ea, X87Values.bcd(r));
                    case "Mcw" -> patch(ea, (r.nextInt() & 0x0f3f) | (chance(70) || !unmaskedX87() ? 0x3f : 0), 2);
                    case "Menv", "Mstate" -> {
                        int step = o16 ? 2 : 4; // 14/94-byte or 28/108-byte layout
                        if (!unmaskedX87()) {
                            patch(ea, (r.nextInt() & 0x0f00) | 0x007f, 2);
                            patch(ea + step, r.nextInt() & 0x7f7f, 2);
                        }
                        if (form.rmOperand().equals("Menv")) {
                            // Registers FNINIT left alone hold whatever the host computed before: keep them empty.
                            patch(ea + 2 * step, 0xffff, 2);
                        }
                    }
                    default -> { }
                }

            }
        }

        boolean unmaskedX87() {
            return !avoid.contains(KnownCpuGaps.X87_UNMASKED);
        }

        void patchBytes(int address, byte[] b) {
            for (int i = 0; i < b.length; i++) {
                patch(address + i, b[i], 1);
            }
        }

        int faultLeeway(Kind kind) {
            return switch (kind) {
                case POPA -> DiffCase.FAULT_REGS_UNDEFINED;
                case IRET, RETF -> DiffCase.FAULT_ORDER_UNDEFINED;
                default -> 0;
            };
        }

        int undefinedFlags() {
            int count = 0;
            if (form.has("1")) {
                count = 1;
            } else if (form.has("CL")) {
                count = regs[1] & 0xff;
            } else if (shiftImm >= 0) {
                count = shiftImm;
            }
            return UndefinedBehaviour.undefinedFlags(form.flags(), form.mnemonic(), width, count);
        }

        String describe() {
            StringBuilder sb = new StringBuilder(tooLong ? "(over 15 bytes) " : "");
            for (int p : prefixes) {
                sb.append(switch (p) {
                    case 0x66 -> "o16 ";
                    case 0x67 -> "a16 ";
                    case 0xf0 -> "LOCK ";
                    case 0xf2 -> "REPNE ";
                    case 0xf3 -> "REP ";
                    case 0x26 -> "ES: ";
                    case 0x2e -> "CS: ";
                    case 0x36 -> "SS: ";
                    case 0x3e -> "DS: ";
                    case 0x64 -> "FS: ";
                    case 0x65 -> "GS: ";
                    default -> String.format("%02x ", p);
                });
            }
            sb.append(form.mnemonic());
            if (form.operands().length > 0 && !form.mnemonic().contains(" ")) {
                sb.append(' ').append(String.join(",", form.operands()));
            }
            sb.append("  [").append(form.opcodeHex());
            if (form.hasModrm()) {
                sb.append(String.format(" mod=%d reg=%d rm=%d", mod, regField, rm));
                if (sib) {
                    sb.append(String.format(" sib: scale=%d index=%d base=%s", 1 << scale, indexReg,
                            baseReg < 0 ? "none" : Integer.toString(baseReg)));
                }
                if (memoryOperand() && !a16) {
                    sb.append(String.format(" ea=%08x", ea));
                }
            }
            sb.append(']');
            return sb.toString();
        }
    }
}
