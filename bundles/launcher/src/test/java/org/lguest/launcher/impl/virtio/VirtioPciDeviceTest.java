package org.lguest.launcher.impl.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.lguest.device.DeviceRequest;
import org.lguest.mmu.GuestViolationException;

/** The BAR0 register file, feature negotiation, the early console and the queues of a virtio PCI device. */
class VirtioPciDeviceTest {
    final VirtioRig rig = new VirtioRig();
    final VirtioPciDevice console = rig.console;

    /** write_pci_config / write_pci_config_byte of arch/x86/pci/early.c: the address carries the offset's low bits too. */
    void earlyWrite(int offset, int size, int value) {
        rig.bus.portOut(PciBus.CONFIG_ADDRESS, 4, VirtioRig.address(1, offset));
        rig.bus.portOut(PciBus.CONFIG_DATA + (offset & 3), size, value);
    }

    /** early_put_chars of arch/x86/lguest/boot.c (4.9), with probe_pci_console, for each character of {@code text}. */
    void earlyPutChars(String text) {
        assertEquals(0x10431AF4, rig.cfgRead(1, 0, 4), "probe_pci_console: the console must be at 00:01.0");
        int deviceCap = rig.findCapability(1, VirtioPci.CAP_DEVICE_CFG);
        int accessCap = rig.findCapability(1, VirtioPci.CAP_PCI_CFG);
        assertTrue(deviceCap != 0 && accessCap != 0, "No caps (" + deviceCap + "/" + accessCap + ") in console!");
        assertTrue(rig.cfgRead(1, deviceCap + 12, 4) >= 12, "console missing emerg_wr field");
        int configOffset = rig.cfgRead(1, deviceCap + 8, 4);
        for (byte c : text.getBytes(StandardCharsets.US_ASCII)) {
            // set_cfg_window: bar (byte), length 4, offset; then the data.
            earlyWrite(accessCap + 4, 1, 0);
            earlyWrite(accessCap + 12, 4, 4);
            earlyWrite(accessCap + 8, 4, configOffset + 8);
            earlyWrite(accessCap + 16, 4, c);
        }
    }

    @Test
    void earlyConsoleCharactersThroughThePciCfgWindowReachTheEmergencySink() {
        earlyPutChars("Linux version 4.9.337 (lguest)\n");
        assertEquals("Linux version 4.9.337 (lguest)\n", rig.emergency.toString());
        assertTrue(rig.irqs.isEmpty(), "emerg_wr raises no interrupt");
    }

    @Test
    void aPciCfgWindowReadReadsBar0() {
        rig.cfgWrite(1, 0x84 + 4, 1, 0);
        rig.cfgWrite(1, 0x84 + 12, 4, 2);
        rig.cfgWrite(1, 0x84 + 8, 4, VirtioPci.NUM_QUEUES);
        assertEquals(2, rig.cfgRead(1, 0x84 + 16, 4), "num_queues through pci_cfg_data");
    }

    @Test
    void aPciCfgWindowAccessOutsideBar0IsTheGuestsError() {
        rig.cfgWrite(1, 0x84 + 4, 1, 0);
        rig.cfgWrite(1, 0x84 + 12, 4, 4);
        rig.cfgWrite(1, 0x84 + 8, 4, 128);
        GuestViolationException e = assertThrows(GuestViolationException.class, () -> rig.cfgWrite(1, 0x84 + 16, 4, 'x'));
        assertTrue(e.reason().contains("virtio console: PCI-cfg access window write (bar 0, offset 128, length 4)")
                && e.reason().contains("inside BAR0 (128 bytes)"), e.reason());
        rig.cfgWrite(1, 0x84 + 12, 4, 3);
        rig.cfgWrite(1, 0x84 + 8, 4, 0);
        e = assertThrows(GuestViolationException.class, () -> rig.cfgRead(1, 0x84 + 16, 4));
        assertTrue(e.reason().contains("the length must be 1, 2 or 4"), e.reason());
        rig.cfgWrite(1, 0x84 + 4, 1, 1);
        rig.cfgWrite(1, 0x84 + 12, 4, 4);
        e = assertThrows(GuestViolationException.class, () -> rig.cfgRead(1, 0x84 + 16, 4));
        assertTrue(e.reason().contains("the device has only BAR0"), e.reason());
    }

    @Test
    void featuresOfferVersion1AndTheDevicesOwnAndFeaturesOkSticks() {
        rig.write(console, VirtioPci.DEVICE_FEATURE_SELECT, 4, 0);
        assertEquals(1 << 2, rig.read(console, VirtioPci.DEVICE_FEATURE, 4), "low half: VIRTIO_CONSOLE_F_EMERG_WRITE");
        rig.write(console, VirtioPci.DEVICE_FEATURE_SELECT, 4, 1);
        assertEquals(1, rig.read(console, VirtioPci.DEVICE_FEATURE, 4), "high half: VIRTIO_F_VERSION_1 (bit 32)");
        rig.write(console, VirtioPci.DEVICE_FEATURE_SELECT, 4, 2);
        assertEquals(0, rig.read(console, VirtioPci.DEVICE_FEATURE, 4));
        assertEquals(0x0B, rig.negotiate(console, 1L << 32 | 1 << 2), "ACKNOWLEDGE|DRIVER|FEATURES_OK read back");
        assertEquals(1L << 32 | 1 << 2, console.acceptedFeatures());
        rig.write(console, VirtioPci.DEVICE_STATUS, 1, 0x0F);
        assertEquals(0x0F, console.status(), "DRIVER_OK");
    }

    @Test
    void featuresNotOfferedOrWithoutVersion1AreRefusedAtFeaturesOk() {
        assertEquals(0x03, rig.negotiate(console, 1L << 32 | 1 << 0), "VIRTIO_CONSOLE_F_SIZE was not offered");
        assertEquals(0x03, rig.negotiate(console, 1 << 2), "a legacy driver (no VIRTIO_F_VERSION_1)");
        assertEquals(0, console.acceptedFeatures());
    }

    @Test
    void commonConfigurationReadsAsLinuxExpects() {
        assertEquals(VirtioPci.NO_VECTOR, rig.read(console, VirtioPci.MSIX_CONFIG, 2), "no MSI-X");
        assertEquals(2, rig.read(console, VirtioPci.NUM_QUEUES, 2));
        rig.write(console, VirtioPci.QUEUE_SELECT, 2, 1);
        assertEquals(256, rig.read(console, VirtioPci.QUEUE_SIZE, 2));
        assertEquals(VirtioPci.NO_VECTOR, rig.read(console, VirtioPci.QUEUE_MSIX_VECTOR, 2));
        assertEquals(0, rig.read(console, VirtioPci.QUEUE_ENABLE, 2));
        assertEquals(0, rig.read(console, VirtioPci.QUEUE_NOTIFY_OFF, 2));
        rig.write(console, VirtioPci.QUEUE_SELECT, 2, 2);
        assertEquals(0, rig.read(console, VirtioPci.QUEUE_SIZE, 2), "a queue the device does not have has size 0");
        assertEquals(1, rig.read(console, VirtioPci.DEVICE_CONFIG + 4, 4), "console max_nr_ports");
    }

    @Test
    void consoleTransmitRoundTripReachesTheSinkAndComesBackInTheUsedRing() {
        rig.negotiate(console, 1L << 32);
        rig.setUpQueue(console, VirtioConsole.TRANSMIT_QUEUE);
        // "Hello, " in one page, "world\n" in a descriptor that crosses a page boundary.
        rig.put(VirtioRig.BUFFERS, "Hello, ");
        rig.put(VirtioRig.BUFFERS + 0x1000 - 3, "world\n");
        rig.descriptor(1, 5, VirtioRig.BUFFERS, 7, Virtqueue.DESC_F_NEXT, 9);
        rig.descriptor(1, 9, VirtioRig.BUFFERS + 0x1000 - 3, 6, 0, 0);
        rig.makeAvailable(1, 5);
        rig.notify(console, 1);

        assertEquals(1, rig.transmitted.size(), "the sink gets one request");
        DeviceRequest r = rig.transmitted.get(0);
        assertEquals(1, r.queue());
        assertEquals(13, r.readableLength());
        assertEquals("Hello, world\n", StandardCharsets.US_ASCII.decode(r.gather()).toString());
        ByteBuffer[] views = r.readable();
        assertEquals(3, views.length, "one view per page-contiguous piece");
        assertTrue(views[0].isReadOnly());
        assertEquals(0, rig.usedIdx(1), "nothing is used before the model completes");

        r.complete(13);
        assertTrue(r.isComplete());
        assertEquals(1, rig.runGuestTasks(), "a completion is published by a task on the guest's thread");
        assertEquals(1, rig.usedIdx(1));
        assertEquals(5, rig.usedId(1, 0), "the used element names the head descriptor");
        assertEquals(0, rig.usedLen(1, 0), "bytes written into an output buffer: none");
        assertEquals(List.of(1), rig.irqs, "IRQ 1 raised once");
        assertEquals(1, rig.read(console, VirtioPci.ISR, 1), "ISR bit 0: used buffers");
        assertEquals(0, rig.read(console, VirtioPci.ISR, 1), "reading the ISR clears it");
    }

    @Test
    void aCompletionFromAnotherThreadWaitsForTheGuestsThread() throws Exception {
        rig.setUpQueue(console, 1);
        rig.put(VirtioRig.BUFFERS, "x");
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, 0, 0);
        rig.makeAvailable(1, 0);
        rig.notify(console, 1);
        Thread model = Thread.ofPlatform().start(() -> rig.transmitted.get(0).complete(1));
        model.join();
        assertEquals(0, rig.usedIdx(1), "the model's thread does not touch the used ring");
        assertTrue(rig.irqs.isEmpty(), "nor raise the interrupt");
        rig.runGuestTasks();
        assertEquals(1, rig.usedIdx(1));
        assertEquals(List.of(1), rig.irqs);
    }

    @Test
    void usedElementsArePublishedInTheOrderOfCompletion() {
        rig.setUpQueue(console, 1);
        for (int i = 0; i < 3; i++) {
            rig.descriptor(1, i, VirtioRig.BUFFERS + 16 * i, 1, 0, 0);
        }
        rig.makeAvailable(1, 0, 1, 2);
        rig.notify(console, 1);
        assertEquals(3, rig.transmitted.size());
        rig.transmitted.get(2).complete(0);
        rig.transmitted.get(0).complete(0);
        rig.transmitted.get(0).complete(0); // the first call counts
        rig.transmitted.get(1).complete(0);
        rig.runGuestTasks();
        assertEquals(3, rig.usedIdx(1));
        assertEquals(List.of(2, 0, 1), List.of(rig.usedId(1, 0), rig.usedId(1, 1), rig.usedId(1, 2)));
        assertEquals(List.of(1), rig.irqs, "one interrupt for the batch");
    }

    @Test
    void aSynchronousCompletionInTheSinkIsPublishedBeforeTheNotifyReturns() {
        VirtioPciDevice c = rig.device(new VirtioConsole(r -> r.complete(0), ch -> { }), 4);
        rig.bus.add(c);
        rig.setUpQueue(c, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, 0, 0);
        rig.makeAvailable(1, 0);
        rig.notify(c, 1);
        assertEquals(1, rig.usedIdx(1), "completed on the guest's thread: published at once");
        assertEquals(List.of(4), rig.irqs);
    }

    @Test
    void receiveDeliveryWritesIntoTheGuestsBufferAndRaisesTheInterrupt() {
        rig.setUpQueue(console, VirtioConsole.RECEIVE_QUEUE);
        rig.descriptor(0, 3, VirtioRig.BUFFERS, 4, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 4);
        rig.descriptor(0, 4, VirtioRig.BUFFERS + 0x100, 12, Virtqueue.DESC_F_WRITE, 0);
        rig.makeAvailable(0, 3);
        assertTrue(console.hasBuffers(0));
        ByteBuffer data = ByteBuffer.wrap("echo hi\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(8, console.deliver(0, data));
        assertFalse(data.hasRemaining(), "the data's position advances by the bytes placed");
        assertEquals("echo", rig.get(VirtioRig.BUFFERS, 4));
        assertEquals(" hi\n", rig.get(VirtioRig.BUFFERS + 0x100, 4));
        assertEquals(1, rig.usedIdx(0));
        assertEquals(3, rig.usedId(0, 0));
        assertEquals(8, rig.usedLen(0, 0), "used length = bytes written");
        assertEquals(List.of(1), rig.irqs);
    }

    @Test
    void inputLargerThanTheBufferIsCutAndTheRestStaysWithTheCaller() {
        rig.setUpQueue(console, 0);
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 3, Virtqueue.DESC_F_WRITE, 0);
        rig.makeAvailable(0, 0);
        ByteBuffer data = ByteBuffer.wrap("abcdef".getBytes(StandardCharsets.US_ASCII));
        assertEquals(3, console.deliver(0, data));
        assertEquals(3, data.remaining());
        assertEquals(-1, console.deliver(0, data), "no more buffers");
    }

    @Test
    void withoutBuffersDeliveryReturnsMinusOneAndANotifyCallsTheListener() {
        List<Integer> told = new ArrayList<>();
        console.onBuffersAvailable(told::add);
        assertEquals(-1, console.deliver(0, ByteBuffer.wrap(new byte[] {'a'})), "queue not enabled");
        rig.setUpQueue(console, 0);
        assertEquals(-1, console.deliver(0, ByteBuffer.wrap(new byte[] {'a'})), "enabled but empty");
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 16, Virtqueue.DESC_F_WRITE, 0);
        rig.makeAvailable(0, 0);
        rig.notify(console, 0);
        assertEquals(List.of(0), told, "the listener hears of the receive queue");
        assertEquals(1, console.deliver(0, ByteBuffer.wrap(new byte[] {'a'})));
    }

    @Test
    void theNoInterruptFlagSuppressesTheInterruptButNotTheUsedElement() {
        rig.setUpQueue(console, 0);
        rig.memory.writeU16(VirtioRig.avail(0), Virtqueue.AVAIL_F_NO_INTERRUPT);
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 16, Virtqueue.DESC_F_WRITE, 0);
        rig.makeAvailable(0, 0);
        console.deliver(0, ByteBuffer.wrap(new byte[] {'a'}));
        assertEquals(1, rig.usedIdx(0));
        assertTrue(rig.irqs.isEmpty(), "VRING_AVAIL_F_NO_INTERRUPT: no interrupt");
    }

    @Test
    void writingStatusZeroResetsTheDeviceAndDropsCompletionsTakenBefore() {
        rig.negotiate(console, 1L << 32);
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, 0, 0);
        rig.makeAvailable(1, 0);
        rig.notify(console, 1);
        DeviceRequest before = rig.transmitted.get(0);

        rig.write(console, VirtioPci.DEVICE_STATUS, 1, 0);
        assertEquals(0, rig.read(console, VirtioPci.DEVICE_STATUS, 1), "Linux's vp_reset waits for status to read 0");
        assertEquals(0, console.acceptedFeatures());
        rig.write(console, VirtioPci.QUEUE_SELECT, 2, 1);
        assertEquals(0, rig.read(console, VirtioPci.QUEUE_ENABLE, 2), "queues are disabled");
        assertEquals(0, rig.read(console, VirtioPci.QUEUE_DESC_LO, 4), "and forget their rings");
        assertEquals(256, rig.read(console, VirtioPci.QUEUE_SIZE, 2));

        before.complete(0);
        rig.runGuestTasks();
        assertEquals(0, rig.usedIdx(1), "a completion from before the reset is dropped");
        assertTrue(rig.irqs.isEmpty());

        rig.memory.zero(VirtioRig.RINGS, 0x10000);
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, 0, 0);
        rig.makeAvailable(1, 0);
        rig.notify(console, 1);
        assertEquals(2, rig.transmitted.size(), "the queue starts again from the first available entry");
    }

    @Test
    void aCompletionFromBeforeAResetIsDroppedEvenOnceTheQueueIsSetUpAgain() {
        rig.setUpQueue(console, 1);
        rig.descriptor(1, 0, VirtioRig.BUFFERS, 1, 0, 0);
        rig.makeAvailable(1, 0);
        rig.notify(console, 1);
        DeviceRequest stale = rig.transmitted.get(0);
        rig.write(console, VirtioPci.DEVICE_STATUS, 1, 0);
        rig.memory.zero(VirtioRig.RINGS, 0x10000);
        rig.setUpQueue(console, 1);

        stale.complete(0);
        rig.runGuestTasks();
        assertEquals(0, rig.usedIdx(1), "the new ring must not get an element for a buffer of the old one");
        assertTrue(rig.irqs.isEmpty());
    }

    @Test
    void blockConfigurationHasTheCapacityInSectorsAndSegMax() {
        AtomicReference<DeviceRequest> got = new AtomicReference<>();
        VirtioPciDevice block = rig.device(new VirtioBlock(0x1_0000_0002L, 4096, true, got::set), 2);
        rig.bus.add(block);
        assertEquals(2, rig.read(block, VirtioPci.DEVICE_CONFIG, 4), "capacity, low half");
        assertEquals(1, rig.read(block, VirtioPci.DEVICE_CONFIG + 4, 4), "capacity, high half");
        assertEquals(254, rig.read(block, VirtioPci.DEVICE_CONFIG + 12, 4), "seg_max");
        assertEquals(4096, rig.read(block, VirtioPci.DEVICE_CONFIG + 20, 4), "blk_size");
        rig.write(block, VirtioPci.DEVICE_FEATURE_SELECT, 4, 0);
        assertEquals(1 << 2 | 1 << 5 | 1 << 6, rig.read(block, VirtioPci.DEVICE_FEATURE, 4), "SEG_MAX, RO, BLK_SIZE");
        assertEquals(0, rig.read(block, VirtioPci.DEVICE_CONFIG + 36, 4), "past the configuration: 0");

        rig.setUpQueue(block, 0);
        rig.descriptor(0, 0, VirtioRig.BUFFERS, 16, Virtqueue.DESC_F_NEXT, 1);
        rig.descriptor(0, 1, VirtioRig.BUFFERS + 512, 512, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 2);
        rig.descriptor(0, 2, VirtioRig.BUFFERS + 2048, 1, Virtqueue.DESC_F_WRITE, 0);
        rig.makeAvailable(0, 0);
        rig.notify(block, 0);
        assertEquals(16, got.get().readableLength());
        assertEquals(513, got.get().writableLength());
        ByteBuffer status = ByteBuffer.wrap(new byte[] {0});
        assertEquals(1, got.get().write(512, status), "the status byte is the last writable one");
    }

    @Test
    void netConfigurationHasTheMac() {
        byte[] mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        VirtioPciDevice net = rig.device(new VirtioNet(mac, r -> { }), 3);
        rig.bus.add(net);
        byte[] read = new byte[6];
        for (int i = 0; i < 6; i++) {
            read[i] = (byte) rig.read(net, VirtioPci.DEVICE_CONFIG + i, 1);
        }
        assertArrayEquals(mac, read);
        rig.write(net, VirtioPci.DEVICE_FEATURE_SELECT, 4, 0);
        assertEquals(1 << 5, rig.read(net, VirtioPci.DEVICE_FEATURE, 4), "VIRTIO_NET_F_MAC");
    }

    @Test
    void aConfigurationChangeBumpsTheGenerationAndSetsIsrBitOne() {
        int before = rig.read(console, VirtioPci.CONFIG_GENERATION, 1);
        console.configChanged();
        assertEquals(before + 1, rig.read(console, VirtioPci.CONFIG_GENERATION, 1));
        assertEquals(2, rig.read(console, VirtioPci.ISR, 1));
        assertEquals(List.of(1), rig.irqs);
    }
}
