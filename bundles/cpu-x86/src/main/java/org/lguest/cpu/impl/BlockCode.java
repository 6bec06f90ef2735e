package org.lguest.cpu.impl;

/** A straight-line run of pre-decoded instructions compiled to JVM bytecode (a hidden class). */
interface BlockCode {
    void run(Fast c, Insn[] ins);
}
