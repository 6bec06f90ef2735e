package org.lguest.launcher.impl.virtio;

/**
 * A device on the guest's I/O ports outside PCI (the serial port at
 * 0x3F8): {@link PciBus#attach attached} to a range of ports, it sees each
 * {@code in} and {@code out} there as an offset into its range. Called on
 * the guest's thread; sizes are 1, 2 or 4, values little-endian.
 */
public interface PortDevice {
    /** An {@code in} of {@code size} bytes at {@code offset} into the device's ports. */
    int in(int offset, int size);

    /** An {@code out} of the low {@code size} bytes of {@code value} at {@code offset}. */
    void out(int offset, int size, int value);
}
