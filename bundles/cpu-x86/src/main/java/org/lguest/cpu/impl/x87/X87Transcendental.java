package org.lguest.cpu.impl.x87;

import static org.lguest.cpu.impl.x87.X87Arith.*;

import java.math.BigInteger;

/**
 * The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN,
 * F2XM1, FYL2X, FYL2XP1).
 *
 * <p>Special operands (NaNs, infinities, zeros, signs, out-of-domain values)
 * follow the x87 rules, with the out-of-range behaviour of the hardware the
 * vectors were recorded on. Finite results are evaluated in fixed point with
 * 192 fraction bits ({@link X87Fixed}) and rounded once to 64 bits under RC,
 * which also gives C1. FSIN/FCOS/FSINCOS/FPTAN first reduce the argument
 * exactly modulo pi/2 where pi is the x87's own 66-bit approximation, as the
 * hardware does. For tiny arguments the result is x (or 1) moved by less than
 * an ulp in the right direction and rounded under RC (sin x = x - e,
 * cos x = 1 - e, atan(y/x) = y/x - e; tan x as the hardware rounds it: as if
 * below x, or above x for a denormal x); for 2^x - 1 and y log2(1 + x)
 * with |x| below 2^-100 the first-order term (x ln 2, y x log2 e) is
 * rounded.
 */
final class X87Transcendental {
    static final int F2XM1 = 0, FYL2X = 1, FYL2XP1 = 2, FPATAN = 3, FSIN = 4, FCOS = 5, FSINCOS = 6, FPTAN = 7;

    /** log2(e) in fixed point. */
    private static final BigInteger L2E = X87Fixed.div(X87Fixed.ONE, X87Fixed.LN2);

    /**
     * pi/2 as the x87 uses it for argument reduction: pi truncated to 66
     * significant bits (the recorded vectors match 66 bits exactly, and miss
     * with 65 or 70 and more), in fixed point.
     */
    private static final BigInteger PI_OVER_2 = truncate(X87Fixed.PI, 66).shiftRight(1);
    private static final BigInteger PI = X87Fixed.PI;

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

    private static BigInteger unsigned(long m) {
        return new BigInteger(Long.toUnsignedString(m));
    }

    private static int sign(int se) {
        return (se >> 15) & 1;
    }

    private int expo(int se, long sig) {
        return a.extractExponent(se, sig);
    }

    /** Result = v * 2^(extra - F) (v in fixed point), rounded to 64 bits under RC; signals PE (and C1 via roundedUp). */
    private void setFixed(BigInteger v, int extra) {
        int sgn = v.signum() < 0 ? 1 : 0;
        BigInteger mag = v.abs();
        if (mag.signum() == 0) {
            setZero(sgn);
            a.exc |= PE;
            return;
        }
        int bl = mag.bitLength();
        long hi, lo;
        if (bl > 128) {
            BigInteger top = mag.shiftRight(bl - 128);
            hi = top.shiftRight(64).longValue();
            lo = top.longValue();
            if (mag.getLowestSetBit() < bl - 128) {
                lo |= 1;
            }
        } else {
            BigInteger top = mag.shiftLeft(128 - bl);
            hi = top.shiftRight(64).longValue();
            lo = top.longValue();
        }
        a.round(sgn, bl - 1 - X87Fixed.F + extra + BIAS, hi, lo, 64, FMT_EXT);
        // the hardware treats these results as inexact even when they happen to be exact
        a.exc |= PE;
        if ((a.rse & 0x7FFF) == 0 && a.rsig != 0) {
            a.exc |= UE;
        }
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
        if (k < -100) {
            // 2^x - 1 = x ln 2 (the next term is 2^-121 of it)
            BigInteger p = unsigned(a.extractSignificand(se, sig)).multiply(X87Fixed.LN2);
            setFixed(sign(se) != 0 ? p.negate() : p, k - 63);
            return;
        }
        BigInteger x = X87Fixed.of(a.extractSignificand(se, sig), k);
        if (sign(se) != 0) {
            x = x.negate();
        }
        setFixed(X87Fixed.expm1(X87Fixed.mul(x, X87Fixed.LN2)), 0);
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

    /** y * l (l = a logarithm in fixed point), rounded once; signals PE. */
    private void timesFixed(int ySe, long ySig, BigInteger l) {
        BigInteger my = new BigInteger(Long.toUnsignedString(a.extractSignificand(ySe, ySig)));
        BigInteger p = l.multiply(my);
        if (sign(ySe) != 0) {
            p = p.negate();
        }
        setFixed(p, expo(ySe, ySig) - 63);
    }

    /** log2 of m * 2^k (m a normalised significand) in fixed point. */
    private static BigInteger log2(long m, int k) {
        BigInteger lnm = X87Fixed.lnMantissa(X87Fixed.of(m, 0));
        return BigInteger.valueOf(k).shiftLeft(X87Fixed.F).add(X87Fixed.div(lnm, X87Fixed.LN2));
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
        timesFixed(ySe, ySig, log2(mx, kx));
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
        if (kx < -100) {
            // y log2(1 + x) = y x log2(e) (the next term is 2^-121 of it)
            BigInteger p = unsigned(mx).multiply(L2E).multiply(unsigned(a.extractSignificand(ySe, ySig)));
            setFixed((sx ^ sy) != 0 ? p.negate() : p, kx - 63 + expo(ySe, ySig) - 63);
            return;
        }
        BigInteger l;
        if (kx > 400) {
            l = log2(mx, kx); // 1 + x = x to far more than 64 bits
        } else {
            BigInteger x = X87Fixed.of(mx, kx);
            if (sx != 0) {
                x = x.negate();
            }
            l = X87Fixed.div(X87Fixed.ln1p(x), X87Fixed.LN2);
        }
        timesFixed(ySe, ySig, l);
    }

    private void fpatan(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        if (denormalCheck(cy, cx)) {
            return;
        }
        int sy = sign(ySe), sx = sign(xSe);
        BigInteger angle; // in [0, pi], the sign of y applied at the end
        if (cy == ZERO || cy == INF || cx == ZERO || cx == INF) {
            if (cy == ZERO) {
                angle = sx == 0 ? BigInteger.ZERO : PI; // x = -0 counts as negative
            } else if (cy == INF) {
                angle = cx != INF ? PI.shiftRight(1) : sx == 0 ? PI.shiftRight(2) : PI.multiply(BigInteger.valueOf(3)).shiftRight(2);
            } else if (cx == ZERO) {
                angle = PI.shiftRight(1);
            } else { // x infinite, y finite
                angle = sx == 0 ? BigInteger.ZERO : PI;
            }
            if (angle.signum() == 0) {
                setZero(sy);
                return;
            }
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
            BigInteger my = X87Fixed.of(a.extractSignificand(ySe, ySig), 0);
            BigInteger mx = X87Fixed.of(a.extractSignificand(xSe, xSig), 0);
            int d = ky - kx;
            boolean yBigger = d > 0 || (d == 0 && my.compareTo(mx) > 0);
            BigInteger t;
            if (yBigger) {
                t = d >= X87Fixed.F ? BigInteger.ZERO : X87Fixed.div(mx, my).shiftRight(d);
            } else {
                t = -d >= X87Fixed.F ? BigInteger.ZERO : X87Fixed.div(my, mx).shiftRight(-d);
            }
            angle = X87Fixed.atan(t);
            if (yBigger) {
                angle = PI.shiftRight(1).subtract(angle);
            }
            if (sx != 0) {
                angle = PI.subtract(angle);
            }
        }
        setFixed(sy != 0 ? angle.negate() : angle, 0);
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
            // sin x = x - e, cos x = 1 - e (e far below an ulp); tan x as the hardware rounds it
            boolean up = false;
            if (fn != FCOS) {
                // the recorded hardware rounds tiny tangents as if just below x, denormal ones as if just above
                nudged(se, sig, fn == FPTAN && c == DENORMAL ? 1 : -1);
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
        // exact reduction: x = n * pi/2 + r, |r| <= pi/4 (pi/2 is the x87's 66-bit one)
        BigInteger num = X87Fixed.of(a.extractSignificand(se, sig), k);
        BigInteger half = PI_OVER_2.shiftRight(1);
        BigInteger[] qr = num.add(half).divideAndRemainder(PI_OVER_2);
        int quadrant = qr[0].intValue() & 3;
        BigInteger r = qr[1].subtract(half); // num - n * PI_OVER_2, exact
        // only the series the instruction needs (for odd quadrants sine and cosine swap)
        boolean needSin = fn != FCOS || (quadrant & 1) != 0;
        boolean needCos = fn != FSIN || (quadrant & 1) != 0;
        if (fn == FSIN || fn == FCOS) {
            boolean odd = (quadrant & 1) != 0;
            needSin = (fn == FSIN) != odd;
            needCos = !needSin;
        }
        BigInteger sinR = needSin ? X87Fixed.sin(r) : BigInteger.ZERO;
        BigInteger cosR = needCos ? X87Fixed.cos(r) : BigInteger.ZERO;
        BigInteger s, co;
        switch (quadrant) {
            case 0 -> {
                s = sinR;
                co = cosR;
            }
            case 1 -> {
                s = cosR;
                co = sinR.negate();
            }
            case 2 -> {
                s = sinR.negate();
                co = cosR.negate();
            }
            default -> {
                s = cosR.negate();
                co = sinR;
            }
        }
        if (sign(se) != 0) {
            s = s.negate();
        }
        switch (fn) {
            case FSIN -> {
                setFixed(s, 0);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FCOS -> {
                setFixed(co, 0);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            case FSINCOS -> {
                setFixed(co, 0);
                secondSe = a.rse;
                secondSig = a.rsig;
                setFixed(s, 0); // C1 from the sine, as the recorded vectors show
                firstSe = a.rse;
                firstSig = a.rsig;
            }
            default -> { // FPTAN
                setFixed(X87Fixed.div(s, co), 0);
                firstSe = a.rse;
                firstSig = a.rsig;
            }
        }
    }
}
