package org.lguest.devices.net.impl;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceRequest;
import org.lguest.device.net.FrameBackEnd;
import org.lguest.mmu.GuestViolationException;

/**
 * The guest-facing network device on a wire of the host (2.6.23's
 * {@code handle_tun_output} and {@code handle_tun_input}, abi §8.4) in
 * front of a {@link FrameBackEnd}.
 *
 * <p>The page is the guest's own peer map. Slot 0 is the wire: its MAC, with
 * the "send me everything" bit, so the guest sends every frame to key
 * {@code page + 0}, which is private memory and so comes to the Launcher and
 * here. The guest is slot 1 and binds its receive buffers at key
 * {@code page + 4}; a frame from the wire goes into the next free one
 * ({@link DeviceContext#deliver}, which raises the guest's interrupt), or is
 * dropped and counted when the guest has none free, as a NIC with a full
 * ring drops.
 *
 * <p>A frame from the guest longer than an Ethernet frame may be
 * ({@value FrameBackEnd#MAX_FRAME} bytes with its header) kills the guest:
 * its driver broke the device's contract. A frame shorter than an Ethernet
 * header is dropped and counted.
 */
final class NetDevice implements DeviceModel {
    static final int WIRE_SLOT = 0;

    private final DeviceContext context;
    private final Tap wire;
    private final int page;
    private volatile boolean replaced;
    private long framesOut;
    private long runts;
    private long wireDrops;

    NetDevice(DeviceContext context, Tap wire) {
        this.context = context;
        this.wire = wire;
        this.page = context.pagesAddress();
        byte[] mac = wire.mac();
        mac[0] |= PeerMap.PROMISCUOUS;
        PeerMap.write(context.memory(), page, WIRE_SLOT, mac);
        int guestKey = PeerMap.receiveKey(page, NetDriver.TAP_GUEST_SLOT);
        wire.start(frame -> context.deliver(guestKey, frame) >= 0);
    }

    @Override
    public void submit(DeviceRequest request) throws IOException {
        int length = request.readableLength();
        if (length > FrameBackEnd.MAX_FRAME) {
            throw new GuestViolationException(String.format(
                    "network frame of %d bytes is longer than the MTU allows (%d bytes with the Ethernet header)",
                    length, FrameBackEnd.MAX_FRAME));
        }
        if (length < 14) {
            runts++;
            request.complete(0);
            return;
        }
        if (!wire.send(request.gather())) {
            wireDrops++;
            request.complete(0); // the guest counts a short used_len as a transmit error
            return;
        }
        framesOut++;
        request.complete(length);
    }

    @Override
    public String describe() {
        return "lguest_net on " + wire.describe();
    }

    @Override
    public Map<String, Long> metrics() {
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
        return new TapState(wire.createdHere()).bytes();
    }

    @Override
    public void close() throws IOException {
        if (replaced) {
            wire.detach();
        } else {
            wire.close();
        }
    }
}
