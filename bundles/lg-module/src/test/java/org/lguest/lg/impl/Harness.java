package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;

import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;
import org.lguest.mmu.impl.MmuComponent;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * The host module wired by hand (no framework) over the real CPU, MMU and
 * Switcher, and test guests laid out as the 2.6.23 Launcher would: 4 MiB of
 * RAM mapped at PAGE_OFFSET by the directory at 0x100000 (entries 0x7).
 *
 * <pre>
 * phys 0x1000 kernel code     0x3000 handlers   0x4000 lguest_data   0x5000 lguest_dma (report)
 *      0x6000 data/counters   0x7000 messages   0x8000 user code     0x9000 the guest's GDT
 *      0x10000-0x20000 kernel stack
 * </pre>
 */
final class Harness implements AutoCloseable {
    static final int PAGE_OFFSET = 0xC0000000;
    static final int PGDIR = 0x100000, KERNEL_PT = 0x101000;
    static final int CODE = 0x1000, HANDLERS = 0x3000, LD = 0x4000, REPORT_DMA = 0x5000, DATA = 0x6000,
            MSG = 0x7000, USER = 0x8000, GDT = 0x9000, STACK_TOP = 0x20000;
    /** A private key: a send there comes back as RunResult.Dma, the test guests' checkpoint. */
    static final int REPORT_KEY = 0x5F00;
    static final int KERNEL_CS = 0x60, KERNEL_DS = 0x68, USER_CS = 0x73, USER_DS = 0x7B;

    final MmuComponent mmu = new MmuComponent();
    final DmaRouterImpl router = new DmaRouterImpl();
    final ParavirtOpsImpl ops = new ParavirtOpsImpl(router);
    final SwitcherComponent switcher = new SwitcherComponent(new CpuFactoryImpl());
    final LguestControlComponent control = new LguestControlComponent(mmu, switcher, ops, new Paravirt4(), router);

    static int kva(int phys) {
        return PAGE_OFFSET + phys;
    }

    /** A trap (0xF) or interrupt (0xE) gate to {@code handler} in the guest kernel's code segment. */
    static int gateLo(int handler) {
        return KERNEL_CS << 16 | handler & 0xFFFF;
    }

    static int gateHi(int handler, int type, int dpl) {
        return handler & 0xFFFF0000 | 0x8000 | dpl << 13 | type << 8;
    }

    GuestMemory memory() {
        return layOut(mmu.newGuestMemory(1024));
    }

    static GuestMemory layOut(GuestMemoryBuilder b) {
        GuestMemory m = b.build();
        m.writeU32(PGDIR + (PAGE_OFFSET >>> 22) * 4, KERNEL_PT | 0x7);
        for (int n = 0; n < 1024; n++) {
            m.writeU32(KERNEL_PT + n * 4, n << 12 | 0x7);
        }
        for (int i = 0; i < Hypercalls.RING_SIZE; i++) {
            m.writeU8(LD + LguestData.HCALL_STATUS + i, Hypercalls.RING_SLOT_FREE);
        }
        m.writeU32(LD + LguestData.BLOCKED_INTERRUPTS, 0);
        // The GDT a Linux guest loads: kernel code/data with DPL 0, user code/data with DPL 3.
        gdt(m, 12, 0x0000FFFF, 0x00CF9A00);
        gdt(m, 13, 0x0000FFFF, 0x00CF9200);
        gdt(m, 14, 0x0000FFFF, 0x00CFFA00);
        gdt(m, 15, 0x0000FFFF, 0x00CFF200);
        return m;
    }

    static void gdt(GuestMemory m, int index, int lo, int hi) {
        m.writeU32(GDT + index * 8, lo);
        m.writeU32(GDT + index * 8 + 4, hi);
    }

    /** A kernel that sets its stack and says LGUEST_INIT, at kva(CODE). */
    static Asm kernel() {
        return new Asm(kva(CODE)).movEsp(kva(STACK_TOP)).hypercall(Hypercalls.LGUEST_INIT, LD);
    }

    /** Code for the handler area, at kva(HANDLERS). */
    static Asm handlers() {
        return new Asm(kva(HANDLERS));
    }

    static Asm report(Asm a) {
        return a.hypercall(Hypercalls.SEND_DMA, REPORT_KEY, REPORT_DMA, 0);
    }

    static Asm crash(Asm a, GuestMemory m, String message) {
        byte[] msg = (message + "\0").getBytes(StandardCharsets.ISO_8859_1);
        int at = MSG + (message.hashCode() & 0x7F) * 8;
        m.write(at, msg);
        return a.hypercall(Hypercalls.CRASH, at);
    }

    LgGuest start(GuestMemory m, Asm kernel) {
        return start("test", m, kernel, null);
    }

    LgGuest start(String name, GuestMemory m, Asm kernel, Asm handlers) {
        m.write(CODE, kernel.bytes());
        if (handlers != null) {
            m.write(HANDLERS, handlers.bytes());
        }
        LgGuest g = (LgGuest) control.open();
        g.initialize(name, m, PGDIR, kva(CODE), PAGE_OFFSET);
        return g;
    }

    static RunResult runToReport(LgGuest g) throws InterruptedException {
        RunResult r = g.run();
        assertEquals(new RunResult.Dma(REPORT_DMA, REPORT_KEY), r, "the guest should have reached its checkpoint");
        return r;
    }

    static String deathOf(LgGuest g) throws InterruptedException {
        RunResult r = g.run();
        return assertInstanceOf(RunResult.Dead.class, r, "the guest should have died").reason();
    }

    @Override
    public void close() {
        control.deactivate();
    }
}
