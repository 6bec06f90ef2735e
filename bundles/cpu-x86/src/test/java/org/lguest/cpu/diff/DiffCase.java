package org.lguest.cpu.diff;

import java.util.List;

/**
 * One test case: an instruction at a place in the code page, the registers
 * and flags it starts with, and the bytes written into the data area on top
 * of the run's pattern. It also carries what the architecture leaves
 * undefined for this instruction with these operands.
 *
 * @param index         the case's number in its run (with the seed, enough to make it again)
 * @param form          the instruction form it was drawn from
 * @param description   prefixes and mnemonic, e.g. "LOCK o16 CMPXCHG Ev,Gv"
 * @param codeOffset    offset of the first instruction byte in the code page
 * @param code          the instruction bytes (the code page holds INT3 everywhere else)
 * @param regs          EAX ECX EDX EBX ESP EBP ESI EDI
 * @param eflags        initial EFLAGS
 * @param patches       data-area bytes set for this case
 * @param undefinedFlags EFLAGS bits not compared when the instruction completes
 * @param undefinedRegBits per register, the bits not compared when the instruction completes
 * @param undefinedMemory pairs (data-area offset, length) not compared when the instruction completes
 * @param faultLeeway   {@link #FAULT_REGS_UNDEFINED} and/or {@link #FAULT_ORDER_UNDEFINED}
 * @param fpu           whether the case starts from FNINIT and compares the FNSAVE image afterwards
 * @param fpuStatusUndefined x87 status-word bits not compared
 */
record DiffCase(long index, OpcodeTable.Form form, String description, int codeOffset, byte[] code, int[] regs,
                int eflags, List<Patch> patches, int undefinedFlags, int[] undefinedRegBits, int[] undefinedMemory,
                int faultLeeway, boolean fpu, int fpuStatusUndefined) {

    /** When the instruction faults, the general registers are not compared (see {@link UndefinedBehaviour}). */
    static final int FAULT_REGS_UNDEFINED = 1;
    /** When the instruction page-faults, which of its accesses faults first (CR2) is not compared. */
    static final int FAULT_ORDER_UNDEFINED = 2;


    record Patch(int offset, byte[] bytes) {
    }

    int entry() {
        return Layout.CODE + codeOffset;
    }

    String bytesHex() {
        StringBuilder sb = new StringBuilder();
        for (byte b : code) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }
}
