/**
 * The device driver contract: how the Launcher hands a guest device's I/O
 * to the bundle that implements that kind of device.
 *
 * <p>The Launcher keeps everything the guest can see of a device (its
 * descriptor, pages, keys, bound buffers and requests in flight); a driver
 * keeps only its back end. That split is what lets a device bundle be
 * stopped, updated and started while its guests run.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.device;
