package org.lguest.device;

import java.io.IOException;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A device driver service: the Launcher's handler for one kind of device.
 * Registered with the service property {@link #TYPE} naming the device type
 * it serves ("console", "block", "net"). When several drivers serve a type,
 * the Launcher uses the one with the highest service ranking.
 *
 * <p>Hot swap: when a driver service goes away while guests run, the
 * Launcher asks each of its back ends to {@link DeviceModel#saveState()
 * save its state}, closes them, keeps the guest-visible side of each device
 * (descriptor, keys, bound buffers) and holds the guest's output for the
 * device in a bounded buffer; when a driver for the type appears again, it
 * {@link #open opens} a back end for each such device with the same
 * configuration and the saved state, and hands it the held output first.
 */
@ConsumerType
public interface DeviceDriver {
    /** Service property: the device type this driver serves. */
    String TYPE = "lguest.device.type";

    /** The device type number (see org.lguest.lg.abi.DevicePage). */
    int deviceType();

    /** Pages of device memory each device of this type gets ({@code num_pages}; the block request page: 1). */
    default int pages() {
        return 0;
    }

    /**
     * The DMA key the guest sends to for a device of this type, given the
     * guest-physical address of its first page: that address (the block
     * device's request page), or a fixed key (the console's 0, which has no
     * page).
     */
    default int key(int pagesAddress) {
        return pagesAddress;
    }

    /** The descriptor's {@code features} word for a device of this type. */
    default int features() {
        return 0;
    }

    /**
     * The layout of a device with this configuration: its descriptor fields
     * and where its pages come from. By default the same for every device of
     * the type ({@link #deviceType()}, {@link #features()}, {@link #pages()},
     * private pages); a driver whose devices differ by configuration (a
     * network on a shared LAN or on a TAP device) overrides it.
     *
     * @throws IllegalArgumentException when the configuration is not one this
     *         driver can serve; the message says why (the start fails with it)
     */
    default DeviceLayout layout(Map<String, String> configuration) {
        return DeviceLayout.of(deviceType(), features(), pages());
    }

    /**
     * Opens the back end of one guest device. Called when the device is
     * created, and again on a replacement driver when this one went away
     * while the guest ran.
     *
     * @throws IOException when the back end cannot be opened (for a new
     *         guest, the start fails with this message)
     */
    DeviceModel open(DeviceContext context) throws IOException;
}
