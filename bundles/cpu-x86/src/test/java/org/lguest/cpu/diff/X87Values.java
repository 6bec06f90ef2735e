package org.lguest.cpu.diff;

import java.util.SplittableRandom;

/** Operand values for x87 cases, and which status-word bits an x87 instruction leaves undefined. */
final class X87Values {
    /** Data-area offset where the loads before the instruction under test take their values. */
    static final int AREA = 0x1f00;

    static final int C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, ZE = 0x4;
    /**
     * DE is not compared after a division that raised ZE: an AMD host does not report a denormal
     * dividend when the divisor is zero; the SDM's priority list would flag both.
     */
    static final int DE = 0x2;

    private static final double[] SPECIAL = {0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 3.0, -7.25, 1.0 / 3, Math.PI, 1e10,
        -1e-10, Double.MAX_VALUE, Double.MIN_NORMAL, Double.MIN_VALUE, -4.9e-320, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 9.223372036854775807e18, -9.223372036854775808e18, 2147483648.0, -2147483648.5,
        32767.5, -32768.0, 65535.5, 1e300, -1e-300, 0.49999999999999994, 1.5, 2.5, -2.5, 1e18, 123456789.0};

    static long f64(SplittableRandom r) {
        int p = r.nextInt(100);
        if (p < 55) {
            return Double.doubleToRawLongBits(SPECIAL[r.nextInt(SPECIAL.length)]);
        } else if (p < 60) {
            return r.nextBoolean() ? 0x7ff8_0000_0000_0000L | r.nextLong(1 << 20) : 0x7ff0_0000_0000_0001L
                    | r.nextLong(1 << 20) | (r.nextBoolean() ? Long.MIN_VALUE : 0);
        } else if (p < 85) {
            return Double.doubleToRawLongBits((r.nextDouble() - 0.5) * Math.pow(2, r.nextInt(-70, 70)));
        }
        return r.nextLong();
    }

    static int f32(SplittableRandom r) {
        int p = r.nextInt(100);
        if (p < 55) {
            return Float.floatToRawIntBits((float) SPECIAL[r.nextInt(SPECIAL.length)]);
        } else if (p < 60) {
            return r.nextBoolean() ? 0x7fc0_0000 | r.nextInt(1 << 10) : 0xff80_0001 | r.nextInt(1 << 10);
        } else if (p < 85) {
            return Float.floatToRawIntBits((float) ((r.nextDouble() - 0.5) * Math.pow(2, r.nextInt(-30, 30))));
        }
        return r.nextInt();
    }

    /** An 80-bit extended value: mostly a double widened exactly, sometimes raw bits (unnormals, pseudo-NaNs, ...). */
    static byte[] f80(SplittableRandom r) {
        long mant;
        int se;
        if (r.nextInt(100) < 12) {
            mant = r.nextLong();
            se = r.nextInt(0x10000);
            if (r.nextBoolean()) {
                se = (se & 0x8000) | (r.nextBoolean() ? 0x7fff : 0);
            }
        } else {
            long bits = f64(r);
            int sign = (int) (bits >>> 63);
            int exp = (int) (bits >>> 52) & 0x7ff;
            long m = bits & ((1L << 52) - 1);
            int e80;
            if (exp == 0x7ff) {
                e80 = 0x7fff;
                mant = Long.MIN_VALUE | m << 11;
            } else if (exp == 0) {
                if (m == 0) {
                    e80 = 0;
                    mant = 0;
                } else {
                    int lz = Long.numberOfLeadingZeros(m);
                    mant = m << lz;
                    e80 = 63 - 1074 - lz + 16383;
                }
            } else {
                e80 = exp - 1023 + 16383;
                mant = Long.MIN_VALUE | m << 11;
            }
            se = sign << 15 | e80;
        }
        byte[] b = new byte[10];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (mant >>> (8 * i));
        }
        b[8] = (byte) se;
        b[9] = (byte) (se >>> 8);
        return b;
    }

    /** Packed BCD: 18 digits and a sign byte; sometimes an invalid digit. */
    static byte[] bcd(SplittableRandom r) {
        byte[] b = new byte[10];
        int digits = r.nextInt(1, 19);
        for (int i = 0; i < digits; i++) {
            int d = r.nextInt(100) < 3 ? r.nextInt(10, 16) : r.nextInt(10);
            b[i / 2] |= (byte) (i % 2 == 0 ? d : d << 4);
        }
        b[9] = (byte) (r.nextBoolean() ? 0x80 : 0);
        return b;
    }

    /**
     * Status-word bits not compared after {@code mnemonic}: the SDM leaves C0, C2 and C3 undefined after
     * every x87 instruction but comparisons, FXAM, FPREM/FPREM1 and the state loads; C1 is undefined after
     * FLDCW, FNSTCW, FNSTSW, FNOP, FFREE and FWAIT. (FXAM of an empty ST(0) reports the sign of whatever
     * the register held before, so the generator also leaves out C1 for FXAM without loads before it.)
     */
    static int undefinedStatus(String mnemonic) {
        String m = mnemonic.split(" ")[0];
        boolean definesC023 = m.startsWith("FCOM") || m.startsWith("FUCOM") || m.startsWith("FICOM")
                || m.equals("FTST") || m.equals("FXAM") || m.equals("FPREM") || m.equals("FPREM1")
                || m.equals("FLDENV") || m.equals("FRSTOR") || m.equals("FNINIT") || m.equals("FNCLEX");
        boolean c1Undefined = m.equals("FLDCW") || m.equals("FNSTCW") || m.equals("FNSTSW") || m.equals("FNOP")
                || m.equals("FFREE") || m.equals("FWAIT");
        return (definesC023 ? 0 : C0 | C2 | C3) | (c1Undefined ? C1 : 0);
    }

    private X87Values() {
    }
}
