package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.lg.impl.Harness.DATA;
import static org.lguest.lg.impl.Harness.kernel;
import static org.lguest.lg.impl.Harness.kva;
import static org.lguest.lg.impl.Harness.report;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.lg.ControlException;
import org.lguest.lg.GuestControl;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.ControlRequests;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.mmu.GuestMemory;

/** Guests side by side: slots, isolation of a death, time slicing and BREAK. */
class MultiGuestTest {
    final Harness h = new Harness();

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** A guest counting to {@code n} in DATA, then reporting. */
    static Asm counter(int n) {
        Asm k = kernel();
        k.label("loop").inc(kva(DATA)).cmp(kva(DATA), n).jne(k.at("loop"));
        return report(k);
    }

    @Test
    void sixteenGuestsRunAtOnceAndTheSeventeenthIsRefused() throws Exception {
        int n = ControlRequests.MAX_GUESTS;
        CountDownLatch up = new CountDownLatch(n), done = new CountDownLatch(1);
        List<AtomicReference<Object>> results = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AtomicReference<Object> result = new AtomicReference<>();
            results.add(result);
            GuestMemory m = h.memory();
            Thread t = new Thread(() -> {
                LgGuest g = null;
                try {
                    g = h.start(m, counter(5000));
                    up.countDown();
                    result.set(g.run());
                    done.await();
                } catch (Throwable e) {
                    result.set(e);
                    up.countDown();
                } finally {
                    if (g != null) {
                        g.close();
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        assertTrue(up.await(30, TimeUnit.SECONDS));
        assertEquals(n, h.control.guests().size());

        GuestControl seventeenth = h.control.open();
        ControlException e = assertThrows(ControlException.class, () -> seventeenth.initialize("17", h.memory(),
                Harness.PGDIR, kva(Harness.CODE), Harness.PAGE_OFFSET));
        assertEquals(ControlException.Code.ENOSPC, e.code());

        done.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(new RunResult.Dma(Harness.REPORT_DMA, Harness.REPORT_KEY), results.get(i).get(),
                    "guest " + i + " ran to its checkpoint");
        }
        assertEquals(0, h.control.guests().size(), "every slot released");
        LgGuest again = h.start(h.memory(), kernel());
        assertEquals(0, again.state.id(), "a released slot is taken again");
    }

    @Test
    void theLimitOfSixteenIsADefaultThatConfigurationRaises() throws Exception {
        LguestControlComponent roomy = new LguestControlComponent(h.mmu, h.switcher, h.ops, new Paravirt4(), h.router, 40);
        try {
            assertEquals(40, roomy.maxGuests());
            List<GuestControl> opened = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                GuestControl g = roomy.open();
                g.initialize("g" + i, h.memory(), Harness.PGDIR, kva(Harness.CODE), Harness.PAGE_OFFSET);
                opened.add(g);
            }
            assertEquals(40, roomy.guests().size(), "forty guests initialized at once");
            ControlException e = assertThrows(ControlException.class, () -> roomy.open().initialize("41", h.memory(),
                    Harness.PGDIR, kva(Harness.CODE), Harness.PAGE_OFFSET));
            assertEquals(ControlException.Code.ENOSPC, e.code());
            assertTrue(e.getMessage().contains("all 40 guest slots"), e.getMessage());
            for (GuestControl g : opened) {
                g.close();
            }
            assertEquals(0, roomy.guests().size());
        } finally {
            roomy.deactivate();
        }
        assertEquals(ControlRequests.MAX_GUESTS, h.control.maxGuests(), "unconfigured: lguest's 16");
        assertThrows(IllegalArgumentException.class,
                () -> new LguestControlComponent(h.mmu, h.switcher, h.ops, new Paravirt4(), h.router, 70_000));
    }

    @Test
    void oneGuestDyingLeavesAnotherRunning() throws Exception {
        GuestMemory ma = h.memory(), mb = h.memory();
        AtomicReference<RunResult> a = new AtomicReference<>();
        CountDownLatch bStarted = new CountDownLatch(1);
        Thread ta = new Thread(() -> {
            try {
                bStarted.await();
                LgGuest g = h.start(ma, kernel().hypercall(Hypercalls.SET_PTE, Harness.PGDIR, 0xFFC00000, 0x67));
                a.set(g.run());
            } catch (Throwable e) {
                a.set(new RunResult.Dead("test thread: " + e));
            }
        });
        ta.start();
        LgGuest b = h.start(mb, counter(300_000));
        bStarted.countDown();
        RunResult rb = b.run();
        ta.join(10_000);
        assertInstanceOf(RunResult.Dead.class, a.get(), "the bad guest died");
        assertEquals(new RunResult.Dma(Harness.REPORT_DMA, Harness.REPORT_KEY), rb, "the good one carried on");
        assertEquals(300_000, mb.readU32(DATA));
        assertTrue(h.control.guests().stream().anyMatch(i -> i.state().startsWith("dead: ")), "listed as dead");
    }

    @Test
    void aGuestThatNeverStopsIsTimeSlicedAndBreakEndsTheReadPromptly() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().spin());
        Thread waker = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            g.breakOn();
        });
        waker.start();
        long t0 = System.nanoTime();
        RunResult r = g.run();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(new RunResult.Break(), r);
        assertTrue(ms < 1200, "BREAK should end the read within a slice or so, took " + ms + " ms");
        assertTrue(g.info().exits() > 1, "the spinning guest was time-sliced: " + g.info().exits() + " exits");
        assertEquals(new RunResult.Break(), g.run(), "held while the break is on");
        g.breakOff();
        waker.join();
    }

    @Test
    void aKillFromAnotherThreadStopsARunningGuestPromptly() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().spin());
        Thread killer = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            g.kill("bad DMA entry (as another guest's send would report it)");
        });
        killer.start();
        long t0 = System.nanoTime();
        RunResult r = g.run();
        killer.join();
        assertEquals(new RunResult.Dead("bad DMA entry (as another guest's send would report it)"), r);
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 1100, "the kill ended the read promptly");
    }

    @Test
    void interruptingTheReadingThreadEndsTheRead() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().spin());
        Thread me = Thread.currentThread();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            me.interrupt();
        });
        t.start();
        assertThrows(InterruptedException.class, g::run, "a signal ends the read (ERESTARTSYS)");
        t.join();
    }
}
