package org.lguest.lg.abi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.impl.MmuComponent;

/** The one reader of struct lguest_dma takes well-formed lists and kills on every malformed one, with the reason. */
class DmaSectionsTest {
    static final int DMA = 0x1000;
    final GuestMemory m = new MmuComponent().newGuestMemory(16).build();

    @AfterEach
    void close() {
        m.close();
    }

    void dma(int at, int... addrLen) {
        for (int i = 0; i < addrLen.length / 2; i++) {
            m.writeU32(at + LguestDma.ADDR + 4 * i, addrLen[2 * i]);
            m.writeU16(at + LguestDma.LEN + 2 * i, addrLen[2 * i + 1]);
        }
    }

    String reasonFor(int at) {
        return assertThrows(GuestViolationException.class, () -> DmaSections.read(m, at)).reason();
    }

    @Test
    void sectionsEndAtTheFirstZeroLength() {
        dma(DMA, 0x2000, 10, 0x3000, 20, 0x4000, 0, 0x5000, 40);
        DmaSections s = DmaSections.read(m, DMA);
        assertEquals(2, s.count());
        assertEquals(30, s.totalLength());
        assertEquals(0x3000, s.address(1));
    }

    @Test
    void sixteenSectionsAreTheMostAndNeedNoTerminator() {
        int[] list = new int[32];
        for (int i = 0; i < 16; i++) {
            list[2 * i] = 0x2000 + 0x100 * i;
            list[2 * i + 1] = 0x10;
        }
        dma(DMA, list);
        assertEquals(16, DmaSections.read(m, DMA).count());
    }

    @Test
    void aSectionCrossingAPageKills() {
        dma(DMA, 0x2ff0, 0x20);
        assertEquals(String.format("bad DMA entry: section 0 of the lguest_dma at 0x%08x is 0x00002ff0+32: "
                + "crosses a page boundary", DMA), reasonFor(DMA));
    }

    @Test
    void aSectionLongerThanAPageKills() {
        dma(DMA, 0x2000, 0x1001);
        assertEquals(String.format("bad DMA entry: section 0 of the lguest_dma at 0x%08x is 0x00002000+4097: "
                + "longer than a page", DMA), reasonFor(DMA));
    }

    @Test
    void aSectionOutsideGuestMemoryKills() {
        dma(DMA, 0x2000, 8, 16 * 4096, 8);
        assertEquals(String.format("bad DMA entry: section 1 of the lguest_dma at 0x%08x is 0x00010000+8: "
                + "reaches outside guest memory", DMA), reasonFor(DMA));
    }

    @Test
    void overlappingSectionsKill() {
        dma(DMA, 0x2000, 0x100, 0x3000, 8, 0x20f8, 0x10);
        assertEquals(String.format("bad DMA entry: section 2 of the lguest_dma at 0x%08x is 0x000020f8+16: "
                + "overlaps section 0", DMA), reasonFor(DMA));
    }

    @Test
    void anLguestDmaReachingOutsideGuestMemoryKills() {
        int at = 16 * 4096 - 50;
        assertEquals(String.format("bad DMA entry: the lguest_dma at 0x%08x reaches outside guest memory", at),
                reasonFor(at));
    }

    @Test
    void viewsAndCopyInFollowTheSectionsInOrder() {
        dma(DMA, 0x2000, 3, 0x3000, 4);
        DmaSections s = DmaSections.read(m, DMA);
        ByteBuffer data = ByteBuffer.wrap("abcdefgXYZ".getBytes(StandardCharsets.US_ASCII));
        assertEquals(7, s.copyIn(m, data), "7 bytes fit");
        assertEquals(3, data.remaining(), "the rest stays the caller's");
        ByteBuffer[] out = s.views(m);
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), bytes(out[0]));
        assertArrayEquals("defg".getBytes(StandardCharsets.US_ASCII), bytes(out[1]));
    }

    @Test
    void copyBetweenListsStopsAtTheShorter() {
        dma(DMA, 0x2000, 5, 0x2100, 5);
        dma(DMA + 0x200, 0x3000, 4, 0x3100, 4);
        m.write(0x2000, "01234".getBytes(StandardCharsets.US_ASCII));
        m.write(0x2100, "56789".getBytes(StandardCharsets.US_ASCII));
        int n = DmaSections.copy(m, DmaSections.read(m, DMA), m, DmaSections.read(m, DMA + 0x200));
        assertEquals(8, n);
        assertEquals("0123", new String(m.read(0x3000, 4), StandardCharsets.US_ASCII));
        assertEquals("4567", new String(m.read(0x3100, 4), StandardCharsets.US_ASCII));
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }
}
