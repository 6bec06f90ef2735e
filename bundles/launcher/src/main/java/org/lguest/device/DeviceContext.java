package org.lguest.device;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/** What a driver is given about one guest device, by the Launcher. */
@ProviderType
public interface DeviceContext {
    /** The guest's name, for messages. */
    String guestName();

    /** The device's configuration (for example the backing file of a disk). */
    Map<String, String> configuration();

    /** The device's memory: its own pages as the guest shares them with the Launcher. */
    java.nio.ByteBuffer devicePages();

    /**
     * Places input for the guest into the buffer the guest bound at
     * {@code key}, and raises the device's interrupt. Returns the bytes
     * placed, or -1 when the guest has no free buffer there (the caller keeps
     * the data and tries again later).
     */
    int deliver(int key, java.nio.ByteBuffer data);
}
