package org.lguest.cpu.impl;

/** One pre-decoded instruction (32-bit code segment, 32-bit addressing), cached per code page. */
final class Insn {
    int kind;
    int len;
    int op;
    int sz;
    int reg, rm;
    boolean mem;
    int seg, base = -1, index = -1, scale, disp;
    int imm;
    /** times execution started here (for block compilation) */
    int hits;
    /** the compiled block starting at this instruction, if any */
    Block block;

    static final Insn GENERIC = new Insn();
}
