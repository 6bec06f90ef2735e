package org.lguest.launcher.impl.virtio;

import java.util.Objects;
import java.util.function.Consumer;

import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestViolationException;

/**
 * The virtio network card (type 1): queue 0 receives (input, filled by
 * {@link VirtioPciDevice#deliver}), queue 1 transmits (output, handed to the
 * transmit sink), and VIRTIO_NET_F_MAC with the card's address. No offloads
 * are offered (the 4.x Launcher offered checksum and TSO for its TAP; a
 * plain Ethernet frame is what the platform's back ends carry).
 *
 * <p>Configuration ({@code struct virtio_net_config} in 4.9, 10 bytes): mac[6]
 * at 0, status u16 at 6 and max_virtqueue_pairs u16 at 8 (both read 0:
 * VIRTIO_NET_F_STATUS and _MQ are not offered).
 *
 * <p>With VIRTIO_F_VERSION_1 every packet, both ways, starts with the 12-byte
 * {@code virtio_net_hdr_v1} (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers); the transmit sink sees it in front of the frame,
 * and input handed to {@code deliver} must carry one (all zeros, num_buffers 1,
 * for a plain frame).
 */
public final class VirtioNet implements VirtioPersonality {
    public static final int TYPE = 1;
    public static final int RECEIVE_QUEUE = 0;
    public static final int TRANSMIT_QUEUE = 1;
    /** The header in front of every packet (virtio_net_hdr_v1). */
    public static final int HEADER = 12;
    static final int F_MAC = 5;

    private final Consumer<DeviceRequest> transmit;
    private final ConfigBytes config = new ConfigBytes(10);
    private final long features;

    /**
     * A card whose model (devices-net's virtio-net) chose the features and
     * the configuration ({@code DeviceContext.virtioConfig}): {@code config}
     * is copied in from offset 0 (at most 10 bytes).
     */
    public VirtioNet(long features, byte[] config, Consumer<DeviceRequest> transmit) {
        this.transmit = Objects.requireNonNull(transmit);
        this.features = features;
        configure(config);
    }

    /** A model's new configuration: copied in; the caller tells the guest. Guest's thread. */
    public void configure(byte[] bytes) {
        config.replaceWith(bytes);
    }

    /**
     * @param mac      the card's 6-byte Ethernet address
     * @param transmit receives each buffer of the transmit queue (device-readable only)
     */
    public VirtioNet(byte[] mac, Consumer<DeviceRequest> transmit) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        this.transmit = Objects.requireNonNull(transmit);
        this.features = 1L << F_MAC;
        for (int i = 0; i < 6; i++) {
            config.put8(i, mac[i]);
        }
    }

    @Override
    public String name() {
        return "net";
    }

    @Override
    public int deviceType() {
        return TYPE;
    }

    @Override
    public int pciClass() {
        return 0x0200; // network, Ethernet
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public boolean isInputQueue(int queue) {
        return queue == RECEIVE_QUEUE;
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
        if (request.writableLength() > 0) {
            throw new GuestViolationException("virtio net transmit queue: " + request
                    + " has device-writable parts; output buffers are only read");
        }
        transmit.accept(request);
    }
}
