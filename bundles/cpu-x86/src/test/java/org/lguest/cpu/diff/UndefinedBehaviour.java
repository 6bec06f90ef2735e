package org.lguest.cpu.diff;

/**
 * What the architecture leaves undefined, in one place: the EFLAGS bits an
 * instruction may leave in any state, and the register or memory bits whose
 * value is not specified. The differential test compares everything else.
 *
 * <p>Source: the "Flags Affected" and "Operation" sections of each
 * instruction in the Intel SDM, volume 2 (AMD's APM volume 3 agrees for the
 * entries here). Flags are masked only when the instruction completed: a
 * fault leaves EFLAGS as it was, which is compared in full.
 *
 * <table>
 * <caption>Undefined EFLAGS bits per instruction</caption>
 * <tr><th>rule</th><th>instructions</th><th>undefined</th></tr>
 * <tr><td>LOGIC</td><td>AND OR XOR TEST</td><td>AF</td></tr>
 * <tr><td>MUL</td><td>MUL, IMUL (all forms)</td><td>SF ZF AF PF</td></tr>
 * <tr><td>DIV</td><td>DIV IDIV</td><td>CF OF SF ZF AF PF</td></tr>
 * <tr><td>SHIFT</td><td>SHL SAL SHR SAR</td><td>masked count 0: none; 1: AF; &gt;1: AF OF;
 *     SHL/SAL/SHR with count &ge; operand width (8/16 bit): also CF</td></tr>
 * <tr><td>ROTATE</td><td>ROL ROR</td><td>masked count 0: none; otherwise OF unless the masked count is 1</td></tr>
 * <tr><td>RCROTATE</td><td>RCL RCR</td><td>as ROTATE</td></tr>
 * <tr><td>SHIFT_DOUBLE</td><td>SHLD SHRD</td><td>count 0: none; 1: AF; &gt;1: AF OF;
 *     count &gt; width (16-bit forms): CF OF SF ZF AF PF and the destination</td></tr>
 * <tr><td>BT</td><td>BT BTS BTR BTC</td><td>OF SF AF PF (ZF is unaffected and compared)</td></tr>
 * <tr><td>BITSCAN</td><td>BSF BSR</td><td>CF OF SF AF PF</td></tr>
 * <tr><td>AAA</td><td>AAA AAS</td><td>OF SF ZF PF</td></tr>
 * <tr><td>DAA</td><td>DAA DAS</td><td>OF</td></tr>
 * <tr><td>AAM</td><td>AAM AAD</td><td>OF AF CF</td></tr>
 * </table>
 *
 * <p>Undefined register and memory results (see {@link CaseGenerator}, which applies them):
 * <ul>
 * <li>BSWAP with a 16-bit operand: the low 16 bits of the register.</li>
 * <li>SHLD/SHRD, 16-bit, masked count &gt; 16: the destination's 16 bits.</li>
 * <li>LAR: bits 16..19 of the destination (Intel: "00FxFF00H", x undefined; AMD copies the limit bits).</li>
 * <li>PUSH of a segment register with 32-bit operand size: the upper two bytes of the stack slot
 *     (recent Intel processors write only 16 bits; others zero-extend). Likewise the CS slot of a 32-bit far CALL.</li>
 * <li>POPA that faults part-way: the registers (AMD processors load some of them before the fault; the
 *     instruction is restartable either way). {@link DiffCase#FAULT_REGS_UNDEFINED}</li>
 * <li>IRET and far RET that page-fault: CR2 (which stack slot is touched first differs: AMD reads the
 *     highest slot first). {@link DiffCase#FAULT_ORDER_UNDEFINED}</li>
 * <li>BSF/BSR with a zero source: Intel leaves the destination "undefined", AMD documents it unchanged, and
 *     every Intel processor since the P6 leaves it unchanged too: it is compared as unchanged.</li>
 * </ul>
 *
 * <p>Outside the table and always ignored: EFLAGS.RF (set in the image the host kernel saves for faults),
 * CR2 unless the vector is #PF, the error code unless the vector has one, and the I/D bit (4) of a #PF
 * error code (the host reports it because it runs with NX enabled; an i686 without PAE has no such bit).
 */
final class UndefinedBehaviour {

    static final int CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
            OF = 0x800, NT = 0x4000, RF = 0x10000, AC = 0x40000, ID = 0x200000;

    static final int ARITH = CF | PF | AF | ZF | SF | OF;

    /** The EFLAGS bits compared at all: arithmetic flags, TF, IF, DF, IOPL, NT, AC, ID (not RF, VM, VIF, VIP). */
    static final int COMPARED_FLAGS = ARITH | TF | IF | DF | 0x3000 | NT | AC | ID;

    enum Rule { NONE, LOGIC, MUL, DIV, SHIFT, ROTATE, RCROTATE, SHIFT_DOUBLE, BT, BITSCAN, AAA, DAA, AAM }

    /**
     * The flags {@code rule} leaves undefined.
     *
     * @param mnemonic instruction name (SHL/SAL/SHR differ from SAR)
     * @param width    operand width in bits
     * @param count    the shift/rotate count as encoded (imm8, CL or 1); ignored by other rules
     */
    static int undefinedFlags(Rule rule, String mnemonic, int width, int count) {
        int c = count & 0x1f;
        return switch (rule) {
            case NONE -> 0;
            case LOGIC -> AF;
            case MUL -> SF | ZF | AF | PF;
            case DIV -> ARITH;
            case SHIFT -> {
                if (c == 0) {
                    yield 0;
                }
                int m = AF | (c > 1 ? OF : 0);
                if (!mnemonic.equals("SAR") && c >= width) {
                    m |= CF;
                }
                yield m;
            }
            case ROTATE, RCROTATE -> c == 0 ? 0 : c == 1 ? 0 : OF;
            case SHIFT_DOUBLE -> c == 0 ? 0 : c > width ? ARITH : c == 1 ? AF : AF | OF;
            case BT -> OF | SF | AF | PF;
            case BITSCAN -> CF | OF | SF | AF | PF;
            case AAA -> OF | SF | ZF | PF;
            case DAA -> OF;
            case AAM -> OF | AF | CF;
        };
    }

    /** Whether SHLD/SHRD leaves its destination undefined. */
    static boolean shiftDoubleResultUndefined(int width, int count) {
        return (count & 0x1f) > width;
    }

    static String flagNames(int flags) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"CF", "1", "PF", "3", "AF", "5", "ZF", "SF", "TF", "IF", "DF", "OF", "IOPL0", "IOPL1", "NT", "15",
            "RF", "VM", "AC", "VIF", "VIP", "ID"};
        for (int i = 0; i < names.length; i++) {
            if ((flags & (1 << i)) != 0) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(names[i]);
            }
        }
        return sb.toString();
    }

    private UndefinedBehaviour() {
    }
}
