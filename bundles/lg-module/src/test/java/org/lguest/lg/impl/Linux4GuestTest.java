package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.GuestSetup;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.v4.Hypercalls4;
import org.lguest.lg.abi.v4.LguestData4;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;

/**
 * The 4.x (virtio-era) ABI on the real CPU, MMU and Switcher: a guest that
 * starts with linear paging at a physical address, as Linux 4.9's
 * startup_32 does, makes its hypercalls in EBX/ECX/EDX, and reaches its
 * devices through port and memory-mapped I/O that the run loop hands out.
 *
 * <pre>
 * phys 0x1000 code   0x4000 lguest_data   0x6000 results   0x7000 messages
 *      0x10000 page directory, 0x11000 page table for 0-4 MiB, 0x12000 page table for the device page
 * </pre>
 */
class Linux4GuestTest {
    static final int PAGE_OFFSET = 0xC0000000;
    static final int CODE = 0x1000, LD = 0x4000, RESULT = 0x6000, MSG = 0x7000;
    static final int PGDIR = 0x10000, LOW_PT = 0x11000, IO_PT = 0x12000;
    /** The I/O window: frames 0xE0000..0xE0010 (guest-physical 0xE0000000). */
    static final int IO_FIRST = 0xE0000, IO_END = 0xE0010;
    /** Where the guest maps the first I/O page. */
    static final int IO_VA = 0xD0000000;

    final Harness host = new Harness();
    GuestMemory memory;
    LgGuest guest;

    @AfterEach
    void tearDown() {
        if (guest != null) {
            guest.close();
        }
        host.close();
    }

    /** A guest with lguest_data filled the way Linux's lguest_init leaves it before LGUEST_INIT. */
    LgGuest start(Asm code, int kernelAddress) {
        memory = host.mmu.newGuestMemory(1024).build();
        memory.write(CODE, code.bytes());
        for (int i = 0; i < Hypercalls4.RING_SIZE; i++) {
            memory.writeU8(LD + LguestData4.HCALL_STATUS + i, Hypercalls4.RING_SLOT_FREE);
        }
        memory.writeU32(LD + LguestData4.KERNEL_ADDRESS, kernelAddress);
        memory.writeU32(LD + LguestData4.SYSCALL_VEC, 0x80);
        memory.writeU32(LD + LguestData4.NOIRQ_IRET, 0x1234);
        guest = (LgGuest) host.control.open();
        guest.initialize(new GuestSetup("linux4", memory, GuestAbi.LGUEST_4_X, ShadowPageTables.LINEAR, CODE, PAGE_OFFSET,
                IO_FIRST, IO_END));
        return guest;
    }

    static Asm code() {
        return new Asm(CODE).movEsp(0x9000).hypercall4(Hypercalls4.LGUEST_INIT, LD, 0, 0);
    }

    /** SHUTDOWN with the message at MSG (the test writes it with {@link #message}). */
    static Asm shutdown(Asm a, int reason) {
        return a.hypercall4(Hypercalls4.SHUTDOWN, MSG, reason, 0);
    }

    void message(String text) {
        memory.write(MSG, (text + "\0").getBytes(StandardCharsets.ISO_8859_1));
    }

    RunResult run() throws InterruptedException {
        return guest.run();
    }

    @Test
    void shutdownWithPowerDownIsACleanPowerOff() throws Exception {
        start(shutdown(code(), Hypercalls4.SHUTDOWN_POWEROFF), PAGE_OFFSET);
        message("Power down");
        RunResult.Dead dead = assertInstanceOf(RunResult.Dead.class, run());
        assertEquals("SHUTDOWN: Power down", dead.reason());
        assertTrue(dead.poweredOff());
    }

    @Test
    void shutdownForRestartSaysSo() throws Exception {
        start(shutdown(code(), Hypercalls4.SHUTDOWN_RESTART), PAGE_OFFSET);
        message("Restarting system");
        RunResult.Dead dead = assertInstanceOf(RunResult.Dead.class, run());
        assertEquals("SHUTDOWN (restart): Restarting system", dead.reason());
    }

    @Test
    void initWritesReserveMemTimeAndNoTscFrequency() throws Exception {
        start(shutdown(code(), 1), PAGE_OFFSET);
        memory.writeU32(LD + LguestData4.TSC_KHZ, 0xDEAD);
        message("done");
        run();
        assertEquals(4 << 20, memory.readU32(LD + LguestData4.RESERVE_MEM));
        assertEquals(0, memory.readU32(LD + LguestData4.TSC_KHZ));
        long seconds = Integer.toUnsignedLong(memory.readU32(LD + LguestData4.TIME));
        long now = System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(now - seconds) < 5, "lguest_data.time.tv_sec " + seconds + " is not the wall clock " + now);
    }

    @Test
    void aCallBeforeInitKillsNamingIt() throws Exception {
        start(new Asm(CODE).hypercall4(Hypercalls4.NEW_PGTABLE, PGDIR, 0, 0), PAGE_OFFSET);
        RunResult.Dead dead = assertInstanceOf(RunResult.Dead.class, run());
        assertEquals("LHCALL_NEW_PGTABLE before LHCALL_LGUEST_INIT", dead.reason());
    }

    @Test
    void aKernelAddressOtherThanTheLoadedPageOffsetKills() throws Exception {
        start(code(), 0x80000000);
        RunResult.Dead dead = assertInstanceOf(RunResult.Dead.class, run());
        assertTrue(dead.reason().contains("kernel_address 0x80000000"), dead.reason());
    }

    @Test
    void unusedCallNumbersKill() throws Exception {
        start(code().hypercall4(12, 0, 0, 0), PAGE_OFFSET);
        RunResult.Dead dead = assertInstanceOf(RunResult.Dead.class, run());
        assertEquals("Bad hypercall 12", dead.reason());
    }

    @Test
    void portInExitsToTheLauncherAndItsAnswerLandsInEax() throws Exception {
        Asm a = code().movEdx(0xCFC).inEaxDx().storeEax(RESULT).inAlImm(0x21).storeEax(RESULT + 4);
        start(shutdown(a, 1), PAGE_OFFSET);
        RunResult.PortIo in = assertInstanceOf(RunResult.PortIo.class, run());
        assertEquals(new RunResult.PortIo(0xCFC, 4, false, 0), in);
        guest.completeIo(0x12345678);
        RunResult.PortIo inAl = assertInstanceOf(RunResult.PortIo.class, run());
        assertEquals(new RunResult.PortIo(0x21, 1, false, 0), inAl);
        guest.completeIo(0xAB);
        message("done");
        assertInstanceOf(RunResult.Dead.class, run());
        assertEquals(0x12345678, memory.readU32(RESULT));
        assertEquals(0x123456AB, memory.readU32(RESULT + 4), "in al must replace AL only");
    }

    @Test
    void anUnansweredPortReadReadsAllOnes() throws Exception {
        start(shutdown(code().movEdx(0x80).movEax(0).inAlDx().storeEax(RESULT), 1), PAGE_OFFSET);
        assertInstanceOf(RunResult.PortIo.class, run());
        message("done");
        assertInstanceOf(RunResult.Dead.class, run());
        assertEquals(0xFF, memory.readU32(RESULT));
    }

    @Test
    void portOutCarriesTheValueAndTheGuestGoesOn() throws Exception {
        Asm a = code().movEdx(0xCF8).movEax(0x80000800).b(0xEF); // out %eax, %dx
        start(shutdown(a.movEax(0x41).outDxAl(), 1), PAGE_OFFSET);
        assertEquals(new RunResult.PortIo(0xCF8, 4, true, 0x80000800), run());
        assertEquals(new RunResult.PortIo(0xCF8, 1, true, 0x41), run());
        message("done");
        assertInstanceOf(RunResult.Dead.class, run());
    }

    @Test
    void aStrayCliIsSteppedOver() throws Exception {
        start(shutdown(code().b(0xFA).store(RESULT, 7), 1), PAGE_OFFSET);
        message("done");
        assertInstanceOf(RunResult.Dead.class, run());
        assertEquals(7, memory.readU32(RESULT));
    }

    @Test
    void deviceRegistersMappedIntoTheIoWindowExitAsMmioAndReadsComplete() throws Exception {
        // After NEW_PGTABLE: 0-4 MiB identity (so the code goes on), IO_VA -> the first I/O frame.
        Asm a = code().hypercall4(Hypercalls4.NEW_PGTABLE, PGDIR, 0, 0)
                .store(IO_VA + 0x38, 0x00000002)           // movl $2, 0x38(IO): a 32-bit write
                .loadEax(IO_VA + 0x3C).storeEax(RESULT)     // movl 0x3C(IO), %eax
                .movEbx(IO_VA).b(0x0F, 0xB6, 0x4B, 0x3A)    // movzbl 0x3A(%ebx), %ecx
                .b(0x89, 0x0D).d(RESULT + 4);               // movl %ecx, RESULT+4
        start(shutdown(a, 1), PAGE_OFFSET);
        memory.writeU32(PGDIR, LOW_PT | 0x27);
        for (int n = 0; n < 1024; n++) {
            memory.writeU32(LOW_PT + 4 * n, n << 12 | 0x67);
        }
        memory.writeU32(PGDIR + (IO_VA >>> 22) * 4, IO_PT | 0x27);
        memory.writeU32(IO_PT, IO_FIRST << 12 | 0x63);
        assertEquals(new RunResult.Mmio(0xE0000038, 4, true, 2), run());
        assertEquals(new RunResult.Mmio(0xE000003C, 4, false, 0), run());
        guest.completeIo(0xCAFEF00D);
        assertEquals(new RunResult.Mmio(0xE000003A, 1, false, 0), run());
        guest.completeIo(0x1FF);
        message("done");
        RunResult end = run();
        assertInstanceOf(RunResult.Dead.class, end, () -> "expected the guest to shut down, got " + end);
        assertEquals(0xCAFEF00D, memory.readU32(RESULT));
        assertEquals(0xFF, memory.readU32(RESULT + 4), "movzbl must take one byte and zero the rest");
    }

    @Test
    void loadGdtEntryInstallsOneDescriptorWithDplOne() throws Exception {
        start(shutdown(code().hypercall4(Hypercalls4.LOAD_GDT_ENTRY, 14, 0x0000FFFF, 0x00CFFA00)
                .hypercall4(Hypercalls4.LOAD_GDT_ENTRY, 16, 0x12345678, 0x00CF8900), 1), PAGE_OFFSET);
        message("done");
        assertInstanceOf(RunResult.Dead.class, run());
        int[] user = guest.state.sw.gdtEntry(14);
        assertEquals(3, user[1] >> 13 & 3, "a DPL 3 user segment stays DPL 3");
        assertNotEquals(0x12345678, guest.state.sw.gdtEntry(16)[0], "the TSS slot is the host's");
    }
}
