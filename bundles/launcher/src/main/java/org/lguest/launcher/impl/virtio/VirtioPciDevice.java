package org.lguest.launcher.impl.virtio;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * One modern (virtio 1.0, non-transitional) virtio PCI device: its PCI
 * configuration space ({@link VirtioPciConfig}) and the register file in its
 * BAR0, which is where the driver and the device meet:
 *
 * <pre>
 *   0..55  common configuration: features (offered: the personality's plus VIRTIO_F_VERSION_1),
 *          device status (writing 0 resets), queue selection and each queue's size and rings
 *   56     notify: the driver writes a queue's index there when it has added buffers
 *   58     ISR: bit 0 used buffers, bit 1 configuration change; reading returns and clears it
 *   60..   the personality's device configuration
 * </pre>
 *
 * This is the 4.x Launcher's {@code emulate_mmio_read}/{@code _write}, with
 * its rules: each common-configuration field is accessed at its natural width
 * (virtio 1.0 §4.1.3.1), queue sizes are powers of two up to 256, ring
 * addresses are 32-bit, a queue's setup does not change while it is enabled
 * and queue_enable is never written 0. Breaking one is the guest's error
 * ({@link GuestViolationException}, which ends the guest with the reason).
 * Writes to read-only fields, to the padding byte and to configuration
 * fields the type does not define are ignored, and such reads give 0. There is
 * no MSI-X: msix_config and queue_msix_vector read NO_VECTOR, so Linux falls
 * back to the INTx line, which is {@code irq}. Driver features the device did
 * not offer (or no VIRTIO_F_VERSION_1) make the device refuse FEATURES_OK: the
 * bit does not stick, and Linux gives up on the device.
 *
 * <p>Output queues: a notify takes every available buffer of the queue and
 * hands it to the personality ({@link VirtioPersonality#submit}) as a
 * {@link VirtioRequest}. Input queues: a notify tells the listener registered
 * with {@link #onBuffersAvailable} that the guest has added buffers; input
 * goes in through {@link #deliver}. As in the 4.x Launcher, queues work as
 * soon as they are enabled, before DRIVER_OK.
 *
 * <h2>Threads</h2>
 * Everything here runs on the guest's thread (port and MMIO accesses,
 * {@link #deliver}, {@link #configChanged}) except
 * {@link VirtioRequest#complete}, which a model may call from any thread. A
 * completion is queued; the used ring is written, the ISR set and the
 * interrupt raised by {@code drain} on the guest's thread: right away when the
 * completion happened during a guest-thread call, else in a task posted to the
 * {@code guestThread} executor, which runs it between two runs of the guest.
 * Completions are published in the order they were made, each used element
 * before the used index that exposes it. A reset drops the completions of
 * requests taken before it.
 */
public final class VirtioPciDevice {

    private record Completion(int queue, int head, int length, long epoch) {
    }

    private final VirtioPersonality personality;
    private final String name;
    private final GuestMemory memory;
    private final int irq;
    private final Executor guestThread;
    private final IntConsumer raiseIrq;
    private final long offered;
    private final int barSize;
    private final VirtioPciConfig pci;
    private final Virtqueue[] queues;
    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainPosted = new AtomicBoolean();
    private volatile IntConsumer buffersAvailable = q -> { };

    // Guest-thread state: the common configuration.
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private int status;
    private int configGeneration;
    private int queueSelect;
    private int isr;
    /** Resets so far: a completion taken in an earlier epoch is dropped. */
    private long epoch;

    /**
     * @param personality what kind of device this is
     * @param memory      the guest's memory, where the rings and buffers are
     * @param irq         the interrupt line (1, 2, ...: the config space's interrupt line, and what {@code raiseIrq} gets)
     * @param guestThread runs tasks on the guest's thread between two runs of the guest
     * @param raiseIrq    raises an interrupt line in the guest; called on the guest's thread
     */
    public VirtioPciDevice(VirtioPersonality personality, GuestMemory memory, int irq, Executor guestThread,
            IntConsumer raiseIrq) {
        if (irq < 1 || irq > 255) {
            throw new IllegalArgumentException("IRQ " + irq + " (devices have 1..255; 0 is the timer)");
        }
        this.personality = Objects.requireNonNull(personality);
        this.name = "virtio " + personality.name();
        this.memory = Objects.requireNonNull(memory);
        this.irq = irq;
        this.guestThread = Objects.requireNonNull(guestThread);
        this.raiseIrq = Objects.requireNonNull(raiseIrq);
        this.offered = personality.features() | VirtioPci.F_VERSION_1;
        this.barSize = Math.max(16, Integer.highestOneBit(VirtioPci.DEVICE_CONFIG + personality.configSize() - 1) << 1);
        this.pci = new VirtioPciConfig(name, personality.deviceType(), personality.pciClass(), irq, barSize,
                personality.configSize(), new VirtioPciConfig.Bar0() {
                    @Override
                    public int read(int offset, int size) {
                        return barRead(offset, size);
                    }

                    @Override
                    public void write(int offset, int size, int value) {
                        barWrite(offset, size, value);
                    }
                });
        this.queues = new Virtqueue[personality.queueCount()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new Virtqueue(name + " queue " + i, memory);
        }
    }

    public VirtioPersonality personality() {
        return personality;
    }

    public int irq() {
        return irq;
    }

    /** The device status byte the driver last wrote (0 after a reset). */
    public int status() {
        return status;
    }

    /** The features the driver accepted, once the device took FEATURES_OK; 0 before. */
    public long acceptedFeatures() {
        return (status & VirtioPci.STATUS_FEATURES_OK) != 0 ? driverFeatures : 0;
    }

    /**
     * Registers the one listener told, on the guest's thread, when the guest
     * notifies an (enabled) input queue: it has added buffers, so input kept
     * back after {@link #deliver} returned -1 can be tried again (from inside
     * the call, if the caller likes).
     */
    public void onBuffersAvailable(IntConsumer listener) {
        buffersAvailable = Objects.requireNonNull(listener);
    }

    /** Whether input queue {@code queue} has a buffer for {@link #deliver}. Guest's thread. */
    public boolean hasBuffers(int queue) {
        return inputQueue(queue).hasAvailable();
    }

    /**
     * Puts input into the guest: takes the next buffer of input queue
     * {@code queue}, writes as much of {@code data} as fits (its position
     * advances by as many), hands the buffer back with that length and raises
     * the interrupt. Returns the bytes written, or -1 when the guest has no
     * buffer there (the queue is not enabled or is empty): the caller keeps
     * the data and tries again after {@link #onBuffersAvailable} fires. Empty
     * data still uses up a buffer. Guest's thread only.
     *
     * @throws GuestViolationException when the guest's buffer is bad (outside
     *         memory, a loop, device-readable parts on an input queue)
     */
    public int deliver(int queue, ByteBuffer data) {
        DescriptorChain chain = inputQueue(queue).pop();
        if (chain == null) {
            return -1;
        }
        VirtioRequest r = request(queue, chain);
        if (chain.readableLength() > 0) {
            throw new GuestViolationException(name + " queue " + queue + ": " + r
                    + " has device-readable parts; input buffers are only written");
        }
        int n = r.write(0, data);
        r.complete(n);
        drain();
        return n;
    }

    /**
     * Tells the driver the device configuration changed (a new console size,
     * a new disk capacity): bumps config_generation, sets ISR bit 1 and
     * raises the interrupt. Guest's thread only.
     */
    public void configChanged() {
        configGeneration = (configGeneration + 1) & 0xFF;
        isr |= VirtioPci.ISR_CONFIG;
        raiseIrq.accept(irq);
    }

    private Virtqueue inputQueue(int queue) {
        if (queue < 0 || queue >= queues.length || !personality.isInputQueue(queue)) {
            throw new IllegalArgumentException(name + " has no input queue " + queue);
        }
        return queues[queue];
    }

    VirtioPciConfig pci() {
        return pci;
    }

    int barSize() {
        return barSize;
    }

    private VirtioRequest request(int queue, DescriptorChain chain) {
        return new VirtioRequest(queue, chain, epoch, memory, this::completed);
    }

    // ---- BAR0 --------------------------------------------------------------

    /** A read of BAR0 at {@code offset}. */
    int barRead(int offset, int size) {
        VirtioPci.checkSize(size);
        if (offset < 0 || offset + size > barSize) {
            return VirtioPci.mask(size);
        }
        if (offset >= VirtioPci.DEVICE_CONFIG) {
            return readDeviceConfig(offset - VirtioPci.DEVICE_CONFIG, size);
        }
        if (offset == VirtioPci.PADDING && size == 1) {
            return 0;
        }
        naturalWidth(offset, size, "read");
        Virtqueue q = selected();
        return switch (offset) {
            case VirtioPci.DEVICE_FEATURE_SELECT -> deviceFeatureSelect;
            case VirtioPci.DEVICE_FEATURE -> half(offered, deviceFeatureSelect);
            case VirtioPci.DRIVER_FEATURE_SELECT -> driverFeatureSelect;
            case VirtioPci.DRIVER_FEATURE -> half(driverFeatures, driverFeatureSelect);
            case VirtioPci.MSIX_CONFIG, VirtioPci.QUEUE_MSIX_VECTOR -> VirtioPci.NO_VECTOR;
            case VirtioPci.NUM_QUEUES -> queues.length;
            case VirtioPci.DEVICE_STATUS -> status;
            case VirtioPci.CONFIG_GENERATION -> configGeneration;
            case VirtioPci.QUEUE_SELECT -> queueSelect;
            case VirtioPci.QUEUE_SIZE -> q == null ? 0 : q.size();
            case VirtioPci.QUEUE_ENABLE -> q != null && q.enabled() ? 1 : 0;
            case VirtioPci.QUEUE_DESC_LO -> q == null ? 0 : q.desc();
            case VirtioPci.QUEUE_AVAIL_LO -> q == null ? 0 : q.avail();
            case VirtioPci.QUEUE_USED_LO -> q == null ? 0 : q.used();
            case VirtioPci.ISR -> {
                int v = isr;
                isr = 0;
                yield v;
            }
            default -> 0; // queue_notify_off, the high halves, the notify word
        };
    }

    /** A write of BAR0 at {@code offset}. */
    void barWrite(int offset, int size, int value) {
        VirtioPci.checkSize(size);
        if (offset < 0 || offset + size > barSize) {
            return;
        }
        value &= VirtioPci.mask(size);
        if (offset >= VirtioPci.DEVICE_CONFIG) {
            int at = offset - VirtioPci.DEVICE_CONFIG;
            if (at + size <= personality.configSize()) {
                personality.writeConfig(at, size, value);
            }
            return;
        }
        if (offset == VirtioPci.PADDING && size == 1) {
            return;
        }
        naturalWidth(offset, size, "write");
        Virtqueue q = selected();
        switch (offset) {
            case VirtioPci.DEVICE_FEATURE_SELECT -> deviceFeatureSelect = value;
            case VirtioPci.DRIVER_FEATURE_SELECT -> driverFeatureSelect = value;
            case VirtioPci.DRIVER_FEATURE -> writeDriverFeatures(value);
            case VirtioPci.DEVICE_STATUS -> writeStatus(value);
            case VirtioPci.QUEUE_SELECT -> queueSelect = value;
            case VirtioPci.QUEUE_SIZE -> {
                if (q != null) {
                    q.setSize(value);
                }
            }
            case VirtioPci.QUEUE_ENABLE -> {
                if (q != null) {
                    if (value == 0) {
                        throw new GuestViolationException(name + " queue " + queueSelect
                                + ": the driver wrote 0 to queue_enable (virtio 1.0 forbids it; a device reset disables queues)");
                    }
                    q.enable();
                }
            }
            case VirtioPci.QUEUE_DESC_LO -> {
                if (q != null) {
                    q.setDesc(value);
                }
            }
            case VirtioPci.QUEUE_AVAIL_LO -> {
                if (q != null) {
                    q.setAvail(value);
                }
            }
            case VirtioPci.QUEUE_USED_LO -> {
                if (q != null) {
                    q.setUsed(value);
                }
            }
            case VirtioPci.QUEUE_DESC_HI, VirtioPci.QUEUE_AVAIL_HI, VirtioPci.QUEUE_USED_HI -> {
                if (q != null) {
                    q.setHigh(VirtioPci.registerName(offset), value);
                }
            }
            case VirtioPci.NOTIFY -> notifyQueue(value);
            default -> {
                // Read-only: device_feature, num_queues, config_generation,
                // queue_notify_off, ISR; and the MSI-X vectors, which stay NO_VECTOR.
            }
        }
    }

    private void naturalWidth(int offset, int size, String access) {
        int width = VirtioPci.registerWidth(offset);
        if (width != size) {
            String where = width == 0 ? "which is not the start of a field"
                    : "where " + VirtioPci.registerName(offset) + " is " + width + (width == 1 ? " byte" : " bytes");
            throw new GuestViolationException(name + ": a " + size + "-byte " + access + " at BAR0 offset " + offset
                    + ", " + where + " (virtio 1.0 requires each field to be accessed at its natural width)");
        }
    }

    private Virtqueue selected() {
        return queueSelect < queues.length ? queues[queueSelect] : null;
    }

    private static int half(long features, int select) {
        return switch (select) {
            case 0 -> (int) features;
            case 1 -> (int) (features >>> 32);
            default -> 0;
        };
    }

    private void writeDriverFeatures(int value) {
        if ((status & VirtioPci.STATUS_FEATURES_OK) != 0) {
            return; // negotiation is over
        }
        switch (driverFeatureSelect) {
            case 0 -> driverFeatures = (driverFeatures & 0xFFFFFFFF_00000000L) | (value & 0xFFFFFFFFL);
            case 1 -> driverFeatures = (driverFeatures & 0xFFFFFFFFL) | (long) value << 32;
            default -> {
            }
        }
    }

    private void writeStatus(int value) {
        if (value == 0) {
            reset();
            return;
        }
        boolean newlyFeaturesOk = (value & VirtioPci.STATUS_FEATURES_OK) != 0
                && (status & VirtioPci.STATUS_FEATURES_OK) == 0;
        if (newlyFeaturesOk && ((driverFeatures & ~offered) != 0 || (driverFeatures & VirtioPci.F_VERSION_1) == 0)) {
            value &= ~VirtioPci.STATUS_FEATURES_OK; // refused: the driver reads the status back and gives up
        }
        status = value;
    }

    /** Device reset: back to the state before the driver came, queues disabled, pending completions dropped. */
    private void reset() {
        epoch++;
        status = 0;
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        driverFeatures = 0;
        queueSelect = 0;
        isr = 0;
        for (Virtqueue q : queues) {
            q.reset();
        }
    }

    private int readDeviceConfig(int at, int size) {
        int configSize = personality.configSize();
        if (at + size <= configSize) {
            return personality.readConfig(at, size);
        }
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (at + i < configSize ? personality.readConfig(at + i, 1) : 0);
        }
        return v;
    }

    // ---- queues ------------------------------------------------------------

    private void notifyQueue(int queue) {
        if (queue >= queues.length) {
            throw new GuestViolationException(name + ": the driver notified queue " + queue + "; the device has "
                    + queues.length);
        }
        Virtqueue q = queues[queue];
        if (!q.enabled()) {
            return;
        }
        if (personality.isInputQueue(queue)) {
            buffersAvailable.accept(queue);
        } else {
            for (DescriptorChain chain; (chain = q.pop()) != null;) {
                personality.submit(queue, request(queue, chain));
            }
        }
        drain();
    }

    /** A request's completion, from any thread: queued, then published on the guest's thread. */
    private void completed(int queue, int head, int length, long requestEpoch) {
        completions.add(new Completion(queue, head, length, requestEpoch));
        if (drainPosted.compareAndSet(false, true)) {
            try {
                guestThread.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The guest's thread takes no more work: the guest is gone, and so is its used ring.
                drainPosted.set(false);
            }
        }
    }

    /** Publishes the queued completions in order, then raises the interrupt once if any queue wants it. Guest's thread. */
    void drain() {
        drainPosted.set(false);
        boolean interrupt = false;
        for (Completion c; (c = completions.poll()) != null;) {
            Virtqueue q = queues[c.queue()];
            if (c.epoch() != epoch || !q.enabled()) {
                continue; // taken before a reset
            }
            q.publish(c.head(), c.length());
            interrupt |= q.wantsInterrupt();
        }
        if (interrupt) {
            isr |= VirtioPci.ISR_QUEUE;
            raiseIrq.accept(irq);
        }
    }

    @Override
    public String toString() {
        return name + " (IRQ " + irq + ", BAR0 " + VirtioPci.hex(pci.bar0() & 0xFFFFFFFFL) + ", " + barSize + " bytes)";
    }
}
