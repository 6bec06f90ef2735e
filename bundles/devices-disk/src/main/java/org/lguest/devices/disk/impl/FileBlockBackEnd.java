package org.lguest.devices.disk.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import org.lguest.device.block.BlockBackEnd;

/**
 * A disk backed by a host file, raw: sector n is bytes n × 512 .. n × 512 +
 * 511 of the file, so dd, mke2fs and debugfs make and read the same images.
 * A write returns when the bytes reached the file (positional writes, no
 * buffering here); a flush forces the file to stable storage. Opened and
 * checked by {@link DiskImages}, which also keeps two guests from writing
 * the same file.
 */
final class FileBlockBackEnd implements BlockBackEnd {
    private final Path path;
    private final FileChannel channel;
    private final long capacity;
    private final boolean readOnly;
    private final Runnable release;

    FileBlockBackEnd(Path path, FileChannel channel, long capacity, boolean readOnly, Runnable release) {
        this.path = path;
        this.channel = channel;
        this.capacity = capacity;
        this.readOnly = readOnly;
        this.release = release;
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        long at = Sectors.check(sector, dst.remaining(), capacity);
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                throw new IOException(path + " is shorter than its " + capacity + " sectors (truncated by someone "
                        + "else?)");
            }
            at += n;
        }
    }

    @Override
    public void write(long sector, ByteBuffer src) throws IOException {
        long at = Sectors.check(sector, src.remaining(), capacity);
        if (readOnly) {
            throw new IOException(path + " is read-only");
        }
        while (src.hasRemaining()) {
            at += channel.write(src, at);
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(false);
        }
    }

    @Override
    public String describe() {
        return "file " + path + (readOnly ? " (ro)" : " (rw)");
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            release.run();
        }
    }
}
