package org.lguest.cpu.impl;

/** One pre-decoded instruction (32-bit code segment, 32-bit addressing), cached per code page. */
final class Insn {
    Kind kind = Kind.GENERIC;
    int len;
    int op;
    int sz;
    int reg, rm;
    boolean mem;
    int seg, base = -1, index = -1, scale, disp;
    int imm;
    /** times execution started here (for block compilation) */
    int hits;
    /** the compiled region entered at this instruction, if any */
    Block block;
    /**
     * For an indirect jump, call or a return: the page offsets it was seen
     * to go to in the same page (first {@link #SEEN_LIMIT}), which a region
     * compiled after that jumps to directly (an inline cache).
     */
    int[] seen;

    static final int SEEN_LIMIT = 16;
    /** exits through this instruction since its region was compiled, and how many of them went somewhere new */
    int exits, fresh;

    /** Records that this instruction went to page offset off; returns whether that was new. */
    boolean noteTarget(int off) {
        if (seen == null) {
            seen = new int[] {off};
            return true;
        }
        for (int s : seen) {
            if (s == off) return false;
        }
        if (seen.length >= SEEN_LIMIT) return false;
        seen = java.util.Arrays.copyOf(seen, seen.length + 1);
        seen[seen.length - 1] = off;
        return true;
    }

    static final Insn GENERIC = new Insn();
}
