package org.lguest.cpu.impl;

import static org.lguest.cpu.impl.X87Arith.*;

import java.math.BigInteger;

/**
 * The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN,
 * F2XM1, FYL2X, FYL2XP1).
 *
 * <p>Special operands (NaNs, infinities, zeros, signs, out-of-domain values)
 * follow the x87 rules, with the out-of-range behaviour of the hardware the
 * vectors were recorded on. Finite results are computed through Java doubles
 * ({@link StrictMath}, reproducible across JVMs), with these refinements so
 * the error stays near one double ulp (2^-53 relative) for every argument:
 * <ul>
 * <li>FSIN/FCOS/FSINCOS/FPTAN reduce the full 64-bit argument exactly modulo
 *     pi/2 (pi to 320 bits, integer arithmetic) and evaluate on the reduced
 *     argument as a double-double;
 * <li>FYL2X/FYL2XP1 take log2 of the argument in double (near 1 from the exact
 *     80-bit x - 1) and multiply by y in exact 80-bit arithmetic, so y keeps
 *     its 64 bits and the exponent range is the extended one;
 * <li>for tiny arguments the result is x (or 1) adjusted by less than an ulp
 *     in the right direction and rounded exactly under RC (sin x = x - e,
 *     tan x = x + e, cos x = 1 - e, atan(y/x) = y/x - e, 2^x - 1 = x ln 2,
 *     y log2(1 + x) = y x log2 e).
 * </ul>
 * C1 is the rounding direction only where the result is rounded in 80 bits
 * (tiny arguments); otherwise it is 0.
 */
final class X87Transcendental {
    static final int F2XM1 = 0, FYL2X = 1, FYL2XP1 = 2, FPATAN = 3, FSIN = 4, FCOS = 5, FSINCOS = 6, FPTAN = 7;

    private static final double LN2 = 0.6931471805599453;
    // ln 2 and log2 e rounded to nearest 64-bit significands
    private static final int LN2_SE = 0x3FFE;
    private static final long LN2_SIG = 0xB17217F7D1CF79ACL;
    private static final int L2E_SE = 0x3FFF;
    private static final long L2E_SIG = 0xB8AA3B295C17F0BCL;

    /** Bits of fraction in {@link #PI_OVER_2}. */
    private static final int PI_BITS = 320;
    /** floor(pi/2 * 2^PI_BITS). */
    /**
     * pi/2 as the x87 uses it for argument reduction: pi truncated to 66
     * significant bits (the recorded vectors match 66 bits exactly, and miss
     * with 65 or 70 and more), scaled by 2^PI_BITS.
     */
    private static final BigInteger PI_OVER_2 = truncate(piScaled(PI_BITS), 66);

    private static BigInteger truncate(BigInteger p, int bits) {
        int drop = p.bitLength() - bits;
        return p.shiftRight(drop).shiftLeft(drop);
    }

    private final X87Arith a;

    /** Results of {@link #trig}: the value replacing ST(0), and the value pushed (FSINCOS, FPTAN). */
    int firstSe, secondSe;
    long firstSig, secondSig;

    X87Transcendental(X87Arith a) {
        this.a = a;
    }

    /** floor(pi * 2^(bits - 1)) by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239), computed with guard bits. */
    private static BigInteger piScaled(int bits) {
        int guard = 32;
        BigInteger one = BigInteger.ONE.shiftLeft(bits + guard);
        BigInteger pi = atanInv(5, one).shiftLeft(4).subtract(atanInv(239, one).shiftLeft(2));
        return pi.shiftRight(guard + 1);
    }

    /** atan(1/n) * one, by its Taylor series. */
    private static BigInteger atanInv(int n, BigInteger one) {
        BigInteger n2 = BigInteger.valueOf((long) n * n);
        BigInteger term = one.divide(BigInteger.valueOf(n));
        BigInteger sum = term;
        for (int k = 1; term.signum() != 0; k++) {
            term = term.divide(n2);
            BigInteger t = term.divide(BigInteger.valueOf(2L * k + 1));
            sum = (k & 1) != 0 ? sum.subtract(t) : sum.add(t);
        }
        return sum;
    }

    private static int sign(int se) {
        return (se >> 15) & 1;
    }

    private int expo(int se, long sig) {
        return a.extractExponent(se, sig);
    }

    /** Result = v (finite double), exactly; signals PE. */
    private void setDouble(double v) {
        a.fromJavaDouble(v);
        a.exc |= PE;
        a.roundedUp = false;
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

    /** The finite nonzero value x, made smaller (-1) or larger (+1) in magnitude by far less than an ulp, rounded under RC. */
    private void nudged(int se, long sig, int direction) {
        int e = a.extractExponent(se, sig) + BIAS;
        long m = a.extractSignificand(se, sig);
        if (direction < 0) {
            a.round(sign(se), e, m - 1, -1L, 64, FMT_EXT);
        } else {
            a.round(sign(se), e, m, 1L, 64, FMT_EXT);
        }
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
        if (k >= 1 || (k == 0 && sig != INT_BIT)) {
            // |x| > 1 is outside the domain: the hardware leaves ST(0) as it is (signalling PE)
            setValue(se, sig);
            a.exc |= PE;
            return;
        }
        if (k < -60) {
            a.arith(MUL, se, sig, LN2_SE, LN2_SIG, 64);
            a.exc |= PE;
            return;
        }
        double x = a.toJavaDouble(se, sig);
        setDouble(StrictMath.expm1(x * LN2));
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

    /** y * l in 80-bit arithmetic (l a finite nonzero double); signals PE. */
    private void timesDouble(int ySe, long ySig, double l) {
        int saveExc = a.exc;
        a.fromJavaDouble(l);
        a.exc = saveExc;
        a.arith(MUL, ySe, ySig, a.rse, a.rsig, 64);
        inexactResult();
    }

    /** The hardware's result is never exact here: PE, and UE for a tiny (denormal) result. */
    private void inexactResult() {
        a.exc |= PE;
        if ((a.rse & 0x7FFF) == 0 && a.rsig != 0) {
            a.exc |= UE;
        }
    }

    /** x - 1, exactly (x in [0.5, 2]), as a double. */
    private double minusOne(int xSe, long xSig) {
        int saveExc = a.exc, saveRc = a.rc;
        a.rc = RC_NEAREST;
        a.arith(SUB, xSe, xSig, BIAS, INT_BIT, 64);
        double t = a.toJavaDouble(a.rse, a.rsig);
        a.exc = saveExc;
        a.rc = saveRc;
        return t;
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
            if (cy != INF) {
                a.exc |= ZE; // instead of DE, as for division
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
        long mx = a.extractSignificand(xSe, xSig);
        boolean isOne = kx == 0 && mx == INT_BIT;
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
            l = StrictMath.log1p(minusOne(xSe, xSig)) / LN2;
        } else {
            l = kx + StrictMath.log(a.toJavaDouble(BIAS, mx)) / LN2;
        }
        timesDouble(ySe, ySig, l);
    }

    private void fyl2xp1(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        int sy = sign(ySe), sx = sign(xSe);
        if (cx == INF) {
            if (sx != 0 || cy == ZERO) {
                a.invalid();
                return;
            }
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
        long mx = a.extractSignificand(xSe, xSig);
        if (cy == INF) {
            setInf(sy ^ sx);
            return;
        }
        if (cy == ZERO) {
            setZero(sy ^ sx);
            return;
        }
        if (sx != 0 && kx >= 0) {
            // x <= -1 is outside the domain: the hardware returns x (signalling PE)
            setValue(xSe, xSig);
            a.exc |= PE;
            return;
        }
        if (kx < -64) {
            // y * x * log2(e), rounded once in 80 bits
            a.multiply3(ySe, ySig, xSe, xSig, L2E_SE, L2E_SIG);
            a.exc |= PE;
            return;
        }
        double l;
        if (sx != 0 && kx == -1) {
            // x in [-1, -0.5]: 1 + x is exact in 80 bits; take log2 of it
            int saveExc = a.exc;
            a.arith(ADD, xSe, xSig, BIAS, INT_BIT, 64);
            int uSe = a.rse;
            long uSig = a.rsig;
            a.exc = saveExc;
            l = expo(uSe, uSig) + StrictMath.log(a.toJavaDouble(BIAS, a.extractSignificand(uSe, uSig))) / LN2;
        } else if (kx <= 1000) {
            l = StrictMath.log1p(a.toJavaDouble(xSe, xSig)) / LN2;
        } else {
            l = kx + StrictMath.log(a.toJavaDouble(BIAS, mx)) / LN2; // 1 + x = x here
        }
        timesDouble(ySe, ySig, l);
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
        } else {
            int ky = expo(ySe, ySig), kx = expo(xSe, xSig);
            if (sx == 0 && ky - kx < -64) {
                // atan(y/x) = y/x - (y/x)^3/3: the quotient less a hair, rounded in 80 bits
                a.minusEpsilon = true;
                a.arith(DIV, ySe, ySig, xSe, xSig, 64);
                a.minusEpsilon = false;
                a.exc |= PE;
                return;
            }
            int s = Math.max(ky, kx);
            yd = StrictMath.scalb(a.toJavaDouble(BIAS, a.extractSignificand(ySe, ySig)), ky - s);
            xd = StrictMath.scalb(a.toJavaDouble(BIAS, a.extractSignificand(xSe, xSig)), kx - s);
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
        setDouble(r);
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
        secondSe = BIAS; // 1.0, pushed by FPTAN
        secondSig = INT_BIT;
        if (c == ZERO) {
            firstSe = se;
            firstSig = sig;
            if (fn == FCOS) {
                firstSe = BIAS;
                firstSig = INT_BIT;
            }
            return;
        }
        int k = expo(se, sig);
        if (k < -40) {
            // sin x = x - e, tan x = x + e, cos x = 1 - e (e far below an ulp)
            boolean up = false;
            if (fn != FCOS) {
                nudged(se, sig, fn == FPTAN ? 1 : -1);
                up = a.roundedUp;
            }
            int vSe = a.rse;
            long vSig = a.rsig;
            if (fn == FCOS || fn == FSINCOS) {
                nudged(BIAS, INT_BIT, -1);
                if (fn == FCOS) {
                    vSe = a.rse;
                    vSig = a.rsig;
                    up = a.roundedUp;
                } else {
                    secondSe = a.rse;
                    secondSig = a.rsig;
                }
            }
            firstSe = vSe;
            firstSig = vSig;
            a.roundedUp = up;
            return;
        }
        // exact reduction: x = n * pi/2 + r, |r| <= pi/4, r as the double-double rh + rl
        long m = a.extractSignificand(se, sig);
        int shift = PI_BITS + k - 63; // x * 2^PI_BITS = m << shift
        BigInteger num = BigInteger.valueOf(m >>> 1).shiftLeft(1).or(BigInteger.valueOf(m & 1));
        num = shift >= 0 ? num.shiftLeft(shift) : num.shiftRight(-shift);
        BigInteger[] qr = num.add(PI_OVER_2.shiftRight(1)).divideAndRemainder(PI_OVER_2);
        int quadrant = qr[0].intValue() & 3;
        BigInteger r = qr[1].subtract(PI_OVER_2.shiftRight(1)); // num - n * PI_OVER_2
        double rh = 0, rl = 0;
        if (r.signum() != 0) {
            int rs = r.signum();
            BigInteger mag = r.abs();
            int bl = mag.bitLength();
            BigInteger top = bl > 106 ? mag.shiftRight(bl - 106) : mag.shiftLeft(106 - bl);
            int scale = bl - 106 - PI_BITS;
            rh = rs * StrictMath.scalb((double) top.shiftRight(53).longValue(), scale + 53);
            rl = rs * StrictMath.scalb((double) top.and(BigInteger.ONE.shiftLeft(53).subtract(BigInteger.ONE)).longValue(), scale);
        }
        double sr = StrictMath.sin(rh), cr = StrictMath.cos(rh);
        double sinR = sr + cr * rl;
        double cosR = cr - sr * rl;
        double s, co;
        switch (quadrant) {
            case 0 -> {
                s = sinR;
                co = cosR;
            }
            case 1 -> {
                s = cosR;
                co = -sinR;
            }
            case 2 -> {
                s = -sinR;
                co = -cosR;
            }
            default -> {
                s = -cosR;
                co = sinR;
            }
        }
        if (sign(se) != 0) {
            s = -s;
        }
        switch (fn) {
            case FSIN -> {
                setDouble(s);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FCOS -> {
                setDouble(co);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FSINCOS -> {
                setDouble(s);
                firstSe = a.rse;
                firstSig = a.rsig;
                setDouble(co);
                secondSe = a.rse;
                secondSig = a.rsig;
            }
            default -> { // FPTAN
                setDouble(s / co);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
        }
        a.roundedUp = false;
    }
}
