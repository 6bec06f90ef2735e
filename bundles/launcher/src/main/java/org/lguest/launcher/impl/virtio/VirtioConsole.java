package org.lguest.launcher.impl.virtio;

import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestViolationException;

/**
 * The virtio console (type 3), as the 4.x Launcher's {@code setup_console}
 * made it: two queues, 0 the receive queue (input, filled by
 * {@link VirtioPciDevice#deliver}) and 1 the transmit queue (output, handed to
 * the transmit sink), and the one feature VIRTIO_CONSOLE_F_EMERG_WRITE.
 *
 * <p>Configuration ({@code struct virtio_console_config}, 12 bytes): cols u16
 * at 0, rows u16 at 2, max_nr_ports u32 at 4, emerg_wr u32 at 8. Without
 * VIRTIO_CONSOLE_F_SIZE and _MULTIPORT (not offered) the guest ignores the
 * first three; they read 0, 0 and 1. A write to {@code emerg_wr} is one
 * character (its low byte) for the emergency sink: that is how Linux's lguest
 * early console prints before the driver binds, through the PCI-cfg access
 * window, and it works in any device state. This is the console at 00:01.0,
 * where the guest looks for it.
 */
public final class VirtioConsole implements VirtioPersonality {
    public static final int TYPE = 3;
    public static final int RECEIVE_QUEUE = 0;
    public static final int TRANSMIT_QUEUE = 1;
    /** VIRTIO_CONSOLE_F_EMERG_WRITE. */
    static final int F_EMERG_WRITE = 2;
    static final int EMERG_WR = 8;

    private final Consumer<DeviceRequest> transmit;
    private final IntConsumer emergencyWrite;
    private final ConfigBytes config = new ConfigBytes(12).put32(4, 1);

    /**
     * @param transmit       receives each buffer of the transmit queue (device-readable only)
     * @param emergencyWrite receives each character written to {@code emerg_wr}
     */
    public VirtioConsole(Consumer<DeviceRequest> transmit, IntConsumer emergencyWrite) {
        this.transmit = Objects.requireNonNull(transmit);
        this.emergencyWrite = Objects.requireNonNull(emergencyWrite);
    }

    @Override
    public String name() {
        return "console";
    }

    @Override
    public int deviceType() {
        return TYPE;
    }

    @Override
    public int pciClass() {
        return 0x0700; // communication controller, serial
    }

    @Override
    public long features() {
        return 1L << F_EMERG_WRITE;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public boolean isInputQueue(int queue) {
        return queue == RECEIVE_QUEUE;
    }

    @Override
    public int configSize() {
        return config.size();
    }

    @Override
    public int readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
        if (offset == EMERG_WR) {
            emergencyWrite.accept(value & 0xFF);
        }
    }

    @Override
    public void submit(int queue, DeviceRequest request) {
        if (request.writableLength() > 0) {
            throw new GuestViolationException("virtio console transmit queue: " + request
                    + " has device-writable parts; output buffers are only read");
        }
        transmit.accept(request);
    }
}
