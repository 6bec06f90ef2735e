/**
 * The two interpreting tiers, links of the processor's subclass chain.
 *
 * <p>{@link org.lguest.cpu.impl.interpret.Interp} runs any instruction,
 * one per {@code step()}: prefixes, ModRM/SIB addressing, every operand and
 * address size, 16-bit code, instructions that cross a page; it fetches
 * through the fetch window, prefetching a whole instruction (by the opcode
 * table) where a fetch fault must come first. Its execution switches hold
 * the semantics of the instruction set.
 *
 * <p>{@link org.lguest.cpu.impl.interpret.Fast} runs the common forms from
 * their pre-decoded records ({@code decode.Insn}), made once per code page,
 * and hands the rest to {@code step()}. Its {@code exec} is also what a
 * compiled region calls for the forms it does not inline.
 */
package org.lguest.cpu.impl.interpret;
