/**
 * The control interface: lguest's {@code /dev/lguest} (the {@code /proc/lguest}
 * of the original article), as a Java service.
 *
 * <p>The Launcher {@link org.lguest.lg.LguestControl#open() opens} one
 * {@link org.lguest.lg.GuestControl} per guest, writes INITIALIZE with the
 * memory it laid out, then calls {@link org.lguest.lg.GuestControl#run()}
 * (the {@code read}) in a loop: each call runs the guest until user space is
 * needed and says why ({@link org.lguest.lg.RunResult}).
 *
 * <p>1.1.0: two guest ABIs ({@link org.lguest.lg.GuestAbi}, chosen with
 * {@link org.lguest.lg.GuestSetup}); port and memory-mapped I/O exits for
 * 4.x guests ({@link org.lguest.lg.RunResult.PortIo},
 * {@link org.lguest.lg.RunResult.Mmio}, {@link org.lguest.lg.GuestControl#completeIo}).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.4.0")
package org.lguest.lg;
