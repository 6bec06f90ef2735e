/**
 * Guest lifecycle: the Launcher's service. {@link org.lguest.launcher.Guests}
 * starts a guest from a {@link org.lguest.launcher.GuestSpec} (memory size,
 * kernel, command line, devices), lists the guests and stops them; each
 * {@link org.lguest.launcher.Guest} reports its state, counters and, once it
 * ended, why.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.lguest.launcher;
