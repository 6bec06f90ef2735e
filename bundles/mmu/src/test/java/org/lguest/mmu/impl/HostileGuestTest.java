package org.lguest.mmu.impl;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.mmu.ShadowPageTables.GLOBAL;
import static org.lguest.mmu.ShadowPageTables.PAGE_TABLE_FLAGS;
import static org.lguest.mmu.ShadowPageTables.PRESENT;
import static org.lguest.mmu.ShadowPageTables.PSE;
import static org.lguest.mmu.ShadowPageTables.PWT;
import static org.lguest.mmu.ShadowPageTables.RW;
import static org.lguest.mmu.ShadowPageTables.DIRTY;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.ShadowRoot;

/**
 * A guest that writes random page tables and throws random faults and
 * page-table hypercalls at the host. Whatever it does, after every step the
 * shadow tables must map nothing but guest frames, leave slot 1023 to the
 * Switcher, hold no frame twice, and account for every host frame; the only
 * exception allowed out is {@link GuestViolationException} (the guest dies,
 * the host state stays sound: the test carries on as if it had not).
 */
class HostileGuestTest {
    static final int RAM_PAGES = 256, PFN_LIMIT = RAM_PAGES + 1;
    static final int PAGE_OFFSET = 0xC0000000;

    GuestMemory memory;
    ShadowPageTables spt;
    FakeCpu cpu;
    int switcherFrame;
    int switcherPde;
    Random random;
    int kills;
    int handled;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomGuestNeverBreaksTheShadowInvariants(long seed) {
        random = new Random(seed);
        var b = new MmuComponent().newGuestMemory(RAM_PAGES);
        b.addPages("devices", 1);
        memory = b.hostFrames(8 + random.nextInt(24)).build();
        switcherFrame = memory.allocateHostFrame();
        switcherPde = switcherFrame << 12 | ShadowPageTables.KERNEL_PDE_FLAGS;
        // Guest page directories (frames 0..3) and tables (4..31); the guest scribbles on them as it runs.
        for (int i = 0; i < 32 * 1024; i++) {
            memory.writeU32(i * 4, randomTableWord(i * 4));
        }
        cpu = new FakeCpu();
        memory.attach(cpu);
        spt = new MmuComponent().newShadowPageTables(memory, randomPgdir(), PAGE_OFFSET);
        spt.setSwitcherPde(switcherPde);

        for (int step = 0; step < 2000; step++) {
            cpu.setCr(3, spt.shadowCr3());
            String what = step(step);
            checkInvariants("seed " + seed + ", step " + step + " (" + what + ")");
        }
        assertTrue(kills > 0, "a random guest should have been caught at least once");
        assertTrue(handled > 20, "the guest is meant to be mostly sane: only " + handled + " faults were legitimate");
    }

    private String step(int step) {
        int op = random.nextInt(11);
        String what = "";
        try {
            switch (op) {
                case 0, 1, 2 -> {
                    int va = randomVaddr(), err = random.nextInt(8);
                    what = String.format("demandPage(0x%08x, %d)", va, err);
                    if (spt.demandPage(va, err)) {
                        handled++;
                    }
                }
                case 3 -> {
                    int pgdir = randomPgdir(), va = randomVaddr(), pte = randomPte();
                    what = String.format("setPte(0x%x, 0x%08x, 0x%08x)", pgdir, va, pte);
                    spt.setPte(pgdir, va, pte);
                }
                case 4 -> {
                    int pgdir = randomPgdir(), index = random.nextBoolean() ? random.nextInt(1024) : random.nextInt();
                    what = String.format("setPmd(0x%x, %d)", pgdir, index);
                    spt.setPmd(pgdir, index);
                }
                case 5 -> {
                    int pgdir = random.nextInt(8) == 0 ? random.nextInt() : randomPgdir();
                    what = String.format("newPageTable(0x%08x)", pgdir);
                    spt.newPageTable(pgdir);
                }
                case 6 -> {
                    what = "flush";
                    if (random.nextBoolean()) {
                        spt.flushAll();
                    } else {
                        spt.flushUser();
                    }
                }
                case 7 -> {
                    int top = randomVaddr(), pages = random.nextInt(4);
                    what = String.format("pinStack(0x%08x, %d)", top, pages);
                    spt.pinStack(top, pages);
                }
                case 8 -> {
                    int va = randomVaddr();
                    what = String.format("guestPhysical(0x%08x)", va);
                    int pa = spt.guestPhysical(va);
                    check(Integer.toUnsignedLong(pa) < memory.limitBytes(), what, "translated to 0x%08x, outside guest memory", pa);
                    check((pa & 0xFFF) == (va & 0xFFF), what, "lost the page offset: 0x%08x", pa);
                }
                default -> {
                    // The guest rewrites one of its own table entries, without telling the host.
                    int at = random.nextInt(32 * 1024) * 4;
                    what = String.format("guest writes 0x%x", at);
                    memory.writeU32(at, randomTableWord(at));
                }
            }
        } catch (GuestViolationException e) {
            kills++;
            assertTrue(e.reason() != null && !e.reason().isBlank(), "a kill needs a reason");
        }
        return what;
    }

    /** Mostly a guest's ordinary directory entry (frames 4..31 hold tables); about one in eight hostile. */
    private int randomPde() {
        if (random.nextInt(8) == 0) {
            return hostileEntry();
        }
        int flags = random.nextInt(0x80) & PAGE_TABLE_FLAGS;
        return (4 + random.nextInt(28)) << 12 | flags | (random.nextInt(5) > 0 ? PRESENT : 0);
    }

    /** Mostly an ordinary page entry for a guest frame; about one in eight hostile. */
    private int randomPte() {
        if (random.nextInt(8) == 0) {
            return hostileEntry();
        }
        int flags = random.nextInt(0x200) & (PAGE_TABLE_FLAGS | GLOBAL);
        return random.nextInt(PFN_LIMIT) << 12 | flags | (random.nextInt(5) > 0 ? PRESENT : 0);
    }

    /** Frames beyond the limit or in the host pool, any flags (PSE, PWT, GLOBAL in a directory...). */
    private int hostileEntry() {
        int pfn = switch (random.nextInt(3)) {
            case 0 -> random.nextInt(1 << 20);
            case 1 -> PFN_LIMIT + random.nextInt(40);
            default -> PFN_LIMIT;
        };
        return pfn << 12 | random.nextInt(0x1000) | PRESENT;
    }

    /** A guest write to its own tables: frames 0..3 are directories, 4..31 page tables. */
    private int randomTableWord(int address) {
        return address >>> 12 < 4 ? randomPde() : randomPte();
    }

    private int randomPgdir() {
        return random.nextInt(10) == 0 ? random.nextInt(32) << 12 : random.nextInt(4) << 12;
    }

    private int randomVaddr() {
        return switch (random.nextInt(5)) {
            case 0 -> random.nextInt();
            case 1 -> 0xFFC00000 + random.nextInt(0x400000);
            case 2 -> PAGE_OFFSET + random.nextInt(8 << 22);
            default -> random.nextInt(8 << 22);
        };
    }

    private void checkInvariants(String where) {
        Set<Integer> seen = new HashSet<>();
        int held = 0;
        for (ShadowRoot root : spt.roots()) {
            int dir = root.shadowPgdir() >>> 12;
            check(dir >= PFN_LIMIT, where, "directory in guest frame %d", dir);
            check(seen.add(dir), where, "frame %d used twice", dir);
            held++;
            check(entry(dir, 1023) == switcherPde, where, "slot 1023 of %s holds 0x%08x", root, entry(dir, 1023));
            for (int i = 0; i < 1023; i++) {
                int pde = entry(dir, i);
                if ((pde & PRESENT) == 0) {
                    check(pde == 0, where, "stale non-present directory entry %d: 0x%08x", i, pde);
                    continue;
                }
                int table = pde >>> 12;
                check(memory.frame(table) != null && table >= PFN_LIMIT && table != switcherFrame, where,
                        "directory entry %d -> frame 0x%x is not a shadow table", i, table);
                check((pde & 0xFFF & ~PAGE_TABLE_FLAGS) == 0, where, "directory entry 0x%08x has flags beyond 0x067", pde);
                check(seen.add(table), where, "table frame %d used twice", table);
                held++;
                for (int j = 0; j < 1024; j++) {
                    int pte = entry(table, j);
                    if ((pte & PRESENT) == 0) {
                        check(pte == 0, where, "stale non-present entry 0x%08x", pte);
                        continue;
                    }
                    int va = i << 22 | j << 12;
                    check(pte >>> 12 < PFN_LIMIT, where, "shadow entry 0x%08x for 0x%08x maps a frame beyond guest memory", pte, va);
                    check((pte & (GLOBAL | PSE | PWT)) == 0, where, "shadow entry 0x%08x for 0x%08x carries GLOBAL/PSE/PWT", pte, va);
                    check((pte & RW) == 0 || (pte & DIRTY) != 0, where, "shadow entry 0x%08x for 0x%08x is writable but not dirty", pte, va);
                }
            }
        }
        check(held == spt.framesInUse(), where, "%d frames held but framesInUse() says %d", held, spt.framesInUse());
        check(memory.hostFrameCount() == memory.freeHostFrames() + held + 1, where,
                "pool of %d = %d free + %d held + 1 Switcher frame does not add up", memory.hostFrameCount(),
                memory.freeHostFrames(), held);
    }

    /** Fails with a formatted message, built only when the check fails. */
    private static void check(boolean ok, String where, String format, Object... args) {
        if (!ok) {
            throw new AssertionError(where + ": " + String.format(format, args));
        }
    }

    private int entry(int frame, int index) {
        return (int) GuestMemoryImpl.U32.get(memory.frame(frame), index * 4);
    }
}
