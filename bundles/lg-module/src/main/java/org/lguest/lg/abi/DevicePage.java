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
    /**
     * Our extension (2.6.23 had no way to ask a guest to shut down): a power
     * button with no pages. The Launcher writes what it asks for into the
     * descriptor's features ({@link #POWER_OFF} or {@link #POWER_RESTART})
     * and raises the device's interrupt; a guest that binds it acknowledges
     * with its status and powers off (CRASH "Power down") when pressed.
     */
    public static final int TYPE_POWER = 4;
    /** Power button features: the Launcher asks for a power-off. */
    public static final int POWER_OFF = 1;
    /** Power button features: the Launcher asks for a restart (the guest powers off; the Launcher starts it again). */
    public static final int POWER_RESTART = 2;

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
