package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.mmu.ShadowPageTables.ACCESSED;
import static org.lguest.mmu.ShadowPageTables.DIRTY;
import static org.lguest.mmu.ShadowPageTables.FAULT_USER;
import static org.lguest.mmu.ShadowPageTables.FAULT_WRITE;
import static org.lguest.mmu.ShadowPageTables.PRESENT;
import static org.lguest.mmu.ShadowPageTables.RW;
import static org.lguest.mmu.ShadowPageTables.USER;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;

/**
 * The 4.x boot: linear paging until the first NEW_PGTABLE, and the I/O
 * window (PCI BARs) that guest page tables may map but the host never
 * installs. The guest: 64 pages of RAM, PAGE_OFFSET 0xC0000000.
 */
class LinearBootAndIoWindowTest {
    static final int PAGE_OFFSET = 0xC0000000;
    static final int PGDIR = 0x10000, KERNEL_PT = 0x11000;
    static final int PDE_FLAGS = PRESENT | RW | USER | ACCESSED | DIRTY;
    /** The I/O window: 16 frames from frame 0x1000 (16 MiB). */
    static final int IO_FIRST = 0x1000, IO_END = 0x1010;

    final MmuComponent mmu = new MmuComponent();
    GuestMemory memory;
    GuestTables guest;
    FakeCpu cpu;
    ShadowPageTables spt;

    @BeforeEach
    void setUp() {
        memory = mmu.newGuestMemory(64).hostFrames(32).build();
        guest = new GuestTables(memory);
        cpu = new FakeCpu();
        memory.attach(cpu);
        spt = mmu.newShadowPageTables(memory, ShadowPageTables.LINEAR, PAGE_OFFSET);
        cpu.setCr(3, spt.shadowCr3());
    }

    @Test
    void linearBootMapsEveryAddressOfRamToItself() {
        assertTrue(spt.isLinear());
        assertTrue(spt.demandPage(0x5123, FAULT_WRITE), "a write to RAM in the linear boot mapping must be handled");
        assertEquals(0x5000 | PDE_FLAGS, spt.shadowPte(0x5123));
        assertEquals(0x3F004, spt.guestPhysical(0x3F004));
    }

    @Test
    void linearBootLeavesAddressesBeyondRamToTheGuest() {
        assertFalse(spt.demandPage(64 << 12, 0), "the first frame past RAM is not the guest's");
        assertThrows(GuestViolationException.class, () -> spt.guestPhysical(64 << 12));
        assertFalse(spt.demandPage(PAGE_OFFSET, 0), "linear means virtual = physical: 0xC0000000 is far past 256 KiB of RAM");
    }

    @Test
    void firstNewPageTableEndsTheLinearMappingAndShadowsTheGuestsTables() {
        assertTrue(spt.demandPage(0x7000, 0));
        guest.pde(PGDIR, PAGE_OFFSET, KERNEL_PT | PDE_FLAGS);
        guest.pte(PGDIR, PAGE_OFFSET + 0x7000, 0x7000 | PRESENT | RW);
        spt.newPageTable(PGDIR);
        assertFalse(spt.isLinear());
        assertEquals(PGDIR, spt.guestCr3());
        assertEquals(0, spt.shadowPte(0x7000), "the linear entry must be gone");
        assertFalse(spt.demandPage(0x7000, 0), "the guest's tables do not map 0x7000");
        assertTrue(spt.demandPage(PAGE_OFFSET + 0x7000, 0));
        assertEquals(0x7000, spt.guestPhysical(PAGE_OFFSET + 0x7000));
    }

    @Test
    void setPteDuringLinearBootChangesNothing() {
        assertTrue(spt.demandPage(0x2000, FAULT_WRITE));
        spt.setPte(PGDIR, 0x2000, 0x9000 | PRESENT | RW | ACCESSED);
        assertEquals(0x2000 | PDE_FLAGS, spt.shadowPte(0x2000));
    }

    @Test
    void ioWindowMappingIsAcceptedNeverInstalledAndNamedByIoAddress() {
        spt.setIoWindow(IO_FIRST, IO_END);
        guest.pde(PGDIR, PAGE_OFFSET, KERNEL_PT | PDE_FLAGS);
        int va = PAGE_OFFSET + 0x100000;
        guest.pde(PGDIR, va, 0x12000 | PDE_FLAGS);
        guest.pte(PGDIR, va, (IO_FIRST + 2) << 12 | PRESENT | RW | ACCESSED | DIRTY);
        spt.newPageTable(PGDIR);
        assertFalse(spt.demandPage(va + 0x38, FAULT_WRITE), "a BAR page must never be installed");
        assertEquals(0, spt.shadowPte(va));
        assertEquals((IO_FIRST + 2) << 12 | 0x38, spt.ioAddress(va + 0x38, FAULT_WRITE));
        assertEquals(-1, spt.ioAddress(va + 0x38, FAULT_WRITE | FAULT_USER), "a kernel-only mapping is not the user's");
        assertEquals(-1, spt.ioAddress(PAGE_OFFSET + 0x1000, 0), "RAM is not I/O");
        spt.setPte(PGDIR, va, (IO_FIRST + 2) << 12 | PRESENT | RW | ACCESSED | DIRTY); // accepted, not installed
        assertEquals(0, spt.shadowPte(va));
    }

    @Test
    void mappingBeyondMemoryOutsideTheIoWindowStillKills() {
        spt.setIoWindow(IO_FIRST, IO_END);
        guest.pde(PGDIR, PAGE_OFFSET, KERNEL_PT | PDE_FLAGS);
        guest.pte(PGDIR, PAGE_OFFSET, IO_END << 12 | PRESENT | RW | ACCESSED | DIRTY);
        spt.newPageTable(PGDIR);
        var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(PAGE_OFFSET, 0));
        assertTrue(e.reason().contains("beyond guest memory"), e.reason());
    }

    @Test
    void ioWindowInsideGuestMemoryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> spt.setIoWindow(10, 20));
    }
}
