package org.lguest.lg.abi;

/**
 * The device descriptor page: one page right after guest RAM, 16
 * descriptors of 12 bytes. Device i interrupts on IRQ i + 1.
 */
public final class DevicePage {
    public static final int MAX_DEVICES = 16;
    public static final int DESCRIPTOR_SIZE = 12;
    /** u16 device type. */
    public static final int TYPE = 0;
    /** u16 device-specific features. */
    public static final int FEATURES = 2;
    /** u16 status, written by the guest. */
    public static final int STATUS = 4;
    /** u16 pages of device memory. */
    public static final int NUM_PAGES = 6;
    /** u32 first frame of device memory. */
    public static final int PFN = 8;

    public static final int TYPE_NONE = 0;
    public static final int TYPE_CONSOLE = 1;
    public static final int TYPE_NET = 2;
    public static final int TYPE_BLOCK = 3;

    public static final int FEATURE_RANDOMNESS = 0x8000;
    public static final int FEATURE_NET_NOCSUM = 0x4000;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_REMOVED = 8;
    public static final int STATUS_REMOVED_ACK = 16;
    public static final int STATUS_FAILED = 128;

    /** The IRQ of the device in descriptor slot {@code index}. */
    public static int irqOf(int index) {
        return index + 1;
    }

    private DevicePage() {
    }
}
