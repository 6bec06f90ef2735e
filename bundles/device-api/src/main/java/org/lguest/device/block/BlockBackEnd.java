package org.lguest.device.block;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One disk's storage: a host file, memory, ... Whole sectors of
 * {@link #SECTOR_SIZE} bytes. Calls may come from any thread, one at a time
 * per back end (the device model serialises them).
 *
 * <p>Durability contract: {@link #write} returns only when the data reached
 * the storage (for a file, the host's page cache: a crash of this process
 * loses nothing); {@link #flush} returns only when everything written
 * before it is on stable storage. Errors are {@link IOException}s, which the
 * model reports to the guest as I/O errors; they never kill the guest.
 */
@ConsumerType
public interface BlockBackEnd extends AutoCloseable {
    int SECTOR_SIZE = 512;

    /** Size in sectors. */
    long capacity();

    /** Whether writes are refused. */
    boolean readOnly();

    /**
     * Reads {@code dst.remaining()} bytes (a multiple of the sector size)
     * from sector {@code sector} on; the buffer's position advances by them.
     *
     * @throws IllegalArgumentException when the range is not whole sectors inside the capacity
     *         (a model bug: models check guest requests first)
     */
    void read(long sector, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code src.remaining()} bytes (a multiple of the sector size) at
     * sector {@code sector}; returns when they reached the storage.
     *
     * @throws IOException on a read-only back end or a storage error
     */
    void write(long sector, ByteBuffer src) throws IOException;

    /** Returns when everything written so far is on stable storage. */
    void flush() throws IOException;

    /** What it is, for listings: "file /var/disk.img (rw)", "memory 64 MiB". */
    String describe();

    @Override
    void close() throws IOException;
}
