package org.lguest.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One open back end of one guest device: where the guest's output goes and
 * where its input comes from (a terminal, a buffer, a file, a socket).
 *
 * <p>The Launcher calls {@link #output} on the guest's thread, one call at a
 * time, in the order the guest sent. Input goes the other way: the back end
 * calls {@link DeviceContext#deliver} from any thread of its own.
 */
@ConsumerType
public interface DeviceBackEnd extends AutoCloseable {
    /**
     * Handles what the guest sent to {@code key}: the sections of its DMA,
     * already checked against guest memory and copied out of it (the buffers
     * belong to the back end for the duration of the call). Returns the value
     * the sender finds in its used_len: for a console, the bytes taken.
     *
     * @throws IOException when the back end could not take the data; the
     *         sender then finds 0 in its used_len
     */
    int output(int key, ByteBuffer[] sections) throws IOException;

    /** What this back end is, for listings: "lguest_block on file /var/d.img (rw)", "console on the terminal". */
    default String describe() {
        return "";
    }

    /** Counters for listings ("bytesOut", "bytesIn", ...); a snapshot. */
    default Map<String, Long> metrics() {
        return Map.of();
    }

    /**
     * What a replacement back end needs to carry on where this one stops
     * (for example the console's recent output). Called when the driver
     * service goes away, before {@link #close()}; the Launcher keeps the bytes
     * and hands them to the replacement as {@link DeviceContext#savedState()}.
     */
    default byte[] saveState() {
        return new byte[0];
    }

    /** What a user sees of the device, for the shell (the console's recent output); empty when the back end keeps none. */
    default Optional<String> transcript() {
        return Optional.empty();
    }

    /**
     * Input from a user of the shell (typed at the console). Returns false
     * when this back end takes no such input.
     */
    default boolean input(byte[] data) {
        return false;
    }

    /** Releases the back end (the guest is gone or its driver is being replaced). Stops any thread it started. */
    @Override
    void close() throws IOException;
}
