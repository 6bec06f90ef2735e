package org.lguest.devices.disk.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceRequest;
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
 * <p>Requests are checked on the guest's thread as they come ({@link #submit})
 * and done in order: at once on that thread when nothing else is queued or
 * in progress, otherwise on this device's I/O thread (requests resubmitted
 * after a driver swap, from another thread, queue there); whoever does one
 * writes the result, delivers and completes it. {@link #close()} lets the request in
 * progress finish and leaves the queued ones, which the Launcher submits
 * again to the replacement (a read or write done twice is the same).
 *
 * <p>Hostile requests kill the guest: a length that is not whole sectors or
 * exceeds the 64 KiB a request may carry, a range beyond the disk, a write
 * whose data do not match its length. Back-end failures are the guest's
 * I/O errors, never a kill. The state is all in guest memory and the back
 * end, so a replacement driver carries on with nothing saved.
 */
final class BlockDevice implements DeviceModel {
    static final int TYPE = 0, SECTOR = 4, BYTES = 8, RESULT = 12, NUM_SECTORS = 16;
    static final int RESULT_DONE = 1, RESULT_ERROR = 2;
    /** Request types: 2.6.23's read and write, and our flush (2.6.23 had none; see the class comment). */
    static final int TYPE_READ = 0, TYPE_WRITE = 1, TYPE_FLUSH = 2;
    /** 16 sections of one page (abi §8.3). */
    static final int MAX_REQUEST = 16 * 4096;

    private final DeviceContext context;
    private final BlockBackEnd disk;
    private final int page;
    private final InOrderIo<Io> io;
    /** The one request buffer (requests are done one at a time, {@link InOrderIo}); delivery copies out of it. */
    private final byte[] scratchBytes = new byte[MAX_REQUEST];
    private final ByteBuffer scratch = ByteBuffer.wrap(scratchBytes);

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
        io = new InOrderIo<>("lguest-disk-" + context.guestId() + "-" + context.index(), this::perform);
    }

    /**
     * Checks the request on the guest's thread (a hostile one kills now),
     * then queues it for the I/O thread, which completes it.
     */
    @Override
    public void submit(DeviceRequest request) {
        GuestMemory m = context.memory();
        int type = m.readU32(page + TYPE);
        long sector = Integer.toUnsignedLong(m.readU32(page + SECTOR));
        int bytes = m.readU32(page + BYTES);
        if (type != TYPE_READ && type != TYPE_WRITE && type != TYPE_FLUSH) {
            throw new GuestViolationException(String.format("bad block request: type %d (0 read, 1 write, 2 flush)", type));
        }
        if (type == TYPE_FLUSH) {
            if (request.readableLength() != 0) {
                throw new GuestViolationException("bad block request: a flush sent data");
            }
            io.submit(new Io(request, type, 0, 0));
            return;
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
        if (type == TYPE_WRITE && request.readableLength() != bytes) {
            throw new GuestViolationException(request.readableLength() > bytes
                    ? String.format("bad block request: a write of %d bytes sent more", bytes)
                    : String.format("bad block request: a write of %d bytes sent %d", bytes, request.readableLength()));
        }
        io.submit(new Io(request, type, sector, bytes));
    }

    /** One checked request, with what the request page said when it came. */
    private record Io(DeviceRequest request, int type, long sector, int bytes) {
    }

    private void perform(Io r) {
        int result = RESULT_DONE;
        ByteBuffer reply = ByteBuffer.allocate(0);
        try {
            switch (r.type()) {
                case TYPE_WRITE -> {
                    ByteBuffer data = scratch.clear();
                    for (ByteBuffer b : r.request().readable()) {
                        int n = b.remaining();
                        b.get(scratchBytes, data.position(), n); // an array copy
                        data.position(data.position() + n);
                    }
                    disk.write(r.sector(), data.flip());
                    count(0, 1, 0, r.bytes(), 0);
                }
                case TYPE_READ -> {
                    ByteBuffer data = scratch.clear().limit(r.bytes());
                    disk.read(r.sector(), data);
                    count(1, 0, r.bytes(), 0, 0);
                    reply = data.flip();
                }
                default -> {
                    disk.flush();
                    count(0, 0, 0, 0, 1);
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                errors++;
            }
            result = RESULT_ERROR;
        }
        context.memory().writeU32(page + RESULT, result);
        // Into the reply buffer (a read's data, or nothing), its used_len set and the interrupt raised.
        if (context.deliver(page, reply) < 0) {
            synchronized (this) {
                undelivered++; // no free reply buffer: the guest still finds result when it looks
            }
        }
        r.request().complete(0);
    }

    private synchronized void count(long read, long write, long inBytes, long outBytes, long flush) {
        reads += read;
        writes += write;
        bytesRead += inBytes;
        bytesWritten += outBytes;
        flushes += flush;
    }

    @Override
    public java.util.Set<String> gauges() {
        return java.util.Set.of("sectors");
    }

    @Override
    public synchronized Map<String, Long> metrics() {
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

    /** Waits for the request the I/O thread is doing (nothing reaches the guest from us afterwards), then closes the disk. */
    @Override
    public void close() throws IOException {
        io.close();
        disk.close();
    }
}
