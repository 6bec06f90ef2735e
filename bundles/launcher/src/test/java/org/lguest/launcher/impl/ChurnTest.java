package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.device.DeviceContext;
import org.lguest.device.DeviceDriver;
import org.lguest.device.DeviceModel;
import org.lguest.device.DeviceRequest;
import org.lguest.launcher.testing.RealHost;
import org.lguest.lg.impl.DmaRouterImpl;
import org.lguest.lg.impl.LguestControlComponent;
import org.lguest.lg.impl.Paravirt4;
import org.lguest.lg.impl.ParavirtOpsImpl;
import org.lguest.mmu.impl.MmuComponent;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * Churn: a thousand guests started and stopped, and a hundred console-driver
 * swaps under a printing guest, on the real hypervisor. Afterwards the
 * process is back where it started: threads, open files and the heap after
 * a collection, each within a small allowance; every guest slot is free.
 * {@code -Dlguest.churn.cycles=N} runs longer. The host here keeps nothing
 * of an ended guest itself (RealHost's tracking MMU and recording console
 * keep every guest, which is what they are for), so what remains is the
 * product's.
 */
@org.junit.jupiter.api.Timeout(600)
class ChurnTest {
    static final int CYCLES = Integer.getInteger("lguest.churn.cycles", 1000);
    static final int SWAPS = Integer.getInteger("lguest.churn.swaps", 100);

    final MmuComponent mmu = new MmuComponent();
    final DmaRouterImpl router = new DmaRouterImpl();
    final LguestControlComponent control = new LguestControlComponent(mmu, new SwitcherComponent(new CpuFactoryImpl()),
            new ParavirtOpsImpl(router), new Paravirt4(), router);
    final LauncherCore launcher = new LauncherCore(() -> mmu, () -> control);

    /** A console driver that keeps only what the newest guest printed, and types into it. */
    static final class LatestConsole implements DeviceDriver {
        volatile StringBuffer output = new StringBuffer();
        volatile DeviceContext context;

        @Override
        public int deviceType() {
            return org.lguest.lg.abi.DevicePage.TYPE_CONSOLE;
        }

        @Override
        public int key(int pagesAddress) {
            return 0;
        }

        @Override
        public DeviceModel open(DeviceContext c) {
            StringBuffer out = new StringBuffer();
            output = out;
            context = c;
            return new DeviceModel() {
                @Override
                public void submit(DeviceRequest request) {
                    out.append(java.nio.charset.StandardCharsets.US_ASCII.decode(request.gather()));
                    request.complete(request.readableLength());
                }

                @Override
                public void close() {
                }
            };
        }

        void awaitOutput(String text) throws InterruptedException {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!output.toString().contains(text)) {
                assertTrue(System.nanoTime() < deadline, "never printed \"" + text + "\":\n" + output);
                Thread.sleep(10);
            }
        }

        void type(String line) throws InterruptedException {
            java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(line.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (data.hasRemaining()) {
                if (context.deliver(0, data) < 0) {
                    assertTrue(System.nanoTime() < deadline, "the guest took no input");
                    Thread.sleep(5);
                }
            }
        }
    }

    LatestConsole console = new LatestConsole();

    @BeforeEach
    void setUp() {
        launcher.addDriver("console", console, 0);
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
        control.deactivate();
    }

    record Footprint(int threads, long openFiles, long heapBytes) {
        static Footprint now() throws InterruptedException {
            long heap = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) { // the least of a few collections: what is really kept
                System.gc();
                Thread.sleep(50);
                heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            }
            String[] fds = new File("/proc/self/fd").list();
            return new Footprint(Thread.activeCount(), fds == null ? -1 : fds.length, heap);
        }
    }

    /** Threads that end a moment after their guest (stop helpers, pumps) are given that moment. */
    static Footprint settled(Footprint baseline) throws InterruptedException {
        Footprint f = Footprint.now();
        for (int i = 0; i < 50 && f.threads() > baseline.threads() + 2; i++) {
            Thread.sleep(100);
            f = Footprint.now();
        }
        return f;
    }

    @Test
    void aThousandGuestsStartedAndStoppedAndAHundredDriverSwapsLeaveTheProcessAsItWas() throws Exception {
        // Warm up once (class loading, the JIT's first compilations, pools), then measure.
        Guest warm = launcher.start(new GuestSpec("warm", 16L << 20, RealHost.GUEST_KERNEL, "", List.of()));
        console.awaitOutput("lguest-guest: ready");
        launcher.remove(warm.id());
        Footprint before = settled(Footprint.now());

        long t0 = System.nanoTime();
        for (int i = 0; i < CYCLES; i++) {
            Guest g = launcher.start(new GuestSpec("churn" + i, 16L << 20, RealHost.GUEST_KERNEL, "", List.of()));
            if (i % 100 == 0) {
                console.awaitOutput("lguest-guest: ready"); // some run for real before they go
            }
            assertTrue(launcher.remove(g.id()), "guest " + g.id() + " was listed");
        }
        long cyclesMillis = (System.nanoTime() - t0) / 1_000_000;

        Guest printing = launcher.start(new GuestSpec("swapped", 16L << 20, RealHost.GUEST_KERNEL, "", List.of()));
        console.awaitOutput("lguest-guest: ready");
        LatestConsole driver = console;
        for (int i = 0; i < SWAPS; i++) {
            launcher.removeDriver(driver);
            driver = new LatestConsole();
            launcher.addDriver("console", driver, 0);
            driver.type("swap " + i + "\n");
            driver.awaitOutput("swap " + i + "\n"); // the guest echoes through each new driver
        }
        assertEquals(Long.valueOf(SWAPS), printing.deviceMetrics().get("console0").get("launcher.swapsSurvived"));
        launcher.remove(printing.id());
        console = driver;

        Footprint after = settled(before);
        System.out.printf("ChurnTest: %d start/stop cycles in %d ms (%.1f ms each), %d driver swaps; threads %d -> %d, "
                + "open files %d -> %d, heap after GC %.1f -> %.1f MiB%n", CYCLES, cyclesMillis,
                (double) cyclesMillis / CYCLES, SWAPS, before.threads(), after.threads(), before.openFiles(),
                after.openFiles(), before.heapBytes() / 1048576.0, after.heapBytes() / 1048576.0);
        assertTrue(after.threads() <= before.threads() + 2, "threads " + before.threads() + " -> " + after.threads());
        assertTrue(after.openFiles() <= before.openFiles() + 5, "open files " + before.openFiles() + " -> " + after.openFiles());
        assertTrue(after.heapBytes() <= before.heapBytes() + (32L << 20),
                String.format("heap after GC %.1f -> %.1f MiB", before.heapBytes() / 1048576.0, after.heapBytes() / 1048576.0));
        assertEquals(0, control.guests().size(), "every guest slot is free");
        assertEquals(0, launcher.list().size(), "no guest is listed");
    }
}
