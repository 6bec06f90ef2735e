package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.lguest.device.DeviceLayout;
import org.lguest.launcher.LaunchException;
import org.lguest.mmu.impl.MmuComponent;

/** The Launcher's shared regions: one per name, member numbers lowest-free, gone with the last member. */
class SharedRegionsTest {
    final MmuComponent mmu = new MmuComponent();
    final SharedRegions regions = new SharedRegions();

    @Test
    void membersOfOneNameShareOneRegionAndGetTheLowestFreeNumber() throws Exception {
        SharedRegions.Membership a = regions.join(mmu, "lan:x", 1);
        SharedRegions.Membership b = regions.join(mmu, "lan:x", 1);
        assertSame(a.region(), b.region(), "one region per name");
        assertEquals(0, a.member());
        assertEquals(1, b.member());
        regions.leave(a);
        SharedRegions.Membership c = regions.join(mmu, "lan:x", 1);
        assertEquals(0, c.member(), "the number a leaver freed is taken again first");
        assertEquals(2, regions.members("lan:x"));
    }

    @Test
    void theRegionIsForgottenWithItsLastMemberAndANewOneIsFresh() throws Exception {
        SharedRegions.Membership a = regions.join(mmu, "lan:y", 1);
        regions.leave(a);
        regions.leave(a); // twice is harmless
        assertEquals(0, regions.members("lan:y"));
        SharedRegions.Membership b = regions.join(mmu, "lan:y", 1);
        assertNotSame(a.region(), b.region(), "a LAN nobody holds starts again from zeroed frames");
        assertEquals(0, b.member());
    }

    @Test
    void aMemberWantingAnotherSizeIsRefused() throws Exception {
        regions.join(mmu, "lan:z", 1);
        LaunchException e = assertThrows(LaunchException.class, () -> regions.join(mmu, "lan:z", 2));
        assertTrue(e.getMessage().contains("shared region lan:z has 1 pages; this device wants 2"), e.getMessage());
        assertEquals(1, regions.members("lan:z"), "the refused join took nothing");
    }

    @Test
    void aFullRegionRefusesTheNextMember() throws Exception {
        List<SharedRegions.Membership> all = new ArrayList<>();
        for (int i = 0; i < DeviceLayout.MAX_SHARED_MEMBERS; i++) {
            all.add(regions.join(mmu, "lan:full", 1));
        }
        assertEquals(DeviceLayout.MAX_SHARED_MEMBERS - 1, all.get(all.size() - 1).member());
        LaunchException e = assertThrows(LaunchException.class, () -> regions.join(mmu, "lan:full", 1));
        assertTrue(e.getMessage().contains("is full: " + DeviceLayout.MAX_SHARED_MEMBERS + " members"), e.getMessage());
    }

    @Test
    void aLayoutKeepsTheLowFeatureBitsForTheMemberNumber() {
        assertThrows(IllegalArgumentException.class, () -> DeviceLayout.shared(2, 0x4001, 1, "lan:a"));
        assertThrows(IllegalArgumentException.class, () -> DeviceLayout.shared(2, 0x4000, 0, "lan:a"));
        assertThrows(IllegalArgumentException.class, () -> DeviceLayout.of(0, 0, 0));
        assertEquals("lan:a", DeviceLayout.shared(2, 0x4000, 1, "lan:a").sharedRegion());
    }
}
