/**
 * The console back-end tier: bytes out (what the guest printed) and in
 * (what is typed), independent of the device model that drives it.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.device.console;
