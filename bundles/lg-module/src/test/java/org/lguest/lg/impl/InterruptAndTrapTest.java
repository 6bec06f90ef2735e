package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.lg.impl.Harness.DATA;
import static org.lguest.lg.impl.Harness.GDT;
import static org.lguest.lg.impl.Harness.HANDLERS;
import static org.lguest.lg.impl.Harness.LD;
import static org.lguest.lg.impl.Harness.STACK_TOP;
import static org.lguest.lg.impl.Harness.USER;
import static org.lguest.lg.impl.Harness.deathOf;
import static org.lguest.lg.impl.Harness.gateHi;
import static org.lguest.lg.impl.Harness.gateLo;
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

/** Interrupt injection, HALT, the clock event, trap reflection, direct traps and port probing. */
class InterruptAndTrapTest {
    final Harness h = new Harness();
    final GuestMemory m = h.memory();
    static final int H = kva(HANDLERS);

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** The kernel installs {@code handler} on {@code vector} as a gate of {@code type} (0xE interrupt, 0xF trap). */
    static Asm gate(Asm a, int vector, int handler, int type, int dpl) {
        return a.hypercall(Hypercalls.LOAD_IDT_ENTRY, vector, gateLo(handler), gateHi(handler, type, dpl));
    }

    static Asm irqsOn(Asm a) {
        return a.store(kva(LD + LguestData.IRQ_ENABLED), LguestData.IRQS_ON);
    }

    /** Handler at H: count in DATA, then report. */
    static Asm countingHandler() {
        return report(Harness.handlers().inc(kva(DATA)));
    }

    @Test
    void aRaisedInterruptRunsTheGuestHandlerWithInterruptsThenOff() throws Exception {
        Asm k = irqsOn(gate(kernel(), 32 + 5, H, 0xE, 0)).spin();
        LgGuest g = h.start("irq", m, k, countingHandler());
        g.irq(5);
        runToReport(g);
        assertEquals(1, m.readU32(DATA), "the handler for vector 37 ran once");
        assertEquals(0, m.readU32(LD + LguestData.IRQ_ENABLED), "an interrupt gate turns the guest's interrupts off");
        int esp = g.state.cpu.reg(Cpu.ESP);
        assertEquals(0x61, m.readU32(esp - kva(0) + 4) & 0xFFFF, "frame: the interrupted CS");
        assertTrue((m.readU32(esp - kva(0) + 8) & 0x200) != 0, "frame: EFLAGS with IF as the guest had it (on)");
    }

    @Test
    void aFramePushedAcrossAPageBoundaryFollowsTheGuestsMapping() throws Exception {
        // Virtual kva(0x10000) is remapped to frame 0x30; the stack starts 2 bytes into kva(0x11000).
        m.writeU32(Harness.KERNEL_PT + 0x10 * 4, 0x30000 | 0x67);
        Asm handlers = Harness.handlers().b(0x8B, 0x44, 0x24, 0x04).storeEax(kva(DATA)) // mov eax, [esp+4]: CS
                .b(0x8B, 0x44, 0x24, 0x08).storeEax(kva(DATA + 4));                     // mov eax, [esp+8]: EFLAGS
        report(handlers);
        Asm k = irqsOn(gate(kernel(), 37, H, 0xE, 0)).movEsp(kva(0x11002)).spin();
        LgGuest g = h.start("straddle", m, k, handlers);
        g.irq(5);
        runToReport(g);
        assertEquals(kva(0x10FF6), g.state.cpu.reg(Cpu.ESP), "three words pushed below 0x11002");
        assertEquals(0x61, m.readU32(DATA), "CS read back through the guest's own mapping");
        assertEquals(0x200, m.readU32(DATA + 4) & 0x200, "EFLAGS, split over two frames, read back whole");
        assertEquals(0x61, m.readU32(0x30FFA), "the words below the boundary are in frame 0x30");
        assertEquals(0, m.readU32(0x10FF8), "nothing landed in frame 0x10, which the guest no longer maps there");
    }

    @Test
    void noInterruptIsDeliveredWhileTheGuestHasInterruptsOff() throws Exception {
        Asm k = gate(kernel(), 32 + 5, H, 0xE, 0).store(kva(LD + LguestData.IRQ_ENABLED), 0);
        k.label("loop").inc(kva(DATA + 4)).cmp(kva(DATA + 4), 20000).jne(k.at("loop"));
        report(k);
        irqsOn(k).spin();
        LgGuest g = h.start("irqoff", m, k, countingHandler());
        g.irq(5);
        runToReport(g);
        assertEquals(0, m.readU32(DATA), "irq_enabled 0: the interrupt waits");
        runToReport(g);
        assertEquals(1, m.readU32(DATA), "delivered once the guest turned interrupts on");
    }

    @Test
    void blockedInterruptsStayPendingWhileOthersAreDelivered() throws Exception {
        m.writeU32(LD + LguestData.BLOCKED_INTERRUPTS, 1 << 5);
        Asm handlers = Harness.handlers();
        report(handlers.label("h5").store(kva(DATA), 5));
        report(handlers.label("h6").store(kva(DATA + 4), 6));
        int h5 = handlers.at("h5"), h6 = handlers.at("h6");
        Asm k = irqsOn(gate(gate(kernel(), 37, h5, 0xE, 0), 38, h6, 0xE, 0)).spin();
        LgGuest g = h.start("blocked", m, k, handlers);
        g.irq(5);
        g.irq(6);
        runToReport(g);
        assertEquals(0, m.readU32(DATA), "IRQ 5 is blocked by the guest");
        assertEquals(6, m.readU32(DATA + 4), "IRQ 6 is not");
    }

    @Test
    void noInterruptIsInjectedInsideTheNoIrqWindow() throws Exception {
        Asm k = irqsOn(gate(kernel(), 37, H, 0xE, 0));
        int start = k.here();
        k.label("loop").inc(kva(DATA + 4)).cmp(kva(DATA + 4), 20000).jne(k.at("loop"));
        int end = k.here();
        k.spin();
        m.writeU32(LD + LguestData.NOIRQ_START, start);
        m.writeU32(LD + LguestData.NOIRQ_END, end);
        Asm handlers = report(Harness.handlers().loadEax(kva(DATA + 4)).storeEax(kva(DATA)));
        LgGuest g = h.start("noirq", m, k, handlers);
        g.irq(5);
        runToReport(g);
        assertEquals(20000, m.readU32(DATA), "the interrupt came only after the loop in [noirq_start, noirq_end)");
    }

    @Test
    void haltSleepsWithoutRunningAndTheClockEventWakesIt() throws Exception {
        Asm k = irqsOn(gate(kernel(), 32, H, 0xE, 0)).hypercall(Hypercalls.SET_CLOCKEVENT, 150_000_000)
                .hypercall(Hypercalls.HALT, 0).spin();
        LgGuest g = h.start("clock", m, k, countingHandler());
        long t0 = System.nanoTime();
        runToReport(g);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 140, "the guest woke after its 150 ms clock event, not before: " + ms + " ms");
        assertTrue(g.state.cpu.instructionsRetired() < 1000,
                "a halted guest runs nothing: " + g.state.cpu.instructionsRetired() + " instructions");
        assertEquals(1, m.readU32(DATA));
    }

    @Test
    void haltWakesWhenAnotherThreadRaisesAnInterrupt() throws Exception {
        Asm k = gate(kernel(), 32 + 9, H, 0xE, 0).store(kva(LD + LguestData.IRQ_ENABLED), 0)
                .hypercall(Hypercalls.HALT, 0).spin();
        LgGuest g = h.start("wake", m, k, countingHandler());
        Thread waker = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            g.state.raiseInterrupt(9);
        });
        waker.start();
        runToReport(g);
        waker.join();
        assertEquals(1, m.readU32(DATA), "halt implies interrupts on: delivered although irq_enabled was 0");
    }

    @Test
    void setClockEventZeroCancelsTheTimer() throws Exception {
        Asm k = irqsOn(gate(kernel(), 32, H, 0xE, 0)).hypercall(Hypercalls.SET_CLOCKEVENT, 50_000_000)
                .hypercall(Hypercalls.SET_CLOCKEVENT, 0);
        k.label("loop").inc(kva(DATA + 4)).cmp(kva(DATA + 4), 2_000_000).jne(k.at("loop"));
        report(k);
        LgGuest g = h.start("cancel", m, k, countingHandler());
        runToReport(g);
        assertEquals(0, m.readU32(DATA), "no clock interrupt after cancelling");
    }

    @Test
    void aPageFaultTheGuestTablesRefuseIsReflectedWithCr2AndErrorCode() throws Exception {
        Asm handlers = report(Harness.handlers().popTo(kva(DATA)));
        Asm k = gate(kernel(), 14, H, 0xE, 0).loadEax(0x10000000).spin();
        LgGuest g = h.start("pf", m, k, handlers);
        runToReport(g);
        assertEquals(0x10000000, m.readU32(LD + LguestData.CR2), "lguest_data.cr2: the faulting address");
        assertEquals(0, m.readU32(DATA), "error code: not present, read, supervisor");
    }

    @Test
    void pageFaultsTheShadowTablesCanServeNeverReachTheGuest() throws Exception {
        Asm handlers = report(Harness.handlers().store(kva(DATA), 0xBAD));
        Asm k = gate(kernel(), 14, H, 0xE, 0);
        for (int p = 0; p < 16; p++) {
            k.store(kva(0x30000 + p * 0x1000), p);
        }
        LgGuest g = h.start("pf2", m, report(k), handlers);
        runToReport(g);
        assertEquals(0, m.readU32(DATA), "the guest's page-fault handler never ran");
        assertEquals(15, m.readU32(0x3F000));
    }

    @Test
    void aTrapWithoutAGuestHandlerKillsWithItsNumber() throws Exception {
        LgGuest g = h.start(m, kernel().b(0x0F, 0x0B)); // ud2
        assertTrue(deathOf(g).startsWith("unhandled trap 6 at 0xc000"), "reason names the trap");
    }

    @Test
    void aWriteToTheSwitcherIsStoppedAndKillsAGuestWithoutAHandler() throws Exception {
        LgGuest g = h.start(m, kernel().store(0xFFC01000 + 4024, 0x41414141));
        String reason = deathOf(g);
        assertTrue(reason.startsWith("unhandled trap 13") || reason.contains("switcher"),
                "a segment ending below 0xFFC00000 stops the write: " + reason);
        assertEquals(0, g.state.cpu.cpl() == 1 ? 0 : 1, "still at ring 1");
    }

    @Test
    void portProbingReadsAllOnesAndWritesNothing() throws Exception {
        Asm k = kernel().movEdx(0x3F8).movEax(0x12345600).inAlDx().storeEax(kva(DATA))
                .inEaxDx().storeEax(kva(DATA + 4)).movEax(0x55).outDxAl().inAlImm(0x60).storeEax(kva(DATA + 8));
        LgGuest g = h.start(m, report(k));
        runToReport(g);
        assertEquals(0x123456FF, m.readU32(DATA), "in al, dx: AL all ones, the rest kept");
        assertEquals(0xFFFFFFFF, m.readU32(DATA + 4), "in eax, dx: all ones");
        assertEquals(0x000000FF, m.readU32(DATA + 8) & 0xFF, "out ignored, in al, imm8 all ones");
    }

    @Test
    void protectedVectorsStayWithTheHostWhateverTheGuestLoads() throws Exception {
        Asm handlers = report(Harness.handlers().store(kva(DATA), 0xBAD));
        Asm k = kernel();
        for (int v : new int[] {2, 8, 13, 14, 15}) {
            gate(k, v, H, 0xF, 3);
        }
        k.store(kva(0x50000), 1).movEdx(0x70).inAlDx(); // a fresh page (host fault) and a port probe (host GPF)
        LgGuest g = h.start("protected", m, report(k), handlers);
        runToReport(g);
        assertEquals(0, m.readU32(DATA), "the guest's gates never ran");
        for (int v : new int[] {2, 8, 13, 14, 15, 0x1F}) {
            assertTrue(g.state.sw.isHostVector(v), "vector " + v + " still enters the host");
        }
    }

    @Test
    void aNotPresentGateTakesADirectTrapBackToTheHost() throws Exception {
        Asm k = gate(kernel(), 6, H, 0xF, 0);
        LgGuest g = h.start("undo", m, report(k.hypercall(Hypercalls.LOAD_IDT_ENTRY, 6, 0, 0)), null);
        runToReport(g);
        assertTrue(g.state.sw.isHostVector(6), "the gate is gone from the real IDT");
        assertEquals(0, g.state.idtHi[6], "and from the guest's table the host reflects through");
    }

    @Test
    void aGateForTheHypercallVectorKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.LOAD_IDT_ENTRY, 0x1F, gateLo(H), gateHi(H, 0xF, 3)));
        assertEquals("attempt to take over the hypercall vector 0x1f", deathOf(g));
    }

    @Test
    void aGateOfAnotherTypeThanInterruptOrTrapKills() throws Exception {
        LgGuest g = h.start(m, kernel().hypercall(Hypercalls.LOAD_IDT_ENTRY, 3, gateLo(H), gateHi(H, 0x5, 0)));
        assertEquals("bad IDT type 5 for vector 3", deathOf(g));
    }

    /** Kernel: user segments, a syscall trap gate (DPL 3), the ring-1 stack, then iret to ring 3 at kva(USER). */
    private Asm toUserMode(Asm k) {
        return toUserMode(k, 0xF);
    }

    private Asm toUserMode(Asm k, int syscallGateType) {
        k.hypercall(Hypercalls.LOAD_GDT, GDT, 32, 0);
        gate(k, 0x80, H, syscallGateType, 3);
        k.hypercall(Hypercalls.SET_STACK, 0x69, kva(STACK_TOP), 2);
        // User data segments first, as Linux does: iret to ring 3 would null a DPL-1 DS.
        k.b(0x66, 0xB8, 0x7B, 0x00).b(0x8E, 0xD8).b(0x8E, 0xC0);
        return k.push(0x7B).push(kva(0x18000)).push(0x202).push(0x73).push(kva(USER)).iret();
    }

    @Test
    void aSystemCallFromRingThreeIsADirectTrapWithoutHostExits() throws Exception {
        int n = 2000;
        Asm user = new Asm(kva(USER));
        user.label("loop").interrupt(0x80).jmp(user.at("loop"));
        m.write(USER, user.bytes());
        // inc count; cmp count, n; jne done; report; done: iret
        Asm handlers = Harness.handlers().inc(kva(DATA)).cmp(kva(DATA), n);
        int reportLen = report(new Asm(0)).bytes().length;
        handlers.jne(handlers.here() + 2 + reportLen);
        report(handlers);
        handlers.iret();
        LgGuest g = h.start("syscall", m, toUserMode(kernel()), handlers);
        runToReport(g);
        assertEquals(n, m.readU32(DATA), "the guest's system call handler ran " + n + " times");
        assertEquals(1, g.state.cpu.cpl(), "the handler runs at ring 1");
        assertTrue(g.info().exits() < 60,
                n + " system calls took " + g.info().exits() + " host exits: they must not go through the host");
        assertEquals(kva(STACK_TOP) - 20, g.state.cpu.reg(Cpu.ESP), "on the SET_STACK stack: ss, esp, eflags, cs, eip");
        assertEquals(0x73, m.readU32(STACK_TOP - 16), "the frame holds the user CS");
    }

    @Test
    void aSystemCallThroughAnInterruptGateGoesThroughTheHostToTheGuestHandler() throws Exception {
        m.write(USER, new Asm(kva(USER)).movEax(42).interrupt(0x80).bytes());
        Asm handlers = report(Harness.handlers().storeEax(kva(DATA)));
        LgGuest g = h.start("intgate", m, toUserMode(irqsOn(kernel()), 0xE), handlers);
        runToReport(g);
        assertEquals(42, m.readU32(DATA), "the handler saw the system call's EAX");
        assertTrue(g.state.sw.isHostVector(0x80), "an interrupt gate is never direct");
        assertEquals(0, m.readU32(LD + LguestData.IRQ_ENABLED), "delivered as an interrupt gate: interrupts off");
        assertEquals(0x200, m.readU32(STACK_TOP - 12) & 0x200, "frame EFLAGS: IF on, as the guest had it");
        assertEquals(kva(USER) + 7, m.readU32(STACK_TOP - 20), "frame EIP: after int $0x80");
    }

    @Test
    void aFaultInUserModeIsReflectedOntoTheKernelStack() throws Exception {
        Asm user = new Asm(kva(USER)).loadEax(0x10000000);
        m.write(USER, user.bytes());
        Asm handlers = report(Harness.handlers().popTo(kva(DATA)));
        Asm k = gate(kernel(), 14, H, 0xE, 0);
        LgGuest g = h.start("userpf", m, toUserMode(k), handlers);
        runToReport(g);
        assertEquals(4, m.readU32(DATA), "error code: not present, read, user");
        assertEquals(0x10000000, m.readU32(LD + LguestData.CR2));
        assertEquals(1, g.state.cpu.cpl());
        assertEquals(0x69, g.state.cpu.selector(Cpu.SS), "switched to the SET_STACK segment");
        assertEquals(0x7B, m.readU32(STACK_TOP - 4), "frame: user SS");
        assertEquals(kva(0x18000), m.readU32(STACK_TOP - 8), "frame: user ESP");
        assertEquals(kva(USER), m.readU32(STACK_TOP - 20), "frame: the faulting EIP");
    }
}
