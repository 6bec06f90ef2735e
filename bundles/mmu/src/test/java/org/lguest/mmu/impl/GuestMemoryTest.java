package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.MemoryRegion;
import org.lguest.mmu.Mmu;

/** Guest memory: layout, host accessors and their bounds, and telling the processor. */
class GuestMemoryTest {
    private final Mmu mmu = new MmuComponent();

    /** 16 pages of RAM, a descriptor page, 2 device pages: pfn limit 19 (0x13000), 8 host frames. */
    private GuestMemory memory() {
        var b = mmu.newGuestMemory(16);
        b.addPages("devices", 1);
        b.addPages("disk", 2);
        return b.hostFrames(8).build();
    }

    @Test
    void layoutPutsRamAtZeroThenEachRegionAtTheTopInOrder() {
        var b = mmu.newGuestMemory(16);
        assertEquals(16, b.top());
        assertEquals(16, b.addPages("devices", 1), "descriptor page right after RAM");
        assertEquals(17, b.addPages("disk", 2));
        GuestMemory m = b.hostFrames(8).build();
        assertEquals(19, m.pfnLimit());
        assertEquals(0x13000L, m.limitBytes());
        assertEquals(List.of(new MemoryRegion("ram", 0, 16, null), new MemoryRegion("devices", 16, 1, null),
                new MemoryRegion("disk", 17, 2, null)), m.regions());
        assertEquals(17, m.region("disk").orElseThrow().firstPfn());
    }

    @Test
    void processorSeesGuestFramesThenTheHostPoolAndNothingBeyond() {
        GuestMemory m = memory();
        assertEquals(19 + 8, m.frameCount());
        for (int pfn = 0; pfn < m.frameCount(); pfn++) {
            assertEquals(4096, m.frame(pfn).length, "frame " + pfn);
        }
        assertNull(m.frame(m.frameCount()), "no memory past the pool");
        assertNull(m.frame(-1));
    }

    @Test
    void framesAreDistinctArraysThatNeverChange() {
        GuestMemory m = memory();
        Set<byte[]> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int pfn = 0; pfn < m.frameCount(); pfn++) {
            byte[] f = m.frame(pfn);
            assertTrue(seen.add(f), "frame " + pfn + " shares its array with another frame");
            m.writeU32(Math.min(pfn, 18) << 12, pfn);
            assertSame(f, m.frame(pfn), "frame " + pfn + " was replaced by a write");
        }
    }

    @Test
    void ramTakesNoHostMemoryUntilFirstTouched() {
        GuestMemory m = memory();
        assertEquals(0, m.touchedBytes(), "a new guest memory holds no frames");
        assertEquals(0, m.readU32(0x5000), "an untouched frame reads as zeros");
        m.zero(0x6000, 0x3000);
        assertEquals(4096, m.touchedBytes(), "only the frame read was given memory (zeroing untouched frames is free)");
        m.writeU8(0x7001, 1);
        m.frame(3);
        assertEquals(3 * 4096, m.touchedBytes());
    }

    @Test
    void firstTouchesFromManyThreadsAgreeOnOneArrayPerFrame() throws Exception {
        GuestMemory m = mmu.newGuestMemory(256).hostFrames(8).build();
        int threads = 4;
        byte[][][] seen = new byte[threads][256][];
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            var start = new java.util.concurrent.CountDownLatch(1);
            var done = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int pfn = 0; pfn < 256; pfn++) {
                        m.writeU8(pfn << 12 | me, me + 1);
                        seen[me][pfn] = m.frame(pfn);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (var f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        for (int pfn = 0; pfn < 256; pfn++) {
            for (int t = 0; t < threads; t++) {
                assertSame(seen[0][pfn], seen[t][pfn], "threads 0 and " + t + " were given different arrays for frame " + pfn);
                assertEquals(t + 1, m.readU8(pfn << 12 | t), "thread " + t + "'s first write to frame " + pfn + " was lost");
            }
        }
        assertEquals(256L * 4096, m.touchedBytes());
    }

    @Test
    void closingGivesEveryFrameBack() throws Exception {
        GuestMemory m = memory();
        m.writeU32(0, 1);
        java.lang.ref.WeakReference<byte[]> frame0 = new java.lang.ref.WeakReference<>(m.frame(0));
        m.close();
        assertEquals(0, m.touchedBytes(), "a closed memory holds nothing");
        for (int i = 0; i < 50 && frame0.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(frame0.get(), "frame 0's array is still reachable from the closed memory (which the test still holds)");
        assertNull(m.frame(0), "a closed memory still hands out frame 0");
        assertThrows(IllegalStateException.class, () -> m.readU32(0));
        java.lang.ref.Reference.reachabilityFence(m);
    }

    @Test
    void duplicateRegionNamesAreRefused() {
        var b = mmu.newGuestMemory(4);
        b.addPages("devices", 1);
        assertThrows(IllegalArgumentException.class, () -> b.addPages("devices", 1));
    }

    @Test
    void hostPoolSmallerThanTheShadowTablesMinimumIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> mmu.newGuestMemory(4).hostFrames(3));
    }

    @Test
    void layoutPastFourGibIsRefused() {
        var b = mmu.newGuestMemory(1 << 19);
        assertThrows(IllegalArgumentException.class, () -> b.addPages("huge", (1 << 19) + 1));
    }

    @Test
    void valuesAreLittleEndianAndMayCrossPages() {
        GuestMemory m = memory();
        m.writeU32(0x1FFE, 0xA1B2C3D4);
        assertEquals(0xD4, m.readU8(0x1FFE));
        assertEquals(0xC3, m.readU8(0x1FFF));
        assertEquals(0xB2, m.readU8(0x2000), "the high half landed on the next page");
        assertEquals(0xA1B2C3D4, m.readU32(0x1FFE));
        m.writeU16(0x2FFF, 0xBEEF);
        assertEquals(0xBEEF, m.readU16(0x2FFF));
        m.writeU32(0x100, 0xFFFFFFFF);
        assertEquals(0xFFFF, m.readU16(0x100), "u16 reads are unsigned");
    }

    @Test
    void byteCopiesSpanPagesBothWays() {
        GuestMemory m = memory();
        byte[] data = new byte[10000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        m.write(0xF00, data);
        assertArrayEquals(data, m.read(0xF00, data.length));
        m.zero(0x1000, 0x1000);
        assertEquals(0, m.readU32(0x1000));
        assertEquals(0, m.readU8(0x1FFF));
        assertEquals(data[0xFF] & 0xFF, m.readU8(0xFFF), "the byte before the zeroed page is kept");
        assertEquals(data[0x1100] & 0xFF, m.readU8(0x2000), "the byte after the zeroed page is kept");
    }

    @Test
    void byteBuffersCopyInAndOutAcrossPages() {
        GuestMemory m = memory();
        FakeCpu cpu = new FakeCpu();
        m.attach(cpu);
        ByteBuffer out = ByteBuffer.allocate(6000);
        for (int i = 0; i < 6000; i++) {
            out.put((byte) i);
        }
        out.flip();
        m.write(0x2F00, out);
        assertEquals(0, out.remaining(), "the buffer was consumed");
        assertEquals(List.of(new FakeCpu.Write(0x2F00, 6000)), cpu.written);
        ByteBuffer in = ByteBuffer.allocateDirect(6000);
        m.read(0x2F00, in);
        in.flip();
        for (int i = 0; i < 6000; i++) {
            assertEquals((byte) i, in.get(i), "byte " + i);
        }
    }

    @Test
    void byteBufferBeyondTheLimitIsRejectedAndLeftUntouched() {
        GuestMemory m = memory();
        ByteBuffer b = ByteBuffer.allocate(0x20);
        assertThrows(GuestViolationException.class, () -> m.write(0x12FF0, b));
        assertThrows(GuestViolationException.class, () -> m.read(0x12FF0, b));
        assertEquals(0x20, b.remaining(), "nothing consumed or filled");
    }

    @Test
    void accessEndingExactlyAtTheLimitIsAllowed() {
        GuestMemory m = memory();
        assertTrue(m.isValid(0x12FFC, 4));
        m.writeU32(0x12FFC, 42);
        assertEquals(42, m.readU32(0x12FFC));
        assertTrue(m.isValid(0x13000, 0), "an empty range at the limit touches nothing");
    }

    @Test
    void accessCrossingTheLimitIsRejectedWithAReasonAndWritesNothing() {
        GuestMemory m = memory();
        var e = assertThrows(GuestViolationException.class, () -> m.writeU32(0x12FFE, 0x11111111));
        assertTrue(e.reason().contains("0x00012ffe") && e.reason().contains("0x00013000"),
                "reason should name the address and where guest memory ends: " + e.reason());
        assertEquals(0, m.readU16(0x12FFE), "the in-bounds half must not have been written");
    }

    @Test
    void accessBeyondTheLimitIsRejected() {
        GuestMemory m = memory();
        assertThrows(GuestViolationException.class, () -> m.readU8(0x13000));
        assertThrows(GuestViolationException.class, () -> m.read(0x20000, new byte[4], 0, 4));
        assertThrows(GuestViolationException.class, () -> m.readU32(0xFFFFFFFC));
    }

    @Test
    void rangeThatWrapsPastFourGibIsRejectedEvenThoughItsWrappedEndIsSmall() {
        GuestMemory m = memory();
        // 0xFFFFFFF0 + 0x20 wraps to 0x10: a naive 32-bit check would pass it.
        assertFalse(m.isValid(0xFFFFFFF0, 0x20));
        var e = assertThrows(GuestViolationException.class, () -> m.check(0xFFFFFFF0, 0x20));
        assertTrue(e.reason().contains("wraps"), "reason should say the range wraps: " + e.reason());
        assertThrows(GuestViolationException.class, () -> m.write(0xFFFFF000, new byte[0x2000]));
    }

    @Test
    void hugeUnsignedLengthIsRejectedNotTreatedAsNegative() {
        GuestMemory m = memory();
        assertFalse(m.isValid(0, -1), "length 0xFFFFFFFF is 4 GiB minus one, not -1");
        assertThrows(GuestViolationException.class, () -> m.read(0, -1));
    }

    @Test
    void hostFramesAreNotGuestAddressable() {
        GuestMemory m = memory();
        int pfn = m.allocateHostFrame();
        assertTrue(pfn >= m.pfnLimit(), "host frame " + pfn + " below the pfn limit");
        assertThrows(GuestViolationException.class, () -> m.readU32(pfn << 12));
    }

    @Test
    void hostPoolHandsOutZeroedFramesAndRunsDry() {
        GuestMemory m = memory();
        Set<Integer> got = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            got.add(m.allocateHostFrame());
        }
        assertEquals(8, got.size());
        assertEquals(0, m.freeHostFrames());
        var e = assertThrows(IllegalStateException.class, m::allocateHostFrame);
        assertTrue(e.getMessage().contains("8 frames"), e.getMessage());
        int pfn = got.iterator().next();
        m.frame(pfn)[100] = 5;
        m.freeHostFrame(pfn);
        assertEquals(pfn, m.allocateHostFrame());
        assertEquals(0, m.frame(pfn)[100], "a recycled host frame comes back zeroed");
    }

    @Test
    void freeingAFrameThatIsNotAHostFrameInUseIsRefused() {
        GuestMemory m = memory();
        assertThrows(IllegalArgumentException.class, () -> m.freeHostFrame(3), "guest frame");
        assertThrows(IllegalArgumentException.class, () -> m.freeHostFrame(20), "host frame never handed out");
    }

    @Test
    void hostWritesOnTheProcessorThreadAreToldAtOnce() {
        GuestMemory m = memory();
        FakeCpu cpu = new FakeCpu();
        m.attach(cpu);
        m.write(0x1FFE, new byte[] {1, 2, 3, 4});
        m.writeU32(0x3000, 9);
        assertEquals(List.of(new FakeCpu.Write(0x1FFE, 4), new FakeCpu.Write(0x3000, 4)), cpu.written);
        m.readU32(0x3000);
        assertEquals(2, cpu.written.size(), "reads tell the processor nothing");
    }

    @Test
    void hostWritesFromOtherThreadsWaitForDeliveryOnTheProcessorThread() throws Exception {
        GuestMemory m = memory();
        FakeCpu cpu = new FakeCpu();
        m.attach(cpu);
        Thread t = new Thread(() -> m.write(0x2FF0, new byte[0x20]));
        t.start();
        t.join();
        assertTrue(cpu.written.isEmpty(), "a driver thread must not call into the processor");
        m.deliverPendingWrites();
        assertEquals(List.of(new FakeCpu.Write(0x2000, 4096), new FakeCpu.Write(0x3000, 4096)), cpu.written,
                "both touched pages are told, once each");
        m.deliverPendingWrites();
        assertEquals(2, cpu.written.size(), "delivered writes are not told twice");
    }

    @Test
    void everyPageDriverThreadsWriteIsToldOnTheProcessorThread() throws Exception {
        GuestMemory m = memory();
        FakeCpu cpu = new FakeCpu();
        m.attach(cpu); // this thread is the processor's
        Set<Integer> pagesWritten = java.util.concurrent.ConcurrentHashMap.newKeySet();
        var start = new java.util.concurrent.CountDownLatch(1);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        var futures = new java.util.ArrayList<java.util.concurrent.Future<?>>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            futures.add(pool.submit(() -> {
                start.await();
                var rnd = new java.util.Random(seed);
                for (int i = 0; i < 500; i++) {
                    int address = rnd.nextInt(19 * 1024) * 4;
                    m.writeU32(address, i);
                    pagesWritten.add(address >>> 12);
                }
                return null;
            }));
        }
        start.countDown();
        while (futures.stream().anyMatch(f -> !f.isDone())) {
            m.deliverPendingWrites(); // the run loop, between slices
        }
        for (var f : futures) {
            f.get();
        }
        pool.shutdown();
        m.deliverPendingWrites();

        Set<Integer> pagesTold = new HashSet<>();
        for (FakeCpu.Write w : cpu.written) {
            assertEquals(0, w.address() & 0xFFF, "queued writes are told a page at a time: " + w);
            assertEquals(4096, w.length(), "queued writes are told a page at a time: " + w);
            pagesTold.add((int) (w.address() >>> 12));
        }
        assertEquals(pagesWritten, pagesTold, "every page a driver wrote, and only those, reach the processor");
    }

    @Test
    void closedMemoryRefusesHostAccess() {
        GuestMemory m = memory();
        m.close();
        assertThrows(IllegalStateException.class, () -> m.readU32(0));
        assertThrows(IllegalStateException.class, () -> m.writeU32(0, 1));
    }
}
