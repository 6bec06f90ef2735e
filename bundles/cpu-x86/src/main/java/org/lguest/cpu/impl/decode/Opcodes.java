package org.lguest.cpu.impl.decode;

/**
 * The opcode table: what the processor needs to know about each opcode
 * before it executes it, for the one-byte map and the 0F map. It is the one
 * place that knows the encodings; the interpreter's execution switch holds
 * what an instruction does, this table holds how long it is.
 *
 * <p>For every opcode byte it records whether the opcode exists (for some
 * ModRM byte; a prefix is marked as one), whether a ModRM byte follows it,
 * the form of its immediate, and which ModRM.reg values may carry a LOCK
 * prefix. The immediate forms are: none; imm8; imm16; an immediate of the
 * operand size (imm16 or imm32); a far pointer (that plus a 16-bit
 * selector); a memory offset of the address size (MOV AL/eAX to and from
 * moffs); ENTER's imm16 and imm8; and group 3 (F6, F7), whose TEST (reg 0
 * and 1) alone has an immediate, imm8 or the operand size. MOV to and from
 * CRn and DRn (0F 20..23) ignore the mod bits: their ModRM byte always names
 * a register, with no SIB byte or displacement.
 *
 * <p>The table is built, when the class loads, from the lists in
 * {@link #buildOneByteMap} and {@link #buildTwoByteMap}. Each opcode's
 * facts are packed into one int (an "entry"); the static methods read them.
 * {@link #length} walks a whole instruction with it (prefixes, opcode,
 * ModRM, SIB, displacement, immediate) from any source of bytes: the
 * interpreter's prefetch walks the code through its faulting fetch (so a
 * fetch fault comes before anything the instruction does, and a 16th byte
 * is #GP), and the pre-decoder reads its immediates by the table's forms.
 * Its LOCK check reads {@link #lockableAtAll} and {@link #lockable}.
 */
public final class Opcodes {
    private Opcodes() {
    }

    // ---------------------------------------------------------------- immediate forms

    /** no immediate */
    public static final int IMM_NONE = 0;
    /** one byte */
    public static final int IMM8 = 1;
    /** two bytes (RET imm16, RETF imm16) */
    public static final int IMM16 = 2;
    /** the operand size: two bytes with a 16-bit operand size, four with 32 */
    public static final int IMM_OPERAND = 3;
    /** a far pointer: an offset of the operand size, then a 16-bit selector (CALL/JMP ptr16:16/32) */
    public static final int IMM_FAR = 4;
    /** a memory offset of the address size (MOV between AL/eAX and moffs) */
    public static final int IMM_MOFFS = 5;
    /** ENTER: imm16 then imm8 */
    public static final int IMM_ENTER = 6;
    /** group 3 byte form (F6): imm8 for TEST (ModRM.reg 0 and 1), none for the others */
    public static final int IMM_TEST8 = 7;
    /** group 3 (F7): the operand size for TEST (ModRM.reg 0 and 1), none for the others */
    public static final int IMM_TEST_OPERAND = 8;

    // ---------------------------------------------------------------- an entry's bits

    private static final int IMM_MASK = 0xF;
    private static final int DEFINED = 1 << 4;
    private static final int MODRM = 1 << 5;
    /** the ModRM byte always names a register, whatever its mod bits (MOV CRn/DRn) */
    private static final int MOD_IGNORED = 1 << 6;
    private static final int PREFIX = 1 << 7;
    /** bits 8..15: the ModRM.reg values (bit n for reg n) with which a LOCK prefix is allowed */
    private static final int LOCK_SHIFT = 8;
    private static final int LOCK_ANY_REG = 0xFF;

    private static final int[] ONE_BYTE = new int[256], TWO_BYTE = new int[256];

    static {
        buildOneByteMap();
        buildTwoByteMap();
    }

    /**
     * The one-byte map. Every byte but the prefixes is an opcode of the
     * i686 (0F escapes to the second map, D6 is SALC, F1 is ICEBP).
     */
    private static void buildOneByteMap() {
        int[] m = ONE_BYTE;
        set(m, "26 2E 36 3E 64 65 66 67 F0 F2 F3", PREFIX);
        for (int op = 0; op < 256; op++) {
            if ((m[op] & PREFIX) == 0) m[op] |= DEFINED;
        }
        // the eight ALU rows (ADD OR ADC SBB AND SUB XOR CMP): r/m,r and r,r/m in both sizes, then AL,imm8 and eAX,imm
        set(m, "00-03 08-0B 10-13 18-1B 20-23 28-2B 30-33 38-3B", MODRM);
        set(m, "04 0C 14 1C 24 2C 34 3C", IMM8);
        set(m, "05 0D 15 1D 25 2D 35 3D", IMM_OPERAND);
        // BOUND, ARPL, PUSH imm, IMUL r,r/m,imm
        set(m, "62 63", MODRM);
        set(m, "68", IMM_OPERAND);
        set(m, "69", MODRM | IMM_OPERAND);
        set(m, "6A", IMM8);
        set(m, "6B", MODRM | IMM8);
        // Jcc rel8
        set(m, "70-7F", IMM8);
        // group 1 (80, 82: r/m8,imm8; 81: r/m,imm; 83: r/m,imm8), TEST, XCHG, MOV, MOV Sreg, LEA, POP r/m
        set(m, "80 82 83", MODRM | IMM8);
        set(m, "81", MODRM | IMM_OPERAND);
        set(m, "84-8F", MODRM);
        // CALL ptr16:16/32, MOV moffs, TEST AL/eAX,imm
        set(m, "9A", IMM_FAR);
        set(m, "A0-A3", IMM_MOFFS);
        set(m, "A8", IMM8);
        set(m, "A9", IMM_OPERAND);
        // MOV r8,imm8; MOV r,imm
        set(m, "B0-B7", IMM8);
        set(m, "B8-BF", IMM_OPERAND);
        // group 2 by imm8, RET imm16, LES/LDS, MOV r/m,imm, ENTER, RETF imm16, INT imm8
        set(m, "C0 C1", MODRM | IMM8);
        set(m, "C2 CA", IMM16);
        set(m, "C4 C5", MODRM);
        set(m, "C6", MODRM | IMM8);
        set(m, "C7", MODRM | IMM_OPERAND);
        set(m, "C8", IMM_ENTER);
        set(m, "CD", IMM8);
        // group 2 by 1 and CL, AAM/AAD imm8, the x87 escapes
        set(m, "D0-D3", MODRM);
        set(m, "D4 D5", IMM8);
        set(m, "D8-DF", MODRM);
        // LOOPcc, JCXZ, IN/OUT imm8; CALL/JMP rel; JMP ptr16:16/32; JMP rel8
        set(m, "E0-E7", IMM8);
        set(m, "E8 E9", IMM_OPERAND);
        set(m, "EA", IMM_FAR);
        set(m, "EB", IMM8);
        // group 3, group 4 (INC/DEC r/m8), group 5
        set(m, "F6", MODRM | IMM_TEST8);
        set(m, "F7", MODRM | IMM_TEST_OPERAND);
        set(m, "FE FF", MODRM);

        // LOCK: the ALU operations but CMP with a memory destination, XCHG, group 1 but CMP (reg 7),
        // NOT and NEG (group 3 reg 2, 3), INC and DEC (groups 4 and 5 reg 0, 1)
        setLock(m, "00 01 08 09 10 11 18 19 20 21 28 29 30 31 86 87", LOCK_ANY_REG);
        setLock(m, "80-83", regs(0, 1, 2, 3, 4, 5, 6));
        setLock(m, "F6 F7", regs(2, 3));
        setLock(m, "FE FF", regs(0, 1));
    }

    /** The 0F map: the opcodes this processor (a Pentium Pro/II class i686 without MMX or SSE) has. */
    private static void buildTwoByteMap() {
        int[] m = TWO_BYTE;
        // group 6 (SLDT STR LLDT LTR VERR VERW), group 7 (SGDT SIDT LGDT LIDT SMSW LMSW INVLPG), LAR, LSL
        set(m, "00-03", DEFINED | MODRM);
        // CLTS, INVD, WBINVD
        set(m, "06 08 09", DEFINED);
        // hint NOPs and prefetches, MOV to and from CRn/DRn (a register operand whatever the mod bits)
        set(m, "18-1F", DEFINED | MODRM);
        set(m, "20-23", DEFINED | MODRM | MOD_IGNORED);
        // WRMSR RDTSC RDMSR, SYSENTER SYSEXIT
        set(m, "30-32 34 35", DEFINED);
        // CMOVcc
        set(m, "40-4F", DEFINED | MODRM);
        // Jcc rel16/32, SETcc
        set(m, "80-8F", DEFINED | IMM_OPERAND);
        set(m, "90-9F", DEFINED | MODRM);
        // PUSH FS, POP FS, CPUID; BT, SHLD by imm8 and by CL; PUSH GS, POP GS; BTS, SHRD, group 15, IMUL
        set(m, "A0-A2 A8 A9", DEFINED);
        set(m, "A3 A5 AB AD-AF", DEFINED | MODRM);
        set(m, "A4 AC", DEFINED | MODRM | IMM8);
        // CMPXCHG, LSS, BTR, LFS, LGS, MOVZX; group 8 (BT BTS BTR BTC by imm8), BTC, BSF, BSR, MOVSX, XADD
        set(m, "B0-B7 BB-BF C0 C1", DEFINED | MODRM);
        set(m, "BA", DEFINED | MODRM | IMM8);
        // group 9 (CMPXCHG8B), BSWAP
        set(m, "C7", DEFINED | MODRM);
        set(m, "C8-CF", DEFINED);

        // LOCK: BTS BTR BTC, CMPXCHG, XADD; group 8's BTS BTR BTC (reg 5..7); CMPXCHG8B (group 9 reg 1)
        setLock(m, "AB B3 BB B0 B1 C0 C1", LOCK_ANY_REG);
        setLock(m, "BA", regs(5, 6, 7));
        setLock(m, "C7", regs(1));
    }

    /** ORs bits into the entries of the opcodes listed: hex bytes and ranges (lo-hi), separated by spaces. */
    private static void set(int[] map, String opcodes, int bits) {
        for (String item : opcodes.split(" ")) {
            int dash = item.indexOf('-');
            int lo = Integer.parseInt(dash < 0 ? item : item.substring(0, dash), 16);
            int hi = dash < 0 ? lo : Integer.parseInt(item.substring(dash + 1), 16);
            for (int op = lo; op <= hi; op++) map[op] |= bits;
        }
    }

    private static void setLock(int[] map, String opcodes, int regMask) {
        set(map, opcodes, regMask << LOCK_SHIFT);
    }

    private static int regs(int... values) {
        int mask = 0;
        for (int v : values) mask |= 1 << v;
        return mask;
    }

    // ---------------------------------------------------------------- reading the table

    /** The entry of a one-byte-map opcode. */
    public static int oneByte(int op) {
        return ONE_BYTE[op];
    }

    /** The entry of a 0F-map opcode (the byte after 0F). */
    public static int twoByte(int op2) {
        return TWO_BYTE[op2];
    }

    /** Whether a one-byte-map byte is a prefix (segment override, 66, 67, LOCK, REP/REPNE). */
    public static boolean isPrefix(int op) {
        return (ONE_BYTE[op] & PREFIX) != 0;
    }

    /** Whether the opcode exists on this processor (for some ModRM byte). */
    public static boolean defined(int entry) {
        return (entry & DEFINED) != 0;
    }

    public static boolean hasModrm(int entry) {
        return (entry & MODRM) != 0;
    }

    /** Whether the opcode's ModRM byte names a register whatever its mod bits (no SIB, no displacement). */
    public static boolean modIgnored(int entry) {
        return (entry & MOD_IGNORED) != 0;
    }

    /** The opcode's immediate form, one of the IMM_ constants. */
    public static int immediateForm(int entry) {
        return entry & IMM_MASK;
    }

    /**
     * The bytes of the opcode's immediate, given the operand and address
     * sizes (true: 32-bit) and the ModRM.reg field (group 3's TEST).
     */
    public static int immediateBytes(int entry, boolean o32, boolean a32, int reg) {
        int z = o32 ? 4 : 2;
        switch (entry & IMM_MASK) {
            case IMM8: return 1;
            case IMM16: return 2;
            case IMM_OPERAND: return z;
            case IMM_FAR: return z + 2;
            case IMM_MOFFS: return a32 ? 4 : 2;
            case IMM_ENTER: return 3;
            case IMM_TEST8: return reg < 2 ? 1 : 0;
            case IMM_TEST_OPERAND: return reg < 2 ? z : 0;
            default: return 0;
        }
    }

    /** Whether a LOCK prefix is allowed on the opcode with some ModRM.reg (if not, #UD before the ModRM byte). */
    public static boolean lockableAtAll(int entry) {
        return (entry >>> LOCK_SHIFT & 0xFF) != 0;
    }

    /** Whether a LOCK prefix is allowed on the opcode with this ModRM.reg (and a memory operand). */
    public static boolean lockable(int entry, int reg) {
        return (entry >>> (LOCK_SHIFT + reg) & 1) != 0;
    }

    // ---------------------------------------------------------------- instruction length

    /** Where {@link #length} takes an instruction's bytes from, one at a time and in order. */
    public interface ByteSource {
        /** The next byte of the instruction (0..255); may throw (a fetch fault). */
        int nextInstructionByte();
    }

    /**
     * Reads one instruction from {@code code}, in a code segment whose
     * default operand and address size is 32-bit when {@code d}, and
     * returns how many bytes it has: prefixes, opcode, ModRM, SIB,
     * displacement and immediate. For an opcode of the 0F map that does not
     * exist it stops after that opcode byte (the processor raises #UD once it
     * has the opcode, fetching nothing more) and returns the negated count.
     */
    public static int length(ByteSource code, boolean d) {
        boolean o32 = d, a32 = d;
        int n = 0, op;
        while (true) {
            op = code.nextInstructionByte();
            n++;
            if (op == 0x66) o32 = !d;
            else if (op == 0x67) a32 = !d;
            else if (!isPrefix(op)) break;
        }
        int entry = ONE_BYTE[op];
        if (op == 0x0F) {
            entry = TWO_BYTE[code.nextInstructionByte()];
            n++;
            if (!defined(entry)) return -n;
        }
        int reg = -1;
        if (hasModrm(entry)) {
            int m = code.nextInstructionByte();
            n++;
            int mod = m >> 6, rm = m & 7;
            reg = (m >> 3) & 7;
            if (mod != 3 && !modIgnored(entry)) {
                int disp;
                if (a32) {
                    int base = rm;
                    if (rm == 4) {
                        base = code.nextInstructionByte() & 7;
                        n++;
                    }
                    disp = mod == 1 ? 1 : mod == 2 || (mod == 0 && base == 5) ? 4 : 0;
                } else {
                    disp = mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0;
                }
                n += skip(code, disp);
            }
        }
        return n + skip(code, immediateBytes(entry, o32, a32, reg));
    }

    private static int skip(ByteSource code, int bytes) {
        for (int i = 0; i < bytes; i++) code.nextInstructionByte();
        return bytes;
    }
}
