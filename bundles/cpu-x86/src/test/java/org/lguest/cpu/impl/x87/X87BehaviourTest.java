package org.lguest.cpu.impl.x87;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One behaviour per test. Expected 80-bit patterns were obtained on a real
 * x87 (gcc long double and inline assembly on an AMD EPYC).
 */
class X87BehaviourTest {
    static final int DS = 3;
    static final int SCRATCH = 0x300;

    X87TestHost host;
    X87 fpu;

    @BeforeEach
    void setUp() {
        host = new X87TestHost();
        fpu = new X87(host);
    }

    // ---- helpers

    void op(int opcode, int modrm) {
        fpu.execute(opcode, modrm, 0, 0, true);
    }

    /** Memory form with reg field r at offset off (mod=00, rm=101). */
    void mem(int opcode, int r, int off) {
        fpu.execute(opcode, (r << 3) | 5, DS, off, true);
    }

    void setCw(int cw) {
        host.writeWord(0, SCRATCH, cw);
        mem(0xD9, 5, SCRATCH);
    }

    void load80(int se, long sig) {
        host.put80(SCRATCH, se, sig);
        mem(0xDB, 5, SCRATCH);
    }

    void loadDouble(double d) {
        host.putQ(SCRATCH, Double.doubleToRawLongBits(d));
        mem(0xDD, 0, SCRATCH);
    }

    double storeDouble() {
        mem(0xDD, 2, SCRATCH); // FST m64 (no pop)
        return Double.longBitsToDouble(host.q(SCRATCH));
    }

    int sw() {
        return fpu.statusWord();
    }

    void assertSt(int i, int se, long sig, String what) {
        assertFalse(fpu.stEmpty(i), what + ": ST(" + i + ") is empty");
        assertEquals(String.format("%04x:%016x", se, sig), String.format("%04x:%016x", fpu.stSe(i), fpu.stSig(i)), what);
    }

    void assertFlags(int expected, int mask, String what) {
        assertEquals(String.format("%04x", expected & mask), String.format("%04x", sw() & mask), what + " (status word " + String.format("%04x", sw()) + ")");
    }

    static final int EXC = 0x7F;

    // ---- decoding help

    @Test
    void fisttpAndReservedEncodingsAreUndefined() {
        assertFalse(X87.isDefined(0xDB, 0x08), "FISTTP m32 (SSE3) is not on this processor");
        assertFalse(X87.isDefined(0xDD, 0x08), "FISTTP m64");
        assertFalse(X87.isDefined(0xDF, 0x08), "FISTTP m16");
        assertFalse(X87.isDefined(0xD9, 0x08), "D9 /1 memory");
        assertFalse(X87.isDefined(0xD9, 0xD1), "D9 D1");
        assertFalse(X87.isDefined(0xDA, 0xE8), "DA E8");
        assertFalse(X87.isDefined(0xDE, 0xD8), "DE D8 (only DE D9 is FCOMPP)");
        assertFalse(X87.isDefined(0xDF, 0xE1), "DF E1 (only DF E0 is FNSTSW AX)");
        assertFalse(X87.isDefined(0xDB, 0xF8), "DB F8");
        assertTrue(X87.isDefined(0xDE, 0xD9), "FCOMPP");
        assertTrue(X87.isDefined(0xDF, 0xE0), "FNSTSW AX");
        assertTrue(X87.isDefined(0xD9, 0xD8), "D9 D8 (FSTP1 alias) executes on real processors");
        assertTrue(X87.isDefined(0xDB, 0xE3), "FNINIT");
    }

    @Test
    void onlyTheNoWaitControlFormsAreNonWaiting() {
        assertFalse(X87.isWaiting(0xDB, 0xE3), "FNINIT");
        assertFalse(X87.isWaiting(0xDB, 0xE2), "FNCLEX");
        assertFalse(X87.isWaiting(0xDF, 0xE0), "FNSTSW AX");
        assertFalse(X87.isWaiting(0xDD, 0x38), "FNSTSW m16");
        assertFalse(X87.isWaiting(0xD9, 0x38), "FNSTCW");
        assertFalse(X87.isWaiting(0xD9, 0x30), "FNSTENV");
        assertFalse(X87.isWaiting(0xDD, 0x30), "FNSAVE");
        assertTrue(X87.isWaiting(0xD9, 0x28), "FLDCW waits");
        assertTrue(X87.isWaiting(0xD9, 0x20), "FLDENV waits");
        assertTrue(X87.isWaiting(0xDD, 0x20), "FRSTOR waits");
        assertTrue(X87.isWaiting(0xD8, 0xC1), "FADD waits");
        assertTrue(X87.isWaiting(0xD9, 0xD0), "FNOP waits (it raises #MF on the hardware)");
        assertTrue(X87.isWaiting(0xDD, 0xC1), "FFREE waits");
        assertFalse(X87.isWaiting(0xDB, 0xE0), "FNENI does not raise #MF on the hardware");
        assertFalse(X87.isWaiting(0xDB, 0xE1), "FNDISI");
        assertFalse(X87.isWaiting(0xDB, 0xE4), "FNSETPM");
    }

    // ---- stack

    @Test
    void stackOverflowSetsIeSfC1AndPushesTheIndefinite() {
        for (int i = 0; i < 8; i++) {
            op(0xD9, 0xE8); // FLD1
        }
        assertFlags(0, EXC, "eight pushes fit");
        op(0xD9, 0xEE); // FLDZ: ninth
        assertFlags(0x0241, 0x02FF, "overflow: IE|SF and C1=1");
        assertSt(0, 0xFFFF, 0xC000000000000000L, "masked overflow loads the indefinite");
    }

    @Test
    void unmaskedStackOverflowChangesNothingButRaisesEs() {
        setCw(0x037E);
        for (int i = 0; i < 8; i++) {
            op(0xD9, 0xE8);
        }
        op(0xD9, 0xEE);
        assertEquals(0, fpu.top(), "no push");
        assertSt(0, 0x3FFF, Long.MIN_VALUE, "ST(0) still 1.0");
        assertFlags(0x82C1, 0x82FF, "IE|SF|C1|ES|B");
        assertTrue(fpu.hasPendingException());
    }

    @Test
    void stackUnderflowOnAnEmptyOperandGivesTheIndefiniteAndClearsC1() {
        op(0xD9, 0xE8); // FLD1
        op(0xD8, 0xC1); // FADD ST(0), ST(1): ST(1) empty
        assertFlags(0x0041, 0x02FF, "IE|SF, C1=0");
        assertSt(0, 0xFFFF, 0xC000000000000000L, "masked underflow result");
    }

    @Test
    void fstToMemoryFromAnEmptyStackStoresTheIndefinite() {
        mem(0xDD, 3, 0x400); // FSTP m64 with nothing loaded
        assertEquals(0xFFF8000000000000L, host.q(0x400), "double indefinite");
        assertFlags(0x0041, 0x00FF, "IE|SF");
    }

    @Test
    void fxchSwapsAndFfreeEmptiesWithoutPopping() {
        loadDouble(2.0);
        loadDouble(3.0);
        op(0xD9, 0xC9); // FXCH ST(1)
        assertEquals(2.0, storeDouble(), "ST(0) after FXCH");
        op(0xDD, 0xC1); // FFREE ST(1)
        assertTrue(fpu.stEmpty(1), "ST(1) freed");
        assertEquals(6, fpu.top(), "FFREE does not pop");
        assertEquals(0x0FFF, fpu.tagWord() & 0x0FFF, "R0..R5 empty");
    }

    @Test
    void fincstpAndFdecstpRotateTopWithoutTouchingTags() {
        op(0xD9, 0xE8);
        int tw = fpu.tagWord();
        op(0xD9, 0xF7); // FINCSTP
        assertEquals(0, fpu.top());
        assertEquals(tw, fpu.tagWord(), "tags unchanged");
        op(0xD9, 0xF6); // FDECSTP
        assertEquals(7, fpu.top());
    }

    @Test
    void fstp1AliasWithAnEmptyTopJustPops() {
        loadDouble(5.0);
        op(0xD9, 0xE8);
        op(0xDD, 0xC0); // FFREE ST(0)
        op(0xD9, 0xD9); // D9 D9: FSTP1 ST(1)
        assertFlags(0, EXC, "no stack fault, as on the hardware");
        assertEquals(5.0, storeDouble(), "ST(1) kept, now ST(0)");
    }

    // ---- control and status

    @Test
    void fldcwKeepsTheDefinedBitsAndForcesBit6() {
        setCw(0xFFFF);
        assertEquals(0x1F7F, fpu.controlWord());
        setCw(0x0000);
        assertEquals(0x0040, fpu.controlWord());
    }

    @Test
    void unmaskingAPendingFlagWithFldcwSetsEsAndB() {
        op(0xD9, 0xEE); // FLDZ
        op(0xD9, 0xE8); // FLD1
        op(0xD8, 0xF1); // FDIV ST(0), ST(1): 1/0, ZE masked
        assertFalse(fpu.hasPendingException());
        setCw(0x037B);
        assertTrue(fpu.hasPendingException(), "ZE now unmasked");
        assertFlags(0x8084, 0x80FF, "ES|B|ZE");
    }

    @Test
    void fnclexClearsExceptionFlagsEsAndBusyButKeepsConditionCodes() {
        setCw(0x037E);
        op(0xD9, 0xE4); // FTST on empty: underflow, unmasked, C3C2C0=111
        assertTrue(fpu.hasPendingException());
        op(0xDB, 0xE2); // FNCLEX
        assertFalse(fpu.hasPendingException());
        assertFlags(0x4500, 0xC7FF, "C3 C2 C0 stay, flags cleared");
    }

    @Test
    void fnstswAxAndMemoryReportTop() {
        op(0xD9, 0xE8);
        op(0xD9, 0xE8);
        op(0xDF, 0xE0);
        assertEquals(0x3000, host.ax, "TOP=6 in bits 11..13");
        mem(0xDD, 7, 0x410);
        assertEquals(0x3000, host.readWord(0, 0x410));
    }

    @Test
    void nonControlInstructionsRecordInstructionAndOperandPointers() {
        host.eip = 0xC0101234;
        host.cs = 0x0060;
        host.selectors[DS] = 0x007B;
        loadDouble(1.0); // DD /0 with modrm 05
        assertEquals(0xC0101234, fpu.fpuIp());
        assertEquals(0x0060, fpu.fpuCs());
        assertEquals(0x505, fpu.fpuOpcode(), "opcode: low 3 bits of DD, then ModRM 05");
        assertEquals(SCRATCH, fpu.fpuDp());
        assertEquals(0x007B, fpu.fpuDs());
        host.eip = 0xC0105555;
        op(0xD9, 0xE8); // FLD1: register form keeps the data pointer
        assertEquals(0xC0105555, fpu.fpuIp());
        assertEquals(0x1E8, fpu.fpuOpcode());
        assertEquals(SCRATCH, fpu.fpuDp(), "data pointer kept");
        host.eip = 0xC0109999;
        op(0xDB, 0xE2); // FNCLEX: control instruction
        setCw(0x037F); // FLDCW: control instruction
        assertEquals(0xC0105555, fpu.fpuIp(), "control instructions leave the pointers");
    }

    // ---- rounding control

    double fistWithRc(int rc, double v, int bits) {
        op(0xDB, 0xE3);
        setCw(0x037F | (rc << 10));
        loadDouble(v);
        switch (bits) {
            case 16 -> {
                mem(0xDF, 3, 0x420);
                return (short) host.readWord(0, 0x420);
            }
            case 32 -> {
                mem(0xDB, 3, 0x420);
                return host.readDword(0, 0x420);
            }
            default -> {
                mem(0xDF, 7, 0x420);
                return host.q(0x420);
            }
        }
    }

    @Test
    void fistRoundsUnderEachRoundingControl() {
        double[] in = {2.5, -2.5, 3.5, -0.5, 1.25};
        double[][] expect = {
            {2, -2, 4, -0.0, 1}, // nearest, ties to even
            {2, -3, 3, -1, 1}, // down
            {3, -2, 4, 0, 2}, // up
            {2, -2, 3, 0, 1}, // chop
        };
        for (int rc = 0; rc < 4; rc++) {
            for (int k = 0; k < in.length; k++) {
                for (int bits : new int[] {16, 32, 64}) {
                    assertEquals(expect[rc][k], fistWithRc(rc, in[k], bits), 0.0,
                            "FISTP m" + bits + " of " + in[k] + " with RC=" + rc);
                }
            }
        }
    }

    @Test
    void fistOfAnInexactValueSetsPeAndC1WhenRoundedUp() {
        fistWithRc(0, 2.75, 32);
        assertFlags(0x0220, 0x02FF, "PE, C1 (rounded up to 3)");
        fistWithRc(0, 2.25, 32);
        assertFlags(0x0020, 0x0200, "C1 clear when rounded down");
    }

    @Test
    void fistOutOfRangeStoresTheIntegerIndefiniteAndSetsIe() {
        assertEquals((short) 0x8000, (short) fistWithRc(0, 40000.0, 16), "m16 indefinite");
        assertFlags(0x0001, EXC, "IE only (no PE)");
        assertEquals(Integer.MIN_VALUE, fistWithRc(0, 3e9, 32), 0.0);
        assertEquals((double) Long.MIN_VALUE, fistWithRc(0, 1e19, 64), 0.0);
        assertEquals(-32768.0, fistWithRc(0, -32768.0, 16), 0.0, "-32768 is in range");
    }

    @Test
    void frndintHonoursRoundingControl() {
        double[] in = {1.5, -1.5, 0.5, -0.4};
        double[][] expect = {{2, -2, 0, -0.0}, {1, -2, 0, -1}, {2, -1, 1, -0.0}, {1, -1, 0, -0.0}};
        for (int rc = 0; rc < 4; rc++) {
            for (int k = 0; k < in.length; k++) {
                op(0xDB, 0xE3);
                setCw(0x037F | (rc << 10));
                loadDouble(in[k]);
                op(0xD9, 0xFC);
                double got = storeDouble();
                assertEquals(Double.doubleToRawLongBits(expect[rc][k]), Double.doubleToRawLongBits(got),
                        "FRNDINT " + in[k] + " RC=" + rc + " gave " + got);
            }
        }
    }

    @Test
    void additionRoundsExactlyUnderEachRoundingControl() {
        long[] expectSig = {Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE | 1, Long.MIN_VALUE};
        for (int rc = 0; rc < 4; rc++) {
            setCw(0x037F | (rc << 10));
            load80(0x3FFF, Long.MIN_VALUE); // 1
            load80(0x3FFF - 64, Long.MIN_VALUE); // 2^-64
            op(0xDE, 0xC1); // FADDP
            assertSt(0, 0x3FFF, expectSig[rc], "1 + 2^-64 with RC=" + rc);
            assertFlags(rc == 2 ? 0x0220 : 0x0020, 0x02FF, "PE, C1 when rounded up");
            op(0xDB, 0xE3); // FNINIT
        }
    }

    @Test
    void precisionControlRoundsTheSignificand() {
        int[] pc = {0, 1, 2, 3};
        long[] expect = {0xAAAAAB0000000000L, 0xAAAAAAAAAAAAAAABL, 0xAAAAAAAAAAAAA800L, 0xAAAAAAAAAAAAAAABL};
        for (int k = 0; k < 4; k++) {
            setCw(0x007F | (pc[k] << 8));
            loadDouble(3.0);
            loadDouble(1.0);
            op(0xD8, 0xF1); // FDIV ST(0), ST(1)
            assertSt(0, 0x3FFD, expect[k], "1/3 with PC=" + pc[k] + " (1 = reserved, behaves as 64)");
            op(0xDB, 0xE3);
        }
    }

    @Test
    void fldConstantsAreRoundedUnderRc() {
        op(0xD9, 0xEB); // FLDPI, nearest
        assertSt(0, 0x4000, 0xC90FDAA22168C235L, "pi rounded to nearest");
        setCw(0x077F); // down
        op(0xD9, 0xEB);
        assertSt(0, 0x4000, 0xC90FDAA22168C234L, "pi rounded down");
        setCw(0x0B7F); // up
        op(0xD9, 0xE9); // FLDL2T
        assertSt(0, 0x4000, 0xD49A784BCD1B8AFFL, "log2(10) rounded up");
        assertFlags(0, EXC, "no precision exception from the constants");
    }

    // ---- arithmetic with known results

    @Test
    void sqrtOfTwoIsCorrectlyRounded() {
        loadDouble(2.0);
        op(0xD9, 0xFA);
        assertSt(0, 0x3FFF, 0xB504F333F9DE6484L, "sqrt(2)");
        assertFlags(0x0020, 0x02FF, "PE, not rounded up");
    }

    @Test
    void sqrtOf32767point5AsTheHostGivesIt() {
        // the differential tests' old FSQRT gap: the host gives 4006:b50498b169a3bdde
        loadDouble(32767.5);
        op(0xD9, 0xFA);
        assertSt(0, 0x4006, 0xB50498B169A3BDDEL, "sqrt(32767.5)");
    }

    @Test
    void squareRootsOfRandomSignificandsAreCorrectlyRounded() {
        java.util.Random r = new java.util.Random(42);
        X87Arith x = new X87Arith();
        for (int i = 0; i < 20_000; i++) {
            long m = r.nextLong() | Long.MIN_VALUE;
            if (i % 7 == 0) {
                m = -1L - r.nextInt(1000); // near 2^64
            }
            int e = 0x3FFF + (i & 1);
            x.begin(0x037F);
            x.sqrt(e, m, 64);
            java.math.BigInteger big = new java.math.BigInteger(Long.toUnsignedString(m)).shiftLeft((i & 1) == 0 ? 63 : 64);
            java.math.BigInteger[] qr = big.sqrtAndRemainder();
            java.math.BigInteger q = qr[1].compareTo(qr[0]) > 0 ? qr[0].add(java.math.BigInteger.ONE) : qr[0];
            long expected = q.bitLength() > 64 ? Long.MIN_VALUE : q.longValue();
            int expectedE = 0x3FFF + (q.bitLength() > 64 ? 1 : 0);
            assertEquals(String.format("%04x:%016x", expectedE, expected), String.format("%04x:%016x", x.rse, x.rsig),
                    String.format("sqrt of %04x:%016x", e, m));
        }
    }

    @Test
    void quotientsOfRandomSignificandsAreCorrectlyRounded() {
        java.util.Random r = new java.util.Random(43);
        X87Arith x = new X87Arith();
        for (int i = 0; i < 20_000; i++) {
            long a = r.nextLong() | Long.MIN_VALUE, b = r.nextLong() | Long.MIN_VALUE;
            if (i % 5 == 0) {
                b = a - r.nextInt(3); // quotients near 1
            }
            x.begin(0x037F);
            x.arith(X87Arith.DIV, 0x3FFF, a, 0x3FFF, b, 64);
            // a / b in [0.5, 2): scale so the quotient has 64 or 65 bits, then round to nearest even
            java.math.BigInteger ba = new java.math.BigInteger(Long.toUnsignedString(a)), bb = new java.math.BigInteger(Long.toUnsignedString(b));
            boolean ge = ba.compareTo(bb) >= 0;
            java.math.BigInteger[] qr = ba.shiftLeft(ge ? 63 : 64).divideAndRemainder(bb);
            java.math.BigInteger q = qr[0];
            int c = qr[1].shiftLeft(1).compareTo(bb);
            if (c > 0 || (c == 0 && q.testBit(0))) {
                q = q.add(java.math.BigInteger.ONE);
            }
            int e = ge ? 0x3FFF : 0x3FFE;
            if (q.bitLength() > 64) {
                q = q.shiftRight(1);
                e++;
            }
            assertEquals(String.format("%04x:%016x", e, q.longValue()), String.format("%04x:%016x", x.rse, x.rsig),
                    String.format("%016x / %016x", a, b));
        }
    }

    @Test
    void divisionByZeroGivesASignedInfinityAndZe() {
        loadDouble(0.0);
        loadDouble(-3.0);
        op(0xD8, 0xF1);
        assertSt(0, 0xFFFF, Long.MIN_VALUE, "-3/0 = -inf");
        assertFlags(0x0004, EXC, "ZE");
    }

    @Test
    void zeroOverZeroIsInvalid() {
        loadDouble(0.0);
        loadDouble(0.0);
        op(0xD8, 0xF1);
        assertSt(0, 0xFFFF, 0xC000000000000000L, "indefinite");
        assertFlags(0x0001, EXC, "IE");
    }

    @Test
    void infinityMinusInfinityIsInvalid() {
        loadDouble(Double.POSITIVE_INFINITY);
        loadDouble(Double.POSITIVE_INFINITY);
        op(0xD8, 0xE1); // FSUB
        assertSt(0, 0xFFFF, 0xC000000000000000L, "indefinite");
        assertFlags(0x0001, EXC, "IE");
    }

    @Test
    void aSignallingNanOperandIsQuietedWithIe() {
        load80(0x7FFF, 0x8000000000000005L); // SNaN
        loadDouble(1.0);
        op(0xD8, 0xC1);
        assertSt(0, 0x7FFF, 0xC000000000000005L, "quieted SNaN");
        assertFlags(0x0001, EXC, "IE");
    }

    @Test
    void twoQuietNansGiveTheOneWithTheLargerSignificand() {
        load80(0x7FFF, 0xC000000000000001L);
        load80(0xFFFF, 0xC000000000000002L);
        op(0xD8, 0xC1);
        assertSt(0, 0xFFFF, 0xC000000000000002L, "larger significand wins");
        assertFlags(0, EXC, "quiet NaNs raise nothing");
    }

    @Test
    void overflowMaskedGivesInfinityWithOePeAndC1() {
        load80(0x7FFE, -1L);
        load80(0x7FFE, -1L);
        op(0xD8, 0xC9); // FMUL
        assertSt(0, 0x7FFF, Long.MIN_VALUE, "+inf");
        assertFlags(0x0228, 0x02FF, "OE|PE|C1");
    }

    @Test
    void unmaskedOverflowDeliversTheBiasAdjustedResult() {
        setCw(0x0377);
        load80(0x7000, Long.MIN_VALUE);
        load80(0x7000, Long.MIN_VALUE);
        op(0xD8, 0xC9);
        assertSt(0, 0x4001, Long.MIN_VALUE, "exponent reduced by 24576");
        assertFlags(0x8088, 0x80FF, "OE with ES|B");
    }

    @Test
    void underflowToADenormalSetsUeAndPe() {
        load80(0x0001, 0xC000000000000000L); // 1.5 * 2^-16382
        loadDouble(0.5);
        op(0xD8, 0xC9);
        assertSt(0, 0x0000, 0x6000000000000000L, "denormal 0.75 * 2^-16382");
        assertFlags(0, UE_PE_MASK, "exact: no UE when masked");
        load80(0x3FFD, 0xAAAAAAAAAAAAAAABL); // 1/3
        op(0xD8, 0xC9);
        assertFlags(0x0030, UE_PE_MASK, "inexact tiny: UE|PE");
    }

    static final int UE_PE_MASK = 0x0030;

    @Test
    void fpremLeavesTheLowQuotientBitsInC0C3C1() {
        loadDouble(2.0);
        loadDouble(7.0);
        op(0xD9, 0xF8); // FPREM: 7 = 3*2 + 1
        assertFlags(0x4200, 0x4700, "Q=3: C3 (Q1), C1 (Q0), C2 clear (complete)");
        assertEquals(1.0, storeDouble());
    }

    @Test
    void fprem1RoundsTheQuotientToNearest() {
        loadDouble(2.0);
        loadDouble(7.0);
        op(0xD9, 0xF5); // FPREM1: 7 = 4*2 - 1
        assertFlags(0x0100, 0x4700, "Q=4: C0 (Q2)");
        assertEquals(-1.0, storeDouble());
    }

    @Test
    void fpremOfAHugeExponentDifferenceIsPartial() {
        load80(0x3FFF, 0xB17217F7D1CF79ABL);
        load80(0x4000 + 200, 0xC90FDAA22168C234L);
        op(0xD9, 0xF8);
        assertSt(0, 0x409F, 0x83515229FB184C87L, "partial remainder as the hardware computes it");
        assertFlags(0x0400, 0x4700, "C2: incomplete");
    }

    @Test
    void fscaleAndFxtractAreInverse() {
        loadDouble(3.7);
        loadDouble(1.5);
        op(0xD9, 0xFD); // FSCALE: 1.5 * 2^3
        assertEquals(12.0, storeDouble());
        op(0xD9, 0xF4); // FXTRACT
        assertEquals(1.5, storeDouble(), "significand in ST(0)");
        op(0xD9, 0xC9);
        assertEquals(3.0, storeDouble(), "exponent in ST(1)");
    }

    @Test
    void fxtractOfZeroGivesMinusInfinityAndZe() {
        loadDouble(-0.0);
        op(0xD9, 0xF4);
        assertSt(0, 0x8000, 0, "significand keeps the sign");
        assertSt(1, 0xFFFF, Long.MIN_VALUE, "exponent -inf");
        assertFlags(0x0004, EXC, "ZE");
    }

    @Test
    void integerOperandsAreConvertedExactly() {
        host.writeDword(0, 0x430, 7);
        loadDouble(0.5);
        mem(0xDA, 0, 0x430); // FIADD m32int
        assertEquals(7.5, storeDouble());
        host.writeWord(0, 0x434, -3 & 0xFFFF);
        mem(0xDE, 7, 0x434); // FIDIVR m16int: -3 / 7.5
        assertEquals(-0.4, storeDouble(), 1e-16);
    }

    // ---- comparisons

    int compareCc(double st0, double other, int opcode, int modrm) {
        op(0xDB, 0xE3);
        loadDouble(other);
        loadDouble(st0);
        op(opcode, modrm);
        return sw() & 0x4500;
    }

    @Test
    void fcomSetsC3C2C0ForGreaterLessEqualAndUnordered() {
        assertEquals(0x0000, compareCc(2, 1, 0xD8, 0xD1), "2 > 1");
        assertEquals(0x0100, compareCc(1, 2, 0xD8, 0xD1), "1 < 2: C0");
        assertEquals(0x4000, compareCc(-0.0, 0.0, 0xD8, 0xD1), "-0 = +0: C3");
        assertEquals(0x4500, compareCc(Double.NaN, 0.0, 0xD8, 0xD1), "unordered: C3 C2 C0");
        assertFlags(0x0001, EXC, "FCOM with a QNaN raises IE");
        assertEquals(0x4500, compareCc(Double.NaN, 0.0, 0xDD, 0xE1), "FUCOM unordered");
        assertFlags(0, EXC, "FUCOM with a QNaN raises nothing");
    }

    @Test
    void fcomppPopsTwice() {
        loadDouble(1);
        loadDouble(2);
        op(0xDE, 0xD9);
        assertEquals(0, fpu.top());
        assertEquals(0xFFFF, fpu.tagWord());
    }

    @Test
    void fcomiSetsZfPfCf() {
        loadDouble(1);
        loadDouble(2);
        op(0xDB, 0xF1); // FCOMI ST(0), ST(1): 2 > 1
        assertEquals(0x00, host.compareFlags, "greater: none");
        op(0xD9, 0xC9);
        op(0xDB, 0xF1);
        assertEquals(0x01, host.compareFlags, "less: CF");
        op(0xD9, 0xC0); // FLD ST(0)
        op(0xDF, 0xF1); // FCOMIP
        assertEquals(0x40, host.compareFlags, "equal: ZF");
        loadDouble(Double.NaN);
        op(0xDF, 0xE9); // FUCOMIP
        assertEquals(0x45, host.compareFlags, "unordered: ZF PF CF");
        assertEquals(6, fpu.top(), "both P forms popped");
    }

    @Test
    void fcmovMovesOnlyWhenItsConditionHolds() {
        loadDouble(5);
        loadDouble(1);
        host.eflags = 0x02; // CF=0
        op(0xDA, 0xC1); // FCMOVB: not taken
        assertEquals(1.0, storeDouble());
        op(0xDB, 0xC1); // FCMOVNB: taken
        assertEquals(5.0, storeDouble());
        op(0xD9, 0xE8);
        host.eflags = 0x46; // ZF, PF
        op(0xDA, 0xCA); // FCMOVE ST(0), ST(2)
        assertEquals(5.0, storeDouble());
    }

    @Test
    void fxamClassifiesEveryKindOfOperand() {
        Object[][] cases = {
            {0x3FFF, Long.MIN_VALUE, 0x0400, "normal"},
            {0x0000, 0L, 0x4000, "zero"},
            {0x0000, 1L, 0x4400, "denormal"},
            {0x7FFF, Long.MIN_VALUE, 0x0500, "infinity"},
            {0x7FFF, 0xC000000000000000L, 0x0100, "NaN"},
            {0x3FFF, 0x4000000000000000L, 0x0000, "unnormal (unsupported)"},
            {0x8000, 0L, 0x4200, "negative zero: C1 is the sign"},
        };
        for (Object[] c : cases) {
            op(0xDB, 0xE3);
            load80((Integer) c[0], (Long) c[1]);
            op(0xD9, 0xE5);
            assertEquals(String.format("%04x", (Integer) c[2]), String.format("%04x", sw() & 0x4700), (String) c[3]);
        }
        op(0xDB, 0xE3);
        op(0xD9, 0xE5);
        assertEquals(0x4100, sw() & 0x4500, "empty: C3 C0");
    }

    // ---- formats

    @Test
    void fbldAndFbstpRoundTripPackedBcd() {
        long[][] values = {{0x3456789012345678L, 0x12}, {0x9999999999999999L, 0x99}, {0L, 0}, {1L, 0}};
        for (long[] v : values) {
            for (int sign : new int[] {0, 0x8000}) {
                host.putQ(0x440, v[0]);
                host.writeWord(0, 0x448, sign | (int) v[1]);
                mem(0xDF, 4, 0x440); // FBLD
                mem(0xDF, 6, 0x450); // FBSTP
                assertEquals(Long.toHexString(v[0]), Long.toHexString(host.q(0x450)), "digits 15..0");
                assertEquals(Integer.toHexString(sign | (int) v[1]), Integer.toHexString(host.readWord(0, 0x458)), "sign and digits 17, 16");
            }
        }
    }

    @Test
    void fbldGivesTheDecimalValue() {
        host.putQ(0x440, 0x0000000000012345L);
        host.writeWord(0, 0x448, 0x8000);
        mem(0xDF, 4, 0x440);
        assertEquals(-12345.0, storeDouble());
    }

    @Test
    void fbstpOfAnOutOfRangeValueStoresTheBcdIndefinite() {
        loadDouble(1e19);
        mem(0xDF, 6, 0x460);
        assertEquals(0xC000000000000000L, host.q(0x460));
        assertEquals(0xFFFF, host.readWord(0, 0x468));
        assertFlags(0x0001, EXC, "IE");
    }

    @Test
    void fstM32RoundsAndDenormalises() {
        load80(0x3FFF - 130, 0xFFFFFFFFFFFFFFFFL); // just below 2^-130: a single denormal
        mem(0xD9, 3, 0x470);
        assertEquals(0x00100000, host.readDword(0, 0x470), "rounds up to 2^-130 = denormal 0x00100000");
        assertFlags(0x0230, 0x02FF, "UE|PE, C1 rounded up");
    }

    @Test
    void fldM32OfASignallingNanQuietsItWithIe() {
        host.writeDword(0, 0x480, 0x7F800001);
        mem(0xD9, 0, 0x480);
        assertSt(0, 0x7FFF, 0xC000010000000000L, "quieted");
        assertFlags(0x0001, EXC, "IE");
    }

    @Test
    void fldM64OfADenormalNormalisesItAndSetsDe() {
        host.putQ(0x480, 1L); // 2^-1074
        mem(0xDD, 0, 0x480);
        assertSt(0, 0x3FFF - 1074, Long.MIN_VALUE, "normal in extended format");
        assertFlags(0x0002, EXC, "DE");
    }

    // ---- transcendental

    @Test
    void transcendentalsOfSimpleArgumentsMatchTheHardwareBitForBit() {
        // {instruction modrm, ST(0), ST(1), expected se, expected significand, expected C1}
        Object[][] cases = {
            {0xFE, 1.0, null, 0x3FFE, 0xD76AA47848677021L, true, "sin 1"},
            {0xFF, 1.0, null, 0x3FFE, 0x8A51407DA8345C92L, true, "cos 1"},
            {0xF3, 1.0, 1.0, 0x3FFE, 0xC90FDAA22168C235L, true, "atan(1/1) = pi/4"},
            {0xF1, 10.0, 1.0, 0x4000, 0xD49A784BCD1B8AFEL, false, "1 * log2 10"},
            {0xF0, 0.5, null, 0x3FFD, 0xD413CCCFE7799211L, false, "2^0.5 - 1"},
        };
        for (Object[] c : cases) {
            op(0xDB, 0xE3);
            if (c[2] != null) {
                loadDouble((Double) c[2]);
            }
            loadDouble((Double) c[1]);
            op(0xD9, (Integer) c[0]);
            assertSt(0, (Integer) c[3], (Long) c[4], (String) c[6]);
            assertEquals((Boolean) c[5], (sw() & X87.SW_C1) != 0, c[6] + ": C1 (rounded up)");
            assertFlags(0x0020, 0x0420, c[6] + ": PE, C2 clear");
        }
    }

    @Test
    void fsinOfAnArgumentOf2To63IsOutOfRange() {
        load80(0x403E, Long.MIN_VALUE);
        op(0xD9, 0xFE);
        assertSt(0, 0x403E, Long.MIN_VALUE, "unchanged");
        assertFlags(0x0400, 0x047F, "C2 only");
    }

    @Test
    void fptanPushesOne() {
        loadDouble(1.0);
        op(0xD9, 0xF2);
        assertSt(0, 0x3FFF, Long.MIN_VALUE, "1.0 pushed");
        // tan 1 correctly rounded; the recorded hardware gives ...2DC6 (one unit above, C1 set)
        assertSt(1, 0x3FFF, 0xC75922E5F71D2DC5L, "tan 1");
    }

    @Test
    void fyl2xOfAPowerOfTwoIsExact() {
        loadDouble(3.0);
        loadDouble(0.125);
        op(0xD9, 0xF1); // 3 * log2(1/8)
        assertEquals(-9.0, storeDouble());
        assertEquals(7, fpu.top(), "popped");
    }

    // ---- state images

    @Test
    void fnsaveImageHasTheProtectedMode32BitLayout() {
        host.eip = 0x11223344;
        host.cs = 0x0073;
        host.selectors[DS] = 0x007B;
        setCw(0x0B7F);
        loadDouble(2.0); // at SCRATCH: sets the data pointer
        op(0xD9, 0xEE); // FLDZ
        byte[] img = new byte[108];
        fpu.fnsave(img);
        assertEquals(0xFFFF0B7F, X87.getInt(img, 0), "CW, upper half ones");
        assertEquals(0xFFFF3000, X87.getInt(img, 4), "SW with TOP=6");
        assertEquals(0xFFFF1FFF, X87.getInt(img, 8), "TW: R7 valid (00), R6 zero (01), others empty (11)");
        assertEquals(0x11223344, X87.getInt(img, 12), "FIP");
        assertEquals(0x01EE0073, X87.getInt(img, 16), "FCS and opcode D9 EE");
        assertEquals(SCRATCH, X87.getInt(img, 20), "FDP");
        assertEquals(0xFFFF007B, X87.getInt(img, 24), "FDS");
        assertEquals(0L, X87.getLong(img, 28), "ST(0) = +0 significand");
        assertEquals(0, X87.getShort(img, 36), "ST(0) exponent");
        assertEquals(Long.MIN_VALUE, X87.getLong(img, 38), "ST(1) = 2.0");
        assertEquals(0x4000, X87.getShort(img, 46));
        assertFalse(fpu.stEmpty(0), "fnsave(byte[]) does not reinitialise");
    }

    @Test
    void frstorRestoresEverythingFnsaveSaved() {
        setCw(0x0A7F);
        loadDouble(-7.25);
        load80(0x7FFF, 0x8000000000000001L);
        op(0xD9, 0xF7); // FINCSTP: ST(7) non-empty
        byte[] img = new byte[108];
        fpu.fnsave(img);
        X87 other = new X87(new X87TestHost());
        other.frstor(img);
        byte[] again = new byte[108];
        other.fnsave(again);
        assertArrayEquals(img, again);
    }

    @Test
    void fnsaveInstructionStoresThenReinitialises() {
        loadDouble(1.5);
        mem(0xDD, 6, 0x500); // FNSAVE m108
        assertEquals(0x037F, fpu.controlWord());
        assertEquals(0xFFFF, fpu.tagWord());
        assertEquals(0xFFFF3FFF, host.readDword(0, 0x508), "saved tag word");
        mem(0xDD, 4, 0x500); // FRSTOR
        assertEquals(1.5, storeDouble());
    }

    @Test
    void sixteenBitEnvironmentIsFourteenBytes() {
        host.eip = 0x00012345;
        loadDouble(1.0);
        host.writeWord(0, 0x60E, 0xEEEE);
        fpu.execute(0xD9, 0x35, DS, 0x600, false); // FNSTENV, 16-bit
        assertEquals(0x037F, host.readWord(0, 0x600), "CW");
        assertEquals(0x3800, host.readWord(0, 0x602), "SW");
        assertEquals(0x3FFF, host.readWord(0, 0x604), "TW");
        assertEquals(0x2345, host.readWord(0, 0x606), "IP offset (low 16 bits)");
        assertEquals(SCRATCH, host.readWord(0, 0x60A), "operand offset");
        assertEquals(0xEEEE, host.readWord(0, 0x60E), "nothing beyond 14 bytes");
        fpu.execute(0xD9, 0x25, DS, 0x600, false); // FLDENV, 16-bit
        assertEquals(0x037F, fpu.controlWord());
    }

    @Test
    void sixteenBitFnsaveAndFrstorUseNinetyFourBytes() {
        loadDouble(-2.5);
        host.writeWord(0, 0x700 + 94, 0xBEEF);
        fpu.execute(0xDD, 0x35, DS, 0x700, false); // FNSAVE, 16-bit
        assertEquals(0xBEEF, host.readWord(0, 0x700 + 94), "nothing beyond 94 bytes");
        assertEquals(0xC000, host.readWord(0, 0x700 + 14 + 8), "ST(0) exponent at 14 + 8");
        assertEquals(0xFFFF, fpu.tagWord(), "reinitialised");
        fpu.execute(0xDD, 0x25, DS, 0x700, false); // FRSTOR, 16-bit
        assertEquals(-2.5, storeDouble());
    }

    @Test
    void fnstenvMasksEveryExceptionAfterStoring() {
        setCw(0x0360);
        mem(0xD9, 6, 0x620);
        assertEquals(0x0360, host.readWord(0, 0x620), "stored before masking");
        assertEquals(0x037F, fpu.controlWord());
    }

    @Test
    void fldenvTakesEmptinessFromTheTagWordAndRecomputesEs() {
        byte[] env = new byte[28];
        X87.putInt(env, 0, 0x037E); // IE unmasked
        X87.putInt(env, 4, 0x0001); // IE set, ES clear
        X87.putInt(env, 8, 0x3FFF); // R7 in use
        for (int i = 0; i < 28; i += 4) {
            host.writeDword(0, 0x640 + i, X87.getInt(env, i));
        }
        mem(0xD9, 4, 0x640);
        assertTrue(fpu.hasPendingException(), "ES recomputed from IE & ~IM");
        assertEquals(0x8081, sw());
        assertFalse(fpu.stEmpty(7 - fpu.top() & 7), "R7 not empty");
    }

    @Test
    void fxsaveWritesTheX87PartOfTheImageAndFxrstorReadsItBack() {
        host.eip = 0x1000;
        loadDouble(3.0);
        op(0xD9, 0xE8);
        for (int i = 0; i < 512; i++) {
            host.mem[0x800 + i] = (byte) 0xAA;
        }
        fpu.fxsave(DS, 0x800);
        assertEquals(0x037F, host.readWord(0, 0x800), "FCW");
        assertEquals(0x3000, host.readWord(0, 0x802), "FSW");
        assertEquals(0xC0, host.readByte(0, 0x804), "abridged tag: R6, R7 in use");
        assertEquals(0x1E8, host.readWord(0, 0x806), "FOP");
        assertEquals(0x1000, host.readDword(0, 0x808), "FIP");
        assertEquals(0x1F80, host.readDword(0, 0x818), "MXCSR");
        assertEquals(Long.MIN_VALUE, host.q(0x820), "ST(0) = 1.0 at 32");
        assertEquals(0x3FFF, host.readWord(0, 0x828));
        assertEquals(0x4000, host.readWord(0, 0x838), "ST(1) = 3.0 at 48");
        assertEquals(0xAAAAAAAA, host.readDword(0, 0x8A0), "XMM area untouched");
        X87 other = new X87(host);
        other.fxrstor(DS, 0x800);
        byte[] a = new byte[108], b = new byte[108];
        fpu.fnsave(a);
        other.fnsave(b);
        assertArrayEquals(a, b);
    }

    @Test
    void aFaultingStoreLeavesTheFpuUntouched() {
        loadDouble(2.0);
        byte[] before = new byte[108];
        fpu.fnsave(before);
        host.writeLimit = 0x700;
        host.eip = 0x9999;
        assertThrows(X87TestHost.Fault.class, () -> mem(0xDD, 3, 0x6FC)); // FSTP m64 across the limit
        byte[] after = new byte[108];
        fpu.fnsave(after);
        assertArrayEquals(before, after, "no pop, no flags, no pointer update");
        assertEquals(0, host.readDword(0, 0x6FC), "nothing written");
        assertThrows(X87TestHost.Fault.class, () -> fpu.fxsave(DS, 0x600));
        assertEquals(0, host.readDword(0, 0x600), "FXSAVE checks the whole area before writing");
    }
}
