package org.lguest.switcher.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.impl.MmuComponent;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherExit;
import org.lguest.switcher.SwitcherGuest;

/**
 * The Switcher over the real CPU and shadow tables: 4 MiB of guest RAM mapped
 * at 0xC0000000 (directory 0x100000, page table 0x101000, entries 0x7), code
 * at 0xC0001000.
 */
class SwitcherTest {
    static final int PAGE_OFFSET = 0xC0000000, PGDIR = 0x100000, PT = 0x101000, CODE = 0x1000;
    static final int PRESENT = ShadowPageTables.PRESENT, RW = ShadowPageTables.RW, USER = ShadowPageTables.USER;

    final MmuComponent mmu = new MmuComponent();
    final GuestMemory memory = mmu.newGuestMemory(1024).build();
    final ShadowPageTables spt;
    final SwitcherGuest sw;
    final Cpu cpu;
    int pageFaults;

    SwitcherTest() {
        memory.writeU32(PGDIR + (PAGE_OFFSET >>> 22) * 4, PT | 0x7);
        for (int n = 0; n < 1024; n++) {
            memory.writeU32(PT + n * 4, n << 12 | 0x7);
        }
        spt = mmu.newShadowPageTables(memory, PGDIR, PAGE_OFFSET);
        sw = new SwitcherComponent(new CpuFactoryImpl()).attach(memory, spt);
        cpu = sw.cpu();
    }

    @AfterEach
    void tearDown() {
        sw.close();
    }

    static int kva(int phys) {
        return PAGE_OFFSET + phys;
    }

    /** Tiny assembler. */
    static final class Code {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Code b(int... bytes) {
            for (int x : bytes) {
                out.write(x);
            }
            return this;
        }

        Code d(int v) {
            return b(v & 0xFF, v >>> 8 & 0xFF, v >>> 16 & 0xFF, v >>> 24 & 0xFF);
        }

        Code movEax(int v) { return b(0xB8).d(v); }
        Code movEdx(int v) { return b(0xBA).d(v); }
        Code store(int addr, int v) { return b(0xC7, 0x05).d(addr).d(v); }
        Code hypercall() { return b(0xCD, 0x1F); }
    }

    private void load(Code c) {
        memory.write(CODE, c.out.toByteArray());
        cpu.setEip(kva(CODE));
    }

    /** Runs, serving page faults from the shadow tables, until another exit. */
    private SwitcherExit run() {
        for (int i = 0; i < 1000; i++) {
            SwitcherExit e = sw.run(1_000_000);
            if (e.kind() == SwitcherExit.Kind.TRAP && e.trap() == 14 && spt.demandPage(e.cr2(), e.errorCode())) {
                pageFaults++;
                continue;
            }
            return e;
        }
        throw new AssertionError("no exit but page faults");
    }

    private static int dpl(int hi) {
        return hi >> 13 & 3;
    }

    @Test
    void theSwitcherPagesAreMappedCodeAndStateReadOnlyAndTheRegisterPageWritable() {
        int code = spt.shadowPte(Switcher.CODE_PAGE), regs = spt.shadowPte(Switcher.REGS_PAGE),
                state = spt.shadowPte(Switcher.STATE_PAGE);
        assertEquals(PRESENT, code & (PRESENT | RW | USER), "code page: present, read-only, supervisor");
        assertEquals(PRESENT | RW, regs & (PRESENT | RW | USER), "register page: writable, supervisor");
        assertEquals(PRESENT, state & (PRESENT | RW | USER), "GDT/TSS/IDT page: read-only");
        for (int pte : new int[] {code, regs, state}) {
            assertTrue(pte >>> 12 >= memory.pfnLimit(), "Switcher pages are host frames, out of the guest's reach");
        }
        assertEquals(0, spt.shadowPte(Switcher.STATE_PAGE + 0x1000), "nothing else in the Switcher's slot");
    }

    @Test
    void theGuestStartsAtRingOneWithFlatTrimmedKernelSegments() {
        assertEquals(1, cpu.cpl());
        assertEquals(Switcher.KERNEL_CS, cpu.selector(Cpu.CS));
        assertEquals(0xFFBFFFFF, cpu.segmentLimit(Cpu.DS), "DS ends just below the Switcher");
        assertEquals(0x80010011, cpu.cr(0) & 0x80010011, "paging with WP: read-only pages bind ring 1 too");
    }

    @Test
    void aHypercallComesBackAsTrap0x1FWithTheRegistersSavedInTheRegisterPage() {
        load(new Code().movEax(5).movEdx(7).hypercall());
        SwitcherExit e = run();
        assertEquals(new SwitcherExit(SwitcherExit.Kind.TRAP, 0x1F, 0, 0), e);
        assertEquals(5, cpu.reg(Cpu.EAX));
        assertEquals(kva(CODE) + 12, cpu.eip(), "EIP after int $0x1f");
        byte[] regsPage = memory.frame(spt.shadowPte(Switcher.REGS_PAGE) >>> 12);
        assertEquals(5, regsPage[Switcher.REGS_OFFSET + 7 * 4], "lguest_regs.eax");
        assertEquals(0x1F, regsPage[Switcher.REGS_OFFSET + 11 * 4], "lguest_regs.trapnum");
    }

    @Test
    void aSpinningGuestEndsItsTimeSlice() {
        load(new Code().b(0xEB, 0xFE));
        assertEquals(SwitcherExit.Kind.SLICE, run().kind());
    }

    @Test
    void requestExitFromAnotherThreadInterruptsTheRun() throws Exception {
        load(new Code().b(0xEB, 0xFE));
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            sw.requestExit();
        });
        t.start();
        SwitcherExit e;
        do {
            e = sw.run(Long.MAX_VALUE);
        } while (e.kind() == SwitcherExit.Kind.TRAP && e.trap() == 14 && spt.demandPage(e.cr2(), e.errorCode()));
        t.join();
        assertEquals(SwitcherExit.Kind.INTERRUPTED, e.kind());
    }

    @Test
    void aWriteToTheSwitcherFaultsAndWritesNothing() {
        load(new Code().store(Switcher.REGS_PAGE + 16, 0x41414141));
        SwitcherExit e = run();
        assertEquals(SwitcherExit.Kind.TRAP, e.kind());
        assertEquals(13, e.trap(), "the trimmed segment stops it: #GP");
        byte[] regsPage = memory.frame(spt.shadowPte(Switcher.REGS_PAGE) >>> 12);
        assertEquals(0, regsPage[16]);
    }

    @Test
    void portInstructionsFaultAtRingOne() {
        load(new Code().movEdx(0x3F8).b(0xEC));
        SwitcherExit e = run();
        assertEquals(new SwitcherExit(SwitcherExit.Kind.TRAP, 13, 0, 0), e, "no I/O bitmap, IOPL 0: #GP(0)");
    }

    @Test
    void taskSwitchedMakesAnFpuInstructionTrapSeven() {
        sw.setTaskSwitched(true);
        load(new Code().b(0xDB, 0xE3));
        assertEquals(new SwitcherExit(SwitcherExit.Kind.TRAP, 7, 0, 0), run());
    }

    @Test
    void aGuestDescriptorWithDplZeroIsInstalledWithDplOneAndLoads() {
        int[] gdt = new int[64];
        gdt[2 * 13] = 0x0000FFFF;
        gdt[2 * 13 + 1] = 0x00CF9200; // Linux's kernel data: DPL 0
        sw.loadGdt(gdt);
        assertEquals(1, dpl(sw.gdtEntry(13)[1]));
        load(new Code().b(0x66, 0xB8, 0x69, 0x00).b(0x8E, 0xD8).hypercall()); // mov ax, 0x69; mov ds, ax
        assertEquals(0x1F, run().trap(), "the ring-1 kernel loads its DPL-1 data segment");
    }

    @Test
    void hostOwnedEntriesAreNeverTakenFromTheGuest() {
        int[][] before = {sw.gdtEntry(10), sw.gdtEntry(11), sw.gdtEntry(16), sw.gdtEntry(31)};
        int[] gdt = new int[64];
        for (int i = 0; i < 32; i++) {
            gdt[2 * i] = 0x0000FFFF;
            gdt[2 * i + 1] = 0x00CFFA00;
        }
        sw.loadGdt(gdt);
        assertArrayEquals(before[0], sw.gdtEntry(10), "LGUEST_CS");
        assertArrayEquals(before[1], sw.gdtEntry(11), "LGUEST_DS");
        assertArrayEquals(before[2], sw.gdtEntry(16), "TSS");
        assertArrayEquals(before[3], sw.gdtEntry(31), "double-fault TSS");
        assertEquals(0, dpl(sw.gdtEntry(10)[1]), "the host's code segment stays ring 0");
    }

    @Test
    void systemDescriptorsAndExpandDownSegmentsFromTheGuestAreDropped() {
        int[] gdt = new int[64];
        gdt[2 * 20] = 0x00500000; // a call gate to LGUEST_CS: would be a way into ring 0
        gdt[2 * 20 + 1] = 0x0000EC00;
        gdt[2 * 21] = 0x0000FFFF; // expand-down data: covers everything above its limit
        gdt[2 * 21 + 1] = 0x00CFF600;
        sw.loadGdt(gdt);
        assertArrayEquals(new int[] {0, 0}, sw.gdtEntry(20));
        assertArrayEquals(new int[] {0, 0}, sw.gdtEntry(21));
    }

    @Test
    void segmentLimitsAreTrimmedBelowTheSwitcher() {
        assertArrayEquals(new int[] {0x0000FBFF, 0x00CFB300}, Descriptors.fixup(0x0000FFFF, 0x00CF9200),
                "flat 4 GiB: page-granular limit 0xFFBFF");
        int[] high = Descriptors.fixup(0xF000FFFF, 0xFF4F92BF); // base 0xFFBFF000, byte limit 0xFFFFF
        assertEquals(0xFFBFF000, Descriptors.base(high[0], high[1]));
        assertEquals(0xFFFL, Descriptors.limitBytes(high[0], high[1]), "a segment starting a page below ends there");
        assertArrayEquals(new int[] {0, 0}, Descriptors.fixup(0x0000FFFF, 0xFF0092C0), "wholly inside the Switcher");
        assertArrayEquals(new int[] {0x0000FFFF, 0x0040B300}, Descriptors.fixup(0x0000FFFF, 0x0040B200),
                "a small segment is left alone (accessed set)");
    }

    @Test
    void userSegmentsKeepTheFullLimitSoThreadBlockOffsetsWrap() {
        // A glibc TLS descriptor: base 0x0804a000, 4 GiB, DPL 3 data. %gs:0xffffffac must reach base - 0x54.
        int[] tls = Descriptors.fixup(0xA000FFFF, 0x08CFF204);
        assertEquals(0x0804A000, Descriptors.base(tls[0], tls[1]));
        assertEquals(0xFFFFFFFFL, Descriptors.limitBytes(tls[0], tls[1]), "a DPL 3 segment is not trimmed");
        assertEquals(Descriptors.ACCESSED, tls[1] & Descriptors.ACCESSED, "accessed preset");
    }

    @Test
    void onlyTrapGatesOfOwnableVectorsBecomeDirect() {
        int h = kva(0x2000);
        int lo = 0x60 << 16 | h & 0xFFFF, trap3 = h & 0xFFFF0000 | 0xEF00, intr = h & 0xFFFF0000 | 0x8E00;
        assertTrue(sw.setGuestGate(0x80, lo, trap3), "the system call");
        assertEquals(Switcher.KERNEL_CS, sw.idtEntry(0x80)[0] >>> 16, "selector forced to the kernel's ring-1 CS");
        assertTrue(sw.setGuestGate(6, lo, trap3));
        for (int v : new int[] {2, 7, 8, 13, 14, 15, 0x1F, 32, 100}) {
            assertFalse(sw.setGuestGate(v, lo, trap3), "vector " + v + " stays the host's");
            assertTrue(sw.isHostVector(v));
        }
        assertFalse(sw.setGuestGate(3, lo, intr), "an interrupt gate is never direct (it would really clear IF)");
        assertFalse(sw.setGuestGate(6, 0, 0), "not present: back to the host stub");
        assertTrue(sw.isHostVector(6));
        assertEquals(1, dpl(sw.idtEntry(0x1F)[1]), "the hypercall gate: DPL 1");
    }

    @Test
    void aSystemCallFromRingThreeEntersTheGuestKernelDirectlyOnTheSetStackStack() {
        int[] gdt = new int[64];
        gdt[2 * 12] = 0x0000FFFF;
        gdt[2 * 12 + 1] = 0x00CF9A00;
        gdt[2 * 13] = 0x0000FFFF;
        gdt[2 * 13 + 1] = 0x00CF9200;
        gdt[2 * 14] = 0x0000FFFF;
        gdt[2 * 14 + 1] = 0x00CFFA00;
        gdt[2 * 15] = 0x0000FFFF;
        gdt[2 * 15 + 1] = 0x00CFF200;
        sw.loadGdt(gdt);
        int handler = kva(0x2000), top = kva(0x20000);
        memory.write(0x2000, new Code().movEax(99).hypercall().out.toByteArray());
        sw.setGuestGate(0x80, 0x60 << 16 | handler & 0xFFFF, handler & 0xFFFF0000 | 0xEF00);
        sw.setKernelStack(0x69, top);
        load(new Code().b(0xCD, 0x80));
        assertEquals(-1, cpu.loadSegment(Cpu.DS, 0x7B));
        cpu.setSegment(Cpu.CS, 0x73, 0, 0xFFBFFFFF, 0x00CFFB00);
        cpu.setSegment(Cpu.SS, 0x7B, 0, 0xFFBFFFFF, 0x00CFF300);
        cpu.setReg(Cpu.ESP, kva(0x18000));
        long exitsBefore = sw.exits();

        SwitcherExit e = run();

        assertEquals(0x1F, e.trap(), "the guest's handler made the hypercall");
        assertEquals(99, cpu.reg(Cpu.EAX));
        assertEquals(1, cpu.cpl());
        assertEquals(top - 20, cpu.reg(Cpu.ESP), "the frame (ss, esp, eflags, cs, eip) is on the ss1:esp1 stack");
        assertEquals(0x73, memory.readU32(0x20000 - 16));
        assertEquals(1 + pageFaults, sw.exits() - exitsBefore, "no exit for the system call itself");
    }

    @Test
    void closeGivesTheFramesBackAndClearsTheSwitcherEntry() {
        int free = memory.freeHostFrames();
        sw.close();
        assertEquals(free + Switcher.HOST_FRAMES, memory.freeHostFrames());
        assertEquals(0, spt.switcherPde());
    }
}
