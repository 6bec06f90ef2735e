/**
 * Decoding: what the processor knows about an instruction's bytes before it
 * runs it.
 *
 * <p>{@link org.lguest.cpu.impl.decode.Opcodes} is the opcode table, the
 * one place that knows the encodings of the one-byte and 0F maps: which
 * opcodes exist, which have a ModRM byte, the form of the immediate, and
 * where a LOCK prefix is allowed. The interpreter's prefetch walks an
 * instruction with it and checks LOCK against it;
 * {@link org.lguest.cpu.impl.decode.PreDecoder} reads an instruction's
 * bytes by it and makes an {@link org.lguest.cpu.impl.decode.Insn} record,
 * whose {@link org.lguest.cpu.impl.decode.Kind} says which common form it is
 * (or GENERIC: the interpreter runs it). The records are cached per code
 * page by the fast path and are what the region compiler compiles.
 *
 * <p>What an instruction does is not here: that is the interpreter's
 * execution switch ({@code interpret.Interp}) and the region compiler's
 * inline forms ({@code compile.RegionCompiler}).
 */
package org.lguest.cpu.impl.decode;
