package org.lguest.cpu.impl.x87;

import static org.lguest.cpu.impl.x87.X87Arith.*;

/**
 * The x87 floating-point unit of the emulated processor.
 *
 * <p>The integer core decodes the escape opcodes 0xD8..0xDF, raises #UD for
 * encodings {@link #isDefined} rejects, #NM for CR0.TS/EM, and #MF before a
 * waiting instruction ({@link #isWaiting}) when {@link #hasPendingException()};
 * then it calls {@link #execute} with the ModRM byte and, for memory forms,
 * the memory operand as segment register and offset.
 *
 * <p>Registers hold the full 80-bit value (sign, 15-bit exponent, 64-bit
 * significand), so loads and stores of m80real round-trip every bit pattern,
 * and FILD/FISTP m64 every 64-bit integer. Arithmetic is in {@link X87Arith}
 * (exact) and {@link X87Transcendental} (fixed point, rounded once).
 *
 * <p>Memory operands are read before any FPU state changes, and stores are
 * made (or, for several writes, checked writable) before any FPU state
 * changes, so an instruction that faults on memory leaves the FPU untouched.
 */
final class X87 {
    // Status word bits
    static final int SW_IE = 0x0001, SW_DE = 0x0002, SW_ZE = 0x0004, SW_OE = 0x0008, SW_UE = 0x0010, SW_PE = 0x0020;
    static final int SW_SF = 0x0040, SW_ES = 0x0080, SW_C0 = 0x0100, SW_C1 = 0x0200, SW_C2 = 0x0400, SW_C3 = 0x4000;
    static final int SW_B = 0x8000;
    static final int SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

    // Tag values (FNSTENV/FNSAVE)
    static final int TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

    private final FpuHost host;
    private final X87Arith a = new X87Arith();
    private final X87Transcendental t = new X87Transcendental(a);

    /** Physical registers R0..R7. */
    private final int[] regSe = new int[8];
    private final long[] regSig = new long[8];
    /** Bit i set: physical register i is empty. */
    private int emptyMask;
    private int top;
    private int cw;
    /** Status word without the TOP field. */
    private int sw;
    private int fip, fcs, fop, fdp, fds;

    X87(FpuHost host) {
        this.host = host;
        reset();
    }

    /** FNINIT state: CW 0x037F, SW 0, TW all empty, pointers 0. Register contents are kept, as FNINIT does. */
    void reset() {
        cw = 0x037F;
        sw = 0;
        top = 0;
        emptyMask = 0xFF;
        fip = fcs = fop = fdp = fds = 0;
    }

    // =====================================================================
    // Decoding help for the core

    /** False for the encodings that raise #UD on this processor (no SSE3: FISTTP is undefined). */
    static boolean isDefined(int opcode, int modrm) {
        int mod = (modrm >> 6) & 3, reg = (modrm >> 3) & 7;
        int m = modrm & 0xFF;
        if (mod != 3) {
            return switch (opcode) {
                case 0xD9 -> reg != 1;
                case 0xDB -> reg != 1 && reg != 4 && reg != 6;
                case 0xDD -> reg != 1 && reg != 5;
                case 0xDF -> reg != 1;
                case 0xD8, 0xDA, 0xDC, 0xDE -> true;
                default -> false;
            };
        }
        return switch (opcode) {
            case 0xD8, 0xDC -> true;
            case 0xD9 -> !(m >= 0xD1 && m <= 0xD7) && m != 0xE2 && m != 0xE3 && m != 0xE6 && m != 0xE7 && m != 0xEF;
            case 0xDA -> m < 0xE0 || m == 0xE9;
            case 0xDB -> m < 0xE5 || (m >= 0xE8 && m < 0xF8);
            case 0xDD -> m < 0xF0;
            case 0xDE -> m < 0xD8 || m == 0xD9 || m >= 0xE0;
            case 0xDF -> m < 0xE1 || (m >= 0xE8 && m < 0xF8);
            default -> false;
        };
    }

    /**
     * False for the non-waiting control forms (FNINIT, FNCLEX, FNSTSW, FNSTCW,
     * FNSTENV, FNSAVE, and the obsolete FNENI/FNDISI/FNSETPM, which are no-ops):
     * the core checks {@link #hasPendingException()} before every other form.
     */
    static boolean isWaiting(int opcode, int modrm) {
        int mod = (modrm >> 6) & 3, reg = (modrm >> 3) & 7;
        int m = modrm & 0xFF;
        if (mod != 3) {
            return switch (opcode) {
                case 0xD9 -> reg != 6 && reg != 7;
                case 0xDD -> reg != 6 && reg != 7;
                default -> true;
            };
        }
        return switch (opcode) {
            case 0xDB -> !(m == 0xE0 || m == 0xE1 || m == 0xE2 || m == 0xE3 || m == 0xE4);
            case 0xDF -> m != 0xE0;
            default -> true;
        };
    }

    /** Control instructions do not update the instruction/operand pointers. */
    private static boolean isControl(int opcode, int modrm) {
        int mod = (modrm >> 6) & 3, reg = (modrm >> 3) & 7;
        int m = modrm & 0xFF;
        if (mod != 3) {
            return (opcode == 0xD9 && reg >= 4) || (opcode == 0xDD && (reg == 4 || reg == 6 || reg == 7));
        }
        return (opcode == 0xDB && m >= 0xE0 && m <= 0xE4) || (opcode == 0xDF && m == 0xE0);
    }

    /** An unmasked exception is pending (ES set): WAIT and the waiting FP instructions raise #MF. */
    boolean hasPendingException() {
        return (sw & SW_ES) != 0;
    }

    // =====================================================================
    // State access (also for tests and the differential harness)

    int controlWord() {
        return cw;
    }

    int statusWord() {
        return (sw & ~0x3800) | (top << 11);
    }

    int top() {
        return top;
    }

    /** The 16-bit tag word, computed from the register contents as FNSTENV stores it. */
    int tagWord() {
        int tw = 0;
        for (int p = 0; p < 8; p++) {
            tw |= tagOf(p) << (2 * p);
        }
        return tw;
    }

    private int tagOf(int p) {
        if ((emptyMask >> p & 1) != 0) {
            return TAG_EMPTY;
        }
        return switch (classify(regSe[p], regSig[p])) {
            case ZERO -> TAG_ZERO;
            case NORMAL -> TAG_VALID;
            default -> TAG_SPECIAL;
        };
    }

    /** Sign/exponent of ST(i). */
    int stSe(int i) {
        return regSe[phys(i)];
    }

    /** Significand of ST(i). */
    long stSig(int i) {
        return regSig[phys(i)];
    }

    boolean stEmpty(int i) {
        return isEmpty(i);
    }

    int fpuIp() {
        return fip;
    }

    int fpuCs() {
        return fcs;
    }

    int fpuOpcode() {
        return fop;
    }

    int fpuDp() {
        return fdp;
    }

    int fpuDs() {
        return fds;
    }

    // =====================================================================
    // Stack

    private int phys(int i) {
        return (top + i) & 7;
    }

    private boolean isEmpty(int i) {
        return (emptyMask >> phys(i) & 1) != 0;
    }

    private void setSt(int i, int se, long sig) {
        int p = phys(i);
        regSe[p] = se & 0xFFFF;
        regSig[p] = sig;
        emptyMask &= ~(1 << p);
    }

    private void setStResult(int i) {
        setSt(i, a.rse, a.rsig);
    }

    private void pop() {
        emptyMask |= 1 << top;
        top = (top + 1) & 7;
    }

    private void push(int se, long sig) {
        top = (top - 1) & 7;
        setSt(0, se, sig);
    }

    private void setC1(boolean v) {
        sw = v ? sw | SW_C1 : sw & ~SW_C1;
    }

    private void setCc(int c3c2c1c0) {
        sw = (sw & ~SW_CC) | ((c3c2c1c0 & 1) != 0 ? SW_C0 : 0) | ((c3c2c1c0 & 2) != 0 ? SW_C1 : 0)
                | ((c3c2c1c0 & 4) != 0 ? SW_C2 : 0) | ((c3c2c1c0 & 8) != 0 ? SW_C3 : 0);
    }

    private boolean ieMasked() {
        return (cw & SW_IE) != 0;
    }

    /** Stack underflow: IE|SF, C1 = 0. Returns true when masked (the caller applies the masked response). */
    private boolean underflow() {
        a.exc |= IE | SF;
        setC1(false);
        return ieMasked();
    }

    /**
     * Checks for stack overflow before a push. Returns true when the push may
     * go ahead; otherwise the overflow has been handled (IE|SF, C1 = 1, and
     * with IE masked the indefinite pushed).
     */
    private boolean pushCheck() {
        if ((emptyMask >> ((top - 1) & 7) & 1) != 0) {
            return true;
        }
        a.exc |= IE | SF;
        setC1(true);
        if (ieMasked()) {
            push(INDEF_SE, INDEF_SIG);
        }
        return false;
    }

    private void updateEs() {
        if ((sw & ~cw & 0x3F) != 0) {
            sw |= SW_ES | SW_B;
        } else {
            sw &= ~(SW_ES | SW_B);
        }
    }

    private void commitExceptions() {
        sw |= a.exc & 0x7F;
        updateEs();
    }

    // =====================================================================
    // Execution

    /**
     * Executes one escape instruction. {@code opcode} is 0xD8..0xDF, {@code modrm}
     * the ModRM byte; for mod != 3, seg/offset name the memory operand and op32
     * selects the 32-bit (else 16-bit) protected-mode environment layout.
     */
    void execute(int opcode, int modrm, int seg, int offset, boolean op32) {
        modrm &= 0xFF;
        a.begin(cw);
        int mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        if (mod != 3) {
            executeMemory(opcode, reg, seg, offset, op32);
        } else {
            executeRegister(opcode, reg, rm, modrm);
        }
        if (!isControl(opcode, modrm)) {
            fip = host.instructionEip();
            fcs = host.codeSelector() & 0xFFFF;
            fop = ((opcode & 7) << 8) | modrm;
            if (mod != 3) {
                fdp = offset;
                fds = host.selector(seg) & 0xFFFF;
            }
        }
        commitExceptions();
    }

    private void executeMemory(int opcode, int reg, int seg, int off, boolean op32) {
        switch (opcode) {
            case 0xD8 -> { // m32real arithmetic
                a.fromSingle(host.readDword(seg, off));
                arithMemory(reg);
            }
            case 0xDC -> {
                a.fromDouble(readQword(seg, off));
                arithMemory(reg);
            }
            case 0xDA -> {
                a.fromLong(host.readDword(seg, off));
                arithMemory(reg);
            }
            case 0xDE -> {
                a.fromLong((short) host.readWord(seg, off));
                arithMemory(reg);
            }
            case 0xD9 -> {
                switch (reg) {
                    case 0 -> loadReal(seg, off, 32);
                    case 2 -> storeSingle(seg, off, false);
                    case 3 -> storeSingle(seg, off, true);
                    case 4 -> fldenv(seg, off, op32);
                    case 5 -> {
                        cw = (host.readWord(seg, off) & 0x1F3F) | 0x0040;
                        updateEs();
                    }
                    case 6 -> fnstenv(seg, off, op32);
                    case 7 -> host.writeWord(seg, off, cw);
                    default -> { }
                }
            }
            case 0xDB -> {
                switch (reg) {
                    case 0 -> loadInteger(host.readDword(seg, off));
                    case 2 -> storeInt(seg, off, 32, false);
                    case 3 -> storeInt(seg, off, 32, true);
                    case 5 -> loadReal(seg, off, 80);
                    case 7 -> storeExtended(seg, off);
                    default -> { }
                }
            }
            case 0xDD -> {
                switch (reg) {
                    case 0 -> loadReal(seg, off, 64);
                    case 2 -> storeDouble(seg, off, false);
                    case 3 -> storeDouble(seg, off, true);
                    case 4 -> frstor(seg, off, op32);
                    case 6 -> fnsave(seg, off, op32);
                    case 7 -> host.writeWord(seg, off, statusWord());
                    default -> { }
                }
            }
            case 0xDF -> {
                switch (reg) {
                    case 0 -> loadInteger((short) host.readWord(seg, off));
                    case 2 -> storeInt(seg, off, 16, false);
                    case 3 -> storeInt(seg, off, 16, true);
                    case 4 -> fbld(seg, off);
                    case 5 -> loadInteger(readQword(seg, off));
                    case 6 -> fbstp(seg, off);
                    case 7 -> storeInt(seg, off, 64, true);
                    default -> { }
                }
            }
            default -> { }
        }
    }

    private void executeRegister(int opcode, int reg, int i, int modrm) {
        switch (opcode) {
            case 0xD8 -> arithRegister(reg, i, false, false);
            case 0xDC -> arithRegister(reg, i, true, false);
            case 0xDE -> {
                if (reg == 3) {
                    if (i == 1) {
                        compareSt(1, false, 2, false); // FCOMPP
                    }
                } else {
                    arithRegister(reg, i, true, true);
                }
            }
            case 0xD9 -> executeD9(modrm, i);
            case 0xDA -> {
                if (modrm == 0xE9) {
                    compareSt(1, true, 2, false); // FUCOMPP
                } else if (reg < 4) {
                    fcmov(reg, false, i);
                }
            }
            case 0xDB -> {
                switch (reg) {
                    case 0, 1, 2, 3 -> fcmov(reg, true, i);
                    case 4 -> {
                        if (modrm == 0xE2) {
                            sw &= ~(0x00FF | SW_B); // FNCLEX
                        } else if (modrm == 0xE3) {
                            reset(); // FNINIT
                        }
                        // E0 FNENI, E1 FNDISI, E4 FNSETPM: no-ops on a 387 and later
                    }
                    case 5 -> compareSt(i, true, 0, true); // FUCOMI
                    case 6 -> compareSt(i, false, 0, true); // FCOMI
                    default -> { }
                }
            }
            case 0xDD -> {
                switch (reg) {
                    case 0 -> { // FFREE (clears C1 on the recorded hardware)
                        emptyMask |= 1 << phys(i);
                        setC1(false);
                    }
                    case 1 -> fxch(i);
                    case 2 -> storeSt(i, false);
                    case 3 -> storeSt(i, true);
                    case 4 -> compareSt(i, true, 0, false); // FUCOM
                    case 5 -> compareSt(i, true, 1, false); // FUCOMP
                    default -> { }
                }
            }
            case 0xDF -> {
                switch (reg) {
                    case 0 -> { // FFREEP
                        emptyMask |= 1 << phys(i);
                        pop();
                        setC1(false);
                    }
                    case 1 -> fxch(i);
                    case 2, 3 -> storeSt(i, true);
                    case 4 -> {
                        if (modrm == 0xE0) {
                            host.setAx(statusWord()); // FNSTSW AX
                        }
                    }
                    case 5 -> compareSt(i, true, 1, true); // FUCOMIP
                    case 6 -> compareSt(i, false, 1, true); // FCOMIP
                    default -> { }
                }
            }
            default -> { }
        }
    }

    private void executeD9(int modrm, int i) {
        int reg = (modrm >> 3) & 7;
        switch (reg) {
            case 0 -> { // FLD ST(i)
                if (isEmpty(i)) {
                    // underflow takes precedence: C1 = 0, and the indefinite is pushed even over a full stack
                    if (underflow()) {
                        push(INDEF_SE, INDEF_SIG);
                    }
                    return;
                }
                int se = stSe(i);
                long sig = stSig(i);
                if (pushCheck()) {
                    push(se, sig);
                    setC1(false);
                }
                return;
            }
            case 1 -> {
                fxch(i);
                return;
            }
            case 2 -> {
                return; // FNOP (D9 D0)
            }
            case 3 -> {
                // D9 D8+i (FSTP1, "FSTPNCE"): FSTP ST(i) without the stack check; with ST(0)
                // empty the hardware just pops, leaving ST(i) alone and signalling nothing
                if (isEmpty(0)) {
                    pop();
                    setC1(false);
                } else {
                    storeSt(i, true);
                }
                return;
            }
            default -> { }
        }
        switch (modrm) {
            case 0xE0, 0xE1 -> { // FCHS, FABS
                if (isEmpty(0)) {
                    if (underflow()) {
                        setSt(0, INDEF_SE, INDEF_SIG);
                    }
                    return;
                }
                int se = stSe(0);
                setSt(0, modrm == 0xE0 ? se ^ 0x8000 : se & 0x7FFF, stSig(0));
                setC1(false);
            }
            case 0xE4 -> { // FTST
                if (isEmpty(0)) {
                    underflow();
                    setCc(0b1101);
                    return;
                }
                int r = a.compare(stSe(0), stSig(0), 0, 0, false);
                setCompareCc(r);
            }
            case 0xE5 -> fxam();
            case 0xE8 -> loadConstant(0x3FFF, INT_BIT, 0);
            case 0xE9 -> loadConstant(0x4000, 0xD49A784BCD1B8AFEL, 0x492BF6FF4DAFDB4CL); // log2(10)
            case 0xEA -> loadConstant(0x3FFF, 0xB8AA3B295C17F0BBL, 0xBE87FED0691D3E88L); // log2(e)
            case 0xEB -> loadConstant(0x4000, 0xC90FDAA22168C234L, 0xC4C6628B80DC1CD1L); // pi
            case 0xEC -> loadConstant(0x3FFD, 0x9A209A84FBCFF798L, 0x8F8959AC0B7C9178L); // log10(2)
            case 0xED -> loadConstant(0x3FFE, 0xB17217F7D1CF79ABL, 0xC9E3B39803F2F6AFL); // ln(2)
            case 0xEE -> loadConstant(0, 0, 0);
            case 0xF0 -> unaryTranscendental(X87Transcendental.F2XM1);
            case 0xF1 -> binaryPop(X87Transcendental.FYL2X);
            case 0xF2 -> trig(X87Transcendental.FPTAN);
            case 0xF3 -> binaryPop(X87Transcendental.FPATAN);
            case 0xF4 -> fxtract();
            case 0xF5 -> fprem(true);
            case 0xF6 -> {
                top = (top - 1) & 7;
                setC1(false);
            }
            case 0xF7 -> {
                top = (top + 1) & 7;
                setC1(false);
            }
            case 0xF8 -> fprem(false);
            case 0xF9 -> binaryPop(X87Transcendental.FYL2XP1);
            case 0xFA -> { // FSQRT
                if (isEmpty(0)) {
                    if (underflow()) {
                        setSt(0, INDEF_SE, INDEF_SIG);
                    }
                    return;
                }
                a.sqrt(stSe(0), stSig(0), precision(cw));
                writeResult(0, false);
            }
            case 0xFB -> trig(X87Transcendental.FSINCOS);
            case 0xFC -> { // FRNDINT
                if (isEmpty(0)) {
                    if (underflow()) {
                        setSt(0, INDEF_SE, INDEF_SIG);
                    }
                    return;
                }
                a.roundInt(stSe(0), stSig(0));
                writeResult(0, false);
            }
            case 0xFD -> { // FSCALE
                if (isEmpty(0) || isEmpty(1)) {
                    if (underflow()) {
                        setSt(0, INDEF_SE, INDEF_SIG);
                    }
                    return;
                }
                a.scale(stSe(0), stSig(0), stSe(1), stSig(1));
                writeResult(0, false);
            }
            case 0xFE -> trig(X87Transcendental.FSIN);
            case 0xFF -> trig(X87Transcendental.FCOS);
            default -> { }
        }
    }

    /** Writes the arithmetic unit's result to ST(dst) (C1 = rounded up) and pops, unless an unmasked exception blocks it. */
    private void writeResult(int dst, boolean popAfter) {
        if (a.blocked()) {
            setC1(false); // the hardware clears C1 when an unmasked exception suppresses the result
            return;
        }
        setStResult(dst);
        setC1(a.roundedUp);
        if (popAfter) {
            pop();
        }
    }

    // ---- arithmetic

    /** reg field 0..7: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR with ST(0) and the operand in a.rse/a.rsig. */
    private void arithMemory(int reg) {
        int bSe = a.rse;
        long bSig = a.rsig;
        if (isEmpty(0)) {
            boolean masked = underflow();
            if (reg == 2 || reg == 3) {
                setCc(0b1101); // unordered, even when IE is unmasked
                if (reg == 3 && masked) {
                    pop();
                }
            } else if (masked) {
                setSt(0, INDEF_SE, INDEF_SIG);
            }
            return;
        }
        if (reg == 2 || reg == 3) {
            setCompareCc(a.compare(stSe(0), stSig(0), bSe, bSig, false));
            if (reg == 3 && !a.blocked()) {
                pop();
            }
            return;
        }
        doArith(reg, stSe(0), stSig(0), bSe, bSig);
        writeResult(0, false);
    }

    /** x is ST(0), y the other operand: 0 x+y, 1 x*y, 4 x-y, 5 y-x, 6 x/y, 7 y/x. */
    private void doArith(int reg, int xSe, long xSig, int ySe, long ySig) {
        int p = precision(cw);
        switch (reg) {
            case 0 -> a.arith(ADD, xSe, xSig, ySe, ySig, p);
            case 1 -> a.arith(MUL, xSe, xSig, ySe, ySig, p);
            case 4 -> a.arith(SUB, xSe, xSig, ySe, ySig, p);
            case 5 -> a.arith(SUB, ySe, ySig, xSe, xSig, p);
            case 6 -> a.arith(DIV, xSe, xSig, ySe, ySig, p);
            default -> a.arith(DIV, ySe, ySig, xSe, xSig, p);
        }
    }

    /** D8/DC/DE register forms. toSti: the destination is ST(i) (DC, DE). */
    private void arithRegister(int reg, int i, boolean toSti, boolean popAfter) {
        if (reg == 2 || reg == 3) { // FCOM/FCOMP (DC D0/D8 and DE D0 are aliases)
            compareSt(i, false, reg == 3 || popAfter ? 1 : 0, false);
            return;
        }
        int dst = toSti ? i : 0;
        if (isEmpty(0) || isEmpty(i)) {
            if (underflow()) {
                setSt(dst, INDEF_SE, INDEF_SIG);
                if (popAfter) {
                    pop();
                }
            }
            return;
        }
        doArith(reg, stSe(0), stSig(0), stSe(i), stSig(i));
        writeResult(dst, popAfter);
    }

    private void setCompareCc(int r) {
        if (r < 0) {
            return;
        }
        setCc(switch (r) {
            case CMP_GT -> 0b0000;
            case CMP_LT -> 0b0001;
            case CMP_EQ -> 0b1000;
            default -> 0b1101;
        });
    }

    /** FCOM/FUCOM family on ST(0) and ST(i); pops times; eflags: FCOMI forms. */
    private void compareSt(int i, boolean quiet, int pops, boolean eflags) {
        int r;
        if (isEmpty(0) || isEmpty(i)) {
            underflow(); // the flags say unordered even when IE is unmasked
            r = CMP_UNORDERED;
        } else {
            r = a.compare(stSe(0), stSig(0), stSe(i), stSig(i), quiet);
        }
        if (eflags) {
            host.setCompareFlags(switch (r) {
                case CMP_GT -> 0;
                case CMP_LT -> 0x01;
                case CMP_EQ -> 0x40;
                default -> 0x45;
            });
        } else {
            setCompareCc(r);
        }
        if (!a.blocked()) {
            for (int k = 0; k < pops; k++) {
                pop();
            }
        }
    }

    private void fcmov(int cond, boolean negate, int i) {
        int f = host.eflags();
        boolean cf = (f & 0x01) != 0, pf = (f & 0x04) != 0, zf = (f & 0x40) != 0;
        boolean take = switch (cond) {
            case 0 -> cf;
            case 1 -> zf;
            case 2 -> cf || zf;
            default -> pf;
        };
        if (negate) {
            take = !take;
        }
        if (isEmpty(0) || isEmpty(i)) {
            if (underflow()) {
                setSt(0, INDEF_SE, INDEF_SIG);
            }
            return;
        }
        if (take) {
            setSt(0, stSe(i), stSig(i));
        }
    }

    private void fxch(int i) {
        if (isEmpty(0) || isEmpty(i)) {
            if (!underflow()) {
                return;
            }
            if (isEmpty(0)) {
                setSt(0, INDEF_SE, INDEF_SIG);
            }
            if (isEmpty(i)) {
                setSt(i, INDEF_SE, INDEF_SIG);
            }
        } else {
            setC1(false);
        }
        int se = stSe(0);
        long sig = stSig(0);
        setSt(0, stSe(i), stSig(i));
        setSt(i, se, sig);
    }

    /** FST/FSTP ST(i). */
    private void storeSt(int i, boolean popAfter) {
        if (isEmpty(0)) {
            if (underflow()) {
                setSt(i, INDEF_SE, INDEF_SIG);
                if (popAfter) {
                    pop();
                }
            }
            return;
        }
        setSt(i, stSe(0), stSig(0));
        setC1(false);
        if (popAfter) {
            pop();
        }
    }

    private void fxam() {
        int se = stSe(0);
        long sig = stSig(0);
        int c1 = (se >> 15) & 1;
        int c3c2c0;
        if (isEmpty(0)) {
            c3c2c0 = 0b101;
        } else {
            c3c2c0 = switch (classify(se, sig)) {
                case UNSUPPORTED -> 0b000;
                case QNAN, SNAN -> 0b001;
                case NORMAL -> 0b010;
                case INF -> 0b011;
                case ZERO -> 0b100;
                default -> 0b110; // denormal, pseudo-denormal
            };
        }
        setCc(((c3c2c0 & 4) != 0 ? 8 : 0) | ((c3c2c0 & 2) != 0 ? 4 : 0) | (c1 << 1) | (c3c2c0 & 1));
    }

    /** Pushes a constant whose exact value is (hi:lo) * 2^(e-16383-127), rounded under RC (the constants are rounded per RC as on the 387 and later). */
    private void loadConstant(int e, long hi, long lo) {
        if (!pushCheck()) {
            return;
        }
        if (hi == 0) {
            push(0, 0);
        } else {
            a.round(0, e, hi, lo, 64, FMT_EXT);
            a.exc &= ~PE; // loading a constant does not signal precision
            push(a.rse, a.rsig);
        }
        setC1(false);
    }

    private void fxtract() {
        if (isEmpty(0)) {
            if (underflow()) { // C1 = 0, and both indefinites go in even over a full stack
                setSt(0, INDEF_SE, INDEF_SIG);
                push(INDEF_SE, INDEF_SIG);
            }
            return;
        }
        if (!isEmpty(7)) {
            a.exc |= IE | SF;
            setC1(true);
            if (ieMasked()) {
                setSt(0, INDEF_SE, INDEF_SIG);
                push(INDEF_SE, INDEF_SIG);
            }
            return;
        }
        int se = stSe(0);
        long sig = stSig(0);
        int c = classify(se, sig);
        int expSe, sigSe;
        long expSig, sigSig;
        if (a.specialUnary(se, sig, c)) {
            expSe = sigSe = a.rse;
            expSig = sigSig = a.rsig;
        } else if (c == ZERO) {
            a.exc |= ZE;
            expSe = 0xFFFF; // -inf
            expSig = INT_BIT;
            sigSe = se;
            sigSig = sig;
        } else if (c == INF) {
            expSe = 0x7FFF;
            expSig = INT_BIT;
            sigSe = se;
            sigSig = sig;
        } else {
            if (c == DENORMAL) {
                a.exc |= DE;
            }
            int k = a.extractExponent(se, sig);
            sigSig = a.extractSignificand(se, sig);
            sigSe = (se & 0x8000) | BIAS;
            a.fromLong(k);
            expSe = a.rse;
            expSig = a.rsig;
        }
        if (a.blocked()) {
            setC1(false);
            return;
        }
        setSt(0, expSe, expSig);
        push(sigSe, sigSig);
        setC1(false);
    }

    private void fprem(boolean ieee) {
        if (isEmpty(0) || isEmpty(1)) {
            sw &= ~SW_C2; // C1 and C2 cleared, C0 and C3 kept (as recorded)
            if (underflow()) {
                setSt(0, INDEF_SE, INDEF_SIG);
            }
            return;
        }
        int c0 = classify(stSe(0), stSig(0)), c1 = classify(stSe(1), stSig(1));
        a.remainder(stSe(0), stSig(0), stSe(1), stSig(1), ieee);
        if (a.blocked()) {
            sw &= ~(SW_C1 | SW_C2);
            return;
        }
        setStResult(0);
        if (c0 == UNSUPPORTED || c1 == UNSUPPORTED || isNaN(c0) || isNaN(c1) || c0 == INF || c1 == ZERO) {
            sw &= ~(SW_C1 | SW_C2); // NaN or invalid: C0 and C3 kept
        } else if (a.incomplete) {
            setCc(0b0100);
        } else {
            int q = a.quotient;
            // C0 = Q2, C3 = Q1, C1 = Q0
            setCc(((q & 4) != 0 ? 1 : 0) | ((q & 2) != 0 ? 8 : 0) | ((q & 1) != 0 ? 2 : 0));
        }
    }

    private void unaryTranscendental(int fn) {
        if (isEmpty(0)) {
            if (underflow()) {
                setSt(0, INDEF_SE, INDEF_SIG);
            }
            return;
        }
        t.unary(fn, stSe(0), stSig(0));
        writeResult(0, false);
    }

    /** FYL2X, FYL2XP1, FPATAN: ST(1) = f(ST(1), ST(0)), pop. */
    private void binaryPop(int fn) {
        if (isEmpty(0) || isEmpty(1)) {
            if (underflow()) {
                setSt(1, INDEF_SE, INDEF_SIG);
                pop();
            }
            return;
        }
        t.binary(fn, stSe(1), stSig(1), stSe(0), stSig(0));
        writeResult(1, true);
    }

    /** FSIN, FCOS, FPTAN, FSINCOS. */
    private void trig(int fn) {
        boolean pushes = fn == X87Transcendental.FPTAN || fn == X87Transcendental.FSINCOS;
        if (isEmpty(0) || (pushes && !isEmpty(7))) {
            sw &= ~SW_C2; // a stack fault clears C2 (as recorded)
        }
        if (isEmpty(0)) {
            if (underflow()) {
                setSt(0, INDEF_SE, INDEF_SIG);
                if (pushes && pushCheck()) {
                    push(INDEF_SE, INDEF_SIG);
                }
            }
            return;
        }
        if (pushes && !isEmpty(7)) {
            a.exc |= IE | SF;
            setC1(true);
            if (ieMasked()) {
                setSt(0, INDEF_SE, INDEF_SIG);
                push(INDEF_SE, INDEF_SIG);
            }
            return;
        }
        int se = stSe(0);
        long sig = stSig(0);
        int c = classify(se, sig);
        if (c != UNSUPPORTED && !isNaN(c) && c != INF && c != ZERO && (se & 0x7FFF) >= BIAS + 63) {
            sw |= SW_C2; // out of range: operand unchanged
            return;
        }
        t.trig(fn, se, sig);
        if (a.blocked()) {
            sw &= ~(SW_C1 | SW_C2);
            return;
        }
        sw &= ~SW_C2;
        setC1(a.roundedUp);
        setSt(0, t.firstSe, t.firstSig);
        if (pushes) {
            push(t.secondSe, t.secondSig);
        }
    }

    // ---- loads

    private void loadReal(int seg, int off, int bits) {
        int se;
        long sig;
        switch (bits) {
            case 32 -> {
                a.fromSingle(host.readDword(seg, off));
                se = a.rse;
                sig = a.rsig;
            }
            case 64 -> {
                a.fromDouble(readQword(seg, off));
                se = a.rse;
                sig = a.rsig;
            }
            default -> {
                long lo = readQword(seg, off);
                se = host.readWord(seg, off + 8) & 0xFFFF;
                sig = lo;
            }
        }
        if (!pushCheck()) {
            return;
        }
        if (bits != 80) {
            if (classify(se, sig) == SNAN) {
                a.exc |= IE;
                sig |= QUIET_BIT;
            }
            if (a.memDenormal) {
                a.exc |= DE; // signalled, but the load still happens
            }
            if ((a.exc & ~a.masks & IE) != 0) {
                setC1(false);
                return;
            }
        }
        push(se, sig);
        setC1(false);
    }

    private void loadInteger(long v) {
        if (!pushCheck()) {
            return;
        }
        a.fromLong(v);
        push(a.rse, a.rsig);
        setC1(false);
    }

    private void fbld(int seg, int off) {
        long lo = readQword(seg, off);
        int hi = host.readWord(seg, off + 8);
        if (!pushCheck()) {
            return;
        }
        long v = 0;
        for (int d = 1; d >= 0; d--) { // byte 8: digits 17, 16
            v = v * 10 + ((hi >> (4 * d)) & 0xF);
        }
        for (int b = 7; b >= 0; b--) {
            int byt = (int) (lo >>> (8 * b)) & 0xFF;
            v = v * 10 + (byt >> 4);
            v = v * 10 + (byt & 0xF);
        }
        int sign = (hi >> 15) & 1;
        a.setFromMagnitude(sign, v);
        push(a.rse, a.rsig);
        setC1(false);
    }

    // ---- stores

    private boolean storeBlocked() {
        return (a.exc & ~a.masks & (IE | DE | ZE | OE | UE)) != 0;
    }

    private void finishStore(boolean popAfter) {
        setC1(a.roundedUp);
        if (popAfter) {
            pop();
        }
    }

    private void storeSingle(int seg, int off, boolean popAfter) {
        // the destination is write-checked first: its fault wins over any unmasked exception (as on the host)
        host.checkWritable(seg, off, 4);
        int v;
        if (isEmpty(0)) {
            a.exc |= IE | SF;
            if (!ieMasked()) {
                setC1(false);
                return;
            }
            v = 0xFFC00000;
        } else {
            v = a.toSingle(stSe(0), stSig(0));
            if (storeBlocked()) {
                setC1(false);
                return;
            }
        }
        host.writeDword(seg, off, v);
        finishStore(popAfter);
    }

    private void storeDouble(int seg, int off, boolean popAfter) {
        // the destination is write-checked first: its fault wins over any unmasked exception (as on the host)
        host.checkWritable(seg, off, 8);
        long v;
        if (isEmpty(0)) {
            a.exc |= IE | SF;
            if (!ieMasked()) {
                setC1(false);
                return;
            }
            v = 0xFFF8000000000000L;
        } else {
            v = a.toDouble(stSe(0), stSig(0));
            if (storeBlocked()) {
                setC1(false);
                return;
            }
        }
        host.checkWritable(seg, off, 8);
        writeQword(seg, off, v);
        finishStore(popAfter);
    }

    private void storeExtended(int seg, int off) {
        // the destination is write-checked first: its fault wins over any unmasked exception (as on the host)
        host.checkWritable(seg, off, 10);
        int se;
        long sig;
        if (isEmpty(0)) {
            a.exc |= IE | SF;
            if (!ieMasked()) {
                setC1(false);
                return;
            }
            se = INDEF_SE;
            sig = INDEF_SIG;
        } else {
            se = stSe(0);
            sig = stSig(0);
        }
        host.checkWritable(seg, off, 10);
        writeQword(seg, off, sig);
        host.writeWord(seg, off + 8, se);
        finishStore(true);
    }

    private void storeInt(int seg, int off, int bits, boolean popAfter) {
        // the destination is write-checked first: its fault wins over any unmasked exception (as on the host)
        host.checkWritable(seg, off, bits >> 3);
        long indefinite = bits == 16 ? 0x8000L : bits == 32 ? 0x80000000L : Long.MIN_VALUE;
        long v;
        if (isEmpty(0)) {
            a.exc |= IE | SF;
            v = indefinite;
        } else {
            int se = stSe(0);
            long sig = stSig(0);
            int c = classify(se, sig);
            if (c == ZERO || c == NORMAL || c == DENORMAL) {
                long mag = a.roundToInteger(se, sig);
                boolean neg = (se & 0x8000) != 0;
                long limit = bits == 64 ? Long.MIN_VALUE : 1L << (bits - 1); // magnitude bound (unsigned)
                boolean fits = !a.intTooBig && (neg ? Long.compareUnsigned(mag, limit) <= 0
                        : Long.compareUnsigned(mag, limit) < 0);
                if (fits) {
                    v = neg ? -mag : mag;
                } else {
                    a.exc = (a.exc & ~PE) | IE;
                    a.roundedUp = false;
                    v = indefinite;
                }
            } else {
                a.exc |= IE;
                v = indefinite;
            }
        }
        if (storeBlocked()) {
            setC1(false);
            return;
        }
        switch (bits) {
            case 16 -> host.writeWord(seg, off, (int) v & 0xFFFF);
            case 32 -> host.writeDword(seg, off, (int) v);
            default -> {
                host.checkWritable(seg, off, 8);
                writeQword(seg, off, v);
            }
        }
        if ((a.exc & SF) != 0) {
            setC1(false);
        } else {
            setC1(a.roundedUp);
        }
        if (popAfter) {
            pop();
        }
    }

    private static final long BCD_MAX = 999_999_999_999_999_999L;

    private void fbstp(int seg, int off) {
        // the destination is write-checked first: its fault wins over any unmasked exception (as on the host)
        host.checkWritable(seg, off, 10);
        long lo;
        int hi;
        boolean indefinite = false;
        int sign = 0;
        long mag = 0;
        if (isEmpty(0)) {
            a.exc |= IE | SF;
            indefinite = true;
        } else {
            int se = stSe(0);
            long sig = stSig(0);
            int c = classify(se, sig);
            sign = (se >> 15) & 1;
            if (c == ZERO || c == NORMAL || c == DENORMAL) {
                mag = a.roundToInteger(se, sig);
                if (a.intTooBig || Long.compareUnsigned(mag, BCD_MAX) > 0) {
                    a.exc = (a.exc & ~PE) | IE;
                    a.roundedUp = false;
                    indefinite = true;
                }
            } else {
                a.exc |= IE;
                indefinite = true;
            }
        }
        if (storeBlocked()) {
            setC1(false);
            return;
        }
        if (indefinite) {
            lo = 0xC000000000000000L;
            hi = 0xFFFF;
        } else {
            lo = 0;
            for (int b = 0; b < 8; b++) {
                long d0 = mag % 10;
                mag /= 10;
                long d1 = mag % 10;
                mag /= 10;
                lo |= ((d1 << 4) | d0) << (8 * b);
            }
            long d0 = mag % 10;
            mag /= 10;
            long d1 = mag % 10;
            hi = (int) ((d1 << 4) | d0) | (sign << 15);
        }
        host.checkWritable(seg, off, 10);
        writeQword(seg, off, lo);
        host.writeWord(seg, off + 8, hi);
        if ((a.exc & SF) != 0) {
            setC1(false);
        } else {
            setC1(a.roundedUp);
        }
        pop();
    }

    // ---- environment and state images

    /** Writes the environment (28 or 14 bytes) into b at pos. */
    private void putEnv(byte[] b, int pos, boolean op32) {
        if (op32) {
            putInt(b, pos, 0xFFFF0000 | cw);
            putInt(b, pos + 4, 0xFFFF0000 | statusWord());
            putInt(b, pos + 8, 0xFFFF0000 | tagWord());
            putInt(b, pos + 12, fip);
            putInt(b, pos + 16, (fcs & 0xFFFF) | ((fop & 0x7FF) << 16));
            putInt(b, pos + 20, fdp);
            putInt(b, pos + 24, 0xFFFF0000 | (fds & 0xFFFF));
        } else {
            putShort(b, pos, cw);
            putShort(b, pos + 2, statusWord());
            putShort(b, pos + 4, tagWord());
            putShort(b, pos + 6, fip);
            putShort(b, pos + 8, fcs);
            putShort(b, pos + 10, fdp);
            putShort(b, pos + 12, fds);
        }
    }

    private void getEnv(byte[] b, int pos, boolean op32) {
        int newCw, newSw, tw;
        if (op32) {
            newCw = getShort(b, pos);
            newSw = getShort(b, pos + 4);
            tw = getShort(b, pos + 8);
            fip = getInt(b, pos + 12);
            int w = getInt(b, pos + 16);
            fcs = w & 0xFFFF;
            fop = (w >>> 16) & 0x7FF;
            fdp = getInt(b, pos + 20);
            fds = getShort(b, pos + 24);
        } else {
            newCw = getShort(b, pos);
            newSw = getShort(b, pos + 2);
            tw = getShort(b, pos + 4);
            fip = getShort(b, pos + 6);
            fcs = getShort(b, pos + 8);
            fop = 0;
            fdp = getShort(b, pos + 10);
            fds = getShort(b, pos + 12);
        }
        cw = (newCw & 0x1F3F) | 0x0040;
        top = (newSw >> 11) & 7;
        sw = newSw & ~0x3800;
        emptyMask = 0;
        for (int p = 0; p < 8; p++) {
            if (((tw >> (2 * p)) & 3) == TAG_EMPTY) {
                emptyMask |= 1 << p;
            }
        }
        updateEs();
    }

    private void putRegisters(byte[] b, int pos, int stride) {
        for (int i = 0; i < 8; i++) {
            int p = phys(i);
            putLong(b, pos + stride * i, regSig[p]);
            putShort(b, pos + stride * i + 8, regSe[p]);
        }
    }

    private void getRegisters(byte[] b, int pos, int stride) {
        for (int i = 0; i < 8; i++) {
            int p = phys(i);
            regSig[p] = getLong(b, pos + stride * i);
            regSe[p] = getShort(b, pos + stride * i + 8);
        }
    }

    private void fnstenv(int seg, int off, boolean op32) {
        byte[] b = new byte[op32 ? 28 : 14];
        putEnv(b, 0, op32);
        writeBytes(seg, off, b);
        cw |= 0x3F; // FNSTENV masks all exceptions after storing
        updateEs();
    }

    private void fldenv(int seg, int off, boolean op32) {
        byte[] b = readBytes(seg, off, op32 ? 28 : 14);
        getEnv(b, 0, op32);
    }

    private void fnsave(int seg, int off, boolean op32) {
        int envLen = op32 ? 28 : 14;
        byte[] b = new byte[envLen + 80];
        putEnv(b, 0, op32);
        putRegisters(b, envLen, 10);
        writeBytes(seg, off, b);
        reset();
    }

    private void frstor(int seg, int off, boolean op32) {
        int envLen = op32 ? 28 : 14;
        host.checkReadableEnds(seg, off, envLen + 80);
        byte[] b = readBytes(seg, off, envLen + 80);
        getEnv(b, 0, op32);
        getRegisters(b, envLen, 10);
    }

    /** The 108-byte 32-bit protected-mode FNSAVE image, without reinitialising. */
    void fnsave(byte[] into108) {
        putEnv(into108, 0, true);
        putRegisters(into108, 28, 10);
    }

    /** Loads the 108-byte 32-bit protected-mode FRSTOR image. */
    void frstor(byte[] from108) {
        getEnv(from108, 0, true);
        getRegisters(from108, 28, 10);
    }

    /**
     * FXSAVE: writes the x87 part of the 512-byte image (bytes 0..159: FCW, FSW,
     * abridged FTW, FOP, FIP, FCS, FDP, FDS, MXCSR = 0x1F80, MXCSR_MASK = 0xFFBF,
     * ST0..ST7 in 16-byte slots). Bytes 160..511 (XMM registers, reserved) are
     * left as they are. The whole 512 bytes are checked writable first.
     */
    void fxsave(int seg, int offset) {
        byte[] b = new byte[160];
        putShort(b, 0, cw);
        putShort(b, 2, statusWord());
        b[4] = (byte) (~emptyMask & 0xFF);
        putShort(b, 6, fop & 0x7FF);
        putInt(b, 8, fip);
        putShort(b, 12, fcs);
        putInt(b, 16, fdp);
        putShort(b, 20, fds);
        putInt(b, 24, 0x1F80);
        putInt(b, 28, 0xFFBF);
        putRegisters(b, 32, 16);
        host.checkWritable(seg, offset, 512);
        writeBytes(seg, offset, b);
    }

    /** FXRSTOR: loads the x87 part of a 512-byte image (MXCSR and the XMM area are the core's). */
    void fxrstor(int seg, int offset) {
        byte[] b = readBytes(seg, offset, 160);
        cw = (getShort(b, 0) & 0x1F3F) | 0x0040;
        int newSw = getShort(b, 2);
        top = (newSw >> 11) & 7;
        sw = newSw & ~0x3800;
        emptyMask = ~b[4] & 0xFF;
        fop = getShort(b, 6) & 0x7FF;
        fip = getInt(b, 8);
        fcs = getShort(b, 12);
        fdp = getInt(b, 16);
        fds = getShort(b, 20);
        getRegisters(b, 32, 16);
        updateEs();
    }

    // ---- memory helpers

    private long readQword(int seg, int off) {
        long lo = host.readDword(seg, off) & 0xFFFFFFFFL;
        long hi = host.readDword(seg, off + 4) & 0xFFFFFFFFL;
        return lo | (hi << 32);
    }

    private void writeQword(int seg, int off, long v) {
        host.writeDword(seg, off, (int) v);
        host.writeDword(seg, off + 4, (int) (v >>> 32));
    }

    private byte[] readBytes(int seg, int off, int len) {
        byte[] b = new byte[len];
        int i = 0;
        for (; i + 4 <= len; i += 4) {
            putInt(b, i, host.readDword(seg, off + i));
        }
        for (; i + 2 <= len; i += 2) {
            putShort(b, i, host.readWord(seg, off + i));
        }
        return b;
    }

    private void writeBytes(int seg, int off, byte[] b) {
        host.checkWritable(seg, off, b.length);
        int i = 0;
        for (; i + 4 <= b.length; i += 4) {
            host.writeDword(seg, off + i, getInt(b, i));
        }
        for (; i + 2 <= b.length; i += 2) {
            host.writeWord(seg, off + i, getShort(b, i));
        }
    }

    static void putShort(byte[] b, int pos, int v) {
        b[pos] = (byte) v;
        b[pos + 1] = (byte) (v >>> 8);
    }

    static void putInt(byte[] b, int pos, int v) {
        putShort(b, pos, v);
        putShort(b, pos + 2, v >>> 16);
    }

    static void putLong(byte[] b, int pos, long v) {
        putInt(b, pos, (int) v);
        putInt(b, pos + 4, (int) (v >>> 32));
    }

    static int getShort(byte[] b, int pos) {
        return (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8;
    }

    static int getInt(byte[] b, int pos) {
        return getShort(b, pos) | getShort(b, pos + 2) << 16;
    }

    static long getLong(byte[] b, int pos) {
        return (getInt(b, pos) & 0xFFFFFFFFL) | ((long) getInt(b, pos + 4) << 32);
    }
}
