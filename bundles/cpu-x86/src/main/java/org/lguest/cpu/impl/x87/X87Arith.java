package org.lguest.cpu.impl.x87;

/**
 * Exact arithmetic on x87 80-bit extended values, with x87 rounding, precision
 * control, exception flags and masked responses.
 *
 * <p>A value is a pair (se, sig): {@code se} holds the sign (bit 15) and the
 * biased 15-bit exponent, {@code sig} the full 64-bit significand with its
 * explicit integer bit (bit 63). Addition, subtraction, multiplication,
 * division, square root, remainder, scaling and rounding to integer are
 * computed exactly with 64-bit integer arithmetic (128-bit intermediates kept
 * in pairs of longs) and rounded once, as the hardware does.
 *
 * <p>One instance is the arithmetic unit of one {@link X87}. Before an
 * operation the caller sets {@link #rc} (rounding control) and {@link #masks}
 * (the exception mask bits of the control word) and clears {@link #exc} and
 * {@link #roundedUp}; the operation leaves its result in {@link #rse} /
 * {@link #rsig} and ORs the exceptions it detects into {@link #exc}.
 */
final class X87Arith {
    static final int IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20, SF = 0x40;

    static final int RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_CHOP = 3;

    /** Destination formats for {@link #round}. */
    static final int FMT_EXT = 0, FMT_SINGLE = 1, FMT_DOUBLE = 2;

    /** Operand classes. */
    static final int ZERO = 0, NORMAL = 1, DENORMAL = 2, INF = 3, QNAN = 4, SNAN = 5, UNSUPPORTED = 6;

    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3;

    static final int INDEF_SE = 0xFFFF;
    static final long INDEF_SIG = 0xC000000000000000L;
    static final long INT_BIT = 0x8000000000000000L;
    static final long QUIET_BIT = 0x4000000000000000L;
    static final int BIAS = 16383;

    /** Exponent bias adjustment for unmasked overflow/underflow with a register destination. */
    static final int BIAS_ADJUST = 24576;

    // ---- inputs
    int rc;
    int masks = 0x3F;

    // ---- outputs
    int exc;
    boolean roundedUp;
    int rse;
    long rsig;

    /** Output of {@link #round} for the memory formats: sign, biased exponent in the target format, significand aligned at bit 63. */
    int outSign, outExp;
    long outSig;

    /** {@link #arith} DIV: the wanted value is the quotient less an amount far below its last bit (atan of a tiny ratio). */
    boolean minusEpsilon;

    /** An operand came from a denormal m32real/m64real (already normalised to extended): counts as a denormal operand. */
    boolean memDenormal;

    // unpacked operand scratch
    private int ue;
    private long um;

    void begin(int controlWord) {
        rc = (controlWord >> 10) & 3;
        masks = controlWord & 0x3F;
        exc = 0;
        roundedUp = false;
        memDenormal = false;
        minusEpsilon = false;
    }

    /** Precision in bits selected by the precision-control field of the control word. */
    static int precision(int controlWord) {
        return switch ((controlWord >> 8) & 3) {
            case 0 -> 24;
            case 2 -> 53;
            default -> 64; // 3, and reserved 1 (behaves as 64 on the hardware tested)
        };
    }

    /** True when an unmasked invalid-operation, denormal or zero-divide exception has been detected: the destination is left alone. */
    boolean blocked() {
        return (exc & ~masks & (IE | DE | ZE)) != 0;
    }

    static int classify(int se, long sig) {
        int e = se & 0x7FFF;
        if (e == 0) {
            return sig == 0 ? ZERO : DENORMAL;
        }
        if (e == 0x7FFF) {
            if (sig >= 0) {
                return UNSUPPORTED; // pseudo-infinity / pseudo-NaN
            }
            if ((sig << 1) == 0) {
                return INF;
            }
            return (sig & QUIET_BIT) != 0 ? QNAN : SNAN;
        }
        return sig < 0 ? NORMAL : UNSUPPORTED; // unnormal
    }

    static boolean isNaN(int cls) {
        return cls == QNAN || cls == SNAN;
    }

    private void unpack(int se, long sig) {
        int e = se & 0x7FFF;
        if (e == 0) {
            e = 1;
        }
        int s = Long.numberOfLeadingZeros(sig);
        um = sig << s;
        ue = e - s;
    }

    void setIndefinite() {
        rse = INDEF_SE;
        rsig = INDEF_SIG;
    }

    void invalid() {
        exc |= IE;
        setIndefinite();
    }

    private void setInf(int sign) {
        rse = (sign << 15) | 0x7FFF;
        rsig = INT_BIT;
    }

    private void setZero(int sign) {
        rse = sign << 15;
        rsig = 0;
    }

    /** One or both operands are NaNs (neither unsupported): the x87 NaN-propagation rules. */
    void propagateNaN(int aSe, long aSig, int ca, int bSe, long bSig, int cb) {
        if (ca == SNAN || cb == SNAN) {
            exc |= IE;
        }
        boolean an = isNaN(ca), bn = isNaN(cb);
        boolean pickA;
        if (an && bn) {
            if (ca != cb) {
                pickA = ca == QNAN; // a QNaN wins over an SNaN
            } else {
                int c = Long.compareUnsigned(aSig | QUIET_BIT, bSig | QUIET_BIT);
                pickA = c > 0 || (c == 0 && (aSe & 0x8000) == 0);
            }
        } else {
            pickA = an;
        }
        rse = pickA ? aSe : bSe;
        rsig = (pickA ? aSig : bSig) | QUIET_BIT;
    }

    /** One-operand NaN/unsupported handling; returns true when the result has been set. */
    boolean specialUnary(int se, long sig, int cls) {
        if (cls == UNSUPPORTED) {
            invalid();
            return true;
        }
        if (cls == SNAN) {
            exc |= IE;
            rse = se;
            rsig = sig | QUIET_BIT;
            return true;
        }
        if (cls == QNAN) {
            rse = se;
            rsig = sig;
            return true;
        }
        return false;
    }

    private boolean checkDenormal(int ca, int cb) {
        if (ca == DENORMAL || cb == DENORMAL || memDenormal) {
            exc |= DE;
        }
        return blocked();
    }

    // =====================================================================
    // Rounding

    /**
     * Rounds the value (-1)^sign * (hi + lo / 2^64) * 2^(e - 16383 - 63) to
     * {@code p} significand bits in format {@code fmt} under {@link #rc}.
     * For FMT_EXT the result goes to rse/rsig; for the memory formats to
     * outSign/outExp/outSig. Sets PE, UE, OE and roundedUp. For FMT_EXT with
     * unmasked underflow/overflow the exponent is bias-adjusted by 24576; for
     * the memory formats an unmasked UE/OE just reports (the caller then does
     * not store).
     */
    void round(int sign, int e, long hi, long lo, int p, int fmt) {
        roundedUp = false;
        if (hi == 0 && lo == 0) {
            outSign = sign;
            outExp = 0;
            outSig = 0;
            if (fmt == FMT_EXT) {
                setZero(sign);
            }
            return;
        }
        if (hi == 0) {
            hi = lo;
            lo = 0;
            e -= 64;
        }
        int s = Long.numberOfLeadingZeros(hi);
        if (s != 0) {
            hi = (hi << s) | (lo >>> (64 - s));
            lo <<= s;
            e -= s;
        }
        int maxE;
        switch (fmt) {
            case FMT_SINGLE -> {
                e = e - BIAS + 127;
                maxE = 0xFF;
            }
            case FMT_DOUBLE -> {
                e = e - BIAS + 1023;
                maxE = 0x7FF;
            }
            default -> maxE = 0x7FFF;
        }
        boolean uMasked = (masks & UE) != 0;
        boolean oMasked = (masks & OE) != 0;
        boolean tiny = false;
        // Tininess is detected after rounding (as the recorded hardware does): a value just
        // below the smallest normal that rounds up to it at precision p is not tiny.
        if (e < 1 && !(e == 0 && carriesToNormal(sign, hi, lo, p))) {
            if (fmt == FMT_EXT && !uMasked && e + BIAS_ADJUST >= 1) {
                e += BIAS_ADJUST;
                exc |= UE;
            } else if (fmt == FMT_EXT && !uMasked) {
                // beyond even the bias-adjusted range (FSCALE): a signed zero, as the hardware gives
                exc |= UE | PE;
                setZero(sign);
                outSign = sign;
                outExp = 0;
                outSig = 0;
                return;
            } else {
                tiny = true;
                int sh = 1 - e;
                boolean sticky;
                if (sh >= 128) {
                    sticky = true;
                    hi = 0;
                    lo = 0;
                } else if (sh >= 64) {
                    sticky = lo != 0 || (sh > 64 && (hi << (128 - sh)) != 0);
                    lo = sh == 64 ? hi : hi >>> (sh - 64);
                    hi = 0;
                } else {
                    sticky = (lo << (64 - sh)) != 0;
                    lo = (lo >>> sh) | (hi << (64 - sh));
                    hi >>>= sh;
                }
                if (sticky) {
                    lo |= 1;
                }
                e = 1;
            }
        }
        boolean inexact;
        boolean inc;
        if (p >= 64) {
            inexact = lo != 0;
            inc = switch (rc) {
                case RC_NEAREST -> Long.compareUnsigned(lo, INT_BIT) > 0 || (lo == INT_BIT && (hi & 1) != 0);
                case RC_DOWN -> inexact && sign != 0;
                case RC_UP -> inexact && sign == 0;
                default -> false;
            };
            if (inc) {
                hi++;
                if (hi == 0) {
                    hi = INT_BIT;
                    e++;
                }
            }
        } else {
            int drop = 64 - p;
            long mask = (1L << drop) - 1;
            long r = hi & mask;
            long half = 1L << (drop - 1);
            inexact = r != 0 || lo != 0;
            inc = switch (rc) {
                case RC_NEAREST -> r > half || (r == half && (lo != 0 || (hi & (1L << drop)) != 0));
                case RC_DOWN -> inexact && sign != 0;
                case RC_UP -> inexact && sign == 0;
                default -> false;
            };
            hi &= ~mask;
            if (inc) {
                hi += 1L << drop;
                if (hi == 0) {
                    hi = INT_BIT;
                    e++;
                }
            }
        }
        if (tiny && !uMasked) {
            exc |= UE; // unmasked underflow: no PE (a memory store is then suppressed)
        } else {
            if (inexact) {
                exc |= PE;
            }
            if (tiny && inexact) {
                exc |= UE;
            }
        }
        roundedUp = inc;
        if (e >= maxE) {
            if (fmt == FMT_EXT && !oMasked && e - BIAS_ADJUST < maxE) {
                e -= BIAS_ADJUST;
                exc |= OE;
            } else {
                exc |= OE;
                if (!oMasked && fmt != FMT_EXT) {
                    // memory destination: caller does not store
                    exc &= ~PE;
                    outSign = sign;
                    outExp = maxE;
                    outSig = INT_BIT;
                    return;
                }
                exc |= PE;
                // masked response; a register result beyond even the bias-adjusted range
                // (FSCALE with unmasked OE) becomes infinity whatever the rounding, as on the hardware
                boolean toInf = fmt == FMT_EXT && !oMasked || switch (rc) {
                    case RC_NEAREST -> true;
                    case RC_DOWN -> sign != 0;
                    case RC_UP -> sign == 0;
                    default -> false;
                };
                if (toInf) {
                    e = maxE;
                    hi = INT_BIT;
                    roundedUp = true;
                } else {
                    e = maxE - 1;
                    hi = p >= 64 ? -1L : ~((1L << (64 - p)) - 1);
                    roundedUp = false;
                }
            }
        }
        if (hi >= 0) {
            e = 0; // denormal (or zero after an underflow to nothing)
        }
        outSign = sign;
        outExp = e;
        outSig = hi;
        if (fmt == FMT_EXT) {
            rse = (sign << 15) | e;
            rsig = hi;
        }
    }

    /** Whether rounding the normalised hi:lo to p bits (unbounded exponent) carries out to the next power of two. */
    private boolean carriesToNormal(int sign, long hi, long lo, int p) {
        long mask = p >= 64 ? 0 : (1L << (64 - p)) - 1;
        if ((hi | mask) != -1L) {
            return false;
        }
        long r = hi & mask;
        boolean inexact = r != 0 || lo != 0;
        return switch (rc) {
            case RC_NEAREST -> p >= 64 ? Long.compareUnsigned(lo, INT_BIT) >= 0 : r >= (1L << (63 - p));
            case RC_DOWN -> inexact && sign != 0;
            case RC_UP -> inexact && sign == 0;
            default -> false;
        };
    }

    // =====================================================================
    // Basic arithmetic

    /** a op b with precision p bits (24/53/64). Result in rse/rsig unless {@link #blocked()}. */
    void arith(int op, int aSe, long aSig, int bSe, long bSig, int p) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        int sa = (aSe >> 15) & 1, sb = (bSe >> 15) & 1;
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            invalid();
            return;
        }
        if (isNaN(ca) || isNaN(cb)) {
            propagateNaN(aSe, aSig, ca, bSe, bSig, cb);
            return;
        }
        switch (op) {
            case ADD, SUB -> {
                if (op == SUB) {
                    sb ^= 1;
                }
                if (ca == INF || cb == INF) {
                    if (ca == INF && cb == INF && sa != sb) {
                        invalid();
                        return;
                    }
                    if (checkDenormal(ca, cb)) {
                        return;
                    }
                    setInf(ca == INF ? sa : sb);
                    return;
                }
                if (checkDenormal(ca, cb)) {
                    return;
                }
                if (ca == ZERO && cb == ZERO) {
                    setZero(sa == sb ? sa : (rc == RC_DOWN ? 1 : 0));
                    return;
                }
                if (cb == ZERO) {
                    unpack(aSe, aSig);
                    round(sa, ue, um, 0, p, FMT_EXT);
                    return;
                }
                if (ca == ZERO) {
                    unpack(bSe, bSig);
                    round(sb, ue, um, 0, p, FMT_EXT);
                    return;
                }
                unpack(aSe, aSig);
                int ea = ue;
                long ma = um;
                unpack(bSe, bSig);
                addFinite(sa, ea, ma, sb, ue, um, p);
            }
            case MUL -> {
                int sign = sa ^ sb;
                if ((ca == INF && cb == ZERO) || (ca == ZERO && cb == INF)) {
                    invalid();
                    return;
                }
                if (checkDenormal(ca, cb)) {
                    return;
                }
                if (ca == INF || cb == INF) {
                    setInf(sign);
                    return;
                }
                if (ca == ZERO || cb == ZERO) {
                    setZero(sign);
                    return;
                }
                unpack(aSe, aSig);
                int ea = ue;
                long ma = um;
                unpack(bSe, bSig);
                round(sign, ea + ue - BIAS + 1, Math.unsignedMultiplyHigh(ma, um), ma * um, p, FMT_EXT);
            }
            default -> { // DIV
                int sign = sa ^ sb;
                if ((ca == INF && cb == INF) || (ca == ZERO && cb == ZERO)) {
                    invalid();
                    return;
                }
                if (cb == ZERO && ca != INF) { // zero divide takes precedence over a denormal dividend
                    exc |= ZE;
                    if (!blocked()) {
                        setInf(sign);
                    }
                    return;
                }
                if (checkDenormal(ca, cb)) {
                    return;
                }
                if (ca == INF) {
                    setInf(sign);
                    return;
                }
                if (cb == INF) {
                    setZero(sign);
                    return;
                }
                if (cb == ZERO) {
                    exc |= ZE;
                    if (!blocked()) {
                        setInf(sign);
                    }
                    return;
                }
                if (ca == ZERO) {
                    setZero(sign);
                    return;
                }
                unpack(aSe, aSig);
                int ea = ue;
                long ma = um;
                unpack(bSe, bSig);
                divFinite(sign, ea, ma, ue, um, p);
            }
        }
    }

    private void addFinite(int sa, int ea, long ma, int sb, int eb, long mb, int p) {
        if (ea < eb || (ea == eb && Long.compareUnsigned(ma, mb) < 0)) {
            int t = sa; sa = sb; sb = t;
            t = ea; ea = eb; eb = t;
            long tm = ma; ma = mb; mb = tm;
        }
        int d = ea - eb;
        long bh, bl;
        if (d == 0) {
            bh = mb;
            bl = 0;
        } else if (d < 64) {
            bh = mb >>> d;
            bl = mb << (64 - d);
        } else if (d == 64) {
            bh = 0;
            bl = mb;
        } else if (d < 128) {
            bh = 0;
            bl = (mb >>> (d - 64)) | ((mb << (128 - d)) != 0 ? 1 : 0);
        } else {
            bh = 0;
            bl = 1;
        }
        long hi, lo;
        if (sa == sb) {
            lo = bl;
            hi = ma + bh;
            if (Long.compareUnsigned(hi, ma) < 0) { // carry out
                lo = (lo >>> 1) | (hi << 63) | (lo & 1);
                hi = (hi >>> 1) | INT_BIT;
                ea++;
            }
        } else {
            lo = -bl;
            hi = ma - bh - (bl != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) {
                setZero(rc == RC_DOWN ? 1 : 0);
                return;
            }
        }
        round(sa, ea, hi, lo, p, FMT_EXT);
    }

    private void divFinite(int sign, int ea, long ma, int eb, long mb, int p) {
        // ma / mb = top + q1 / 2^64 + q2 / 2^128 + remainder (both significands normalised)
        long top = 0;
        if (Long.compareUnsigned(ma, mb) >= 0) {
            top = 1;
            ma -= mb;
        }
        long q1 = divlu(ma, 0, mb);
        long q2 = divlu(divRemainder, 0, mb);
        boolean inexact = divRemainder != 0 || (q2 & 1) != 0;
        long qh = (top << 63) | (q1 >>> 1);
        long ql = (q1 << 63) | (q2 >>> 1);
        if (inexact) {
            ql |= 1;
        } else if (minusEpsilon) {
            // exact quotient, but the caller's true value is a hair smaller in magnitude
            if (ql == 0) {
                qh--;
            }
            ql--;
        }
        round(sign, ea - eb + BIAS, qh, ql, p, FMT_EXT);
    }

    /** Remainder of the last {@link #divlu}. */
    private long divRemainder;

    /**
     * (u1:u0) / v for a normalised v (bit 63 set) and u1 < v: the 64-bit
     * quotient, the remainder in {@link #divRemainder} (long division in
     * base 2^32, after Hacker's Delight's divlu).
     */
    private long divlu(long u1, long u0, long v) {
        final long b = 1L << 32;
        long vn1 = v >>> 32, vn0 = v & 0xFFFFFFFFL;
        long un1 = u0 >>> 32, un0 = u0 & 0xFFFFFFFFL;
        long q1 = Long.divideUnsigned(u1, vn1);
        long rhat = u1 - q1 * vn1;
        while (Long.compareUnsigned(q1, b) >= 0 || Long.compareUnsigned(q1 * vn0, (rhat << 32) | un1) > 0) {
            q1--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) {
                break;
            }
        }
        long un21 = (u1 << 32) + un1 - q1 * v;
        long q0 = Long.divideUnsigned(un21, vn1);
        rhat = un21 - q0 * vn1;
        while (Long.compareUnsigned(q0, b) >= 0 || Long.compareUnsigned(q0 * vn0, (rhat << 32) | un0) > 0) {
            q0--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) {
                break;
            }
        }
        divRemainder = (un21 << 32) + un0 - q0 * v;
        return (q1 << 32) + q0;
    }

    /** Square root with precision p. */
    void sqrt(int se, long sig, int p) {
        int c = classify(se, sig);
        if (specialUnary(se, sig, c)) {
            return;
        }
        int sign = (se >> 15) & 1;
        if (c == ZERO) {
            rse = se;
            rsig = 0;
            return;
        }
        if (sign != 0) {
            invalid();
            return;
        }
        if (c == INF) {
            setInf(0);
            return;
        }
        if (checkDenormal(c, ZERO)) {
            return;
        }
        unpack(se, sig);
        int k = ue - BIAS;
        // root q = floor(sqrt(X)) with X = um << shift (128 bits), leading root bit at 63
        int shift = (k & 1) == 0 ? 63 : 64;
        long xh = shift == 63 ? um >>> 1 : um;
        long xl = shift == 63 ? um << 63 : 0;
        long q = sqrtFast(xh, xl, um, shift);
        long rh, rl;
        if (q != 0) {
            // remainder X - q^2 (at most 2q, so 65 bits)
            long sh = Math.unsignedMultiplyHigh(q, q), sl = q * q;
            rl = xl - sl;
            rh = xh - sh - (Long.compareUnsigned(xl, sl) < 0 ? 1 : 0);
        } else {
            long[] r = sqrtBitwise(um, shift);
            q = r[0];
            rh = r[1];
            rl = r[2];
        }
        // sqrt(X) - q is above one half exactly when X - q^2 > q (it is never exactly one half)
        long hi = q;
        long lo;
        if (rh != 0 || Long.compareUnsigned(rl, q) > 0) {
            lo = INT_BIT | 1;
        } else {
            lo = (rl != 0) ? 1 : 0;
        }
        round(0, (k >> 1) + BIAS, hi, lo, p, FMT_EXT);
    }

    /**
     * floor(sqrt(xh:xl)) for X = um << shift, from a double estimate, one
     * Newton step with exact 128/64 division and a final exact correction;
     * 0 when the preconditions of the division do not hold (the caller then
     * takes the bit-by-bit route).
     */
    private long sqrtFast(long xh, long xl, long um, int shift) {
        double d = Math.sqrt(Math.scalb((double) (um >>> 11), 11 + shift));
        long q = ((long) Math.scalb(d, -11)) << 11;
        if (q >= 0 || Long.compareUnsigned(xh, q) >= 0) {
            return 0;
        }
        long quot = divlu(xh, xl, q);
        long sum = q + quot;
        boolean carry = Long.compareUnsigned(sum, q) < 0;
        q = (sum >>> 1) | (carry ? INT_BIT : 0);
        for (int i = 0; i < 4; i++) { // q^2 > X: too big
            long sh = Math.unsignedMultiplyHigh(q, q), sl = q * q;
            if (Long.compareUnsigned(sh, xh) > 0 || (sh == xh && Long.compareUnsigned(sl, xl) > 0)) {
                q--;
            } else {
                break;
            }
        }
        for (int i = 0; i < 4 && q != -1L; i++) { // (q+1)^2 <= X: too small
            long q1 = q + 1;
            long sh = Math.unsignedMultiplyHigh(q1, q1), sl = q1 * q1;
            if (Long.compareUnsigned(sh, xh) < 0 || (sh == xh && Long.compareUnsigned(sl, xl) <= 0)) {
                q = q1;
            } else {
                break;
            }
        }
        return q < 0 ? q : 0;
    }

    /** Bit-by-bit square root of um << shift: {root, remainder high, remainder low}. */
    private static long[] sqrtBitwise(long um, int shift) {
        long rh = 0, rl = 0, q = 0;
        for (int i = 0; i < 64; i++) {
            int b = 127 - 2 * i; // higher bit of the pair
            int pair = (bitOf(um, b - shift) << 1) | bitOf(um, b - 1 - shift);
            rh = (rh << 2) | (rl >>> 62);
            rl = (rl << 2) | pair;
            long th = q >>> 62;
            long tl = (q << 2) | 1;
            boolean ge = Long.compareUnsigned(rh, th) > 0 || (rh == th && Long.compareUnsigned(rl, tl) >= 0);
            if (ge) {
                long nl = rl - tl;
                rh = rh - th - (Long.compareUnsigned(rl, tl) < 0 ? 1 : 0);
                rl = nl;
                q = (q << 1) | 1;
            } else {
                q <<= 1;
            }
        }
        return new long[] {q, rh, rl};
    }

    private static int bitOf(long m, int i) {
        return (i < 0 || i > 63) ? 0 : (int) ((m >>> i) & 1);
    }

    // =====================================================================
    // Comparison

    static final int CMP_GT = 0, CMP_LT = 1, CMP_EQ = 2, CMP_UNORDERED = 3;

    /**
     * Compares a with b and returns CMP_*. The condition codes are set from the
     * result even when an unmasked exception is detected (as the hardware
     * does); the caller then does not pop ({@link #blocked()}).
     */
    int compare(int aSe, long aSig, int bSe, long bSig, boolean quiet) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            exc |= IE;
            return CMP_UNORDERED;
        }
        if (isNaN(ca) || isNaN(cb)) {
            if (ca == SNAN || cb == SNAN || !quiet) {
                exc |= IE;
            }
            return CMP_UNORDERED;
        }
        checkDenormal(ca, cb);
        int c = compareValues(aSe, aSig, ca, bSe, bSig, cb);
        return c < 0 ? CMP_LT : c > 0 ? CMP_GT : CMP_EQ;
    }

    /** Total order of two non-NaN, supported values; zeros equal. */
    private int compareValues(int aSe, long aSig, int ca, int bSe, long bSig, int cb) {
        if (ca == ZERO && cb == ZERO) {
            return 0;
        }
        int sa = (aSe >> 15) & 1, sb = (bSe >> 15) & 1;
        if (ca == ZERO) {
            return sb != 0 ? 1 : -1;
        }
        if (cb == ZERO) {
            return sa != 0 ? -1 : 1;
        }
        if (sa != sb) {
            return sa != 0 ? -1 : 1;
        }
        int mag;
        if (ca == INF || cb == INF) {
            mag = ca == cb ? 0 : ca == INF ? 1 : -1;
        } else {
            unpack(aSe, aSig);
            int ea = ue;
            long ma = um;
            unpack(bSe, bSig);
            mag = ea != ue ? Integer.compare(ea, ue) : Long.compareUnsigned(ma, um);
        }
        return sa != 0 ? -mag : mag;
    }

    // =====================================================================
    // Integers

    /** Set by {@link #roundToInteger} when the rounded magnitude is 2^64 or more. */
    boolean intTooBig;

    /**
     * Rounds a finite value (class ZERO, NORMAL or DENORMAL) to an integer under
     * rc and returns its magnitude as an unsigned 64-bit number. Sets PE and
     * roundedUp; sets {@link #intTooBig} when it does not fit in 64 bits.
     */
    long roundToInteger(int se, long sig) {
        intTooBig = false;
        roundedUp = false;
        if (sig == 0) {
            return 0;
        }
        int sign = (se >> 15) & 1;
        unpack(se, sig);
        int k = ue - BIAS;
        if (k >= 64) {
            intTooBig = true;
            return 0;
        }
        long ip, frac;
        boolean sticky = false;
        if (k == 63) {
            ip = um;
            frac = 0;
        } else if (k >= 0) {
            ip = um >>> (63 - k);
            frac = um << (k + 1);
        } else if (k >= -64) {
            ip = 0;
            int sh = -k - 1;
            frac = um >>> sh;
            sticky = sh != 0 && (um << (64 - sh)) != 0;
        } else {
            ip = 0;
            frac = 0;
            sticky = true;
        }
        boolean inexact = frac != 0 || sticky;
        boolean inc = switch (rc) {
            case RC_NEAREST -> Long.compareUnsigned(frac, INT_BIT) > 0
                    || (frac == INT_BIT && (sticky || (ip & 1) != 0));
            case RC_DOWN -> inexact && sign != 0;
            case RC_UP -> inexact && sign == 0;
            default -> false;
        };
        if (inexact) {
            exc |= PE;
        }
        roundedUp = inc;
        if (inc) {
            ip++;
            if (ip == 0) {
                intTooBig = true;
            }
        }
        return ip;
    }

    /** FRNDINT. */
    void roundInt(int se, long sig) {
        int c = classify(se, sig);
        if (specialUnary(se, sig, c)) {
            return;
        }
        if (c == ZERO || c == INF) {
            rse = se;
            rsig = sig;
            return;
        }
        if (checkDenormal(c, ZERO)) {
            return;
        }
        unpack(se, sig);
        if (ue - BIAS >= 63) {
            rse = se;
            rsig = sig;
            return;
        }
        int sign = (se >> 15) & 1;
        long mag = roundToInteger(se, sig);
        setFromMagnitude(sign, mag);
    }

    /** rse/rsig = (-1)^sign * mag, mag an unsigned 64-bit integer (exact). */
    void setFromMagnitude(int sign, long mag) {
        if (mag == 0) {
            setZero(sign);
            return;
        }
        int s = Long.numberOfLeadingZeros(mag);
        rse = (sign << 15) | (BIAS + 63 - s);
        rsig = mag << s;
    }

    void fromLong(long v) {
        if (v < 0) {
            setFromMagnitude(1, -v); // -Long.MIN_VALUE is 2^63 as unsigned
        } else {
            setFromMagnitude(0, v);
        }
    }

    // =====================================================================
    // Memory real formats

    /** m32real to extended (exact); a denormal sets memDenormal. */
    void fromSingle(int bits) {
        int sign = bits >>> 31;
        int e = (bits >>> 23) & 0xFF;
        long f = bits & 0x7FFFFFL;
        if (e == 0xFF) {
            rse = (sign << 15) | 0x7FFF;
            rsig = INT_BIT | (f << 40);
        } else if (e == 0) {
            if (f == 0) {
                setZero(sign);
            } else {
                memDenormal = true;
                int s = Long.numberOfLeadingZeros(f);
                rsig = f << s;
                rse = (sign << 15) | (BIAS - 126 - (s - 40));
            }
        } else {
            rse = (sign << 15) | (e - 127 + BIAS);
            rsig = INT_BIT | (f << 40);
        }
    }

    void fromDouble(long bits) {
        int sign = (int) (bits >>> 63);
        int e = (int) ((bits >>> 52) & 0x7FF);
        long f = bits & 0xFFFFFFFFFFFFFL;
        if (e == 0x7FF) {
            rse = (sign << 15) | 0x7FFF;
            rsig = INT_BIT | (f << 11);
        } else if (e == 0) {
            if (f == 0) {
                setZero(sign);
            } else {
                memDenormal = true;
                int s = Long.numberOfLeadingZeros(f);
                rsig = f << s;
                rse = (sign << 15) | (BIAS - 1022 - (s - 11));
            }
        } else {
            rse = (sign << 15) | (e - 1023 + BIAS);
            rsig = INT_BIT | (f << 11);
        }
    }

    /** Extended to m32real: returns the bits (check IE/OE/UE masks before storing). */
    int toSingle(int se, long sig) {
        int c = classify(se, sig);
        int sign = (se >> 15) & 1;
        switch (c) {
            case ZERO -> {
                return sign << 31;
            }
            case INF -> {
                return (sign << 31) | 0x7F800000;
            }
            case UNSUPPORTED -> {
                exc |= IE;
                return 0xFFC00000;
            }
            case SNAN, QNAN -> {
                if (c == SNAN) {
                    exc |= IE;
                }
                return (sign << 31) | 0x7FC00000 | (int) ((sig >>> 40) & 0x7FFFFF);
            }
            default -> {
                unpack(se, sig);
                round(sign, ue, um, 0, 24, FMT_SINGLE);
                return (outSign << 31) | (outExp << 23) | (int) ((outSig >>> 40) & 0x7FFFFF);
            }
        }
    }

    long toDouble(int se, long sig) {
        int c = classify(se, sig);
        long sign = (se >> 15) & 1;
        switch (c) {
            case ZERO -> {
                return sign << 63;
            }
            case INF -> {
                return (sign << 63) | 0x7FF0000000000000L;
            }
            case UNSUPPORTED -> {
                exc |= IE;
                return 0xFFF8000000000000L;
            }
            case SNAN, QNAN -> {
                if (c == SNAN) {
                    exc |= IE;
                }
                return (sign << 63) | 0x7FF8000000000000L | ((sig >>> 11) & 0xFFFFFFFFFFFFFL);
            }
            default -> {
                unpack(se, sig);
                round((int) sign, ue, um, 0, 53, FMT_DOUBLE);
                return ((long) outSign << 63) | ((long) outExp << 52) | ((outSig >>> 11) & 0xFFFFFFFFFFFFFL);
            }
        }
    }

    // =====================================================================
    // Remainders, scaling, extraction

    /** Quotient bits of the last complete {@link #remainder}; C2 result. */
    int quotient;
    boolean incomplete;

    /**
     * FPREM (ieee=false: truncated quotient) and FPREM1 (ieee=true: quotient
     * rounded to nearest). a = ST(0), b = ST(1). Exact; a partial remainder when
     * the exponents differ by 64 or more (reduction by 2^(d - N), N = 32 + d mod 32).
     */
    void remainder(int aSe, long aSig, int bSe, long bSig, boolean ieee) {
        quotient = 0;
        incomplete = false;
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            invalid();
            return;
        }
        if (isNaN(ca) || isNaN(cb)) {
            propagateNaN(aSe, aSig, ca, bSe, bSig, cb);
            return;
        }
        if (ca == INF || cb == ZERO) {
            invalid();
            return;
        }
        if (checkDenormal(ca, cb)) {
            return;
        }
        if (ca == ZERO || cb == INF) {
            rse = aSe;
            rsig = aSig;
            if (ca == DENORMAL) { // a denormal stays as is (it is exact)
                unpack(aSe, aSig);
                round(aSe >> 15 & 1, ue, um, 0, 64, FMT_EXT);
            }
            return;
        }
        int sa = (aSe >> 15) & 1;
        unpack(aSe, aSig);
        int ea = ue;
        long ma = um;
        unpack(bSe, bSig);
        int eb = ue;
        long mb = um;
        int d = ea - eb;
        if (d >= 64) {
            int n = 32 + (d & 31);
            int dd = d - n; // reduce a by b * 2^dd, leaving a remainder of exponent about eb + dd
            long r = reduce(ma, mb, n);
            incomplete = true;
            round(sa, eb + dd, r, 0, 64, FMT_EXT); // exact (a zero remainder gives a signed zero)
            return;
        }
        if (d < 0) {
            if (ieee && d == -1 && Long.compareUnsigned(ma, mb) > 0) {
                // |a| > |b|/2: the result is a - b = -(2mb - ma) at a's scale; 2mb - ma < mb fits in 64 bits
                quotient = 1;
                round(sa ^ 1, ea, (mb << 1) - ma, 0, 64, FMT_EXT);
                return;
            }
            round(sa, ea, ma, 0, 64, FMT_EXT); // |a| < |b|: a itself (a denormal stays one)
            return;
        }
        int resSign = sa;
        // d in [0, 63]: r = (ma * 2^d) mod mb, q = low bits of the quotient
        long r = ma;
        long q = 0;
        boolean carry = false;
        for (int i = 0; i <= d; i++) {
            q <<= 1;
            if (carry || Long.compareUnsigned(r, mb) >= 0) {
                r -= mb;
                q |= 1;
            }
            if (i < d) {
                carry = r < 0;
                r <<= 1;
            }
        }
        if (ieee) {
            // compare 2r with mb
            int c = r < 0 ? 1 : Long.compareUnsigned(r << 1, mb);
            if (c > 0 || (c == 0 && (q & 1) != 0)) {
                r = mb - r;
                q++;
                resSign ^= 1;
            }
        }
        quotient = (int) (q & 7);
        if (r == 0) {
            setZero(sa);
            return;
        }
        round(resSign, eb, r, 0, 64, FMT_EXT);
    }

    /** (ma * 2^n) mod mb for n >= 0 (partial-remainder step). */
    private static long reduce(long ma, long mb, int n) {
        long r = ma;
        boolean carry = false;
        for (int i = 0; i <= n; i++) {
            if (carry || Long.compareUnsigned(r, mb) >= 0) {
                r -= mb;
            }
            if (i < n) {
                carry = r < 0;
                r <<= 1;
            }
        }
        return r;
    }

    /** FSCALE: a * 2^trunc(b). */
    void scale(int aSe, long aSig, int bSe, long bSig) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            invalid();
            return;
        }
        if (isNaN(ca) || isNaN(cb)) {
            propagateNaN(aSe, aSig, ca, bSe, bSig, cb);
            return;
        }
        int sa = (aSe >> 15) & 1, sb = (bSe >> 15) & 1;
        if (cb == INF) {
            if ((ca == ZERO && sb == 0) || (ca == INF && sb != 0)) {
                invalid();
                return;
            }
            if (checkDenormal(ca, cb)) {
                return;
            }
            if (ca == INF || ca == ZERO) {
                rse = aSe;
                rsig = aSig;
            } else if (sb == 0) {
                setInf(sa);
            } else {
                setZero(sa);
            }
            return;
        }
        if (checkDenormal(ca, cb)) {
            return;
        }
        if (ca == INF || ca == ZERO) {
            rse = aSe;
            rsig = aSig;
            return;
        }
        int n;
        if (cb == ZERO) {
            n = 0;
        } else {
            unpack(bSe, bSig);
            int k = ue - BIAS;
            if (k < 0) {
                n = 0;
            } else if (k >= 20) {
                n = 1 << 20;
            } else {
                n = (int) (um >>> (63 - k));
            }
            if (sb != 0) {
                n = -n;
            }
        }
        unpack(aSe, aSig);
        round(sa, ue + n, um, 0, 64, FMT_EXT);
    }

    /** Unbiased exponent and normalised significand of a finite nonzero value (FXTRACT). */
    int extractExponent(int se, long sig) {
        unpack(se, sig);
        return ue - BIAS;
    }

    long extractSignificand(int se, long sig) {
        unpack(se, sig);
        return um;
    }
}
