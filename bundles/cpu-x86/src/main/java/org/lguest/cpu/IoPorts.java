package org.lguest.cpu;

import org.osgi.annotation.versioning.ConsumerType;

/** The I/O port space: what IN, OUT and the string I/O instructions reach once the privilege checks pass. */
@ConsumerType
public interface IoPorts {
    /** Reads {@code size} (1, 2 or 4) bytes from {@code port}; unclaimed ports read as all ones. */
    int in(int port, int size);

    /** Writes the low {@code size} (1, 2 or 4) bytes of {@code value} to {@code port}. */
    void out(int port, int size, int value);
}
