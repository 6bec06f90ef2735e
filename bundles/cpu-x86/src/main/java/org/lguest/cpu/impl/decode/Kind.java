package org.lguest.cpu.impl.decode;

import org.lguest.cpu.impl.compile.RegionCompiler;
import org.lguest.cpu.impl.interpret.Fast;
import org.lguest.cpu.impl.interpret.Interp;

/**
 * What a pre-decoded instruction ({@link Insn}) is: the forms the
 * pre-decoder ({@link PreDecoder}) recognises, each executed by
 * {@link Fast#exec} and, in a compiled region, inlined by
 * {@link RegionCompiler} or handed back to {@code exec}. Anything else is
 * {@link #GENERIC}: the interpreter ({@link Interp#step}) runs it.
 *
 * <p>The operands are in the record: {@code op} (ALU operation 0..7 of
 * ADD OR ADC SBB AND SUB XOR CMP, condition code, shift or group 3
 * operation, MOVX form), {@code sz} (1, 2 or 4 bytes), {@code reg},
 * {@code rm} (register numbers), a memory operand ({@code mem}, segment,
 * base, index, scale, displacement) and {@code imm}.
 */
public enum Kind {
    /** interpreted: not a form below, 16-bit code, or crossing the page's end */
    GENERIC,
    /** op r/m, reg; op reg, r/m; op r/m, imm (any size) */
    ALU_RM_R, ALU_R_RM, ALU_RM_IMM,
    TEST_RM_R, TEST_RM_IMM,
    MOV_RM_R, MOV_R_RM, MOV_R_IMM, MOV_RM_IMM,
    LEA,
    /** inc/dec of a 16- or 32-bit register (0x40..0x4F) */
    INC_R, DEC_R,
    /** inc/dec r/m (0xFE/0xFF /0 /1): op 0 inc, 1 dec */
    INCDEC_RM,
    PUSH_R, POP_R, PUSH_IMM, PUSH_RM,
    /** near call/jump with a relative displacement in imm */
    CALL_REL, JMP_REL,
    /** near return, imm = bytes to release */
    RET,
    /** conditional jump: op = condition code, imm = displacement */
    JCC,
    /** indirect near call/jump through r/m */
    CALL_RM, JMP_RM,
    /** movzx/movsx: op 0 zx8, 1 zx16, 2 sx8, 3 sx16 */
    MOVX,
    /** shift or rotate r/m (op = /reg), imm = count or -1 for CL */
    SHIFT,
    IMUL_RM, IMUL_RM_IMM,
    /** not, neg, mul, imul, div, idiv of r/m (op = /reg) */
    GRP3,
    CMOV, SETCC,
    CDQ, CWDE, XCHG, LEAVE, NOP,

    // specialised 32-bit forms (PreDecoder.specialize), the hottest ones
    /** op r32, r32: the ALU operation in op, destination rm, source reg */
    RR,
    /** op r32, imm: the ALU operation in op, destination rm */
    RI,
    /** mov r32, r32: destination rm, source reg */
    MOV_RR32,
    /** mov r32, [mem]; mov [mem], r32 */
    LOAD32, STORE32,
    /** shifts of a register by an immediate count of 1..31 */
    SHL_RI, SHR_RI, SAR_RI
}
