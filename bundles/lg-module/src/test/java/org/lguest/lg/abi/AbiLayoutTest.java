package org.lguest.lg.abi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The ABI layouts follow from the i386 C structures they mirror: each field ends where the next begins. */
class AbiLayoutTest {
    @Test
    void lguestDataAsyncRingEndsWhereReserveMemBegins() {
        assertEquals(LguestData.HCALL_STATUS + Hypercalls.RING_SIZE, LguestData.HCALLS,
                "hcall_status[64] (u8) is followed by hcalls[]");
        assertEquals(LguestData.HCALLS + Hypercalls.RING_SIZE * LguestData.HCALL_ENTRY_SIZE, LguestData.RESERVE_MEM,
                "hcalls[64] of four u32 is followed by reserve_mem");
    }

    @Test
    void lguestDataIsElevenHundredTwentyBytes() {
        assertEquals(LguestData.NOIRQ_END + 4, LguestData.SIZE);
    }

    @Test
    void lguestDmaHoldsSixteenAddressesThenSixteenLengths() {
        assertEquals(LguestDma.ADDR + 4 * LguestDma.MAX_SECTIONS, LguestDma.LEN);
        assertEquals(LguestDma.LEN + 2 * LguestDma.MAX_SECTIONS, LguestDma.SIZE);
    }

    @Test
    void sixteenDeviceDescriptorsFitTheDevicePage() {
        assertEquals(DevicePage.PFN + 4, DevicePage.DESCRIPTOR_SIZE);
        assertEquals(true, DevicePage.MAX_DEVICES * DevicePage.DESCRIPTOR_SIZE <= 4096);
    }

    @Test
    void hypercallNamesFollowTheTable() {
        assertEquals("LHCALL_LGUEST_INIT", Hypercalls.name(Hypercalls.LGUEST_INIT));
        assertEquals("LHCALL_LOAD_TLS", Hypercalls.name(Hypercalls.LOAD_TLS));
        assertEquals("unknown hypercall 17", Hypercalls.name(Hypercalls.COUNT));
        assertEquals("unknown hypercall 4294967295", Hypercalls.name(-1));
    }
}
