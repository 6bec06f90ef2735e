/**
 * The network back-end tier: what a wire is to the device models that
 * drive it (lguest_net today, virtio-net later), independent of how the
 * guest hands over its frames. An inter-guest LAN is not a back end: its
 * frames go from guest to guest through shared memory and the hypervisor's
 * DmaRouter, without the Launcher.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.device.net;
