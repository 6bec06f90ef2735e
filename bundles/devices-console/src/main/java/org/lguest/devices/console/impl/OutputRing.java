package org.lguest.devices.console.impl;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The most recent {@code capacity} bytes of a console's output. Thread-safe. */
final class OutputRing {
    private final byte[] ring;
    private long written;

    OutputRing(int capacity) {
        ring = new byte[capacity];
    }

    synchronized void append(ByteBuffer data) {
        ByteBuffer d = data.duplicate();
        while (d.hasRemaining()) {
            int at = (int) (written % ring.length);
            int n = Math.min(d.remaining(), ring.length - at);
            d.get(ring, at, n);
            written += n;
        }
    }

    synchronized void append(byte[] data) {
        append(ByteBuffer.wrap(data));
    }

    /** The bytes kept, oldest first. */
    synchronized byte[] contents() {
        int n = (int) Math.min(written, ring.length);
        byte[] out = new byte[n];
        int start = (int) ((written - n) % ring.length);
        int first = Math.min(n, ring.length - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        return out;
    }

    String text() {
        return new String(contents(), StandardCharsets.UTF_8);
    }

    synchronized long written() {
        return written;
    }
}
