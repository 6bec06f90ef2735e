package org.lguest.devices.disk.impl;

import java.nio.ByteBuffer;

import org.lguest.device.block.BlockBackEnd;

/**
 * A disk in host memory, zero-filled, gone when closed: for tests and
 * scratch disks. Kept in 64 KiB chunks (no single array limits its size,
 * and no sector straddles two chunks).
 */
final class MemoryBlockBackEnd implements BlockBackEnd {
    static final int CHUNK = 64 * 1024;
    private final byte[][] chunks;
    private final long capacity;

    MemoryBlockBackEnd(long bytes) {
        if (bytes <= 0 || bytes % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("a memory disk is a positive whole number of sectors, not " + bytes);
        }
        capacity = bytes / SECTOR_SIZE;
        chunks = new byte[(int) ((bytes + CHUNK - 1) / CHUNK)][];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = new byte[(int) Math.min(CHUNK, bytes - (long) i * CHUNK)];
        }
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public void read(long sector, ByteBuffer dst) {
        long at = Sectors.check(sector, dst.remaining(), capacity);
        while (dst.hasRemaining()) {
            byte[] chunk = chunks[(int) (at / CHUNK)];
            int off = (int) (at % CHUNK);
            int n = Math.min(dst.remaining(), chunk.length - off);
            dst.put(chunk, off, n);
            at += n;
        }
    }

    @Override
    public void write(long sector, ByteBuffer src) {
        long at = Sectors.check(sector, src.remaining(), capacity);
        while (src.hasRemaining()) {
            byte[] chunk = chunks[(int) (at / CHUNK)];
            int off = (int) (at % CHUNK);
            int n = Math.min(src.remaining(), chunk.length - off);
            src.get(chunk, off, n);
            at += n;
        }
    }

    @Override
    public void flush() {
        // memory is as stable as it gets here
    }

    @Override
    public String describe() {
        long bytes = capacity * SECTOR_SIZE;
        return bytes % (1 << 20) == 0 ? "memory " + (bytes >> 20) + " MiB" : "memory " + bytes + " bytes";
    }

    @Override
    public void close() {
        // the chunks go with this object
    }
}
