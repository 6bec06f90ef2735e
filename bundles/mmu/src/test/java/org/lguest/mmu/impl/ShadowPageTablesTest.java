package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.mmu.ShadowPageTables.ACCESSED;
import static org.lguest.mmu.ShadowPageTables.DIRTY;
import static org.lguest.mmu.ShadowPageTables.FAULT_PRESENT;
import static org.lguest.mmu.ShadowPageTables.FAULT_USER;
import static org.lguest.mmu.ShadowPageTables.FAULT_WRITE;
import static org.lguest.mmu.ShadowPageTables.GLOBAL;
import static org.lguest.mmu.ShadowPageTables.PRESENT;
import static org.lguest.mmu.ShadowPageTables.PSE;
import static org.lguest.mmu.ShadowPageTables.PWT;
import static org.lguest.mmu.ShadowPageTables.RW;
import static org.lguest.mmu.ShadowPageTables.USER;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.ShadowRoot;

/**
 * Shadow page tables, checked by reading the shadow entries the processor
 * would walk. The guest: 64 pages of RAM and one device page (pfn limit 65),
 * PAGE_OFFSET 0xC0000000, kernel page table at 0x11000 mapping
 * 0xC0000000 + n*4096 to frame n, user page table at 0x12000 for 0x08000000.
 */
class ShadowPageTablesTest {
    static final int PAGE_OFFSET = 0xC0000000;
    static final int PGDIR_A = 0x10000, KERNEL_PT = 0x11000, USER_PT_A = 0x12000;
    static final int PGDIR_B = 0x14000, USER_PT_B = 0x15000;
    static final int USER_VA = 0x08000000;
    static final int PDE_FLAGS = PRESENT | RW | USER | ACCESSED | DIRTY; // _PAGE_TABLE

    final MmuComponent mmu = new MmuComponent();
    GuestMemory memory;
    GuestTables guest;
    FakeCpu cpu;
    ShadowPageTables spt;

    @BeforeEach
    void setUp() {
        var b = mmu.newGuestMemory(64);
        b.addPages("devices", 1);
        memory = b.hostFrames(32).build();
        guest = new GuestTables(memory);
        for (int pgdir : new int[] {PGDIR_A, PGDIR_B}) {
            guest.pde(pgdir, PAGE_OFFSET, KERNEL_PT | PDE_FLAGS);
        }
        guest.pde(PGDIR_A, USER_VA, USER_PT_A | PDE_FLAGS);
        guest.pde(PGDIR_B, USER_VA, USER_PT_B | PDE_FLAGS);
        for (int n = 0; n < 64; n++) {
            guest.pte(PGDIR_A, PAGE_OFFSET + n * 4096, n << 12 | PRESENT | RW);
        }
        cpu = new FakeCpu();
        memory.attach(cpu);
        spt = mmu.newShadowPageTables(memory, PGDIR_A, PAGE_OFFSET);
        cpu.setCr(3, spt.shadowCr3()); // what the Switcher does before running the guest
        cpu.forget();
    }

    static int kva(int frame) {
        return PAGE_OFFSET + frame * 4096;
    }

    /** Compares page-table entries, showing them in hex with their flags spelled out. */
    static void assertEntry(int expected, int actual, String... what) {
        if (expected != actual) {
            AssertionError e = new AssertionError(String.format("%sexpected entry %s but was %s",
                    what.length > 0 ? what[0] + ": " : "", describe(expected), describe(actual)));
            StackTraceElement[] trace = e.getStackTrace();
            e.setStackTrace(java.util.Arrays.copyOfRange(trace, 1, trace.length)); // report the test, not this helper
            throw e;
        }
    }

    static String describe(int e) {
        StringBuilder b = new StringBuilder(String.format("0x%08x (frame 0x%x", e, e >>> 12));
        String[] names = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PSE", "G"};
        for (int i = 0; i < names.length; i++) {
            if ((e & 1 << i) != 0) {
                b.append(' ').append(names[i]);
            }
        }
        return b.append(')').toString();
    }

    /** A word of a host frame (shadow tables live there, out of the guest accessors' reach). */
    int hostWord(int physAddress) {
        return (int) GuestMemoryImpl.U32.get(memory.frame(physAddress >>> 12), physAddress & 0xFFF);
    }

    /** The shadow entry for {@code vaddr} in the directory at {@code shadowPgdir} (0 if none). */
    int shadowPteIn(int shadowPgdir, int vaddr) {
        int pde = hostWord(shadowPgdir + (vaddr >>> 22) * 4);
        if ((pde & PRESENT) == 0) {
            return 0;
        }
        return hostWord((pde & ~0xFFF) + ((vaddr >>> 12) & 0x3FF) * 4);
    }

    ShadowRoot rootFor(int guestPgdir) {
        return spt.roots().stream().filter(r -> r.guestPgdir() == guestPgdir).findFirst()
                .orElseThrow(() -> new AssertionError(String.format("no cached shadow for 0x%x: %s", guestPgdir, spt.roots())));
    }

    private void loadCr3() {
        cpu.setCr(3, spt.shadowCr3());
    }

    @Nested
    class DemandFaulting {
        @Test
        void faultBuildsAShadowEntryForTheGuestFrameWithTheGuestFlags() {
            guest.pte(PGDIR_A, kva(5), 5 << 12 | PRESENT | RW | ACCESSED | DIRTY);
            assertTrue(spt.demandPage(kva(5), 0), "the guest maps it: the host handles the fault");
            assertEntry(5 << 12 | PRESENT | RW | ACCESSED | DIRTY, spt.shadowPte(kva(5)));
        }

        @Test
        void shadowDirectoryEntryPointsAtAHostFrameWithTheGuestDirectoryFlags() {
            spt.demandPage(kva(5), 0);
            int spde = spt.shadowPde(kva(5));
            assertTrue(spde >>> 12 >= memory.pfnLimit(), String.format(
                    "shadow page table frame 0x%x must be a host frame (>= 0x%x)", spde >>> 12, memory.pfnLimit()));
            assertEquals(PDE_FLAGS, spde & 0xFFF);
            assertNotEquals(KERNEL_PT >>> 12, spde >>> 12, "the shadow must not reuse the guest's own page table");
        }

        @Test
        void shadowRootIsAHostFrame() {
            assertTrue(spt.shadowCr3() >>> 12 >= memory.pfnLimit());
            assertEquals(0, spt.shadowCr3() & 0xFFF);
        }

        @Test
        void globalBitNeverReachesTheShadow() {
            guest.pte(PGDIR_A, kva(6), 6 << 12 | PRESENT | RW | ACCESSED | DIRTY | GLOBAL);
            spt.demandPage(kva(6), 0);
            assertEntry(0, spt.shadowPte(kva(6)) & GLOBAL, "global entries would survive CR3 loads");
        }

        @Test
        void readFaultSetsAccessedAndMapsACleanPageReadOnly() {
            assertTrue(spt.demandPage(kva(7), 0));
            assertEntry(7 << 12 | PRESENT | RW | ACCESSED, guest.pte(PGDIR_A, kva(7)), "guest entry gains ACCESSED only");
            assertEntry(7 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(7)),
                    "writable in the guest but not dirty yet: read-only in the shadow so the first write faults");
        }

        @Test
        void writeFaultOnACleanPageSetsDirtyAndMakesTheShadowWritable() {
            spt.demandPage(kva(7), 0);
            cpu.forget();
            assertTrue(spt.demandPage(kva(7), FAULT_PRESENT | FAULT_WRITE));
            assertEntry(7 << 12 | PRESENT | RW | ACCESSED | DIRTY, guest.pte(PGDIR_A, kva(7)));
            assertEntry(7 << 12 | PRESENT | RW | ACCESSED | DIRTY, spt.shadowPte(kva(7)));
            assertEquals(List.of(kva(7)), cpu.invalidated, "the read-only translation must leave the TLB");
        }

        @Test
        void guestEntryUpdateIsToldToTheProcessor() {
            spt.demandPage(kva(7), FAULT_WRITE);
            int pteAddress = KERNEL_PT + 7 * 4;
            assertTrue(cpu.written.contains(new FakeCpu.Write(pteAddress, 4)),
                    "the host wrote the guest's entry; the processor must hear of it: " + cpu.written);
        }

        @Test
        void missingGuestDirectoryEntryIsTheGuestsFault() {
            assertFalse(spt.demandPage(0x40000000, 0));
            assertEntry(0, spt.shadowPde(0x40000000), "nothing is shadowed for it");
        }

        @Test
        void missingGuestPageEntryIsTheGuestsFault() {
            assertFalse(spt.demandPage(USER_VA, FAULT_USER));
            assertEntry(0, spt.shadowPte(USER_VA));
        }

        @Test
        void writeToAReadOnlyGuestPageIsTheGuestsFaultAndChangesNothing() {
            guest.pte(PGDIR_A, kva(8), 8 << 12 | PRESENT);
            assertFalse(spt.demandPage(kva(8), FAULT_WRITE));
            assertEntry(8 << 12 | PRESENT, guest.pte(PGDIR_A, kva(8)), "no ACCESSED/DIRTY for a refused access");
            assertEntry(0, spt.shadowPte(kva(8)));
        }

        @Test
        void writeThroughAReadOnlyDirectoryEntryIsTheGuestsFault() {
            guest.pde(PGDIR_A, USER_VA, USER_PT_A | PRESENT | USER | ACCESSED);
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | RW | USER);
            assertFalse(spt.demandPage(USER_VA, FAULT_USER | FAULT_WRITE),
                    "the directory entry forbids writes, as the hardware would decide");
            assertEntry(20 << 12 | PRESENT | RW | USER, guest.pte(PGDIR_A, USER_VA), "no DIRTY for a refused write");
        }

        @Test
        void userAccessToASupervisorPageIsTheGuestsFault() {
            assertFalse(spt.demandPage(kva(9), FAULT_USER));
        }

        @Test
        void userAccessThroughASupervisorDirectoryEntryIsTheGuestsFault() {
            guest.pde(PGDIR_A, USER_VA, USER_PT_A | PRESENT | RW | ACCESSED);
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | RW | USER);
            assertFalse(spt.demandPage(USER_VA, FAULT_USER), "the directory entry forbids user access");
        }

        @Test
        void userPageFaultsInForUserAccess() {
            guest.pte(PGDIR_A, USER_VA + 0x3000, 20 << 12 | PRESENT | RW | USER);
            assertTrue(spt.demandPage(USER_VA + 0x3123, FAULT_USER | FAULT_WRITE));
            assertEntry(20 << 12 | PRESENT | RW | USER | ACCESSED | DIRTY, spt.shadowPte(USER_VA + 0x3000));
        }
    }

    @Nested
    class Validation {
        @Test
        void guestEntryPointingBeyondThePfnLimitKillsTheGuest() {
            guest.pte(PGDIR_A, kva(10), 65 << 12 | PRESENT | RW);
            var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(kva(10), 0));
            assertTrue(e.reason().contains("bad page table entry") && e.reason().contains("beyond guest memory"),
                    "reason: " + e.reason());
            assertEntry(0, spt.shadowPte(kva(10)), "nothing installed");
            assertEntry(65 << 12 | PRESENT | RW, guest.pte(PGDIR_A, kva(10)), "guest entry untouched");
        }

        @Test
        void guestEntryPointingAtAHostFrameKillsTheGuest() {
            int hostFrame = spt.shadowCr3() >>> 12;
            guest.pte(PGDIR_A, kva(10), hostFrame << 12 | PRESENT | RW);
            assertThrows(GuestViolationException.class, () -> spt.demandPage(kva(10), 0),
                    "mapping the shadow directory itself would let the guest rewrite its own translations");
        }

        @Test
        void writeThroughEntryKillsTheGuest() {
            guest.pte(PGDIR_A, kva(11), 11 << 12 | PRESENT | PWT);
            var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(kva(11), 0));
            assertTrue(e.reason().contains("PWT"), e.reason());
        }

        @Test
        void directoryEntryWithAPageTableBeyondThePfnLimitKillsTheGuest() {
            guest.pde(PGDIR_A, 0x40000000, 70 << 12 | PDE_FLAGS);
            var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(0x40000000, 0));
            assertTrue(e.reason().contains("bad page directory entry"), e.reason());
            assertEntry(0, spt.shadowPde(0x40000000));
        }

        @Test
        void fourMegabytePageIsRefusedBecauseLguestGuestsDoNotUsePse() {
            guest.pde(PGDIR_A, 0x40000000, PRESENT | RW | ACCESSED | DIRTY | PSE);
            var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(0x40001000, 0));
            assertTrue(e.reason().contains("PSE"), "reason should name 4 MiB pages: " + e.reason());
            assertEntry(0, spt.shadowPde(0x40000000), "no 4 MiB mapping reaches the shadow");
        }

        @Test
        void directoryEntryWithFlagsOutsidePageTableKillsTheGuest() {
            guest.pde(PGDIR_A, 0x40000000, USER_PT_A | PDE_FLAGS | GLOBAL);
            assertThrows(GuestViolationException.class, () -> spt.demandPage(0x40000000, 0));
        }

        @Test
        void pageDirectoryReadBeyondGuestMemoryKillsTheGuest() {
            // A directory entry that changed without SET_PMD to point outside memory.
            spt.demandPage(kva(1), 0);
            guest.pde(PGDIR_A, PAGE_OFFSET, 0x00FFF000 | PDE_FLAGS);
            assertThrows(GuestViolationException.class, () -> spt.demandPage(kva(2), 0));
        }
    }

    @Nested
    class GuestPhysical {
        @Test
        void kernelAddressTranslatesThroughTheGuestsOwnTables() {
            assertEquals(0x5123, spt.guestPhysical(kva(5) + 0x123));
            assertEquals(0, spt.shadowPte(kva(5)), "a host look-up faults nothing in");
            assertEntry(5 << 12 | PRESENT | RW, guest.pte(PGDIR_A, kva(5)), "and sets no ACCESSED bit");
        }

        @Test
        void translationFollowsTheCurrentDirectory() {
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | USER);
            guest.pte(PGDIR_B, USER_VA, 21 << 12 | PRESENT | USER);
            assertEquals(20 << 12 | 0x10, spt.guestPhysical(USER_VA + 0x10));
            spt.newPageTable(PGDIR_B);
            assertEquals(21 << 12 | 0x10, spt.guestPhysical(USER_VA + 0x10));
        }

        @Test
        void unmappedAddressKillsTheGuestWithTheAddress() {
            var e = assertThrows(GuestViolationException.class, () -> spt.guestPhysical(0x40000000));
            assertTrue(e.reason().contains("0x40000000"), e.reason());
            assertThrows(GuestViolationException.class, () -> spt.guestPhysical(USER_VA));
        }

        @Test
        void mappingBeyondGuestMemoryKillsTheGuest() {
            guest.pte(PGDIR_A, kva(9), 0x80 << 12 | PRESENT);
            var e = assertThrows(GuestViolationException.class, () -> spt.guestPhysical(kva(9)));
            assertTrue(e.reason().contains("beyond guest memory"), e.reason());
        }
    }

    @Nested
    class SwitcherSlot {
        int switcherTable;
        int switcherPde;

        @BeforeEach
        void switcher() {
            switcherTable = memory.allocateHostFrame();
            switcherPde = switcherTable << 12 | ShadowPageTables.KERNEL_PDE_FLAGS;
        }

        @Test
        void everyDirectoryHasTheSwitcherEntryIncludingOnesMadeLater() {
            spt.setSwitcherPde(switcherPde);
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(0x20000);
            spt.newPageTable(0x21000);
            assertEquals(4, spt.roots().size());
            for (ShadowRoot root : spt.roots()) {
                assertEntry(switcherPde, hostWord(root.shadowPgdir() + 1023 * 4),
                        "slot 1023 of directory " + root);
            }
        }

        @Test
        void changingTheSwitcherEntryUpdatesEveryDirectoryAndFlushesTheTlb() {
            spt.newPageTable(PGDIR_B);
            loadCr3();
            cpu.forget();
            spt.setSwitcherPde(switcherPde);
            for (ShadowRoot root : spt.roots()) {
                assertEntry(switcherPde, hostWord(root.shadowPgdir() + 1023 * 4), "slot 1023 of " + root);
            }
            assertEquals(1, cpu.flushes);
        }

        @Test
        void guestMappingOfTheSwitcherSlotKillsItWhenItFaultsThere() {
            spt.setSwitcherPde(switcherPde);
            guest.pde(PGDIR_A, 0xFFC00000, USER_PT_A | PDE_FLAGS);
            var e = assertThrows(GuestViolationException.class, () -> spt.demandPage(0xFFC01000, FAULT_WRITE));
            assertTrue(e.reason().contains("switcher"), e.reason());
            assertEntry(switcherPde, spt.shadowPde(0xFFC00000), "the Switcher's entry is untouched");
        }

        @Test
        void faultInTheSwitcherSlotWithoutAGuestMappingIsTheGuestsFault() {
            spt.setSwitcherPde(switcherPde);
            assertFalse(spt.demandPage(0xFFC00000, FAULT_PRESENT | FAULT_WRITE));
            assertEntry(switcherPde, spt.shadowPde(0xFFC00000));
        }

        @Test
        void setPteInTheSwitcherSlotKillsTheGuest() {
            var e = assertThrows(GuestViolationException.class,
                    () -> spt.setPte(PGDIR_A, 0xFFC00000, 5 << 12 | PRESENT | ACCESSED));
            assertTrue(e.reason().contains("switcher"), e.reason());
        }

        @Test
        void setPmdOnTheSwitcherSlotIsIgnored() {
            spt.setSwitcherPde(switcherPde);
            spt.setPmd(PGDIR_A, 1023);
            spt.setPmd(PGDIR_A, 5000);
            spt.setPmd(PGDIR_A, -1);
            assertEntry(switcherPde, spt.shadowPde(0xFFC00000));
            assertTrue(memory.freeHostFrames() < 31, "the Switcher's table was not returned to the pool");
        }

        @Test
        void flushingEverythingKeepsTheSwitcherEntry() {
            spt.setSwitcherPde(switcherPde);
            spt.flushAll();
            assertEntry(switcherPde, spt.shadowPde(0xFFC00000));
        }

        @Test
        void switcherEntryMustPointAtAHostFrameFromThePool() {
            assertThrows(IllegalArgumentException.class, () -> spt.setSwitcherPde(5 << 12 | PRESENT | RW),
                    "a guest frame");
            assertThrows(IllegalArgumentException.class, () -> spt.setSwitcherPde(switcherTable << 12),
                    "not present");
            int unused = memory.frameCount() - 1;
            assertThrows(IllegalArgumentException.class, () -> spt.setSwitcherPde(unused << 12 | PRESENT),
                    "a pool frame nobody took");
        }
    }

    @Nested
    class SetPte {
        @BeforeEach
        void twoDirectoriesWithKernelAndUserMappingsFaultedIn() {
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | RW | USER);
            guest.pte(PGDIR_B, USER_VA, 21 << 12 | PRESENT | RW | USER);
            spt.demandPage(kva(3), 0);
            spt.demandPage(USER_VA, FAULT_USER);
            spt.newPageTable(PGDIR_B);
            spt.demandPage(kva(3), 0);
            spt.demandPage(USER_VA, FAULT_USER);
            spt.newPageTable(PGDIR_A);
            loadCr3();
            cpu.forget();
        }

        @Test
        void kernelAddressIsUpdatedInEveryDirectory() {
            spt.setPte(PGDIR_B, kva(3), 30 << 12 | PRESENT | RW | ACCESSED | DIRTY);
            for (ShadowRoot r : spt.roots()) {
                assertEntry(30 << 12 | PRESENT | RW | ACCESSED | DIRTY, shadowPteIn(r.shadowPgdir(), kva(3)),
                        "kernel mappings are the same everywhere: " + r);
            }
        }

        @Test
        void userAddressIsUpdatedOnlyInTheDirectoryNamed() {
            spt.setPte(PGDIR_B, USER_VA, 0);
            assertEntry(0, shadowPteIn(rootFor(PGDIR_B).shadowPgdir(), USER_VA));
            assertEntry(20 << 12 | PRESENT | USER | ACCESSED, shadowPteIn(rootFor(PGDIR_A).shadowPgdir(), USER_VA),
                    "another process's mapping must stay");
        }

        @Test
        void userAddressOfAnUncachedDirectoryChangesNothing() {
            int before = framesSnapshot();
            spt.setPte(0x30000, USER_VA, 0);
            assertEntry(20 << 12 | PRESENT | USER | ACCESSED, spt.shadowPte(USER_VA));
            assertEquals(before, framesSnapshot());
            assertTrue(cpu.invalidated.isEmpty());
        }

        @Test
        void entryAlreadyAccessedIsInstalledAtOnceReadOnlyUntilDirty() {
            spt.setPte(PGDIR_A, USER_VA, 22 << 12 | PRESENT | RW | USER | ACCESSED);
            assertEntry(22 << 12 | PRESENT | USER | ACCESSED, spt.shadowPte(USER_VA));
            spt.setPte(PGDIR_A, USER_VA, 22 << 12 | PRESENT | RW | USER | ACCESSED | DIRTY);
            assertEntry(22 << 12 | PRESENT | RW | USER | ACCESSED | DIRTY, spt.shadowPte(USER_VA));
        }

        @Test
        void entryNeitherAccessedNorDirtyIsDroppedToFaultInLater() {
            spt.setPte(PGDIR_A, USER_VA, 22 << 12 | PRESENT | RW | USER);
            assertEntry(0, spt.shadowPte(USER_VA));
        }

        @Test
        void replacingAMappingInTheLoadedDirectoryInvalidatesThatPageOnly() {
            spt.setPte(PGDIR_A, USER_VA + 0x123, 0); // flush_tlb_single sends an unaligned address and 0
            assertEquals(List.of(USER_VA), cpu.invalidated);
            assertEquals(0, cpu.flushes);
        }

        @Test
        void replacingAMappingInADirectoryNotLoadedLeavesTheTlbAlone() {
            spt.setPte(PGDIR_B, USER_VA, 0);
            assertTrue(cpu.invalidated.isEmpty(), "the processor holds no translation of that directory");
        }

        @Test
        void badEntryKillsTheGuestBeforeAnyDirectoryChanges() {
            var e = assertThrows(GuestViolationException.class,
                    () -> spt.setPte(PGDIR_A, kva(3), 99 << 12 | PRESENT | ACCESSED));
            assertTrue(e.reason().contains("beyond guest memory"), e.reason());
            for (ShadowRoot r : spt.roots()) {
                assertEntry(3 << 12 | PRESENT | ACCESSED, shadowPteIn(r.shadowPgdir(), kva(3)), "untouched: " + r);
            }
        }

        @Test
        void nonPresentEntryIsNotValidatedItsBitsBelongToTheGuest() {
            // A swapped-out page: the frame bits are a swap offset, beyond any pfn limit.
            spt.setPte(PGDIR_A, USER_VA, 0xFFFFF000 | DIRTY);
            assertEntry(0, spt.shadowPte(USER_VA));
        }

        @Test
        void protNoneEntryIsNotTakenForAFourMegabytePage() {
            // mprotect(PROT_NONE) on a touched page: _PAGE_PROTNONE (0x080, the PSE bit) | ACCESSED, not present.
            spt.setPte(PGDIR_A, USER_VA, 20 << 12 | PSE | ACCESSED);
            assertEntry(0, spt.shadowPte(USER_VA), "no mapping, and no kill");
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PSE | ACCESSED);
            assertFalse(spt.demandPage(USER_VA, FAULT_USER), "touching it is the guest's fault (SIGSEGV), not the host's");
        }

        int framesSnapshot() {
            return spt.framesInUse() * 1000 + memory.freeHostFrames();
        }
    }

    @Nested
    class SetPmd {
        @Test
        void dropsTheShadowPageTableOfThatEntryAndReturnsItToThePool() {
            spt.demandPage(kva(1), 0);
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | USER);
            spt.demandPage(USER_VA, FAULT_USER);
            int free = memory.freeHostFrames();
            spt.setPmd(PGDIR_A, USER_VA >>> 22);
            assertEntry(0, spt.shadowPde(USER_VA));
            assertEntry(free + 1, memory.freeHostFrames(), "the shadow page table frame went back");
            assertEntry(1 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(1)), "other entries stay");
        }

        @Test
        void invalidatesEveryPageItMappedInTheLoadedDirectory() {
            spt.demandPage(kva(1), 0);
            spt.demandPage(kva(4), 0);
            cpu.forget();
            spt.setPmd(PGDIR_A, PAGE_OFFSET >>> 22);
            assertTrue(cpu.invalidated.containsAll(List.of(kva(1), kva(4))), "invalidated: " + cpu.invalidated);
            assertTrue(cpu.invalidated.stream().allMatch(v -> v >>> 22 == PAGE_OFFSET >>> 22),
                    "only pages of that 4 MiB: " + cpu.invalidated);
        }

        @Test
        void otherDirectoryIsLeftAlone() {
            spt.demandPage(kva(1), 0);
            spt.setPmd(PGDIR_B, PAGE_OFFSET >>> 22);
            assertEntry(1 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(1)));
        }
    }

    @Nested
    class Flushes {
        @BeforeEach
        void userAndKernelMappingsInTwoDirectories() {
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | RW | USER);
            guest.pte(PGDIR_B, USER_VA, 21 << 12 | PRESENT | RW | USER);
            spt.newPageTable(PGDIR_B);
            spt.demandPage(kva(2), 0);
            spt.demandPage(USER_VA, FAULT_USER);
            spt.newPageTable(PGDIR_A);
            spt.demandPage(kva(2), 0);
            spt.demandPage(USER_VA, FAULT_USER);
            loadCr3();
            cpu.forget();
        }

        @Test
        void userFlushDropsOnlyUserMappingsOfTheCurrentDirectory() {
            spt.flushUser();
            assertEntry(0, spt.shadowPde(USER_VA), "user part gone");
            assertEntry(2 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(2)), "kernel part kept");
            assertEntry(21 << 12 | PRESENT | USER | ACCESSED, shadowPteIn(rootFor(PGDIR_B).shadowPgdir(), USER_VA),
                    "the other directory is not flushed");
            assertEquals(1, cpu.flushes, "the TLB must drop the user translations");
        }

        @Test
        void flushOfEverythingDropsAllMappingsOfAllDirectories() {
            int free = memory.freeHostFrames();
            spt.flushAll();
            for (ShadowRoot r : spt.roots()) {
                assertEntry(0, shadowPteIn(r.shadowPgdir(), kva(2)), "kernel gone in " + r);
                assertEntry(0, shadowPteIn(r.shadowPgdir(), USER_VA), "user gone in " + r);
            }
            assertEquals(free + 4, memory.freeHostFrames(), "four shadow page tables returned");
            assertEquals(2, spt.roots().size(), "the directories themselves stay cached");
            assertEquals(1, cpu.flushes);
        }
    }

    @Nested
    class Switching {
        @Test
        void switchingBackFindsTheCachedShadowWithItsMappings() {
            spt.demandPage(kva(2), 0);
            int shadowA = spt.shadowCr3();
            spt.newPageTable(PGDIR_B);
            assertNotEquals(shadowA, spt.shadowCr3(), "a new directory gets its own shadow");
            assertEquals(PGDIR_B, spt.guestCr3());
            spt.newPageTable(PGDIR_A);
            assertEntry(shadowA, spt.shadowCr3());
            assertEntry(2 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(2)), "nothing was thrown away");
        }

        @Test
        void cacheHoldsFourDirectories() {
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(0x20000);
            spt.newPageTable(0x21000);
            assertEquals(List.of(PGDIR_A, PGDIR_B, 0x20000, 0x21000),
                    spt.roots().stream().map(ShadowRoot::guestPgdir).toList());
            assertEquals(4, spt.framesInUse());
        }

        @Test
        void fifthDirectoryReplacesTheSlotsRoundRobinNeverTheCurrentOne() {
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(0x20000);
            spt.newPageTable(0x21000);
            spt.newPageTable(0x22000); // replaces slot 0 (PGDIR_A)
            assertEquals(List.of(0x22000, PGDIR_B, 0x20000, 0x21000),
                    spt.roots().stream().map(ShadowRoot::guestPgdir).toList());
            spt.newPageTable(0x23000); // slot 1
            spt.newPageTable(0x24000); // slot 2
            assertEquals(List.of(0x22000, 0x23000, 0x24000, 0x21000),
                    spt.roots().stream().map(ShadowRoot::guestPgdir).toList());
            spt.newPageTable(0x22000); // a hit: current becomes slot 0
            spt.newPageTable(0x25000); // the cursor is at slot 3
            assertEquals(List.of(0x22000, 0x23000, 0x24000, 0x25000),
                    spt.roots().stream().map(ShadowRoot::guestPgdir).toList());
            assertEquals(4, spt.framesInUse(), "replacement reuses directory frames");
        }

        @Test
        void cursorSkipsTheCurrentDirectory() {
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(0x20000);
            spt.newPageTable(0x21000);
            spt.newPageTable(PGDIR_A); // hit on slot 0, which the cursor points at next
            spt.newPageTable(0x22000);
            assertEquals(List.of(PGDIR_A, 0x22000, 0x20000, 0x21000),
                    spt.roots().stream().map(ShadowRoot::guestPgdir).toList(),
                    "the directory in use must never be the victim");
        }

        @Test
        void replacedDirectoryKeepsKernelMappingsAndLosesUserOnes() {
            guest.pte(PGDIR_A, USER_VA, 20 << 12 | PRESENT | USER);
            spt.demandPage(kva(2), 0);
            spt.demandPage(USER_VA, FAULT_USER);
            int shadowA = spt.shadowCr3();
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(0x20000);
            spt.newPageTable(0x21000);
            spt.newPageTable(0x22000); // takes over A's shadow directory
            assertEntry(shadowA, spt.shadowCr3());
            assertEntry(2 << 12 | PRESENT | ACCESSED, spt.shadowPte(kva(2)), "kernel mappings are shared by all");
            assertEntry(0, spt.shadowPde(USER_VA), "A's user mappings must not leak into the new process");
        }

        @Test
        void currentShadowIsWhatCr3Gets() {
            spt.newPageTable(PGDIR_B);
            assertEquals(rootFor(PGDIR_B).shadowPgdir(), spt.shadowCr3());
            assertTrue(rootFor(PGDIR_B).current());
        }

        @Test
        void pageDirectoryOutsideGuestMemoryKillsTheGuest() {
            var e = assertThrows(GuestViolationException.class, () -> spt.newPageTable(0x41000));
            assertTrue(e.reason().contains("NEW_PGTABLE"), e.reason());
            assertEquals(PGDIR_A, spt.guestCr3(), "still on the old directory");
        }

        @Test
        void faultsUseTheCurrentGuestDirectory() {
            guest.pte(PGDIR_B, USER_VA, 21 << 12 | PRESENT | USER);
            spt.newPageTable(PGDIR_B);
            spt.demandPage(USER_VA, FAULT_USER);
            assertEntry(21 << 12, spt.shadowPte(USER_VA) & ~0xFFF);
        }
    }

    @Nested
    class StackPinning {
        static final int STACK_TOP = PAGE_OFFSET + 0x20000; // stack pages are frames 0x1F and 0x1E

        @Test
        void pinnedStackPagesAreWritableInTheShadowAndDirtyInTheGuest() {
            spt.pinStack(STACK_TOP, 2);
            for (int va : new int[] {STACK_TOP - 0x1000, STACK_TOP - 0x2000}) {
                assertEntry(PRESENT | RW, spt.shadowPte(va) & (PRESENT | RW), String.format("stack page 0x%08x", va));
                assertEntry(DIRTY, guest.pte(PGDIR_A, va) & DIRTY);
            }
            assertEntry(0, spt.shadowPte(STACK_TOP), "the page above the stack top is not part of it");
        }

        @Test
        void moreThanTwoStackPagesKillsTheGuest() {
            var e = assertThrows(GuestViolationException.class, () -> spt.pinStack(STACK_TOP, 3));
            assertTrue(e.reason().contains("stack pages"), e.reason());
        }

        @Test
        void stackPageTheGuestHasNotMappedWritableKillsTheGuest() {
            guest.pte(PGDIR_A, STACK_TOP - 0x1000, 0x1F << 12 | PRESENT);
            var e = assertThrows(GuestViolationException.class, () -> spt.pinStack(STACK_TOP, 1));
            assertTrue(e.reason().contains("bad stack page"), e.reason());
        }

        @Test
        void blankNewDirectoryGetsTheStackPinnedAgain() {
            spt.pinStack(STACK_TOP, 2);
            spt.newPageTable(PGDIR_B);
            assertEntry(PRESENT | RW, spt.shadowPte(STACK_TOP - 0x1000) & (PRESENT | RW));
            assertEntry(PRESENT | RW, spt.shadowPte(STACK_TOP - 0x2000) & (PRESENT | RW));
        }

        @Test
        void switchingToACachedDirectoryPinsTheStackSetWhileAnotherWasCurrent() {
            spt.newPageTable(PGDIR_B);
            spt.newPageTable(PGDIR_A);
            spt.pinStack(STACK_TOP, 1); // pinned in A only
            spt.newPageTable(PGDIR_B);  // B was cached before the stack was set
            assertEntry(PRESENT | RW, spt.shadowPte(STACK_TOP - 0x1000) & (PRESENT | RW), "stack page in B");
        }

        @Test
        void flushOfEverythingPinsTheStackAgain() {
            spt.pinStack(STACK_TOP, 1);
            spt.flushAll();
            assertEntry(PRESENT | RW, spt.shadowPte(STACK_TOP - 0x1000) & (PRESENT | RW));
            assertEntry(0, spt.shadowPte(kva(3)), "and nothing else");
        }
    }

    @Nested
    class PoolExhaustion {
        ShadowPageTables small;

        @BeforeEach
        void guestWithASmallPool() {
            var b = mmu.newGuestMemory(64);
            b.addPages("devices", 1);
            memory = b.hostFrames(6).build();
            guest = new GuestTables(memory);
            // One page table at 0x11000 used for every 4 MiB of kernel space.
            for (int i = 0; i < 64; i++) {
                guest.pde(PGDIR_A, PAGE_OFFSET + (i << 22), KERNEL_PT | PDE_FLAGS);
            }
            for (int n = 0; n < 64; n++) {
                guest.pte(PGDIR_A, PAGE_OFFSET + n * 4096, n << 12 | PRESENT | RW);
            }
            cpu = new FakeCpu();
            memory.attach(cpu);
            small = mmu.newShadowPageTables(memory, PGDIR_A, PAGE_OFFSET);
            cpu.setCr(3, small.shadowCr3());
        }

        @Test
        void runningOutOfHostFramesThrowsTablesAwayAndCarriesOn() {
            small.pinStack(PAGE_OFFSET + 0x20000, 1);
            for (int i = 0; i < 20; i++) {
                int va = PAGE_OFFSET + (i << 22) + 0x5000;
                assertTrue(small.demandPage(va, 0), "fault " + i + " must still be handled");
                assertEntry(5 << 12 | PRESENT | ACCESSED, small.shadowPte(va), "fault " + i);
                assertTrue(small.framesInUse() <= 6, "frames in use " + small.framesInUse());
            }
            assertTrue(small.reclaims() > 0, "the pool of 6 frames cannot hold 20 page tables");
            assertEntry(PRESENT | RW, small.shadowPte(PAGE_OFFSET + 0x1F000) & (PRESENT | RW),
                    "the stack is pinned again after the tables were thrown away");
            assertTrue(cpu.flushes > 0, "throwing tables away must flush the TLB");
        }

        @Test
        void pinningTheStackWithAFullPoolThrowsTablesAwayInsteadOfFailing() {
            for (int i = 0; i < 5; i++) {
                small.demandPage(PAGE_OFFSET + (i << 22), 0); // directory + 5 tables: the pool is full
            }
            assertEquals(0, memory.freeHostFrames(), "the test wants a full pool");
            small.pinStack(PAGE_OFFSET + (10 << 22) + 0x20000, 2); // needs a sixth table
            assertEquals(1, small.reclaims());
            assertEntry(PRESENT | RW, small.shadowPte(PAGE_OFFSET + (10 << 22) + 0x1F000) & (PRESENT | RW), "stack page");
            assertEntry(PRESENT | RW, small.shadowPte(PAGE_OFFSET + (10 << 22) + 0x1E000) & (PRESENT | RW), "stack page");
        }

        @Test
        void reclaimKeepsTheCurrentDirectoryAndDropsTheOthers() {
            small.newPageTable(PGDIR_B);
            small.newPageTable(PGDIR_A);
            int shadowA = small.shadowCr3();
            for (int i = 0; i < 10; i++) {
                small.demandPage(PAGE_OFFSET + (i << 22), 0);
            }
            assertEquals(shadowA, small.shadowCr3(), "CR3 must stay valid");
            assertTrue(small.reclaims() > 0);
            assertEquals(List.of(new ShadowRoot(PGDIR_A, shadowA, true)), small.roots(),
                    "the other directory was given back to the pool");
        }

        @Test
        void poolTooSmallForTheShadowTablesIsAHostErrorNotAGuestOne() {
            while (memory.freeHostFrames() > 0) {
                memory.allocateHostFrame(); // say, an over-hungry Switcher
            }
            var e = assertThrows(IllegalStateException.class, () -> small.demandPage(PAGE_OFFSET, 0));
            assertTrue(e.getMessage().contains("more host frames"), e.getMessage());
        }
    }

    @Test
    void releaseReturnsEveryFrameToThePool() {
        spt.demandPage(kva(1), 0);
        spt.newPageTable(PGDIR_B);
        spt.demandPage(kva(1), 0);
        spt.release();
        assertEquals(memory.hostFrameCount(), memory.freeHostFrames());
        assertThrows(IllegalStateException.class, () -> spt.demandPage(kva(1), 0));
    }

    @Test
    void pageOffsetMustBeAlignedAndBelowTheSwitcher() {
        assertThrows(IllegalArgumentException.class, () -> mmu.newShadowPageTables(memory, PGDIR_A, 0xC0001000));
        assertThrows(IllegalArgumentException.class, () -> mmu.newShadowPageTables(memory, PGDIR_A, 0xFFC00000));
    }

    @Test
    void initialPageDirectoryMustBeInsideGuestMemory() {
        assertThrows(IllegalArgumentException.class, () -> mmu.newShadowPageTables(memory, 0x41000, PAGE_OFFSET));
    }
}
