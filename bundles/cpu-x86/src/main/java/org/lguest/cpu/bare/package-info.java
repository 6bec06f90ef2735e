/**
 * The bare-machine runner: the emulated processor with nothing around it but
 * RAM and a serial port, booting a multiboot kernel the way
 * {@code qemu-system-i386 -kernel} would.
 *
 * <p>No lguest here: no MMU bundle, no Switcher, no guest. BareMachine is
 * what {@code lguest bare KERNEL} runs, what the benchmark times against
 * QEMU and what the system-test kernels boot on. It is a user of the CPU
 * like any other: it sees only the exported API ({@link org.lguest.cpu})
 * and gets its processor from a {@link org.lguest.cpu.CpuFactory}. Handed
 * one, it uses that; run from {@code main} on the plain class path, where
 * there is no OSGi service registry, it finds the bundle's own factory
 * with {@link java.util.ServiceLoader} (META-INF/services names
 * CpuFactoryImpl).
 *
 * <p>It is a tool, not a service API, so the package is private to the
 * bundle. Its tests (BareMachineTest, SystemKernelsTest, BenchKernelTest)
 * are in the same package under src/test/java.
 */
package org.lguest.cpu.bare;
