/**
 * The emulated i686-class processor: the hardware every other part of the
 * platform runs on. It knows nothing about lguest. The host (the Switcher and
 * the lg module) sets it up the way lg.ko sets up a real CPU: descriptor
 * tables, control registers, a page directory, and a host region whose gates
 * make {@link org.lguest.cpu.Cpu#run(long)} return instead of entering it.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.cpu;
