package org.lguest.device;

import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A device driver service: the Launcher's handler for one kind of device.
 * Registered with the service property {@link #TYPE} naming the device type
 * it serves ("console", "block", "net").
 */
@ConsumerType
public interface DeviceDriver {
    /** Service property: the device type this driver serves. */
    String TYPE = "lguest.device.type";

    /** The device type number (see org.lguest.lg.abi.DevicePage). */
    int deviceType();

    /**
     * Opens the back end of one guest device. Called when the device is
     * created, and again on a replacement driver when this one went away
     * while the guest ran.
     */
    DeviceBackEnd open(DeviceContext context) throws IOException;
}
