package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.lguest.lg.impl.Harness.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.mmu.GuestMemory;

/**
 * Fail-stop under hostile input: whatever a guest does, run() returns (a
 * result, never an exception), within a bounded time, and a death is a
 * reason about the guest, never a host failure ("host error ...").
 */
class HostileGuestTest {
    final Harness h = new Harness();
    final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void tearDown() {
        watchdog.shutdownNow();
        h.close();
    }

    static final RunResult CHECKPOINT = new RunResult.Dma(Harness.REPORT_DMA, Harness.REPORT_KEY);

    /** Runs until death, the test guest's checkpoint or the watchdog's break; returns the results seen. */
    private List<RunResult> runBounded(LgGuest g, long millis) throws Exception {
        var timer = watchdog.schedule(g::breakOn, millis, TimeUnit.MILLISECONDS);
        List<RunResult> seen = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            RunResult r = g.run();
            seen.add(r);
            if (!(r instanceof RunResult.Dma) || r.equals(CHECKPOINT)) {
                break;
            }
        }
        timer.cancel(false);
        return seen;
    }

    private static String describe(List<RunResult> results) {
        return results.get(results.size() - 1).toString();
    }

    @Test
    void randomHypercallArgumentsNeverBreakTheHost() throws Exception {
        Random rnd = new Random(2623);
        int[] interesting = {0, 1, 3, 4, 0x1000, 0x3FFFFC, 0x400000, 0x7FFFFFFF, 0x80000000, 0xC0000000,
            0xFFC00000, 0xFFFFFFFF, 0x69, 0x61, 32, 33};
        for (int i = 0; i < 200; i++) {
            int call = rnd.nextInt(Hypercalls.COUNT + 2);
            int[] a = new int[3];
            for (int k = 0; k < 3; k++) {
                a[k] = rnd.nextBoolean() ? interesting[rnd.nextInt(interesting.length)] : rnd.nextInt();
            }
            GuestMemory m = h.memory();
            Asm k = kernel().hypercall(call, a[0], a[1], a[2]);
            LgGuest g = h.start(m, Harness.report(k).spin());
            List<RunResult> r = runBounded(g, 200);
            RunResult last = r.get(r.size() - 1);
            String what = String.format("%s(0x%x, 0x%x, 0x%x) ended with %s", Hypercalls.name(call), a[0], a[1],
                    a[2], describe(r));
            if (last instanceof RunResult.Dead d) {
                assertFalse(d.reason().startsWith("host error"), what);
            }
            g.close();
            assertEquals(0, h.control.guests().size(), what + ": slot released");
        }
    }

    @Test
    void randomCodeAtRingOneNeverBreaksTheHost() throws Exception {
        Random rnd = new Random(1750);
        for (int i = 0; i < 30; i++) {
            GuestMemory m = h.memory();
            byte[] junk = new byte[4096];
            rnd.nextBytes(junk);
            m.write(0x2000, junk);
            m.write(0x8000, junk); // more junk where stray jumps may land
            Asm k = kernel();
            // Jump into the junk at a random offset: jmp rel32.
            int target = Harness.kva(0x2000 + rnd.nextInt(4000));
            k.b(0xE9).d(target - (k.here() + 5));
            LgGuest g = h.start(m, k);
            List<RunResult> r = runBounded(g, 150);
            RunResult last = r.get(r.size() - 1);
            if (last instanceof RunResult.Dead d) {
                assertFalse(d.reason().startsWith("host error"), "seed run " + i + ": " + d.reason());
            }
            g.close();
        }
    }
}
