package org.lguest.device.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One network attachment's wire: Ethernet frames out and in (a TAP device
 * today). The device model that drives it (lguest_net today, virtio-net
 * later) checks every frame the guest sends before it gets here.
 *
 * <p>{@link #send} is called by the model, one call at a time. Received
 * frames go to the {@link Receiver} given to {@link #start}, from a thread
 * of the back end's own.
 */
@ConsumerType
public interface FrameBackEnd extends AutoCloseable {
    /** The longest frame either way: the Ethernet header and 1500 bytes of payload (no FCS). */
    int MAX_FRAME = 1514;

    /** Where received frames go. */
    @FunctionalInterface
    interface Receiver {
        /** Takes one frame (its remaining bytes); false when the guest had no room and it was dropped. */
        boolean receive(ByteBuffer frame);
    }

    /** The hardware address of the host's end of the wire (the TAP interface's MAC). */
    byte[] mac();

    /**
     * Puts one frame on the wire. Returns false when the wire dropped it (as
     * a real network may: a full queue, the interface down); the back end
     * counts the drop.
     *
     * @throws IOException when the back end is broken (closed, the device gone)
     */
    boolean send(ByteBuffer frame) throws IOException;

    /** Starts delivering frames that arrive. At most once. */
    void start(Receiver receiver);

    /** What it is, for listings: "TAP lgt0 (created here, netns test)". */
    String describe();

    /** Counters (frames and bytes each way, drops by reason). */
    Map<String, Long> metrics();

    /**
     * Closes this end but leaves what the host sees (the TAP interface, its
     * addresses and routes) for a replacement back end to take over: called
     * on a hot swap instead of {@link #close()}.
     */
    void detach() throws IOException;

    /** Closes for good: the guest is gone. An interface this back end made goes too. */
    @Override
    void close() throws IOException;
}
