package org.lguest.devices.disk.impl;

import java.nio.ByteBuffer;

import org.lguest.device.block.BlockBackEnd;

/**
 * A disk in host memory, zero-filled, gone when closed: for tests and
 * scratch disks. Kept in 64 KiB chunks (no single array limits its size,
 * and no sector straddles two chunks).
 */
class MemoryBlockBackEnd implements BlockBackEnd {
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
        transfer(sector, dst, false);
    }

    @Override
    public void write(long sector, ByteBuffer src) {
        transfer(sector, src, true);
    }

    /** Moves {@code buf.remaining()} bytes between {@code buf} and the disk from {@code sector} on. */
    private void transfer(long sector, ByteBuffer buf, boolean write) {
        long at = Sectors.check(sector, buf.remaining(), capacity);
        while (buf.hasRemaining()) {
            byte[] chunk = chunks[(int) (at / CHUNK)];
            int off = (int) (at % CHUNK);
            int n = Math.min(buf.remaining(), chunk.length - off);
            if (write) {
                buf.get(chunk, off, n);
            } else {
                buf.put(chunk, off, n);
            }
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
