package org.lguest.device;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One guest device as its driver opened it: the device model (the
 * guest-facing protocol: the lguest_block request page, lguest_net's peer
 * map, the console's bytes) in front of its back end (a file, a TAP, a
 * terminal, behind the per-class interfaces of {@code org.lguest.device.block},
 * {@code .net}, {@code .console}).
 *
 * <p>Requests come in through {@link #submit}, on the guest's thread, one
 * call at a time, in the order the guest made them. A model checks the
 * request (throwing {@link org.lguest.mmu.GuestViolationException} for a
 * hostile one, which kills the guest) and completes it now or later, from any
 * thread ({@link DeviceRequest#complete}). Input goes the other way: the model
 * calls {@link DeviceContext#deliver} from any thread of its own.
 *
 * <p>A request the model has not completed when its driver goes away is kept
 * by the Launcher and submitted again to the replacement (after
 * {@link #close()}, a completion from this model is ignored). So a model
 * must make a request's effect safe to repeat (a disk write is; the
 * Launcher never replays a request a model completed), and its
 * {@link #close()} must wait for the work it is doing, so that nothing
 * reaches the guest from it afterwards.
 */
@ConsumerType
public interface DeviceModel extends AutoCloseable {
    /**
     * A request from the guest: for lguest's DMA transport, one SEND_DMA to
     * the device's key, its sections checked and readable.
     *
     * @throws IOException when the back end could not take it; the Launcher
     *         completes the request with 0 (lguest: nothing taken)
     */
    void submit(DeviceRequest request) throws IOException;

    /** What this back end is, for listings: "lguest_block on file /var/d.img (rw)", "console on the terminal". */
    default String describe() {
        return "";
    }

    /** Counters for listings ("bytesOut", "bytesIn", ...); a snapshot. */
    default Map<String, Long> metrics() {
        return Map.of();
    }

    /**
     * The names among {@link #metrics()} that are levels (a disk's size, input
     * waiting now), not counts. When a driver is replaced the Launcher adds
     * the old back end's last counts to the new one's, so what users see
     * survives a swap; a level is shown as the new back end has it.
     */
    default java.util.Set<String> gauges() {
        return java.util.Set.of();
    }

    /**
     * What a replacement back end needs to carry on where this one stops
     * (for example the console's recent output). Called when the driver
     * service goes away, before {@link #close()} (which tells a model that
     * it is being replaced rather than ended); the Launcher keeps the bytes
     * and hands them to the replacement as {@link DeviceContext#savedState()}.
     */
    default byte[] saveState() {
        return new byte[0];
    }

    /** What a user sees of the device, for the shell (the console's recent output); empty when the back end keeps none. */
    default Optional<String> transcript() {
        return Optional.empty();
    }

    /**
     * Input from a user of the shell (typed at the console). Returns false
     * when this back end takes no such input.
     */
    default boolean input(byte[] data) {
        return false;
    }

    /** Releases the back end (the guest is gone or its driver is being replaced). Stops any thread it started. */
    @Override
    void close() throws IOException;
}
