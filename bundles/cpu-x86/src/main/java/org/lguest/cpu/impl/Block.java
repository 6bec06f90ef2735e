package org.lguest.cpu.impl;

/**
 * A compiled region, as a decoded page holds it (at its entry instruction):
 * the shared code, this page's instructions for it (interpreted ones are
 * handed to {@link Fast#exec}), and the bytes it covers, so that a store
 * there drops it.
 */
final class Block {
    final BlockCode code;
    final Insn[] ins;
    /** instructions in the region: no path without a back edge is longer */
    final int n;
    /** page offsets of the first byte and after the last byte it covers */
    final int lo, hi;

    Block(BlockCode code, RegionCompiler.Plan plan) {
        this.code = code;
        this.ins = plan.ins();
        this.n = ins.length;
        this.lo = plan.lo();
        this.hi = plan.hi();
    }
}
