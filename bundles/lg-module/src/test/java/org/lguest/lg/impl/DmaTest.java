package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.lg.impl.Harness.DATA;
import static org.lguest.lg.impl.Harness.HANDLERS;
import static org.lguest.lg.impl.Harness.deathOf;
import static org.lguest.lg.impl.Harness.kernel;
import static org.lguest.lg.impl.Harness.kva;
import static org.lguest.lg.impl.Harness.report;
import static org.lguest.lg.impl.Harness.runToReport;
import static org.lguest.lg.impl.InterruptAndTrapTest.gate;
import static org.lguest.lg.impl.InterruptAndTrapTest.irqsOn;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestDma;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.SharedRegion;

/** BIND_DMA, SEND_DMA to the Launcher and to another guest, GETDMA. */
class DmaTest {
    final Harness h = new Harness();
    static final int H = kva(HANDLERS);
    /** Two lguest_dma descriptors in each guest: at 0x5100 (receive array) and 0x5200 (send). */
    static final int RX = 0x5100, TX = 0x5200;
    static final int CONSOLE_KEY = 0;

    @AfterEach
    void tearDown() {
        h.close();
    }

    static void dma(GuestMemory m, int at, int... addrLen) {
        m.writeU32(at + LguestDma.USED_LEN, 0);
        for (int i = 0; i < addrLen.length / 2; i++) {
            m.writeU32(at + LguestDma.ADDR + 4 * i, addrLen[2 * i]);
            m.writeU16(at + LguestDma.LEN + 2 * i, addrLen[2 * i + 1]);
        }
    }

    @Test
    void aSendToAPrivateKeyEndsTheReadForTheLauncherWhichWritesUsedLen() throws Exception {
        GuestMemory m = h.memory();
        dma(m, TX, 0x6800, 5);
        m.write(0x6800, "hello".getBytes(StandardCharsets.US_ASCII));
        Asm k = kernel().hypercall(Hypercalls.SEND_DMA, CONSOLE_KEY, TX, 0).loadEax(kva(TX)).storeEax(kva(DATA));
        LgGuest g = h.start(m, report(k));

        RunResult r = g.run();
        assertEquals(new RunResult.Dma(TX, CONSOLE_KEY), r, "the console send is the Launcher's");
        m.writeU32(TX + LguestDma.USED_LEN, 5); // the Launcher's output handler took 5 bytes
        runToReport(g);
        assertEquals(5, m.readU32(DATA), "the guest resumes after the Launcher wrote used_len");
    }

    @Test
    void bindGetDmaAndIrqDeliverLauncherInputToTheGuestHandler() throws Exception {
        GuestMemory m = h.memory();
        int key = 0x6F00;
        dma(m, RX, 0x6800, 64);
        dma(m, RX + LguestDma.SIZE, 0x6900, 64);
        Asm handlers = report(Harness.handlers().inc(kva(DATA)));
        Asm k = kernel().hypercall(Hypercalls.BIND_DMA, key, RX, 2 << 8 | 7).storeEax(kva(DATA + 4));
        irqsOn(gate(k, 32 + 7, H, 0xE, 0)).hypercall(Hypercalls.HALT, 0).spin();
        LgGuest g = h.start("input", m, k, handlers);
        g.breakOn();
        assertEquals(new RunResult.Break(), g.run());
        g.breakOff();
        // The guest has not run yet: let it bind and halt, with a break from "the Waker".
        new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            g.breakOn();
        }).start();
        assertEquals(new RunResult.Break(), g.run(), "the Waker's break ends the sleeping read");
        g.breakOff();
        assertEquals(1, m.readU32(DATA + 4), "BIND_DMA returned 1");

        int dma = g.getDma(key);
        assertEquals(RX, dma, "the first free buffer");
        assertEquals(7, m.readU32(dma + LguestDma.USED_LEN), "used_len holds the binding's IRQ");
        m.write(0x6800, "keys".getBytes(StandardCharsets.US_ASCII));
        m.writeU32(dma + LguestDma.USED_LEN, 4);
        g.irq(7);
        runToReport(g);
        assertEquals(1, m.readU32(DATA), "the guest's handler for IRQ 7 ran");
        assertEquals(RX + LguestDma.SIZE, g.getDma(key), "the first buffer is in use: the second is next");
        assertEquals(-1, g.getDma(key), "no free buffer: -1 (ENOENT)");
        assertEquals(-1, g.getDma(0x6F04), "no binding: -1");
    }

    @Test
    void bindWithAnIrqOfThirtyTwoOrMoreIsRefusedWithoutKilling() throws Exception {
        GuestMemory m = h.memory();
        LgGuest g = h.start(m, report(kernel().movEax(7).hypercall(Hypercalls.BIND_DMA, 0x6F00, RX, 1 << 8 | 32)
                .storeEax(kva(DATA))));
        runToReport(g);
        assertEquals(0, m.readU32(DATA));
    }

    @Test
    void aMisalignedKeyKills() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().hypercall(Hypercalls.BIND_DMA, 0x6F01, RX, 1 << 8 | 3));
        assertEquals("bad DMA key 0x00006f01", deathOf(g));
    }

    @Test
    void bindingBuffersThatReachOutsideGuestMemoryKills() throws Exception {
        int limit = (int) h.memory().limitBytes();
        LgGuest g = h.start(h.memory(), kernel().hypercall(Hypercalls.BIND_DMA, 0x6F00, limit - 100, 2 << 8 | 3));
        assertEquals(String.format("bad DMA buffers: BIND_DMA of 2 lguest_dma at 0x%08x reaches outside guest memory",
                limit - 100), deathOf(g));
    }

    @Test
    void bindingBuffersAtAWrappingAddressKills() throws Exception {
        LgGuest g = h.start(h.memory(), kernel().hypercall(Hypercalls.BIND_DMA, 0x6F00, 0xFFFFFFC0, 1 << 8 | 3));
        assertEquals("bad DMA buffers: BIND_DMA of 1 lguest_dma at 0xffffffc0 reaches outside guest memory", deathOf(g));
    }

    @Test
    void unbindWithIrqZeroDropsTheBinding() throws Exception {
        GuestMemory m = h.memory();
        Asm k = kernel().hypercall(Hypercalls.BIND_DMA, 0x6F00, RX, 1 << 8 | 3)
                .hypercall(Hypercalls.BIND_DMA, 0x6F00, RX, 0).storeEax(kva(DATA));
        LgGuest g = h.start(m, report(k));
        runToReport(g);
        assertEquals(1, m.readU32(DATA), "unbind found the binding");
        assertEquals(0, h.router.bindings(g.state));
    }

    /** Two guests holding one shared page at frame 1024 (guest-physical 0x400000). */
    final class Pair {
        final SharedRegion net = h.mmu.newSharedRegion("net", 1);
        final GuestMemory a = Harness.layOut(withNet());
        final GuestMemory b = Harness.layOut(withNet());
        static final int KEY = 0x400000;

        private org.lguest.mmu.GuestMemoryBuilder withNet() {
            org.lguest.mmu.GuestMemoryBuilder builder = h.mmu.newGuestMemory(1024);
            builder.addShared("net", net);
            return builder;
        }
    }

    /** Receiver: bind one 64-byte buffer at the shared key on IRQ 4, halt; its handler reports. */
    record Rx(LgGuest g, Thread thread) {
    }

    private Rx receiver(GuestMemory b, AtomicReference<RunResult> result) throws Exception {
        dma(b, RX, 0x6800, 64);
        Asm k = kernel().hypercall(Hypercalls.BIND_DMA, Pair.KEY, RX, 1 << 8 | 4);
        irqsOn(gate(k, 36, H, 0xE, 0)).hypercall(Hypercalls.HALT, 0).spin();
        Asm handlers = report(Harness.handlers().inc(kva(DATA)));
        java.util.concurrent.CountDownLatch bound = new java.util.concurrent.CountDownLatch(1);
        LgGuest[] made = new LgGuest[1];
        Thread t = new Thread(() -> {
            try {
                made[0] = h.start("rx", b, k, handlers);
                bound.countDown();
                result.set(made[0].run());
            } catch (Throwable e) {
                result.set(new RunResult.Dead("test thread: " + e));
                bound.countDown();
            }
        });
        t.start();
        bound.await();
        // Wait until the receiver has bound (it then halts).
        for (int i = 0; i < 200 && h.router.bindings(made[0].state) == 0; i++) {
            Thread.sleep(5);
        }
        assertEquals(1, h.router.bindings(made[0].state), "the receiver bound its buffer");
        return new Rx(made[0], t);
    }

    @Test
    void aSendToAKeyAnotherGuestBoundInSharedMemoryIsCopiedAndRaisesItsInterrupt() throws Exception {
        Pair p = new Pair();
        AtomicReference<RunResult> rxResult = new AtomicReference<>();
        Rx rx = receiver(p.b, rxResult);

        dma(p.a, TX, 0x6000, 3, 0x6100, 4);
        p.a.write(0x6000, "abc".getBytes(StandardCharsets.US_ASCII));
        p.a.write(0x6100, "defg".getBytes(StandardCharsets.US_ASCII));
        LgGuest tx = h.start("tx", p.a, report(kernel().hypercall(Hypercalls.SEND_DMA, Pair.KEY, TX, 0)), null);
        runToReport(tx);
        rx.thread().join(5000);

        assertEquals(new RunResult.Dma(Harness.REPORT_DMA, Harness.REPORT_KEY), rxResult.get(),
                "the receiver woke from HALT into its IRQ 4 handler");
        assertEquals("abcdefg", new String(p.b.read(0x6800, 7), StandardCharsets.US_ASCII), "scatter-gather copy");
        assertEquals(7, p.b.readU32(RX + LguestDma.USED_LEN), "receiver's used_len");
        assertEquals(7, p.a.readU32(TX + LguestDma.USED_LEN), "sender's used_len: bytes accepted");
    }

    @Test
    void aSendWithASectionCrossingAPageKillsTheSenderOnly() throws Exception {
        Pair p = new Pair();
        AtomicReference<RunResult> rxResult = new AtomicReference<>();
        Rx rx = receiver(p.b, rxResult);

        dma(p.a, TX, 0x6FF0, 32);
        LgGuest tx = h.start("tx", p.a, kernel().hypercall(Hypercalls.SEND_DMA, Pair.KEY, TX, 0), null);
        assertTrue(deathOf(tx).startsWith("bad DMA entry: section 0"), "the sender's list is refused");
        assertTrue(!rx.g().state.isDead(), "the receiver lives");
        rx.g().breakOn();
        rx.thread().join(5000);
        assertInstanceOf(RunResult.Break.class, rxResult.get());
        assertEquals(0, p.b.readU32(RX + LguestDma.USED_LEN), "nothing was delivered");
    }

    @Test
    void aSendNobodyBoundLeavesUsedLenZeroAndTheGuestRunsOn() throws Exception {
        Pair p = new Pair();
        dma(p.a, TX, 0x6000, 3);
        p.a.writeU32(TX, 0);
        Asm k = kernel().hypercall(Hypercalls.SEND_DMA, Pair.KEY, TX, 0).loadEax(kva(TX)).storeEax(kva(DATA));
        LgGuest tx = h.start("tx", p.a, report(k), null);
        runToReport(tx);
        assertEquals(0, p.a.readU32(DATA));
    }
}
