package org.lguest.switcher.impl;

import org.lguest.switcher.Switcher;

/** segments.c: what a guest descriptor becomes before the processor may see it. */
final class Descriptors {
    static final int PRESENT = 0x8000, S = 0x1000, CODE = 0x800, EXPAND_DOWN = 0x400, ACCESSED = 0x100;
    static final int DPL_MASK = 0x6000, GRANULARITY = 0x800000;

    private Descriptors() {
    }

    static int base(int lo, int hi) {
        return lo >>> 16 | (hi & 0xFF) << 16 | hi & 0xFF000000;
    }

    /** The limit in bytes (granularity applied). */
    static long limitBytes(int lo, int hi) {
        long raw = lo & 0xFFFF | hi & 0xF0000;
        return (hi & GRANULARITY) != 0 ? raw << 12 | 0xFFF : raw;
    }

    /**
     * The fixed-up form of a guest descriptor {lo, hi}: empty stays empty,
     * system descriptors and expand-down data segments are dropped (both could
     * reach host code or the Switcher), DPL 0 becomes 1, the accessed bit is
     * set (the GDT is read-only to the processor's own accessed-bit writes),
     * and the limit of a kernel segment (DPL 1) is trimmed so the segment
     * ends at or below {@link Switcher#SEGMENT_TOP}. User segments (DPL 3)
     * keep their limit: glibc reaches its thread block with negative offsets
     * from %gs, which wrap around 4 GiB and need the full limit, and paging
     * guards the Switcher from them (its slot is supervisor-only, so ring 3
     * cannot reach it; at ring 1, write-protection keeps its code and state
     * pages read-only, and the register page is the guest's own).
     */
    static int[] fixup(int lo, int hi) {
        if ((hi & S) == 0 || (hi & (CODE | EXPAND_DOWN)) == EXPAND_DOWN) {
            return new int[] {0, 0};
        }
        if ((hi & DPL_MASK) == 0) {
            hi |= 1 << 13;
        }
        hi |= ACCESSED;
        if ((hi & DPL_MASK) == DPL_MASK) {
            return new int[] {lo, hi};
        }
        long base = base(lo, hi) & 0xFFFFFFFFL;
        long end = base + limitBytes(lo, hi);
        long top = Switcher.SEGMENT_TOP & 0xFFFFFFFFL;
        if (end > top) {
            if (base > top) {
                return new int[] {0, 0};
            }
            long room = top + 1 - base; // bytes the segment may cover
            long raw;
            if (room >= 4096) {
                hi |= GRANULARITY;
                raw = (room >>> 12) - 1;
            } else {
                hi &= ~GRANULARITY;
                raw = room - 1;
            }
            lo = lo & 0xFFFF0000 | (int) (raw & 0xFFFF);
            hi = hi & ~0xF0000 | (int) (raw & 0xF0000);
        }
        return new int[] {lo, hi};
    }
}
