package org.lguest.devices.disk.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceBackEnd;
import org.lguest.device.DeviceContext;
import org.lguest.device.block.BlockBackEnd;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * The guest-facing block device: 2.6.23's {@code handle_block_output}
 * (abi §8.3) in front of a {@link BlockBackEnd}.
 *
 * <p>The request page (one page of device memory, its guest-physical
 * address the DMA key) says what the guest wants: {@code type} (0 read,
 * 1 write), {@code sector}, {@code bytes}; we answer in {@code result} (1
 * done, 2 I/O error) and keep {@code num_sectors} up to date. A write
 * arrives as the sections of the guest's send; a read is an empty send (the
 * doorbell), and the data go into the reply buffer the guest bound at the
 * key, through {@link DeviceContext#deliver}, which also raises the
 * device's interrupt. After a write an empty delivery does the same.
 *
 * <p>A third request type, 2, is a flush: the back end's {@code flush}
 * (fsync for a file) runs before the guest sees result 1, so whatever the
 * guest wrote before it survives a crash of the host. 2.6.23's protocol had
 * no flush (its Launcher opened images {@code O_DIRECT}); this is our
 * extension of it, and our guest's {@code blk flush} uses it.
 *
 * <p>Hostile requests kill the guest: a length that is not whole sectors or
 * exceeds the 64 KiB a request may carry, a range beyond the disk, a write
 * whose data do not match its length. Back-end failures are the guest's
 * I/O errors, never a kill. The state is all in guest memory and the back
 * end, so a replacement driver carries on with nothing saved.
 */
final class BlockDevice implements DeviceBackEnd {
    static final int TYPE = 0, SECTOR = 4, BYTES = 8, RESULT = 12, NUM_SECTORS = 16;
    static final int RESULT_DONE = 1, RESULT_ERROR = 2;
    /** Request types: 2.6.23's read and write, and our flush (2.6.23 had none; see the class comment). */
    static final int TYPE_READ = 0, TYPE_WRITE = 1, TYPE_FLUSH = 2;
    /** 16 sections of one page (abi §8.3). */
    static final int MAX_REQUEST = 16 * 4096;

    private final DeviceContext context;
    private final BlockBackEnd disk;
    private final int page;

    private long reads;
    private long writes;
    private long bytesRead;
    private long bytesWritten;
    private long flushes;
    private long errors;
    private long undelivered;

    BlockDevice(DeviceContext context, BlockBackEnd disk) {
        this.context = context;
        this.disk = disk;
        this.page = context.pagesAddress();
        context.memory().writeU32(page + NUM_SECTORS, (int) Math.min(disk.capacity(), 0xFFFF_FFFFL));
        // A request that waits too long for a driver (this bundle gone and none back): result 2, the interrupt.
        context.onAbandon(page + RESULT, RESULT_ERROR, page);
    }

    @Override
    public int output(int key, ByteBuffer[] sections) {
        GuestMemory m = context.memory();
        int type = m.readU32(page + TYPE);
        long sector = Integer.toUnsignedLong(m.readU32(page + SECTOR));
        int bytes = m.readU32(page + BYTES);
        if (type != TYPE_READ && type != TYPE_WRITE && type != TYPE_FLUSH) {
            throw new GuestViolationException(String.format("bad block request: type %d (0 read, 1 write, 2 flush)", type));
        }
        if (type == TYPE_FLUSH) {
            return flush(m, key, sections);
        }
        if (bytes <= 0 || bytes > MAX_REQUEST || bytes % BlockBackEnd.SECTOR_SIZE != 0) {
            throw new GuestViolationException(String.format("bad block request: %d bytes (whole sectors, at most %d)",
                    bytes, MAX_REQUEST));
        }
        long sectors = bytes / BlockBackEnd.SECTOR_SIZE;
        if (sector + sectors > disk.capacity()) {
            throw new GuestViolationException(String.format(
                    "bad block request: sectors %d..%d beyond the disk's %d", sector, sector + sectors - 1,
                    disk.capacity()));
        }
        int result = RESULT_DONE;
        ByteBuffer reply = ByteBuffer.allocate(0);
        if (type == 1) {
            ByteBuffer data = ByteBuffer.allocate(bytes);
            for (ByteBuffer s : sections) {
                if (s.remaining() > data.remaining()) {
                    throw new GuestViolationException(String.format(
                            "bad block request: a write of %d bytes sent more", bytes));
                }
                data.put(s);
            }
            if (data.hasRemaining()) {
                throw new GuestViolationException(String.format(
                        "bad block request: a write of %d bytes sent %d", bytes, data.position()));
            }
            data.flip();
            try {
                disk.write(sector, data);
                writes++;
                bytesWritten += bytes;
            } catch (IOException e) {
                errors++;
                result = RESULT_ERROR;
            }
        } else {
            ByteBuffer data = ByteBuffer.allocate(bytes);
            try {
                disk.read(sector, data);
                reads++;
                bytesRead += bytes;
                reply = data.flip();
            } catch (IOException e) {
                errors++;
                result = RESULT_ERROR;
            }
        }
        m.writeU32(page + RESULT, result);
        // Into the reply buffer (a read's data, or nothing), its used_len set and the interrupt raised.
        if (context.deliver(key, reply) < 0) {
            undelivered++; // no free reply buffer: the guest still finds result when it looks
        }
        return 0;
    }

    /**
     * A flush: everything written before it goes to stable storage
     * ({@link BlockBackEnd#flush}) before the guest sees result 1. It carries
     * no data: a flush that sends some is the guest's fault.
     */
    private int flush(GuestMemory m, int key, ByteBuffer[] sections) {
        for (ByteBuffer s : sections) {
            if (s.hasRemaining()) {
                throw new GuestViolationException("bad block request: a flush sent data");
            }
        }
        int result = RESULT_DONE;
        try {
            disk.flush();
            flushes++;
        } catch (IOException e) {
            errors++;
            result = RESULT_ERROR;
        }
        m.writeU32(page + RESULT, result);
        if (context.deliver(key, ByteBuffer.allocate(0)) < 0) {
            undelivered++;
        }
        return 0;
    }

    @Override
    public Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sectors", disk.capacity());
        m.put("reads", reads);
        m.put("writes", writes);
        m.put("bytesRead", bytesRead);
        m.put("bytesWritten", bytesWritten);
        m.put("flushes", flushes);
        m.put("ioErrors", errors);
        m.put("noReplyBuffer", undelivered);
        return m;
    }

    @Override
    public String describe() {
        return "lguest_block on " + disk.describe();
    }

    @Override
    public void close() throws IOException {
        disk.close();
    }
}
