package org.lguest.cpu.impl;

import static org.lguest.cpu.impl.X87Arith.*;

/**
 * The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN,
 * F2XM1, FYL2X, FYL2XP1).
 *
 * <p>Special operands (NaNs, infinities, zeros, signs, out-of-domain values)
 * are handled exactly as the x87 does. Finite results are computed through
 * Java doubles ({@link StrictMath}, so they are reproducible across JVMs):
 * the operand is rounded to 53 bits, the exponent is carried separately where
 * the extended range exceeds the double range (FYL2X, FYL2XP1, FPATAN), and
 * the double result is converted exactly to 80 bits. Results are therefore
 * accurate to about 1 ulp of a double, not of an 80-bit value, and always
 * signal PE (except exact results such as sin(0)). For tiny arguments the
 * first-order result is computed exactly in 80 bits (sin x = x, 2^x - 1 = x ln 2,
 * y log2(1 + x) = y x log2 e).
 */
final class X87Transcendental {
    static final int F2XM1 = 0, FYL2X = 1, FYL2XP1 = 2, FPATAN = 3, FSIN = 4, FCOS = 5, FSINCOS = 6, FPTAN = 7;

    private static final double LN2 = 0.6931471805599453;
    // ln 2 and log2 e rounded to nearest 64-bit significands
    private static final int LN2_SE = 0x3FFE;
    private static final long LN2_SIG = 0xB17217F7D1CF79ACL;
    private static final int L2E_SE = 0x3FFF;
    private static final long L2E_SIG = 0xB8AA3B295C17F0BCL;

    private final X87Arith a;

    /** Results of {@link #trig}: the value replacing ST(0), and the value pushed (FSINCOS, FPTAN). */
    int firstSe, secondSe;
    long firstSig, secondSig;

    X87Transcendental(X87Arith a) {
        this.a = a;
    }

    private static int sign(int se) {
        return (se >> 15) & 1;
    }

    /** The significand of a finite nonzero value as a double in [1, 2] (sign not included). */
    private double mant(int se, long sig) {
        long m = a.extractSignificand(se, sig);
        return a.toJavaDouble(BIAS, m);
    }

    private int expo(int se, long sig) {
        return a.extractExponent(se, sig);
    }

    /** Result = v * 2^k (v finite), rounded to 64 bits; signals PE. */
    private void setScaled(double v, int k) {
        a.fromJavaDouble(v);
        int c = classify(a.rse, a.rsig);
        if (c == NORMAL || c == DENORMAL) {
            int e = a.extractExponent(a.rse, a.rsig) + BIAS;
            long m = a.extractSignificand(a.rse, a.rsig);
            a.round(sign(a.rse), e + k, m, 0, 64, FMT_EXT);
        }
        a.exc |= PE;
    }

    private void setValue(int se, long sig) {
        a.rse = se;
        a.rsig = sig;
    }

    private void setInf(int sign) {
        setValue((sign << 15) | 0x7FFF, INT_BIT);
    }

    private void setZero(int sign) {
        setValue(sign << 15, 0);
    }

    private boolean denormalCheck(int c1, int c2) {
        if (c1 == DENORMAL || c2 == DENORMAL) {
            a.exc |= DE;
        }
        return a.blocked();
    }

    /** F2XM1 on x; result in a.rse/a.rsig. */
    void unary(int fn, int se, long sig) {
        int c = classify(se, sig);
        if (a.specialUnary(se, sig, c)) {
            return;
        }
        if (c == ZERO) {
            setValue(se, sig);
            return;
        }
        if (c == INF) {
            if (sign(se) == 0) {
                setInf(0);
            } else {
                setValue(0xBFFF, INT_BIT); // -1
            }
            return;
        }
        if (denormalCheck(c, ZERO)) {
            return;
        }
        int k = expo(se, sig);
        if (k < -60) {
            a.arith(MUL, se, sig, LN2_SE, LN2_SIG, 64);
            a.exc |= PE;
            return;
        }
        double x = a.toJavaDouble(se, sig);
        setScaled(StrictMath.expm1(x * LN2), 0);
    }

    /** FYL2X, FYL2XP1, FPATAN with y = ST(1), x = ST(0); result in a.rse/a.rsig. */
    void binary(int fn, int ySe, long ySig, int xSe, long xSig) {
        int cy = classify(ySe, ySig), cx = classify(xSe, xSig);
        if (cy == UNSUPPORTED || cx == UNSUPPORTED) {
            a.invalid();
            return;
        }
        if (isNaN(cy) || isNaN(cx)) {
            a.propagateNaN(ySe, ySig, cy, xSe, xSig, cx);
            return;
        }
        switch (fn) {
            case FYL2X -> fyl2x(ySe, ySig, cy, xSe, xSig, cx);
            case FYL2XP1 -> fyl2xp1(ySe, ySig, cy, xSe, xSig, cx);
            default -> fpatan(ySe, ySig, cy, xSe, xSig, cx);
        }
    }

    private void fyl2x(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        int sy = sign(ySe), sx = sign(xSe);
        if (sx != 0 && cx != ZERO) {
            a.invalid(); // log of a negative number
            return;
        }
        if (cx == ZERO) {
            if (cy == ZERO) {
                a.invalid();
                return;
            }
            if (denormalCheck(cy, cx)) {
                return;
            }
            if (cy != INF) {
                a.exc |= ZE;
                if (a.blocked()) {
                    return;
                }
            }
            setInf(sy ^ 1);
            return;
        }
        if (cx == INF) {
            if (cy == ZERO) {
                a.invalid();
                return;
            }
            if (denormalCheck(cy, cx)) {
                return;
            }
            setInf(sy);
            return;
        }
        if (denormalCheck(cy, cx)) {
            return;
        }
        int kx = expo(xSe, xSig);
        boolean isOne = kx == 0 && a.extractSignificand(xSe, xSig) == INT_BIT;
        boolean below1 = kx < 0;
        if (cy == INF) {
            if (isOne) {
                a.invalid();
                return;
            }
            setInf(sy ^ (below1 ? 1 : 0));
            return;
        }
        if (cy == ZERO || isOne) {
            setZero(sy ^ (below1 ? 1 : 0));
            return;
        }
        double l;
        if (kx >= -1 && kx <= 0) {
            l = StrictMath.log(a.toJavaDouble(xSe, xSig)) / LN2;
        } else {
            l = kx + StrictMath.log(mant(xSe, xSig)) / LN2;
        }
        double my = mant(ySe, ySig) * (sy != 0 ? -1 : 1);
        setScaled(my * l, expo(ySe, ySig));
    }

    private void fyl2xp1(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        int sy = sign(ySe), sx = sign(xSe);
        if (cx == INF) {
            if (sx != 0 || cy == ZERO) {
                a.invalid();
                return;
            }
            if (denormalCheck(cy, cx)) {
                return;
            }
            setInf(sy);
            return;
        }
        if (cx == ZERO) {
            if (cy == INF) {
                a.invalid();
                return;
            }
            if (denormalCheck(cy, cx)) {
                return;
            }
            setZero(sy ^ sx);
            return;
        }
        if (denormalCheck(cy, cx)) {
            return;
        }
        int kx = expo(xSe, xSig);
        double xd = kx >= -1000 ? a.toJavaDouble(xSe, xSig) : 0;
        if (sx != 0 && kx >= 0) {
            // x <= -1: log2(1 + x) is -inf (x = -1) or undefined
            if (kx == 0 && a.extractSignificand(xSe, xSig) == INT_BIT) {
                if (cy == ZERO) {
                    a.invalid();
                    return;
                }
                if (cy != INF) {
                    a.exc |= ZE;
                    if (a.blocked()) {
                        return;
                    }
                }
                setInf(sy ^ 1);
            } else {
                a.invalid();
            }
            return;
        }
        if (cy == INF) {
            setInf(sy ^ sx);
            return;
        }
        if (cy == ZERO) {
            setZero(sy ^ sx);
            return;
        }
        if (kx < -60) {
            // y * x * log2(e), exactly rounded twice in 80 bits
            a.arith(MUL, xSe, xSig, L2E_SE, L2E_SIG, 64);
            int tSe = a.rse;
            long tSig = a.rsig;
            a.arith(MUL, ySe, ySig, tSe, tSig, 64);
            a.exc |= PE;
            return;
        }
        double l = StrictMath.log1p(xd) / LN2;
        double my = mant(ySe, ySig) * (sy != 0 ? -1 : 1);
        setScaled(my * l, expo(ySe, ySig));
    }

    private void fpatan(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        if (denormalCheck(cy, cx)) {
            return;
        }
        int sy = sign(ySe), sx = sign(xSe);
        double yd, xd;
        if (cy == ZERO || cy == INF || cx == ZERO || cx == INF) {
            yd = cy == ZERO ? 0.0 : cy == INF ? Double.POSITIVE_INFINITY : 1.0;
            xd = cx == ZERO ? 0.0 : cx == INF ? Double.POSITIVE_INFINITY : 1.0;
            if (cy != ZERO && cy != INF && cx == INF) {
                yd = 1.0; // finite y against infinite x
            }
        } else {
            int ky = expo(ySe, ySig), kx = expo(xSe, xSig);
            if (sx == 0 && ky - kx < -60) {
                // atan(y/x) = y/x to 80-bit precision
                a.arith(DIV, ySe & 0x7FFF, ySig, xSe, xSig, 64);
                a.rse |= sy << 15;
                a.exc |= PE;
                return;
            }
            int s = Math.max(ky, kx);
            yd = StrictMath.scalb(mant(ySe, ySig), ky - s);
            xd = StrictMath.scalb(mant(xSe, xSig), kx - s);
        }
        if (sy != 0) {
            yd = -yd;
        }
        if (sx != 0) {
            xd = -xd;
        }
        double r = StrictMath.atan2(yd, xd);
        if (r == 0) {
            setZero(sy);
            return;
        }
        setScaled(r, 0);
    }

    /** FSIN, FCOS, FSINCOS, FPTAN on a value with |x| < 2^63 (the caller handles larger ones). */
    void trig(int fn, int se, long sig) {
        int c = classify(se, sig);
        if (c == UNSUPPORTED || c == INF) {
            a.invalid();
            firstSe = secondSe = a.rse;
            firstSig = secondSig = a.rsig;
            return;
        }
        if (isNaN(c)) {
            a.specialUnary(se, sig, c);
            firstSe = secondSe = a.rse;
            firstSig = secondSig = a.rsig;
            return;
        }
        if (denormalCheck(c, ZERO)) {
            return;
        }
        a.roundedUp = false;
        int one = BIAS;
        if (c == ZERO) {
            switch (fn) {
                case FCOS -> {
                    firstSe = one;
                    firstSig = INT_BIT;
                }
                case FSINCOS -> {
                    firstSe = se;
                    firstSig = sig;
                    secondSe = one;
                    secondSig = INT_BIT;
                }
                case FPTAN -> {
                    firstSe = se;
                    firstSig = sig;
                    secondSe = one;
                    secondSig = INT_BIT;
                }
                default -> {
                    firstSe = se;
                    firstSig = sig;
                }
            }
            return;
        }
        int k = expo(se, sig);
        double sin, cos, tan;
        boolean tiny = k < -40;
        int xSe = se;
        long xSig = sig;
        if (tiny) {
            // sin x = tan x = x, cos x = 1 to 64 bits
            a.exc |= PE;
            if (c == DENORMAL) {
                a.exc |= UE;
            }
            sin = tan = 0;
            cos = 1;
        } else {
            double x = a.toJavaDouble(se, sig);
            sin = StrictMath.sin(x);
            cos = StrictMath.cos(x);
            tan = StrictMath.tan(x);
        }
        switch (fn) {
            case FSIN -> {
                valueOf(tiny, sin, xSe, xSig);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FCOS -> {
                setScaled(cos, 0);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FSINCOS -> {
                valueOf(tiny, sin, xSe, xSig);
                firstSe = a.rse;
                firstSig = a.rsig;
                setScaled(cos, 0);
                secondSe = a.rse;
                secondSig = a.rsig;
            }
            default -> { // FPTAN
                valueOf(tiny, tan, xSe, xSig);
                firstSe = a.rse;
                firstSig = a.rsig;
                secondSe = one;
                secondSig = INT_BIT;
            }
        }
        a.roundedUp = false;
    }

    private void valueOf(boolean tiny, double v, int xSe, long xSig) {
        if (tiny) {
            setValue(xSe, xSig);
        } else {
            setScaled(v, 0);
        }
    }
}
