/**
 * The x87 floating-point unit: the coprocessor half of the emulated i686.
 *
 * <p>On a real Pentium Pro the FPU sits beside the integer unit and only
 * talks to it when an ESC opcode (0xD8..0xDF) comes along; this package is
 * that FPU. It holds the eight 80-bit registers, the control, status and
 * tag words and the last-instruction pointers, and it does the arithmetic
 * exactly (X87Arith), with the transcendentals done in wide fixed point
 * (X87Transcendental, X87Fixed) and rounded once. X87 itself decodes the
 * escape opcodes, converts the memory formats and builds the state images.
 *
 * <p>The integer core (X86Cpu in the package above) reaches it through two
 * doors. It holds an {@link org.lguest.cpu.impl.x87.FpuUnit}, made with
 * {@code FpuUnit.create(host)}: for an ESC opcode it asks {@code isDefined}
 * (#UD otherwise), does the CR0 #NM and #MF checks itself, then calls
 * {@code execute(opcode, modrm, seg, offset, op32)}; FXSAVE, FXRSTOR and
 * the Cpu API's saveFpu/restoreFpu come through the same object. The other
 * way round, the unit knows the core only as an
 * {@link org.lguest.cpu.impl.x87.FpuHost}: memory by segment register and
 * offset, which the core checks, translates and faults on exactly as for
 * its own accesses (a fault does not return, so the unit reads every
 * operand before it changes anything), plus AX, EFLAGS, and the EIP and
 * selectors the FPU pointers record. x87 exceptions never leave the unit:
 * they set bits in the status word and show up as
 * {@code hasPendingException()}.
 *
 * <p>The tests are in the same package under src/test/java. X87TestHost is
 * a flat byte-array FpuHost, so the unit is tested alone, without a core;
 * X87BehaviourTest and X87LoadStoreTest check instructions one by one; the
 * X87Hardware*Test classes replay results recorded on a real x87, whose
 * files (and the C programs that made them) are in
 * src/test/resources/org/lguest/cpu/impl/x87/. The wiring into the core is
 * tested from the other side, by CoreFpuWiringTest in org.lguest.cpu.impl.
 * README-x87.md tells the whole story.
 */
package org.lguest.cpu.impl.x87;
