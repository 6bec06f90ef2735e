package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.SharedAddress;
import org.lguest.mmu.SharedRegion;

/**
 * Two guests holding one shared region at different guest frames, as two
 * 2.6.23 Launchers mapping the same file for --sharenet.
 */
class SharedRegionTest {
    final MmuComponent mmu = new MmuComponent();
    SharedRegion net;
    GuestMemory a;
    GuestMemory b;
    int netA;
    int netB;

    @BeforeEach
    void twoGuestsSharingTwoPages() {
        net = mmu.newSharedRegion("net", 2);
        var la = mmu.newGuestMemory(16);
        la.addPages("devices", 1);
        netA = la.addShared("net0", net) << 12;
        a = la.hostFrames(8).build();
        var lb = mmu.newGuestMemory(32);
        lb.addPages("devices", 1);
        lb.addPages("block", 1);
        netB = lb.addShared("net0", net) << 12;
        b = lb.hostFrames(8).build();
    }

    @Test
    void bothGuestsHoldTheSameFrameArrays() {
        assertSame(a.frame(netA >>> 12), b.frame(netB >>> 12));
        assertSame(a.frame((netA >>> 12) + 1), b.frame((netB >>> 12) + 1));
        assertNotEquals(netA, netB, "the test wants the region at different addresses in each guest");
    }

    @Test
    void whatOneGuestWritesTheOtherReads() {
        a.write(netA + 0xFFE, new byte[] {1, 2, 3, 4}); // across the two shared pages
        assertEquals(0x04030201, b.readU32(netB + 0xFFE));
    }

    @Test
    void privateMemoryIsNotShared() {
        a.writeU32(0x1000, 0xCAFE);
        assertEquals(0, b.readU32(0x1000));
    }

    @Test
    void sharedAddressNamesTheSameByteInBothGuests() {
        Optional<SharedAddress> inA = a.sharedAddress(netA + 0x1010);
        Optional<SharedAddress> inB = b.sharedAddress(netB + 0x1010);
        assertTrue(inA.isPresent());
        assertEquals(inA, inB, "the same place in shared memory must compare equal across guests (DMA keys)");
        assertEquals(new SharedAddress(net, 0x1010), inA.orElseThrow());
        assertNotEquals(inA, b.sharedAddress(netB + 0x1014));
    }

    @Test
    void privateAddressHasNoSharedName() {
        assertEquals(Optional.empty(), a.sharedAddress(0x1000));
        assertThrows(GuestViolationException.class, () -> a.sharedAddress((int) a.limitBytes()));
    }

    @Test
    void hostWriteThroughOneGuestReachesTheOtherGuestsProcessorOnItsThread() {
        FakeCpu cpuA = new FakeCpu();
        FakeCpu cpuB = new FakeCpu();
        a.attach(cpuA);
        b.attach(cpuB);
        a.writeU32(netA + 0x1008, 7);
        assertEquals(List.of(new FakeCpu.Write(netA + 0x1008, 4)), cpuA.written);
        assertTrue(cpuB.written.isEmpty(), "the other guest's processor is told on its own thread only");
        b.deliverPendingWrites();
        assertTrue(cpuB.written.contains(new FakeCpu.Write(netB + 0x1000, 4096)),
                "the page at the other guest's own address: " + cpuB.written);
    }

    @Test
    void eachRunSliceDropsCodeDecodedFromFramesAnotherGuestHolds() {
        FakeCpu cpuA = new FakeCpu();
        FakeCpu cpuB = new FakeCpu();
        a.attach(cpuA);
        b.attach(cpuB);
        // Guest A's processor stores into the region: no host code sees it. Before B's next slice:
        b.deliverPendingWrites();
        assertEquals(List.of(new FakeCpu.Write(netB, 2 * 4096)), cpuB.written,
                "B must not run code it decoded before A's processor may have rewritten it");
    }

    @Test
    void sharedRegionNoOneElseHoldsIsNotToldEachSlice() {
        FakeCpu cpuB = new FakeCpu();
        b.attach(cpuB);
        a.close(); // the other holder is gone
        b.deliverPendingWrites();
        assertTrue(cpuB.written.isEmpty(), "nothing else can write there: " + cpuB.written);
    }

    @Test
    void regionMappedTwiceInOneGuestTellsItsProcessorAboutTheOtherAlias() {
        SharedRegion r = mmu.newSharedRegion("twice", 1);
        var l = mmu.newGuestMemory(4);
        int first = l.addShared("alias0", r) << 12;
        int second = l.addShared("alias1", r) << 12;
        GuestMemory m = l.hostFrames(4).build();
        FakeCpu cpu = new FakeCpu();
        m.attach(cpu);
        m.writeU32(first + 8, 5);
        assertEquals(5, m.readU32(second + 8));
        m.deliverPendingWrites();
        assertTrue(cpu.written.contains(new FakeCpu.Write(second, 4096)),
                "code decoded at the other alias must be dropped too: " + cpu.written);
    }

    @Test
    void closedMemoryNoLongerHearsOfSharedWrites() {
        FakeCpu cpuB = new FakeCpu();
        b.attach(cpuB);
        b.close();
        a.writeU32(netA, 1);
        assertTrue(cpuB.written.isEmpty());
        assertEquals(1, a.readU32(netA), "the survivor keeps the region");
    }

    @Test
    void regionOfNoPagesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> mmu.newSharedRegion("empty", 0));
    }
}
