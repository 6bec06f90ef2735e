package org.lguest.launcher.impl.virtio;

import org.lguest.device.DeviceRequest;

/**
 * What makes a virtio device a console, a disk or a network card, and
 * nothing else (Firecracker keeps its per-type device models the same way):
 * its virtio type and PCI class, the features it offers, its configuration
 * bytes, how many queues it has, which of them carry input to the guest, and
 * what becomes of a buffer the guest puts on an output queue. The transport
 * ({@link VirtioPciDevice}) does the rest, the same for every type.
 *
 * <p>All methods are called on the guest's thread.
 */
public sealed interface VirtioPersonality permits VirtioConsole, VirtioBlock, VirtioNet {

    /** For messages: "console", "block", "net". */
    String name();

    /** The virtio device type (1 net, 2 block, 3 console). */
    int deviceType();

    /** PCI class and subclass, {@code 0xCCSS}, as the 4.x Launcher gave this type. */
    int pciClass();

    /** The device's own feature bits (the transport adds VIRTIO_F_VERSION_1). */
    long features();

    int queueCount();

    /**
     * Whether {@code queue} carries input to the guest: its buffers are
     * device-writable and filled by {@link VirtioPciDevice#deliver}; the other
     * queues are output, handed to {@link #submit}.
     */
    boolean isInputQueue(int queue);

    /** Bytes of device configuration (at BAR0 offset 60). */
    int configSize();

    /** Reads {@code size} bytes at {@code offset}, inside {@link #configSize()}, little-endian. */
    int readConfig(int offset, int size);

    /** A driver's write of {@code size} bytes at {@code offset}, inside {@link #configSize()}; ignored unless the type defines it. */
    default void writeConfig(int offset, int size, int value) {
    }

    /**
     * A buffer from output queue {@code queue}: check what the type requires
     * of it (throwing {@link org.lguest.mmu.GuestViolationException}) and pass
     * it on to whoever serves it.
     */
    void submit(int queue, DeviceRequest request);
}
