package org.lguest.launcher.impl;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

import org.lguest.device.DeviceRequest;

/**
 * The Launcher's record of one guest request (one SEND_DMA to a device's
 * key) until it is answered: its key, its sections (views of guest memory,
 * or copies for a request held while no driver served the device), when it
 * came, and the answer. A model sees it through a {@link Submission}: one
 * per model it was given to, so that a model replaced while the request was
 * in flight cannot answer it any more, and the replacement can.
 */
final class LauncherRequest {
    private final int key;
    private final ByteBuffer[] sections;
    private final int length;
    final long since = System.nanoTime();
    private final CompletableFuture<Integer> answer = new CompletableFuture<>();
    private final Runnable onComplete;
    /** The transport's own request this one stands for (a virtio buffer), answered with it; null for a DMA send. */
    private final DeviceRequest origin;
    private volatile Submission current;

    /**
     * @param sections   the guest's sections (each positioned at its start; never consumed here)
     * @param onComplete run once when the request is answered (wakes the guest's thread)
     */
    LauncherRequest(int key, ByteBuffer[] sections, Runnable onComplete) {
        this(key, sections, onComplete, null);
    }

    /**
     * The Launcher's record of a request another transport made (a virtio
     * buffer): its queue, its readable views, its writable room, and its
     * answer, which goes to {@code origin} (the guest does not wait for it).
     */
    static LauncherRequest of(DeviceRequest origin) {
        return new LauncherRequest(origin.queue(), origin.readable(), () -> { }, origin);
    }

    private LauncherRequest(int key, ByteBuffer[] sections, Runnable onComplete, DeviceRequest origin) {
        this.origin = origin;
        this.key = key;
        this.sections = sections;
        int n = 0;
        for (ByteBuffer s : sections) {
            n += s.remaining();
        }
        this.length = n;
        this.onComplete = onComplete;
    }

    int key() {
        return key;
    }

    int length() {
        return length;
    }

    /** Whether the request has room the device writes (a virtio input buffer, a block read): it cannot be answered before a model served it. */
    boolean hasWritable() {
        return origin != null && origin.writableLength() > 0;
    }

    /** The same key and bytes, copied out of guest memory, for holding while no model serves the device (the guest was answered when it was held). */
    LauncherRequest copied() {
        return new LauncherRequest(key, new ByteBuffer[] {ByteBuffer.wrap(bytes())}, () -> { });
    }

    /** The sections' bytes in one new array. */
    byte[] bytes() {
        byte[] copy = new byte[length];
        int at = 0;
        for (ByteBuffer s : sections) {
            int n = s.remaining();
            s.duplicate().get(copy, at, n);
            at += n;
        }
        return copy;
    }

    boolean isDone() {
        return answer.isDone();
    }

    CompletableFuture<Integer> answer() {
        return answer;
    }

    /**
     * Writes {@code data} at {@code offset} of the origin's device-writable
     * room and answers with {@code usedLen}: a transport's own error answer
     * for a request no model served (virtio-blk's status byte).
     */
    void answerWith(int offset, ByteBuffer data, int usedLen) {
        if (origin != null && !answer.isDone()) {
            origin.write(offset, data);
        }
        complete(usedLen);
    }

    /** The origin's device-writable room (0 for a DMA send). */
    int writableLength() {
        return origin == null ? 0 : origin.writableLength();
    }

    /** Answers (the first answer counts). */
    void complete(int usedLen) {
        if (answer.complete(usedLen)) {
            if (origin != null) {
                origin.complete(usedLen);
            }
            onComplete.run();
        }
    }

    /** A new face of this request for {@code model}'s eyes; the previous one stops counting. */
    Submission submission() {
        Submission s = new Submission();
        current = s;
        return s;
    }

    /** Any face given out stops counting (its model went away). */
    void revoke() {
        current = null;
    }

    /** What a model sees. */
    final class Submission implements DeviceRequest {
        @Override
        public int queue() {
            return key;
        }

        @Override
        public ByteBuffer[] readable() {
            ByteBuffer[] views = new ByteBuffer[sections.length];
            for (int i = 0; i < sections.length; i++) {
                views[i] = sections[i].asReadOnlyBuffer();
            }
            return views;
        }

        @Override
        public int readableLength() {
            return length;
        }

        @Override
        public int writableLength() {
            return origin == null ? 0 : origin.writableLength();
        }

        @Override
        public int write(int offset, ByteBuffer data) {
            return origin == null || current != this ? 0 : origin.write(offset, data);
        }

        @Override
        public void complete(int usedLen) {
            if (current == this) {
                LauncherRequest.this.complete(usedLen);
            }
        }

        @Override
        public boolean isComplete() {
            return answer.isDone();
        }
    }
}
