/**
 * The integer core of the emulated i686: the processor as a whole, with its
 * parts in the sub-packages by tier. Private to the bundle (only
 * {@code org.lguest.cpu} is exported); the DS component {@link
 * org.lguest.cpu.impl.CpuFactoryImpl} is the way in.
 *
 * <p>The core is one subclass chain, so that every tier reaches the
 * registers as plain fields: {@link org.lguest.cpu.impl.CpuState} (here:
 * registers, lazy flags, segment caches, the soft TLB, every memory access
 * path, instruction fetch, and the static accessors compiled code calls)
 * &larr; {@code system.SysOps} (descriptors, segment loads, far transfers,
 * IRET, exception delivery) &larr; {@code interpret.Interp} (the interpreter)
 * &larr; {@code interpret.Fast} (pre-decoded records) &larr;
 * {@link org.lguest.cpu.impl.X86Cpu} (here again: the run loop that picks a
 * tier for each instruction, the {@link org.lguest.cpu.Cpu} API, CPUID, MSRs
 * and the x87 hookup). The two ends live here because they are the
 * processor: the state every tier reads, and the object the host holds.
 * {@link org.lguest.cpu.impl.Fault} is the one preallocated guest fault all
 * of them throw.
 *
 * <p>The sub-packages: {@code decode} (the opcode table, the pre-decoder and
 * its records), {@code interpret}, {@code compile} (regions of hot code as
 * hidden classes), {@code system}, and {@code x87} (the FPU). Members one
 * tier uses in another package are public: the packages are private to the
 * bundle, and the hidden classes of compiled regions, which live in
 * {@code compile}, read the processor's fields and call its accessors
 * directly.
 */
package org.lguest.cpu.impl;
