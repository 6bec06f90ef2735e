package org.lguest.devices.disk.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceRequest;
import org.lguest.device.block.BlockBackEnd;

/**
 * The guest-facing virtio block device (virtio 1.0 §5.2), for Linux 4.x
 * guests, in front of the same {@link BlockBackEnd}s as the lguest_block
 * model: the 4.x Launcher's {@code blk_request}.
 *
 * <p><b>Configuration</b> ({@code struct virtio_blk_config}), published with
 * {@link DeviceContext#virtioConfig} when the model opens: the capacity in
 * 512-byte sectors, seg_max 254 (VIRTIO_BLK_F_SEG_MAX: a request may use all
 * but two of a queue's 256 descriptors for data), blk_size 512
 * (VIRTIO_BLK_F_BLK_SIZE), VIRTIO_BLK_F_FLUSH (Linux then sends its cache
 * flushes, which become the back end's {@code flush}: an fsync for a file),
 * and VIRTIO_BLK_F_RO for a read-only image.
 *
 * <p><b>A request</b> is one buffer of the request queue: the 16-byte header
 * (type u32, reserved u32, sector u64) first among the readable parts, then
 * for a write the data, for a read the room for them among the writable
 * parts, and the status byte last: 0 done, 1 I/O error, 2 unsupported. The
 * buffer is handed back with the bytes written (data and status). Types:
 * IN 0, OUT 1, FLUSH 4, GET_ID 8 (a 20-byte id: "lguest-" and the guest's
 * name and slot). A request that does not fit the disk (not whole sectors,
 * beyond its end) is answered with an I/O error, as a disk would; only a
 * buffer without room for the header and status is the guest's error, and
 * the transport ends the guest for it before it gets here. Back-end failures
 * are I/O errors, never a kill.
 *
 * <p>Threads and swap: as {@link BlockDevice}: requests come in order on the
 * guest's thread and are done at once when nothing is queued, else in order
 * on this model's I/O thread; {@link #close()} finishes the one in progress
 * and leaves the queued ones to the Launcher, which submits them again to
 * the replacement. The state is in the guest's buffers and the back end.
 */
final class VirtioBlockDevice implements DeviceModel {
    static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
    static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    static final int F_SEG_MAX = 2, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9;
    static final int HEADER = 16;
    static final int SEG_MAX = 254;
    static final int CONFIG_SIZE = 24;
    static final int ID_BYTES = 20;

    private final DeviceContext context;
    private final BlockBackEnd disk;
    private final InOrderIo<DeviceRequest> io;

    private long reads, writes, bytesRead, bytesWritten, flushes, errors, unsupported;

    VirtioBlockDevice(DeviceContext context, BlockBackEnd disk) {
        this.context = context;
        this.disk = disk;
        context.virtioConfig(features(disk), config(disk));
        io = new InOrderIo<>("lguest-vblk-" + context.guestId() + "-" + context.index(), this::perform);
    }

    static long features(BlockBackEnd disk) {
        long f = 1L << F_SEG_MAX | 1L << F_BLK_SIZE | 1L << F_FLUSH;
        return disk.readOnly() ? f | 1L << F_RO : f;
    }

    /** capacity u64 at 0, size_max u32 at 8 (0: none), seg_max u32 at 12, geometry at 16 (0), blk_size u32 at 20. */
    static byte[] config(BlockBackEnd disk) {
        ByteBuffer c = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        c.putLong(0, disk.capacity()).putInt(12, SEG_MAX).putInt(20, BlockBackEnd.SECTOR_SIZE);
        return c.array();
    }

    @Override
    public void submit(DeviceRequest request) {
        io.submit(request);
    }

    /** Does one request and hands the buffer back: data (for a read or an id), then the status byte. */
    private void perform(DeviceRequest r) {
        ByteBuffer all = r.gather().order(ByteOrder.LITTLE_ENDIAN);
        int type = all.getInt(0);
        long sector = all.getLong(8);
        int room = r.writableLength() - 1; // the last writable byte is the status
        int status;
        int written = 0;
        try {
            switch (type) {
                case T_IN -> {
                    if (!fits(sector, room)) {
                        status = S_IOERR;
                        break;
                    }
                    ByteBuffer data = ByteBuffer.allocate(room);
                    disk.read(sector, data);
                    written = r.write(0, data.flip());
                    count(1, 0, room, 0, 0);
                    status = S_OK;
                }
                case T_OUT -> {
                    int length = all.remaining() - HEADER;
                    if (disk.readOnly() || !fits(sector, length)) {
                        status = S_IOERR;
                        break;
                    }
                    disk.write(sector, all.position(HEADER).slice());
                    count(0, 1, 0, length, 0);
                    status = S_OK;
                }
                case T_FLUSH -> {
                    disk.flush();
                    count(0, 0, 0, 0, 1);
                    status = S_OK;
                }
                case T_GET_ID -> {
                    byte[] id = new byte[ID_BYTES];
                    byte[] name = ("lguest-" + context.guestName() + "-" + context.index()).getBytes(StandardCharsets.US_ASCII);
                    System.arraycopy(name, 0, id, 0, Math.min(name.length, ID_BYTES));
                    written = r.write(0, ByteBuffer.wrap(id, 0, Math.min(ID_BYTES, Math.max(0, room))));
                    status = S_OK;
                }
                default -> {
                    synchronized (this) {
                        unsupported++;
                    }
                    status = S_UNSUPP;
                }
            }
        } catch (IOException e) {
            status = S_IOERR;
        }
        if (status == S_IOERR) {
            synchronized (this) {
                errors++;
            }
        }
        r.write(room, ByteBuffer.wrap(new byte[] {(byte) status}));
        r.complete(written + 1);
    }

    /** Whether {@code bytes} from {@code sector} are whole sectors inside the disk. */
    private boolean fits(long sector, int bytes) {
        if (bytes < 0 || bytes % BlockBackEnd.SECTOR_SIZE != 0 || sector < 0) {
            return false;
        }
        long sectors = bytes / BlockBackEnd.SECTOR_SIZE;
        return sector <= disk.capacity() && sectors <= disk.capacity() - sector;
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
        m.put("unsupported", unsupported);
        return m;
    }

    @Override
    public String describe() {
        return "virtio-blk on " + disk.describe();
    }

    /** Waits for the request in progress (nothing reaches the guest from us afterwards), then closes the disk. */
    @Override
    public void close() throws IOException {
        io.close();
        disk.close();
    }
}
