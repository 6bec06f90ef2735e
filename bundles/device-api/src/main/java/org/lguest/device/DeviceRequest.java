package org.lguest.device;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One request of a guest to a device, as the transport made it: what the
 * guest handed over, checked, and the way to answer.
 *
 * <p>For lguest's DMA transport a request is one {@code SEND_DMA} to the
 * device's key: {@link #queue()} is the key, {@link #readable()} the sections
 * of the guest's {@code lguest_dma} (each one checked by
 * {@code org.lguest.lg.abi.DmaSections}: inside guest memory, at most a page,
 * not crossing one, not overlapping another), and {@link #complete} sets the
 * sender's {@code used_len}. The sender waits for it (a DMA-era send is
 * synchronous), so the guest does not touch the sections until then; while
 * it waits its thread still serves {@link DeviceContext#deliver}.
 *
 * <p>A transport with writable buffers (virtio's device-writable
 * descriptors) offers them through {@link #write}; lguest's sends have none.
 */
@ProviderType
public interface DeviceRequest {
    /** The queue it came on: for lguest, the DMA key the guest sent to. */
    int queue();

    /**
     * What the guest handed over, one read-only buffer per segment, each
     * positioned at its start. Views of guest memory while the request is
     * open (or copies, for a request the Launcher held during a driver
     * swap); each call returns fresh buffers.
     */
    ByteBuffer[] readable();

    /** The bytes in {@link #readable()}. */
    int readableLength();

    /** The readable bytes copied into one new buffer, ready to read. */
    default ByteBuffer gather() {
        // get(byte[]) is an array copy; put(ByteBuffer) of a read-only view goes byte by byte.
        byte[] all = new byte[readableLength()];
        int at = 0;
        for (ByteBuffer b : readable()) {
            int n = b.remaining();
            b.get(all, at, n);
            at += n;
        }
        return ByteBuffer.wrap(all);
    }

    /** Room in the request's device-writable buffers (lguest sends: 0). */
    default int writableLength() {
        return 0;
    }

    /**
     * Writes {@code data} into the device-writable buffers from {@code offset}
     * on; returns the bytes written (lguest sends: 0).
     */
    default int write(int offset, ByteBuffer data) {
        return 0;
    }

    /**
     * Answers the request: {@code usedLen} is what the guest finds (lguest:
     * the send's {@code used_len}: bytes taken for a console or a network,
     * 0 for a disk, which answers in its request page). Callable from any
     * thread; the first call counts, later ones are ignored, as is a call
     * from a model whose driver went away (the request then goes to the
     * replacement).
     */
    void complete(int usedLen);

    /** Whether {@link #complete} was called (by this model or before). */
    boolean isComplete();
}
