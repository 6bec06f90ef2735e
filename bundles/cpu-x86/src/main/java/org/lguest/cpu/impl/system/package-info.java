/**
 * The system architecture of protected mode, a link of the processor's
 * subclass chain.
 *
 * <p>{@link org.lguest.cpu.impl.system.SysOps} reads descriptors from the
 * GDT and LDT, loads segment registers with their checks, switches stacks,
 * does far calls, jumps and returns (through call gates too), IRET,
 * delivers exceptions and interrupts through the IDT, and checks I/O
 * permission. Paging and the soft TLB stay with the
 * memory access paths in {@code CpuState}, where every tier reaches them.
 */
package org.lguest.cpu.impl.system;
