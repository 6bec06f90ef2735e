package org.lguest.launcher.impl.virtio;

import java.util.ArrayList;
import java.util.List;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * One split virtqueue (virtio 1.0 §2.4) in guest memory, seen from the
 * device: the three rings the driver placed, where the device has got to in
 * the available ring, and where it writes next in the used ring.
 *
 * <pre>
 *   descriptor table  16 B each: addr u64, len u32, flags u16 (NEXT 1, WRITE 2, INDIRECT 4), next u16
 *   available ring    flags u16 (NO_INTERRUPT 1), idx u16, ring[size] u16, used_event u16
 *   used ring         flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16
 * </pre>
 *
 * Everything in guest memory is the guest's to change at any moment, so it is
 * read once and checked before it is used: the rings must lie inside guest
 * memory, whole and aligned, when the queue is enabled; every descriptor of a
 * chain must lie inside guest memory (no wrap past 4 GiB, nothing above it),
 * the chain may not be longer than the queue (a loop) nor name a descriptor
 * beyond it, and its device-readable descriptors come before its
 * device-writable ones. A breach is a {@link GuestViolationException} whose
 * message says which queue, which descriptor and what was wrong, as the 4.x
 * Launcher's {@code wait_for_vq_desc} and {@code enable_virtqueue} did with
 * {@code errx}. Indirect descriptors and event indexes are not offered, so an
 * INDIRECT descriptor is an error too.
 *
 * <p>Used only on the guest's thread: the guest is stopped while the device
 * reads or writes the rings, so no barrier is needed between the guest's
 * stores and ours beyond the order of our own writes (the used element before
 * the used index).
 */
final class Virtqueue {
    static final int DESC_F_NEXT = 1;
    static final int DESC_F_WRITE = 2;
    static final int DESC_F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1;
    static final int DESCRIPTOR_SIZE = 16;

    private final String owner;
    private final GuestMemory memory;

    private int size = VirtioPci.QUEUE_SIZE_MAX;
    private int desc;
    private int avail;
    private int used;
    private boolean enabled;
    /** The next available-ring entry to take, and the next used-ring entry to fill (both mod 2^16). */
    private int lastAvail;
    private int usedIdx;

    /** @param owner for messages: "virtio console queue 1" */
    Virtqueue(String owner, GuestMemory memory) {
        this.owner = owner;
        this.memory = memory;
    }

    int size() {
        return size;
    }

    boolean enabled() {
        return enabled;
    }

    int desc() {
        return desc;
    }

    int avail() {
        return avail;
    }

    int used() {
        return used;
    }

    /** queue_size: a smaller power of two the driver chose (virtio 1.0 §4.1.5.1.3). */
    void setSize(int value) {
        requireDisabled("queue_size");
        if (value == 0 || Integer.bitCount(value) != 1 || value > VirtioPci.QUEUE_SIZE_MAX) {
            throw violation("queue size " + value + " is not a power of two from 1 to " + VirtioPci.QUEUE_SIZE_MAX);
        }
        size = value;
    }

    void setDesc(int lo) {
        requireDisabled("queue_desc");
        desc = lo;
    }

    void setAvail(int lo) {
        requireDisabled("queue_avail");
        avail = lo;
    }

    void setUsed(int lo) {
        requireDisabled("queue_used");
        used = lo;
    }

    /** queue_desc_hi, queue_avail_hi, queue_used_hi: guest memory is below 4 GiB, so only 0 is accepted. */
    void setHigh(String field, int value) {
        requireDisabled(field);
        if (value != 0) {
            throw violation("the driver wrote " + hex(value) + " to " + field
                    + ": ring addresses must be below 4 GiB (the high half must be 0)");
        }
    }

    private void requireDisabled(String field) {
        if (enabled) {
            throw violation("the driver changed " + field + " of an enabled queue (only a device reset may change it)");
        }
    }

    /** queue_enable = 1: checks the rings and starts at the beginning of both. */
    void enable() {
        if (enabled) {
            return;
        }
        checkRing("descriptor table", desc, DESCRIPTOR_SIZE * size, 16);
        checkRing("available ring", avail, 6 + 2 * size, 2);
        checkRing("used ring", used, 6 + 8 * size, 4);
        lastAvail = 0;
        usedIdx = 0;
        enabled = true;
    }

    private void checkRing(String what, int address, int length, int alignment) {
        if ((address & (alignment - 1)) != 0) {
            throw violation("the " + what + " at " + hex(address) + " is not " + alignment + "-byte aligned");
        }
        if (!memory.isValid(address, length)) {
            throw violation("the " + what + " at " + hex(address) + " (" + length + " bytes for " + size
                    + " entries) is outside guest memory (ends at " + VirtioPci.hex(memory.limitBytes()) + ")");
        }
    }

    /** Device reset: the queue forgets its rings and goes back to the largest size. */
    void reset() {
        enabled = false;
        size = VirtioPci.QUEUE_SIZE_MAX;
        desc = 0;
        avail = 0;
        used = 0;
        lastAvail = 0;
        usedIdx = 0;
    }

    /** Whether the guest has made a buffer available that the device has not taken. */
    boolean hasAvailable() {
        return enabled && memory.readU16(avail + 2) != lastAvail;
    }

    /**
     * Takes the next available buffer, checked, or returns null when there is
     * none (or the queue is not enabled).
     */
    DescriptorChain pop() {
        if (!enabled) {
            return null;
        }
        int availIdx = memory.readU16(avail + 2);
        int pending = (availIdx - lastAvail) & 0xFFFF;
        if (pending == 0) {
            return null;
        }
        if (pending > size) {
            throw violation("the guest moved the available index from " + lastAvail + " to " + availIdx
                    + ", more than the queue size " + size + " ahead");
        }
        int slot = lastAvail & (size - 1);
        int head = memory.readU16(avail + 4 + 2 * slot);
        if (head >= size) {
            throw violation("available ring entry " + slot + " names descriptor " + head
                    + "; the queue has " + size);
        }
        lastAvail = (lastAvail + 1) & 0xFFFF;
        return walk(head);
    }

    private DescriptorChain walk(int head) {
        List<DescriptorChain.Segment> readable = new ArrayList<>();
        List<DescriptorChain.Segment> writable = new ArrayList<>();
        long readableLength = 0;
        long writableLength = 0;
        int i = head;
        for (int count = 1;; count++) {
            if (count > size) {
                throw violation("the descriptor chain from descriptor " + head + " is longer than the queue ("
                        + size + " descriptors): it loops");
            }
            int d = desc + DESCRIPTOR_SIZE * i;
            int addr = memory.readU32(d);
            int addrHigh = memory.readU32(d + 4);
            long len = memory.readU32(d + 8) & 0xFFFFFFFFL;
            int flags = memory.readU16(d + 12);
            int next = memory.readU16(d + 14);
            if ((flags & DESC_F_INDIRECT) != 0) {
                throw violation("descriptor " + i + " is indirect, which the device did not offer");
            }
            if (addrHigh != 0) {
                throw violation("descriptor " + i + " at " + VirtioPci.hex((long) addrHigh << 32 | (addr & 0xFFFFFFFFL))
                        + " is above 4 GiB");
            }
            if (len > Integer.MAX_VALUE || !memory.isValid(addr, (int) len)) {
                throw violation("descriptor " + i + " at " + hex(addr) + " (" + len
                        + " bytes) is outside guest memory (ends at " + VirtioPci.hex(memory.limitBytes()) + ")");
            }
            DescriptorChain.Segment s = new DescriptorChain.Segment(addr, (int) len);
            if ((flags & DESC_F_WRITE) != 0) {
                writable.add(s);
                writableLength += len;
            } else if (!writable.isEmpty()) {
                throw violation("descriptor " + i + " is device-readable but follows a device-writable one"
                        + " in the chain from descriptor " + head);
            } else {
                readable.add(s);
                readableLength += len;
            }
            if (readableLength + writableLength > Integer.MAX_VALUE) {
                throw violation("the chain from descriptor " + head + " holds more than 2 GiB");
            }
            if ((flags & DESC_F_NEXT) == 0) {
                break;
            }
            if (next >= size) {
                throw violation("descriptor " + i + " chains to descriptor " + next + "; the queue has " + size);
            }
            i = next;
        }
        return new DescriptorChain(head, readable, writable, (int) readableLength, (int) writableLength);
    }

    /** Puts {head, len} in the used ring, then advances the used index (the element is written first). */
    void publish(int head, int len) {
        int element = used + 4 + 8 * (usedIdx & (size - 1));
        memory.writeU32(element, head);
        memory.writeU32(element + 4, len);
        usedIdx = (usedIdx + 1) & 0xFFFF;
        memory.writeU16(used + 2, usedIdx);
    }

    /** Whether the driver wants an interrupt for used buffers (it has not set VRING_AVAIL_F_NO_INTERRUPT). */
    boolean wantsInterrupt() {
        return (memory.readU16(avail) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    GuestViolationException violation(String what) {
        return new GuestViolationException(owner + ": " + what);
    }

    private static String hex(int address) {
        return VirtioPci.hex(address & 0xFFFFFFFFL);
    }
}
