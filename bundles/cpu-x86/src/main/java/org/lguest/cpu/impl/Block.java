package org.lguest.cpu.impl;

/** A compiled block: up to {@link BlockCompiler#MAX_INSNS} instructions ending at a branch, a page end or an instruction the compiler leaves to the interpreter. */
final class Block {
    final BlockCode code;
    final Insn[] ins;
    final int n;
    /** bytes covered, from the start offset in the page */
    final int bytes;
    /** for blocks that follow jumps: the head record and the span [lo, hi) of the page they cover */
    Insn head;
    int lo, hi;

    Block(BlockCode code, Insn[] ins, int bytes) {
        this.code = code;
        this.ins = ins;
        this.n = ins.length;
        this.bytes = bytes;
    }
}
