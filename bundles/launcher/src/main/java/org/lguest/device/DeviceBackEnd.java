package org.lguest.device;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/** One open back end of one guest device. */
@ConsumerType
public interface DeviceBackEnd extends AutoCloseable {
    /**
     * Handles what the guest sent to {@code key}: the sections of its DMA,
     * already checked against guest memory. Returns the value the sender
     * finds in its used_len.
     */
    int output(int key, ByteBuffer[] sections) throws IOException;

    /** Releases the back end (the device is gone or its driver is being replaced). */
    @Override
    void close() throws IOException;
}
