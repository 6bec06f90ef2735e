package org.lguest.launcher.impl.virtio;

import java.util.List;

/**
 * One buffer the guest made available: the head descriptor's index and the
 * chain's segments, already checked by {@link Virtqueue#pop} (each inside
 * guest memory, the device-readable ones first). Addresses are guest-physical
 * and unsigned.
 */
record DescriptorChain(int head, List<Segment> readable, List<Segment> writable, int readableLength, int writableLength) {

    /** One descriptor: {@code length} bytes at guest-physical {@code address}. */
    record Segment(int address, int length) {
    }

    DescriptorChain {
        readable = List.copyOf(readable);
        writable = List.copyOf(writable);
    }
}
