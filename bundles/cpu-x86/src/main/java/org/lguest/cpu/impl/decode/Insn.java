package org.lguest.cpu.impl.decode;

import org.lguest.cpu.impl.compile.Block;

/** One pre-decoded instruction (32-bit code segment, 32-bit addressing), cached per code page. */
public final class Insn {
    public Kind kind = Kind.GENERIC;
    public int len;
    public int op;
    public int sz;
    public int reg, rm;
    public boolean mem;
    public int seg, base = -1, index = -1, scale, disp;
    public int imm;
    /** times execution started here (for block compilation) */
    public int hits;
    /** the compiled region entered at this instruction, if any */
    public Block block;
    /**
     * For an indirect jump, call or a return: the page offsets it was seen
     * to go to in the same page (first {@link #SEEN_LIMIT}), which a region
     * compiled after that jumps to directly (an inline cache).
     */
    public int[] seen;

    public static final int SEEN_LIMIT = 16;
    /** exits through this instruction since its region was compiled, and how many of them went somewhere new */
    public int exits, fresh;

    /** Records that this instruction went to page offset off; returns whether that was new. */
    public boolean noteTarget(int off) {
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

    public static final Insn GENERIC = new Insn();
}
