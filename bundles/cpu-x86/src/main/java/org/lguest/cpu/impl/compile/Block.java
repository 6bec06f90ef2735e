package org.lguest.cpu.impl.compile;

import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.interpret.Fast;

/**
 * A compiled region, as a decoded page holds it (at its entry instruction):
 * the shared code, this page's instructions for it (interpreted ones are
 * handed to {@link Fast#exec}), and the bytes it covers, so that a store
 * there drops it.
 */
public final class Block {
    public final BlockCode code;
    public final Insn[] ins;
    /** instructions in the region: no path without a back edge is longer */
    public final int n;
    /** page offsets of the first byte and after the last byte it covers */
    public final int lo, hi;

    Block(BlockCode code, RegionCompiler.Plan plan) {
        this.code = code;
        this.ins = plan.ins();
        this.n = ins.length;
        this.lo = plan.lo();
        this.hi = plan.hi();
    }
}
