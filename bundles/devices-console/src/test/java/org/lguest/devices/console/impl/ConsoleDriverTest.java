package org.lguest.devices.console.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.launcher.testing.FakeLguest;
import org.lguest.launcher.testing.TestElf;
import org.lguest.launcher.testing.TrackingMmu;

/** The console driver under the real Launcher, with a scripted guest. */
@org.junit.jupiter.api.Timeout(60)
class ConsoleDriverTest {
    @TempDir
    Path dir;

    FakeLguest lguest;
    LauncherCore launcher;
    Path kernel;

    @BeforeEach
    void setUp() throws Exception {
        lguest = new FakeLguest();
        launcher = new LauncherCore(TrackingMmu::new, () -> lguest);
        kernel = dir.resolve("k.elf");
        Files.write(kernel, TestElf.kernel(true));
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
    }

    Guest start(String backEnd) throws Exception {
        return launcher.start(new GuestSpec("c", 16L << 20, kernel, "", List.of(DeviceSpec.console(backEnd))));
    }

    @Test
    void outputIsKeptForTheShellAndCounted() throws Exception {
        ConsoleDriver driver = new ConsoleDriver();
        launcher.addDriver("console", driver, 0);
        Guest g = start("buffer");
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.Print("booting\n"));
        fake.steps.add(new FakeLguest.Print("PASS x\n"));
        fake.steps.add(new FakeLguest.Idle());
        waitFor(() -> g.transcript("console").orElse("").equals("booting\nPASS x\n"));
        Map<String, Long> m = g.deviceMetrics().get("console0");
        assertEquals(15L, m.get("console.bytesOut"));
        assertEquals(2L, m.get("console.outputs"));
        assertEquals(List.of(8, 7), fake.outputUsedLens);
    }

    @Test
    void inputTypedInTheShellReachesTheGuestsBufferInPieces() throws Exception {
        launcher.addDriver("console", new ConsoleDriver(), 0);
        Guest g = start("buffer");
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.BindInput(4, 1));
        fake.steps.add(new FakeLguest.ReadInput(12));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        assertTrue(g.input("console", "hello world\n".getBytes(StandardCharsets.US_ASCII)));
        Guest.End end = g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(end.poweredOff());
        assertEquals("hello world\n", fake.received.toString());
        assertEquals(Long.valueOf(12), g.deviceInfo().get(0).counters().get("console.bytesIn"),
                "the device counted the 12 bytes it delivered: " + g.deviceInfo());
        assertTrue(g.transcript("console").orElse("").contains("echo:hello world"),
                "the ended guest's transcript keeps what it printed after reading: " + g.transcript("console"));
    }

    @Test
    void theTerminalBackEndWritesStdoutAndReadsStdin() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayInputStream in = new ByteArrayInputStream("typed\n".getBytes(StandardCharsets.US_ASCII));
        TerminalBackEnd t = new TerminalBackEnd(out, in);
        StringBuffer got = new StringBuffer();
        t.startInput(b -> got.append(new String(b, StandardCharsets.US_ASCII)));
        t.write(ByteBuffer.wrap("shown".getBytes(StandardCharsets.US_ASCII)));
        waitFor(() -> got.toString().equals("typed\n"));
        t.close();
        assertEquals("shown", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void anUnknownBackEndIsAClearError() throws Exception {
        launcher.addDriver("console", new ConsoleDriver(), 0);
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.lguest.launcher.LaunchException.class, () -> start("teletype"));
        assertTrue(e.getMessage().contains("unknown console back end 'teletype'"), e.getMessage());
    }

    /**
     * Hot swap: the console driver goes away and comes back (a new instance, as
     * after a bundle restart) while the guest prints; every line arrives once, in
     * order, every send was acknowledged in full, and the transcript and the
     * input not yet delivered carry over.
     */
    @Test
    void aReplacedDriverCarriesOnAndNoOutputIsLost() throws Exception {
        ConsoleDriver current = new ConsoleDriver();
        launcher.addDriver("console", current, 0);
        Guest g = start("buffer");
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.BindInput(8, 1));
        StringBuilder expected = new StringBuilder();
        int line = 0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 20; i++, line++) {
                String text = "line " + line + "\n";
                expected.append(text);
                fake.steps.add(new FakeLguest.Print(text));
            }
            Thread.sleep(3);
            launcher.removeDriver(current); // the bundle stops in the middle of the printing...
            Thread.sleep(3);
            current = new ConsoleDriver();
            launcher.addDriver("console", current, 0); // ...and starts again
        }
        fake.steps.add(new FakeLguest.Idle());
        int lines = line;
        waitFor(() -> fake.outputUsedLens.size() == lines);
        for (int i = 0; i < lines; i++) {
            assertEquals(("line " + i + "\n").length(), fake.outputUsedLens.get(i), "send " + i + " acknowledged in full");
        }
        waitFor(() -> g.transcript("console").orElse("").equals(expected.toString()));
        assertEquals(5L, g.deviceMetrics().get("console0").get("launcher.driverChanges") - 1);

        // Input typed after the swaps reaches the guest through the replacement.
        assertTrue(g.input("console", "abc".getBytes(StandardCharsets.US_ASCII)));
        waitFor(() -> g.deviceMetrics().get("console0").get("console.bytesIn") == 3L);
        fake.steps.add(new FakeLguest.ReadInput(3));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("abc", fake.received.toString());
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
