package org.lguest.launcher.impl.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lguest.mmu.GuestViolationException;

/**
 * Rings, descriptors and registers a hostile (or broken) guest might hand the
 * device: each one is a {@link GuestViolationException} whose reason says
 * what was wrong, and nothing reaches a device model.
 */
class HostileGuestTest {
    final VirtioRig rig = new VirtioRig();
    final VirtioPciDevice console = rig.console;
    static final long END = VirtioRig.PAGES * 4096L;

    static void assertKilled(Executable guestAction, String... phrases) {
        GuestViolationException e = assertThrows(GuestViolationException.class, guestAction,
                "the guest should have been stopped");
        for (String p : phrases) {
            assertTrue(e.reason().contains(p), "reason \"" + e.reason() + "\" should say \"" + p + "\"");
        }
    }

    /** Queue 1 enabled; descriptor chain from {@code head} made available; then the notify. */
    void transmit(int head) {
        rig.makeAvailable(1, head);
        rig.notify(console, 1);
    }

    @Test
    void aDescriptorOutsideGuestMemory() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 7, END - 100, 4096, 0, 0);
        assertKilled(() -> transmit(7), "virtio console queue 1: descriptor 7 at 0x3ff9c (4096 bytes)",
                "is outside guest memory (ends at 0x40000)");
        assertTrue(rig.transmitted.isEmpty(), "no request reached the model");
    }

    @Test
    void aDescriptorThatWrapsPast4GiB() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, 0xFFFF_FF00L, 0x200, 0, 0);
        assertKilled(() -> transmit(0), "descriptor 0 at 0xffffff00 (512 bytes) is outside guest memory");
    }

    @Test
    void aDescriptorAbove4GiB() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, 1L << 32 | 0x1000, 16, 0, 0);
        assertKilled(() -> transmit(0), "descriptor 0 at 0x100001000 is above 4 GiB");
    }

    @Test
    void aChainThatLoops() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, Virtqueue.DESC_F_NEXT, 1);
        rig.descriptor(1, 1, VirtioRig.BUFFERS, 1, Virtqueue.DESC_F_NEXT, 0);
        assertKilled(() -> transmit(0), "virtio console queue 1: the descriptor chain from descriptor 0",
                "longer than the queue (256 descriptors): it loops");
    }

    @Test
    void aNextIndexBeyondTheQueue() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, Virtqueue.DESC_F_NEXT, 300);
        assertKilled(() -> transmit(0), "descriptor 0 chains to descriptor 300; the queue has 256");
    }

    @Test
    void anAvailableEntryBeyondTheQueue() {
        rig.setUpQueue(console, 1);
        assertKilled(() -> transmit(256), "available ring entry 0 names descriptor 256; the queue has 256");
    }

    @Test
    void anAvailableIndexMovedFurtherThanTheQueueSize() {
        rig.setUpQueue(console, 1);
        rig.memory.writeU16(VirtioRig.avail(1) + 2, 300);
        assertKilled(() -> rig.notify(console, 1), "moved the available index from 0 to 300, more than the queue size 256");
    }

    @Test
    void aReadableDescriptorAfterAWritableOne() {
        VirtioPciDevice block = rig.device(new VirtioBlock(8, 0, false, r -> { }), 2);
        rig.bus.add(block);
        rig.setUpQueue(block, 0);
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 16, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 1);
        rig.descriptor(0, 1, VirtioRig.BUFFERS + 16, 16, 0, 0);
        rig.makeAvailable(0, 0);
        assertKilled(() -> rig.notify(block, 0),
                "virtio block queue 0: descriptor 1 is device-readable but follows a device-writable one");
    }

    @Test
    void anIndirectDescriptorWhichWasNotOffered() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 32, Virtqueue.DESC_F_INDIRECT, 0);
        assertKilled(() -> transmit(0), "descriptor 0 is indirect, which the device did not offer");
    }

    @Test
    void aWritableBufferOnTheConsoleTransmitQueue() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 32, Virtqueue.DESC_F_WRITE, 0);
        assertKilled(() -> transmit(0), "virtio console transmit queue: the buffer at descriptor 0",
                "has device-writable parts");
    }

    @Test
    void aReadableBufferOnTheConsoleReceiveQueue() {
        rig.setUpQueue(console, 0);
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 32, 0, 0);
        rig.makeAvailable(0, 0);
        assertKilled(() -> console.deliver(0, ByteBuffer.wrap(new byte[] {'a'})),
                "virtio console queue 0: the buffer at descriptor 0", "has device-readable parts");
    }

    @Test
    void aRingOutsideGuestMemoryIsRefusedWhenTheQueueIsEnabled() {
        assertKilled(() -> rig.setUpQueue(console, 1, (int) END - 0x800, VirtioRig.avail(1), VirtioRig.used(1)),
                "virtio console queue 1: the descriptor table at 0x3f800 (4096 bytes for 256 entries)",
                "outside guest memory (ends at 0x40000)");
        assertKilled(() -> rig.setUpQueue(console, 0, VirtioRig.desc(0), VirtioRig.avail(0), (int) END - 8),
                "the used ring at 0x3fff8 (2054 bytes for 256 entries) is outside guest memory");
    }

    @Test
    void aMisalignedRingIsRefused() {
        assertKilled(() -> rig.setUpQueue(console, 1, VirtioRig.desc(1) + 8, VirtioRig.avail(1), VirtioRig.used(1)),
                "the descriptor table at 0x14008 is not 16-byte aligned");
    }

    @Test
    void aRingAddressAbove4GiBIsRefused() {
        rig.write(console, VirtioPci.QUEUE_SELECT, 2, 1);
        assertKilled(() -> rig.write(console, VirtioPci.QUEUE_AVAIL_HI, 4, 1),
                "the driver wrote 0x1 to queue_avail_hi: ring addresses must be below 4 GiB");
    }

    @Test
    void changingTheRingsOfAnEnabledQueueIsRefused() {
        rig.setUpQueue(console, 1);
        assertKilled(() -> rig.write(console, VirtioPci.QUEUE_DESC_LO, 4, 0x8000),
                "the driver changed queue_desc of an enabled queue");
        assertKilled(() -> rig.write(console, VirtioPci.QUEUE_SIZE, 2, 128), "changed queue_size of an enabled queue");
    }

    @Test
    void aQueueSizeThatIsNotAPowerOfTwo() {
        rig.write(console, VirtioPci.QUEUE_SELECT, 2, 0);
        assertKilled(() -> rig.write(console, VirtioPci.QUEUE_SIZE, 2, 100), "queue size 100 is not a power of two");
        rig.write(console, VirtioPci.QUEUE_SIZE, 2, 64);
        assertEquals(64, rig.read(console, VirtioPci.QUEUE_SIZE, 2), "a smaller power of two is fine");
    }

    @Test
    void disablingAQueueByWritingZero() {
        rig.setUpQueue(console, 1);
        assertKilled(() -> rig.write(console, VirtioPci.QUEUE_ENABLE, 2, 0), "wrote 0 to queue_enable");
    }

    @Test
    void anAccessOfTheWrongWidth() {
        assertKilled(() -> rig.read(console, VirtioPci.DEVICE_FEATURE, 2),
                "virtio console: a 2-byte read at BAR0 offset 4, where device_feature is 4 bytes");
        assertKilled(() -> rig.write(console, VirtioPci.DEVICE_STATUS, 2, 0),
                "a 2-byte write at BAR0 offset 20, where device_status is 1 byte", "natural width");
        assertKilled(() -> rig.read(console, 2, 1), "a 1-byte read at BAR0 offset 2, which is not the start of a field");
    }

    @Test
    void aNotifyOfAQueueTheDeviceDoesNotHave() {
        assertKilled(() -> rig.notify(console, 5), "virtio console: the driver notified queue 5; the device has 2");
    }
}
