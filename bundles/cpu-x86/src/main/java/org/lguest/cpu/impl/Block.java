package org.lguest.cpu.impl;

/** A compiled block: up to {@link BlockCompiler#MAX_INSNS} instructions ending at a branch, a page end or an instruction the compiler leaves to the interpreter. */
final class Block {
    final BlockCode code;
    final Insn[] ins;
    final int n;
    /** bytes covered, from the start offset in the page */
    final int bytes;

    Block(BlockCode code, Insn[] ins, int bytes) {
        this.code = code;
        this.ins = ins;
        this.n = ins.length;
        this.bytes = bytes;
    }
}
