package org.lguest.launcher.impl.virtio;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestMemory;

/**
 * One buffer the guest made available on a virtqueue, as a device model sees
 * it ({@link DeviceRequest}): what the guest wrote for the device to read,
 * room for the device to write, and the way to hand it back.
 *
 * <p>{@link #readable()} gives views, not copies: read-only buffers over the
 * guest's own frames ({@link GuestMemory#frame}), one per page-contiguous
 * piece of each device-readable descriptor, so a descriptor that crosses a
 * page boundary gives two buffers. They show guest memory as it is now; the
 * guest leaves a buffer alone until it is used, so that is what it wrote.
 * {@link #write} goes through {@link GuestMemory#write} (checked, and the
 * processor is told about writes over code), filling the device-writable
 * descriptors in order.
 *
 * <p>{@link #complete} may be called from any thread; the first call counts.
 * It does not touch the rings itself: it queues the completion with the
 * device, which publishes it in the used ring on the guest's thread, in the
 * order completions were made. After it, {@link #write} writes nothing (the
 * guest may already be reusing the buffer).
 */
final class VirtioRequest implements DeviceRequest {

    /** Where a completion goes: the device's queue of completions. */
    interface Completions {
        void completed(int queue, int head, int usedLength, long epoch);
    }

    private final int queue;
    private final DescriptorChain chain;
    private final long epoch;
    private final GuestMemory memory;
    private final Completions completions;
    private final AtomicBoolean done = new AtomicBoolean();

    /**
     * @param epoch the device's reset count when the buffer was taken: a
     *              completion from before a reset is dropped
     */
    VirtioRequest(int queue, DescriptorChain chain, long epoch, GuestMemory memory, Completions completions) {
        this.queue = queue;
        this.chain = chain;
        this.epoch = epoch;
        this.memory = memory;
        this.completions = completions;
    }

    /** The head descriptor's index, which the used ring names. */
    int head() {
        return chain.head();
    }

    @Override
    public int queue() {
        return queue;
    }

    @Override
    public ByteBuffer[] readable() {
        List<ByteBuffer> views = new ArrayList<>();
        for (DescriptorChain.Segment s : chain.readable()) {
            long at = s.address() & 0xFFFFFFFFL;
            long end = at + s.length();
            while (at < end) {
                int offset = (int) (at & (GuestMemory.PAGE_SIZE - 1));
                int n = (int) Math.min(end - at, GuestMemory.PAGE_SIZE - offset);
                byte[] frame = memory.frame((int) (at >>> GuestMemory.PAGE_SHIFT));
                views.add(ByteBuffer.wrap(frame, offset, n).slice().asReadOnlyBuffer());
                at += n;
            }
        }
        return views.toArray(ByteBuffer[]::new);
    }

    @Override
    public int readableLength() {
        return chain.readableLength();
    }

    @Override
    public int writableLength() {
        return chain.writableLength();
    }

    /**
     * Writes as much of {@code data} as fits from {@code offset} on in the
     * device-writable descriptors; {@code data}'s position advances by the
     * bytes written, which are returned (0 once the request is complete).
     */
    @Override
    public int write(int offset, ByteBuffer data) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset " + offset);
        }
        if (done.get()) {
            return 0;
        }
        int written = 0;
        int skip = offset;
        for (DescriptorChain.Segment s : chain.writable()) {
            if (!data.hasRemaining()) {
                break;
            }
            if (skip >= s.length()) {
                skip -= s.length();
                continue;
            }
            int n = Math.min(s.length() - skip, data.remaining());
            memory.write(s.address() + skip, data.slice(data.position(), n));
            data.position(data.position() + n);
            written += n;
            skip = 0;
        }
        return written;
    }

    /**
     * Hands the buffer back with {@code usedLen} bytes written into it. Virtio
     * counts only bytes written into device-writable buffers, so a larger
     * value (the "bytes taken" a DMA-era output model answers) is clamped to
     * {@link #writableLength()}, and a negative one to 0.
     */
    @Override
    public void complete(int usedLen) {
        if (done.compareAndSet(false, true)) {
            int len = Math.max(0, Math.min(usedLen, chain.writableLength()));
            completions.completed(queue, chain.head(), len, epoch);
        }
    }

    @Override
    public boolean isComplete() {
        return done.get();
    }

    @Override
    public String toString() {
        return "the buffer at descriptor " + chain.head() + " (" + chain.readableLength() + " bytes to read, "
                + chain.writableLength() + " to write)";
    }
}
