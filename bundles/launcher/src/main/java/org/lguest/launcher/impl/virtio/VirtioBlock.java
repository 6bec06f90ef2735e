package org.lguest.launcher.impl.virtio;

import java.util.Objects;
import java.util.function.Consumer;

import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestViolationException;

/**
 * The virtio block device (type 2), as the 4.x Launcher's
 * {@code setup_block_file} made it: one request queue, and VIRTIO_BLK_F_SEG_MAX
 * with 254 segments (two of the queue's 256 descriptors go to the header and
 * the status byte; without it Linux sends one data segment per request).
 * Optionally VIRTIO_BLK_F_RO and VIRTIO_BLK_F_BLK_SIZE.
 *
 * <p>Configuration ({@code struct virtio_blk_config}, 36 bytes in 4.9):
 * capacity u64 in 512-byte sectors at 0, size_max u32 at 8, seg_max u32 at 12,
 * geometry at 16, blk_size u32 at 20, then topology, wce and num_queues,
 * which read 0.
 *
 * <p>Each request (virtio 1.0 §5.2.6) is a 16-byte device-readable header
 * (type u32, reserved u32, sector u64), the data (readable for a write,
 * writable for a read), and a device-writable status byte last; the sink gets
 * it whole. This checks only that there is room for the header and the
 * status, as the 4.x Launcher did ("Bad virtblk cmd with no room for
 * status"); the model checks the rest.
 */
public final class VirtioBlock implements VirtioPersonality {
    public static final int TYPE = 2;
    public static final int REQUEST_QUEUE = 0;
    public static final int SECTOR_SIZE = 512;
    /** The status byte's I/O error (VIRTIO_BLK_S_IOERR). */
    public static final byte STATUS_IOERR = 1;
    static final int F_SEG_MAX = 2;
    static final int F_RO = 5;
    static final int F_BLK_SIZE = 6;
    static final int SEG_MAX = VirtioPci.QUEUE_SIZE_MAX - 2;
    static final int HEADER = 16;

    private final long features;
    private final Consumer<DeviceRequest> requests;
    private final ConfigBytes config = new ConfigBytes(36);

    /**
     * A disk whose model (devices-disk's virtio-blk) chose the features and
     * the configuration ({@code DeviceContext.virtioConfig}): {@code config}
     * is copied in from offset 0 (at most the 36 bytes of 4.9's struct).
     */
    public VirtioBlock(long features, byte[] config, Consumer<DeviceRequest> requests) {
        this.requests = Objects.requireNonNull(requests);
        this.features = features;
        configure(config);
    }

    /** A model's new configuration (a replacement back end whose disk changed): copied in; the caller tells the guest. Guest's thread. */
    public void configure(byte[] bytes) {
        config.replaceWith(bytes);
    }

    /**
     * @param capacitySectors the disk's size in 512-byte sectors
     * @param blockSize       the block size to advertise (VIRTIO_BLK_F_BLK_SIZE), or 0 for none
     * @param readOnly        whether to offer VIRTIO_BLK_F_RO
     * @param requests        receives each request of the queue
     */
    public VirtioBlock(long capacitySectors, int blockSize, boolean readOnly, Consumer<DeviceRequest> requests) {
        if (capacitySectors < 0 || blockSize < 0) {
            throw new IllegalArgumentException("capacity " + capacitySectors + ", block size " + blockSize);
        }
        this.requests = Objects.requireNonNull(requests);
        long f = 1L << F_SEG_MAX;
        config.put64(0, capacitySectors).put32(12, SEG_MAX);
        if (blockSize > 0) {
            f |= 1L << F_BLK_SIZE;
            config.put32(20, blockSize);
        }
        if (readOnly) {
            f |= 1L << F_RO;
        }
        this.features = f;
    }

    @Override
    public String name() {
        return "block";
    }

    @Override
    public int deviceType() {
        return TYPE;
    }

    @Override
    public int pciClass() {
        return 0x0180; // mass storage, other
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public boolean isInputQueue(int queue) {
        return false;
    }

    @Override
    public int configSize() {
        return config.size();
    }

    @Override
    public int readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void submit(int queue, DeviceRequest request) {
        if (request.readableLength() < HEADER || request.writableLength() < 1) {
            throw new GuestViolationException("virtio block request queue: " + request
                    + " has no room for the " + HEADER + "-byte header and the status byte");
        }
        requests.accept(request);
    }
}
