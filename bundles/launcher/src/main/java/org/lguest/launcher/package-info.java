/**
 * Guest lifecycle: the Launcher's service. {@link org.lguest.launcher.Guests}
 * starts a guest from a {@link org.lguest.launcher.GuestSpec} (memory size,
 * kernel, command line, devices), lists the guests and stops them; each
 * {@link org.lguest.launcher.Guest} reports its state, counters and, once it
 * ended, why.
 *
 * <p>1.2.0: {@link org.lguest.launcher.Guest#watch} (a live copy of what the
 * guest sends to a device), {@link org.lguest.launcher.DeviceSpec#net}.
 *
 * <p>1.4.0: {@link org.lguest.launcher.GuestDefinitions}, the guests defined as
 * configurations, as a service (for the web console).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.4.0")
package org.lguest.launcher;
