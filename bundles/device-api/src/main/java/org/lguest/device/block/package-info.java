/**
 * The block back-end tier: what a disk is to the device models that drive
 * it (lguest_block today, virtio-blk later), independent of how the guest
 * asks. A back end reads and writes whole 512-byte sectors, flushes to
 * stable storage and knows its capacity; the model checks every guest
 * request against that capacity before it reaches the back end.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.lguest.device.block;
