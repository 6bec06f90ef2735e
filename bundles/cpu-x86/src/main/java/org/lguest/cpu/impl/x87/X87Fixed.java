package org.lguest.cpu.impl.x87;

import java.math.BigInteger;

/**
 * Fixed-point kernels for the x87 transcendental instructions: numbers are
 * {@link BigInteger}s scaled by 2^{@link #F}, and every function is evaluated
 * by its series to well beyond the 64 bits the result is rounded to
 * (absolute error a few units of 2^-192 on the reduced arguments used here).
 */
final class X87Fixed {
    /** Fraction bits. */
    static final int F = 192;
    static final BigInteger ONE = BigInteger.ONE.shiftLeft(F);
    static final BigInteger TWO = ONE.shiftLeft(1);
    private static final int GUARD = 32;

    /** pi, ln 2 and sqrt(2) in fixed point. */
    static final BigInteger PI = pi(F);
    static final BigInteger LN2 = ln2(F);
    static final BigInteger SQRT2 = TWO.shiftLeft(F).sqrt();
    private static final BigInteger TENTH = ONE.divide(BigInteger.TEN);

    private X87Fixed() {
    }

    /** floor(pi * 2^bits) by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239). */
    static BigInteger pi(int bits) {
        BigInteger one = BigInteger.ONE.shiftLeft(bits + GUARD);
        BigInteger pi = atanInv(5, one).shiftLeft(4).subtract(atanInv(239, one).shiftLeft(2));
        return pi.shiftRight(GUARD);
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

    /** ln 2 = 2 atanh(1/3). */
    private static BigInteger ln2(int bits) {
        BigInteger one = BigInteger.ONE.shiftLeft(bits + GUARD);
        BigInteger term = one.divide(BigInteger.valueOf(3));
        BigInteger sum = BigInteger.ZERO;
        for (int k = 0; term.signum() != 0; k++) {
            sum = sum.add(term.divide(BigInteger.valueOf(2L * k + 1)));
            term = term.divide(BigInteger.valueOf(9));
        }
        return sum.shiftLeft(1).shiftRight(GUARD);
    }

    /** a * b, truncated toward zero (so series terms of either sign reach zero). */
    static BigInteger mul(BigInteger a, BigInteger b) {
        BigInteger p = a.multiply(b);
        return p.signum() < 0 ? p.negate().shiftRight(F).negate() : p.shiftRight(F);
    }

    static BigInteger div(BigInteger a, BigInteger b) {
        return a.shiftLeft(F).divide(b);
    }

    static BigInteger sqrt(BigInteger a) {
        return a.shiftLeft(F).sqrt();
    }

    /** The value m * 2^(k - 63) (m an unsigned 64-bit significand) in fixed point. */
    static BigInteger of(long m, int k) {
        BigInteger v = new BigInteger(Long.toUnsignedString(m));
        int shift = F + k - 63;
        return shift >= 0 ? v.shiftLeft(shift) : v.shiftRight(-shift);
    }

    /** sin r for |r| < 1. */
    static BigInteger sin(BigInteger r) {
        BigInteger r2 = mul(r, r);
        BigInteger term = r, sum = r;
        for (long k = 1; term.signum() != 0; k++) {
            term = mul(term, r2).divide(BigInteger.valueOf((2 * k) * (2 * k + 1))).negate();
            sum = sum.add(term);
        }
        return sum;
    }

    /** cos r for |r| < 1. */
    static BigInteger cos(BigInteger r) {
        BigInteger r2 = mul(r, r);
        BigInteger term = ONE, sum = ONE;
        for (long k = 1; term.signum() != 0; k++) {
            term = mul(term, r2).divide(BigInteger.valueOf((2 * k - 1) * (2 * k))).negate();
            sum = sum.add(term);
        }
        return sum;
    }

    /** atan t for 0 <= t <= 1: halve the angle until t <= 0.1, then the series. */
    static BigInteger atan(BigInteger t) {
        int halvings = 0;
        while (t.compareTo(TENTH) > 0) {
            t = div(t, ONE.add(sqrt(ONE.add(mul(t, t)))));
            halvings++;
        }
        BigInteger t2 = mul(t, t);
        BigInteger power = t, sum = BigInteger.ZERO;
        for (long k = 0; power.signum() != 0; k++) {
            BigInteger term = power.divide(BigInteger.valueOf(2 * k + 1));
            sum = (k & 1) == 0 ? sum.add(term) : sum.subtract(term);
            power = mul(power, t2);
        }
        return sum.shiftLeft(halvings);
    }

    /** atanh s = s + s^3/3 + s^5/5 + ... for |s| <= 1/5. */
    private static BigInteger atanh(BigInteger s) {
        BigInteger s2 = mul(s, s);
        BigInteger power = s, sum = BigInteger.ZERO;
        for (long k = 0; power.signum() != 0; k++) {
            sum = sum.add(power.divide(BigInteger.valueOf(2 * k + 1)));
            power = mul(power, s2);
        }
        return sum;
    }

    /** ln m for m in [1, 2]. */
    static BigInteger lnMantissa(BigInteger m) {
        if (m.compareTo(SQRT2) > 0) {
            // ln m = ln 2 + ln(m/2), with (m/2 - 1)/(m/2 + 1) = (m - 2)/(m + 2)
            return LN2.add(atanh(div(m.subtract(TWO), m.add(TWO))).shiftLeft(1));
        }
        return atanh(div(m.subtract(ONE), m.add(ONE))).shiftLeft(1);
    }

    /** ln w for w > 0. */
    static BigInteger ln(BigInteger w) {
        int k = w.bitLength() - 1 - F;
        BigInteger m = k >= 0 ? w.shiftRight(k) : w.shiftLeft(-k);
        return LN2.multiply(BigInteger.valueOf(k)).add(lnMantissa(m));
    }

    /** ln(1 + x) for x > -1. */
    static BigInteger ln1p(BigInteger x) {
        if (x.abs().compareTo(ONE.shiftRight(2)) < 0) {
            return atanh(div(x, TWO.add(x))).shiftLeft(1);
        }
        return ln(ONE.add(x));
    }

    /** e^t - 1 for |t| < 1. */
    static BigInteger expm1(BigInteger t) {
        BigInteger term = t, sum = t;
        for (long n = 2; term.signum() != 0; n++) {
            term = mul(term, t).divide(BigInteger.valueOf(n));
            sum = sum.add(term);
        }
        return sum;
    }
}
