package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;

import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.ShadowPageTables;

/** The service itself: a stateless factory (registered by Declarative Services from MmuComponent). */
class MmuServiceTest {
    final Mmu mmu = new MmuComponent();

    @Test
    void eachGuestGetsItsOwnMemory() {
        GuestMemory one = mmu.newGuestMemory(4).build();
        GuestMemory two = mmu.newGuestMemory(4).build();
        one.writeU32(0, 1);
        assertEquals(0, two.readU32(0));
        assertNotSame(one.frame(0), two.frame(0));
    }

    @Test
    void defaultPoolFitsFourDirectoriesMappingAllOfMemory() {
        GuestMemory m = mmu.newGuestMemory(16384).build(); // 64 MiB
        assertTrue(m.hostFrameCount() >= 4 * (16 + 1), "pool of " + m.hostFrameCount());
    }

    @Test
    void shadowTablesNeedMemoryFromThisService() {
        GuestMemory foreign = (GuestMemory) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {GuestMemory.class}, (p, m, a) -> null);
        assertThrows(IllegalArgumentException.class, () -> mmu.newShadowPageTables(foreign, 0, 0xC0000000));
    }

    @Test
    void shadowTablesNeedFourFreeHostFrames() {
        GuestMemory m = mmu.newGuestMemory(4).hostFrames(4).build();
        m.allocateHostFrame();
        var e = assertThrows(IllegalStateException.class, () -> mmu.newShadowPageTables(m, 0, 0xC0000000));
        assertTrue(e.getMessage().contains("4 free host frames"), e.getMessage());
    }

    @Test
    void shadowTablesUseTheMemorysPfnLimit() {
        GuestMemory m = mmu.newGuestMemory(4).build();
        ShadowPageTables spt = mmu.newShadowPageTables(m, 0x1000, 0xC0000000);
        assertEquals(m, spt.memory());
        assertEquals(0x1000, spt.guestCr3());
        assertEquals(0xC0000000, spt.pageOffset());
    }
}
