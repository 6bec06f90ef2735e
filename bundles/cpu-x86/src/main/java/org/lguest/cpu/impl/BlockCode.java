package org.lguest.cpu.impl;

/** A straight-line run of pre-decoded instructions compiled to JVM bytecode (a hidden class). */
interface BlockCode {
    /** Runs the block; returns the instructions retired (fewer than its length when a conditional branch inside it was taken). */
    int run(Fast c, Insn[] ins);
}
