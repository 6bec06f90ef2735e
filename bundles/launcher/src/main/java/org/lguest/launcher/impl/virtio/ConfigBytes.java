package org.lguest.launcher.impl.virtio;

/**
 * A device-configuration structure as bytes, little-endian as virtio 1.0
 * defines it: the personalities build theirs with the {@code put} methods and
 * the transport reads it 1, 2 or 4 bytes at a time.
 */
final class ConfigBytes {
    private final byte[] bytes;

    ConfigBytes(int size) {
        bytes = new byte[size];
    }

    int size() {
        return bytes.length;
    }

    int read(int offset, int size) {
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | bytes[offset + i] & 0xFF;
        }
        return v;
    }

    ConfigBytes put8(int offset, int value) {
        bytes[offset] = (byte) value;
        return this;
    }

    ConfigBytes put16(int offset, int value) {
        put8(offset, value);
        return put8(offset + 1, value >>> 8);
    }

    ConfigBytes put32(int offset, int value) {
        put16(offset, value);
        return put16(offset + 2, value >>> 16);
    }

    ConfigBytes put64(int offset, long value) {
        put32(offset, (int) value);
        return put32(offset + 4, (int) (value >>> 32));
    }

    /** {@code from} from offset 0, as much as fits; the rest 0 (a model's configuration, DeviceContext.virtioConfig). */
    void replaceWith(byte[] from) {
        java.util.Arrays.fill(bytes, (byte) 0);
        System.arraycopy(from, 0, bytes, 0, Math.min(from.length, bytes.length));
    }
}
