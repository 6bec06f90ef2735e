package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.lg.impl.Harness.DATA;
import static org.lguest.lg.impl.Harness.GDT;
import static org.lguest.lg.impl.Harness.LD;
import static org.lguest.lg.impl.Harness.PGDIR;
import static org.lguest.lg.impl.Harness.STACK_TOP;
import static org.lguest.lg.impl.Harness.deathOf;
import static org.lguest.lg.impl.Harness.kernel;
import static org.lguest.lg.impl.Harness.kva;
import static org.lguest.lg.impl.Harness.report;
import static org.lguest.lg.impl.Harness.runToReport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.mmu.GuestMemory;

/** Each hypercall of the 2.6.23 table, its effect, and the calls that kill. */
class HypercallTest {
    final Harness h = new Harness();
    final GuestMemory m = h.memory();

    @AfterEach
    void tearDown() {
        h.close();
    }

    private static int dpl(int hi) {
        return hi >> 13 & 3;
    }

    private static long limit(int[] d) {
        long raw = d[0] & 0xFFFF | d[1] & 0xF0000;
        return (d[1] & 0x800000) != 0 ? raw << 12 | 0xFFF : raw;
    }

    @Test
    void aHypercallBeforeLguestInitKills() throws Exception {
        LgGuest g = h.start(m, new Asm(kva(Harness.CODE)).hypercall(Hypercalls.GET_WALLCLOCK, 0));
        assertEquals("LHCALL_GET_WALLCLOCK before LHCALL_LGUEST_INIT", deathOf(g));
    }

    @Test
    void anUnknownHypercallKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(77, 0));
        assertEquals("Bad hypercall 77", deathOf(g));
    }

    @Test
    void aSecondLguestInitKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.LGUEST_INIT, LD));
        assertEquals("LHCALL_LGUEST_INIT a second time", deathOf(g));
    }

    @Test
    void lguestInitWithDataReachingPastGuestMemoryKills() throws Exception {
        LgGuest g = h.start(m, new Asm(kva(Harness.CODE)).hypercall(Hypercalls.LGUEST_INIT, 0x400000 - 100));
        assertTrue(deathOf(g).startsWith("bad lguest_data address 0x003fff9c"), "reason names the address");
    }

    @Test
    void getWallclockReturnsSecondsSinceTheEpochInEax() throws Exception {
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.GET_WALLCLOCK, 0).storeEax(kva(DATA))));
        long before = System.currentTimeMillis() / 1000;
        runToReport(g);
        long got = Integer.toUnsignedLong(m.readU32(DATA));
        assertTrue(got >= before - 1 && got <= System.currentTimeMillis() / 1000 + 1, "wall clock " + got);
    }

    @Test
    void crashReadsAtMost128BytesOfTheMessage() throws Exception {
        String longMessage = "x".repeat(200);
        LgGuest g = h.start(m, Harness.crash(kernel(), m, longMessage));
        assertEquals("CRASH: " + "x".repeat(128), deathOf(g));
    }

    @Test
    void loadGdtPromotesDplZeroToOneAndTrimsKernelLimitsBelowTheSwitcher() throws Exception {
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.LOAD_GDT, GDT, 32, 0)));
        runToReport(g);
        int[] kcs = g.state.sw.gdtEntry(12), kds = g.state.sw.gdtEntry(13), ucs = g.state.sw.gdtEntry(14);
        assertEquals(1, dpl(kcs[1]), "kernel code: DPL 0 becomes 1");
        assertEquals(1, dpl(kds[1]), "kernel data: DPL 0 becomes 1");
        assertEquals(3, dpl(ucs[1]), "user code keeps DPL 3");
        assertEquals(0xFFBFFFFFL, limit(kcs), "a flat 4 GiB segment ends just below 0xFFC00000");
        assertEquals(0xFFFFFFFFL, limit(ucs), "a user segment keeps its limit: paging guards the Switcher from ring 3");
        assertTrue((kds[1] & 0x100) != 0, "accessed bit preset: the GDT is read-only to the processor");
    }

    @Test
    void loadGdtNeverTakesTheHostOwnedEntries() throws Exception {
        for (int i : new int[] {10, 11, 16, 31}) {
            Harness.gdt(m, i, 0x0000FFFF, 0x00CFFA00); // the guest tries ring-3 code in every host slot
        }
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.LOAD_GDT, GDT, 32, 0)));
        int[][] before = {g.state.sw.gdtEntry(10), g.state.sw.gdtEntry(11), g.state.sw.gdtEntry(16), g.state.sw.gdtEntry(31)};
        runToReport(g);
        int k = 0;
        for (int i : new int[] {10, 11, 16, 31}) {
            int[] now = g.state.sw.gdtEntry(i);
            assertEquals(before[k][0], now[0], "GDT entry " + i + " is the host's");
            assertEquals(before[k][1], now[1], "GDT entry " + i + " is the host's");
            k++;
        }
    }

    @Test
    void loadGdtOfMoreThan32EntriesKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.LOAD_GDT, GDT, 33, 0));
        assertEquals("too many gdt entries 33", deathOf(g));
    }

    @Test
    void loadGdtFromOutsideGuestMemoryKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.LOAD_GDT, 0x3FFF80, 32, 0));
        String reason = deathOf(g);
        assertTrue(reason.contains("3fff80"), "the reason should name the bad range: " + reason);
    }

    @Test
    void loadTlsKeepsTheFullLimitOfAUserSegmentSoNegativeOffsetsWrap() throws Exception {
        m.writeU32(DATA, 0x0000FFFF);
        m.writeU32(DATA + 4, 0xFFCFF200); // base 0xFF000000, 4 GiB, DPL 3: glibc's %gs:-0x54 wraps around
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.LOAD_TLS, DATA, 0, 0)));
        runToReport(g);
        int[] tls = g.state.sw.gdtEntry(6);
        assertEquals(0xFF000000, tls[0] >>> 16 | (tls[1] & 0xFF) << 16 | tls[1] & 0xFF000000, "base kept");
        assertEquals(0xFFFFFFFFL, limit(tls), "the limit kept");
    }

    @Test
    void loadTlsTrimsAKernelSegmentBelowTheSwitcher() throws Exception {
        m.writeU32(DATA, 0x0000FFFF);
        m.writeU32(DATA + 4, 0xFFCF9200); // base 0xFF000000, 4 GiB, DPL 0 (becomes 1): would cover the Switcher
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.LOAD_TLS, DATA, 0, 0)));
        runToReport(g);
        int[] tls = g.state.sw.gdtEntry(6);
        assertEquals(1, dpl(tls[1]));
        assertEquals(0xBFFFFFL, limit(tls), "base + limit ends at 0xFFBFFFFF");
    }

    @Test
    void setStackGivesTheTssItsRingOneStack() throws Exception {
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.SET_STACK, 0x69, kva(STACK_TOP), 2)));
        runToReport(g);
        assertEquals(0x69, g.state.sw.kernelStackSegment());
        assertEquals(kva(STACK_TOP), g.state.sw.kernelStackPointer());
    }

    @Test
    void setStackWithASegmentOfRplOtherThanOneKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.SET_STACK, 0x68, kva(STACK_TOP), 2));
        assertTrue(deathOf(g).startsWith("bad stack segment 0x68"));
    }

    @Test
    void setStackOfThreePagesKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.SET_STACK, 0x69, kva(STACK_TOP), 3));
        assertTrue(deathOf(g).startsWith("bad stack pages 3"));
    }

    @Test
    void setPteMappingAFrameBeyondThePfnLimitKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.SET_PTE, PGDIR, kva(0x5000), 2000 << 12 | 0x67));
        String reason = deathOf(g);
        assertTrue(reason.toLowerCase().contains("pfn") || reason.toLowerCase().contains("limit"),
                "reason should name the frame limit: " + reason);
    }

    @Test
    void setPteInTheSwitcherSlotKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.SET_PTE, PGDIR, 0xFFC01000, 0x5000 | 0x67));
        assertTrue(deathOf(g).toLowerCase().contains("switcher"), "reason names the Switcher");
    }

    @Test
    void setPteRetargetsAKernelMapping() throws Exception {
        m.writeU32(0x7000, 0x77777777);
        int pte = 0x7000 | 0x67;
        m.writeU32(DATA, 0x66666666);
        Asm k = kernel().loadEax(kva(DATA)).storeEax(kva(DATA + 0x100))
                .store(kva(Harness.KERNEL_PT + (DATA >>> 12) * 4), pte)
                .hypercall(Hypercalls.SET_PTE, PGDIR, kva(DATA), pte)
                .loadEax(kva(DATA)).storeEax(kva(0x7000 + 0x100));
        LgGuest g = h.start(m, report(k));
        runToReport(g);
        assertEquals(0x66666666, m.readU32(DATA + 0x100));
        assertEquals(0x77777777, m.readU32(0x7000 + 0x100), "after SET_PTE the page reads from frame 7");
    }

    @Test
    void tsMakesTheNextFpuInstructionTrapIntoTheGuest() throws Exception {
        Asm handlers = report(Harness.handlers().store(kva(DATA), 7));
        Asm k = kernel()
                .hypercall(Hypercalls.LOAD_IDT_ENTRY, 7, Harness.gateLo(kva(Harness.HANDLERS)),
                        Harness.gateHi(kva(Harness.HANDLERS), 0xF, 0))
                .fninit() // TS clear: runs
                .hypercall(Hypercalls.TS, 8)
                .fninit(); // TS set: #NM, reflected to the guest
        LgGuest g = h.start("ts", m, k.spin(), handlers);
        runToReport(g);
        assertEquals(7, m.readU32(DATA), "the guest's #NM handler ran");
        assertTrue(g.state.sw.isHostVector(7), "#NM is never direct: the host needs it for TS");
    }

    @Test
    void asyncRingCallsRunBeforeTheNextSynchronousCallAndTheirSlotsAreFreed() throws Exception {
        int e = LD + LguestData.HCALLS;
        m.writeU32(e, Hypercalls.SET_STACK);
        m.writeU32(e + 4, 0x69);
        m.writeU32(e + 8, kva(STACK_TOP));
        m.writeU32(e + 12, 1);
        m.writeU8(LD + LguestData.HCALL_STATUS, 0); // pending
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.FLUSH_ASYNC, 0)));
        runToReport(g);
        assertEquals(kva(STACK_TOP), g.state.sw.kernelStackPointer(), "the queued SET_STACK ran");
        assertEquals(Hypercalls.RING_SLOT_FREE, m.readU8(LD + LguestData.HCALL_STATUS), "slot handed back");
        assertEquals(4, g.info().hypercalls(), "INIT, the queued SET_STACK, FLUSH_ASYNC and the report");
    }

    @Test
    void theAsyncRingStopsAtADmaForTheLauncher() throws Exception {
        int e = LD + LguestData.HCALLS;
        m.writeU32(e, Hypercalls.SEND_DMA);
        m.writeU32(e + 4, Harness.REPORT_KEY);
        m.writeU32(e + 8, Harness.REPORT_DMA);
        m.writeU32(e + 16, Hypercalls.SET_STACK);
        m.writeU32(e + 20, 0x69);
        m.writeU32(e + 24, kva(STACK_TOP));
        m.writeU32(e + 28, 1);
        m.writeU8(LD + LguestData.HCALL_STATUS, 0);
        m.writeU8(LD + LguestData.HCALL_STATUS + 1, 0);
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.FLUSH_ASYNC, 0).hypercall(Hypercalls.CRASH, 0));
        runToReport(g);
        assertEquals(0, g.state.sw.kernelStackPointer(), "the call queued after the DMA waits for the next read");
        assertEquals(Hypercalls.RING_SLOT_FREE, m.readU8(LD + LguestData.HCALL_STATUS + 0));
        assertEquals(0, m.readU8(LD + LguestData.HCALL_STATUS + 1));
        assertTrue(deathOf(g).startsWith("CRASH"), "then the synchronous CRASH runs");
        assertEquals(kva(STACK_TOP), g.state.sw.kernelStackPointer());
    }

    @Test
    void flushTlbAndNewPgtableReachTheShadowTables() throws Exception {
        int other = 0x200000;
        m.writeU32(other + (Harness.PAGE_OFFSET >>> 22) * 4, Harness.KERNEL_PT | 0x7);
        LgGuest g = h.start(m, report(kernel().hypercall(Hypercalls.NEW_PGTABLE, other).hypercall(Hypercalls.FLUSH_TLB, 1)));
        runToReport(g);
        assertEquals(other, g.state.spt.guestCr3());
        assertEquals(g.state.spt.shadowCr3(), g.state.cpu.cr(3), "CR3 is the shadow of the new directory");
        assertEquals(0x61, g.state.cpu.selector(Cpu.CS));
    }
}
