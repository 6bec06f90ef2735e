package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.lg.impl.Harness.LD;
import static org.lguest.lg.impl.Harness.kernel;
import static org.lguest.lg.impl.Harness.report;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.lg.ControlException;
import org.lguest.lg.GuestControl;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.LguestData;
import org.lguest.mmu.GuestMemory;

/** The control interface: INITIALIZE, read, the owner rule, death and release. */
class BootAndControlTest {
    final Harness h = new Harness();

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void lguestInitWritesReserveMemGuestIdAndTscAndTheGuestRunsOn() throws Exception {
        GuestMemory m = h.memory();
        LgGuest g = h.start(m, report(kernel()));

        Harness.runToReport(g);

        assertEquals(LguestData.SWITCHER_RESERVE, m.readU32(LD + LguestData.RESERVE_MEM), "reserve_mem: 4 MiB");
        assertEquals(g.state.id(), m.readU16(LD + LguestData.GUESTID), "guestid: the slot");
        assertEquals(0, m.readU32(LD + LguestData.TSC_KHZ), "no constant TSC: 0");
        assertEquals(1, g.state.cpu.cpl(), "the guest kernel runs at ring 1");
    }

    @Test
    void theGuestStartsAtRingOneWithEflags202AndEsiZero() {
        GuestMemory m = h.memory();
        LgGuest g = h.start(m, kernel());
        assertEquals(Harness.kva(Harness.CODE), g.state.cpu.eip());
        assertEquals(0x202, g.state.cpu.eflags() & 0x3FFFFF);
        assertEquals(0, g.state.cpu.reg(Cpu.ESI), "ESI points at the boot block at 0");
        assertEquals(0x61, g.state.cpu.selector(Cpu.CS));
        assertEquals(0x69, g.state.cpu.selector(Cpu.SS));
    }

    @Test
    void secondInitializeIsBusy() {
        LgGuest g = h.start(h.memory(), kernel());
        ControlException e = assertThrows(ControlException.class,
                () -> g.initialize("again", h.memory(), Harness.PGDIR, 0xC0001000, Harness.PAGE_OFFSET));
        assertEquals(ControlException.Code.EBUSY, e.code());
    }

    @Test
    void readBeforeInitializeIsInvalid() {
        GuestControl g = h.control.open();
        assertEquals(ControlException.Code.EINVAL, assertThrows(ControlException.class, g::run).code());
        assertEquals(ControlException.Code.EINVAL, assertThrows(ControlException.class, () -> g.irq(1)).code());
    }

    @Test
    void initializeRefusesAPageOffsetThatIsNotFourMegabyteAligned() {
        GuestControl g = h.control.open();
        ControlException e = assertThrows(ControlException.class,
                () -> g.initialize("x", h.memory(), Harness.PGDIR, 0xC0001000, 0xC0001000));
        assertEquals(ControlException.Code.EINVAL, e.code());
    }

    @Test
    void onlyTheOwnerThreadMayReadButAnyThreadMayBreak() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().spin());
        Throwable[] seen = new Throwable[2];
        Thread other = new Thread(() -> {
            try {
                g.run();
            } catch (Throwable t) {
                seen[0] = t;
            }
            try {
                g.breakOn();
            } catch (Throwable t) {
                seen[1] = t;
            }
        });
        other.start();
        other.join();
        assertTrue(seen[0] instanceof ControlException c && c.code() == ControlException.Code.EPERM,
                "read from another thread must be EPERM, was " + seen[0]);
        assertEquals(null, seen[1], "BREAK from another thread is allowed");
        assertEquals(new RunResult.Break(), g.run(), "the break set by the other thread ends the read");
    }

    @Test
    void afterDeathEveryReadReturnsTheSameReasonAndRequestsAreNoEntry() throws Exception {
        GuestMemory m = h.memory();
        LgGuest g = h.start(m, Harness.crash(kernel(), m, "Power down"));

        RunResult first = g.run();
        assertEquals(new RunResult.Dead("CRASH: Power down"), first);
        assertTrue(((RunResult.Dead) first).poweredOff());
        assertEquals(first, g.run(), "a dead guest's reads all say why it died");
        assertEquals(ControlException.Code.ENOENT, assertThrows(ControlException.class, () -> g.irq(1)).code());
        assertEquals(ControlException.Code.ENOENT, assertThrows(ControlException.class, () -> g.getDma(0)).code());
    }

    @Test
    void closeFreesTheSlotAndTheHostFrames() throws Exception {
        GuestMemory m = h.memory();
        int free = m.freeHostFrames();
        LgGuest g = h.start(m, report(kernel()));
        Harness.runToReport(g);
        assertEquals(1, h.control.guests().size());

        g.close();
        g.close();

        assertEquals(0, h.control.guests().size(), "the slot is free again");
        assertEquals(free, m.freeHostFrames(), "the Switcher's pages and every shadow table went back to the pool");
    }

    @Test
    void irqOutsideZeroToThirtyOneIsInvalid() {
        LgGuest g = h.start(h.memory(), kernel());
        assertEquals(ControlException.Code.EINVAL, assertThrows(ControlException.class, () -> g.irq(32)).code());
        assertEquals(ControlException.Code.EINVAL, assertThrows(ControlException.class, () -> g.irq(-1)).code());
    }

    @Test
    void infoCountsExitsAndHypercalls() throws Exception {
        LgGuest g = h.start(h.memory(), report(kernel()));
        Harness.runToReport(g);
        assertEquals(2, g.info().hypercalls(), "LGUEST_INIT and SEND_DMA");
        assertTrue(g.info().exits() >= 2, "at least one exit per hypercall: " + g.info());
        assertEquals("running", g.info().state());
    }
}
