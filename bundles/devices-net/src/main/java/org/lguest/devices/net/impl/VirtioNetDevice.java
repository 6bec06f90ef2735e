package org.lguest.devices.net.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceRequest;
import org.lguest.device.net.FrameBackEnd;
import org.lguest.mmu.GuestViolationException;

/**
 * The guest-facing virtio network card (virtio 1.0 §5.1), for Linux 4.x
 * guests, in front of a {@link FrameBackEnd}: a TAP device or a port of a
 * {@link LanSwitch}.
 *
 * <p><b>Configuration</b>, published with {@link DeviceContext#virtioConfig}:
 * VIRTIO_NET_F_MAC and {@code struct virtio_net_config}'s mac, a locally
 * administered address made from the guest's id and the device's slot
 * (02:00:00:6c:ID:SLOT), unless the configuration gives {@code mac=}. No
 * offloads: Linux computes its checksums and sends whole frames.
 *
 * <p><b>Packets</b> carry the 12-byte {@code virtio_net_hdr_v1} in front of
 * the frame both ways. A buffer of the transmit queue (queue 1) is the
 * header and a frame: the frame goes to the wire; a frame longer than
 * Ethernet allows ({@value FrameBackEnd#MAX_FRAME} bytes with its header,
 * no offloads negotiated) kills the guest, a runt (shorter than an Ethernet
 * header) is dropped and counted. A frame from the wire goes, behind a zero
 * header with num_buffers 1, into the next buffer of the receive queue
 * (queue 0, {@link DeviceContext#deliver}), or is dropped and counted when
 * the guest has none.
 */
final class VirtioNetDevice implements DeviceModel {
    static final int F_MAC = 5;
    static final int HEADER = 12;
    static final int RECEIVE_QUEUE = 0;
    static final int CONFIG_SIZE = 10;

    private final DeviceContext context;
    private final FrameBackEnd wire;
    private final Runnable onClose;
    private final byte[] mac;
    private volatile boolean replaced;
    private long framesOut, runts, wireDrops;

    /**
     * @param onClose run when the model closes for good or is replaced, after the wire (a switch port leaves its switch)
     */
    VirtioNetDevice(DeviceContext context, FrameBackEnd wire, Runnable onClose) {
        this.context = context;
        this.wire = wire;
        this.onClose = onClose;
        this.mac = mac(context);
        ByteBuffer config = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN).put(mac);
        context.virtioConfig(1L << F_MAC, config.array());
        wire.start(this::receive);
    }

    /** The configuration's {@code mac=aa:bb:cc:dd:ee:ff}, else 02:00:00:6c:ID:SLOT. */
    static byte[] mac(DeviceContext context) {
        String given = context.configuration().get("mac");
        if (given != null) {
            String[] parts = given.split(":");
            if (parts.length != 6) {
                throw new IllegalArgumentException("mac=" + given + " is not six bytes aa:bb:cc:dd:ee:ff");
            }
            byte[] b = new byte[6];
            for (int i = 0; i < 6; i++) {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            }
            return b;
        }
        return new byte[] {0x02, 0, 0, 0x6c, (byte) context.guestId(), (byte) context.index()};
    }

    private boolean receive(ByteBuffer frame) {
        ByteBuffer packet = ByteBuffer.allocate(HEADER + frame.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        packet.putShort(10, (short) 1).position(HEADER).put(frame).flip();
        return context.deliver(RECEIVE_QUEUE, packet) >= 0;
    }

    @Override
    public void submit(DeviceRequest request) throws IOException {
        int length = request.readableLength() - HEADER;
        if (length > FrameBackEnd.MAX_FRAME) {
            throw new GuestViolationException(String.format(
                    "virtio-net frame of %d bytes is longer than Ethernet allows (%d bytes with its header; no offloads were negotiated)",
                    length, FrameBackEnd.MAX_FRAME));
        }
        if (length < 14) {
            synchronized (this) {
                runts++;
            }
            request.complete(0);
            return;
        }
        ByteBuffer frame = request.gather().position(HEADER);
        boolean sent = wire.send(frame.slice());
        synchronized (this) {
            if (sent) {
                framesOut++;
            } else {
                wireDrops++;
            }
        }
        request.complete(0);
    }

    @Override
    public String describe() {
        return String.format("virtio-net %02x:%02x:%02x:%02x:%02x:%02x on %s", mac[0], mac[1], mac[2], mac[3], mac[4],
                mac[5], wire.describe());
    }

    @Override
    public synchronized Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("framesFromGuest", framesOut);
        m.put("runtsDropped", runts);
        m.put("wireDrops", wireDrops);
        m.putAll(wire.metrics());
        return m;
    }

    @Override
    public byte[] saveState() {
        replaced = true;
        return wire instanceof Tap tap ? new TapState(tap.createdHere()).bytes() : new byte[0];
    }

    @Override
    public void close() throws IOException {
        try {
            if (replaced) {
                wire.detach();
            } else {
                wire.close();
            }
        } finally {
            onClose.run();
        }
    }
}
