package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.testing.RealHost;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.impl.LguestControlComponent;

/**
 * The real guest kernel on the real hypervisor, without OSGi: the
 * implementations of the CPU, MMU, Switcher and lg module instantiated
 * directly, the Launcher over them, a recording console driver.
 */
@org.junit.jupiter.api.Timeout(300)
class GuestBootTest {
    static final Path GUEST_KERNEL = LauncherCoreTest.GUEST_KERNEL;
    /** The selftests guest/README.md lists; all but console-input (which needs input-expected=) must PASS. */
    static final List<String> SELFTESTS = List.of("paging-demand", "paging-batch", "user-syscall", "user-tls",
            "user-stack-demand", "user-timer", "user-kernel-protected", "timer-ticks", "halt-wake");

    RealHost host;
    TrackingMmu mmu;
    LguestControlComponent control;
    RecordingDriver console;
    LauncherCore launcher;

    @BeforeEach
    void setUp() {
        host = new RealHost();
        mmu = host.mmu;
        control = host.control;
        console = host.console;
        launcher = host.launcher;
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    static Guest.End await(Guest g, RecordingDriver console, int seconds) throws Exception {
        try {
            return g.ending().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the guest did not end within " + seconds + " s; state " + g.state()
                    + "; console so far:\n" + console.opened.get(0).output, e);
        }
    }

    @Test
    void theGuestKernelBootsAndPowersOff() throws Exception {
        Guest g = launcher.start(new GuestSpec("boot", 64L << 20, GUEST_KERNEL, "poweroff", List.of()));
        Guest.End end = await(g, console, 120);
        String out = console.opened.get(0).output.toString();
        assertTrue(end.poweredOff(), "powered off, not: " + end.reason() + "\nconsole:\n" + out);
        for (String line : List.of("lguest-guest: booting lguest, cmdline \"poweroff\"", "lguest-guest: 64 MB of RAM, kernel at ring 1",
                "guestid 0", "console: input on IRQ 1", "lguest-guest: boot complete", "lguest-guest: power down")) {
            assertTrue(out.contains(line), line + "\nconsole:\n" + out);
        }
        assertTrue(g.info().orElseThrow().hypercalls() > 70, "LGUEST_INIT, 61 IDT entries, ...: " + g.info());
        assertTrue(mmu.allClosed(), "the guest memory was released");
    }

    @Test
    void typedLinesReachTheEchoLoopAndPoweroffEndsIt() throws Exception {
        Guest g = launcher.start(new GuestSpec("echo", 32L << 20, GUEST_KERNEL, "", List.of()));
        RecordingDriver.BackEnd backEnd = console.opened.get(0);
        java.nio.ByteBuffer input = java.nio.ByteBuffer.wrap("hello, guest\npoweroff\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (input.hasRemaining() && System.nanoTime() < deadline && g.state() == Guest.State.RUNNING) {
            if (backEnd.context.deliver(0, input) < 0) {
                Thread.sleep(5);
            }
        }
        Guest.End end = await(g, console, 60);
        String out = backEnd.output.toString();
        assertTrue(end.poweredOff(), end.reason() + "\nconsole:\n" + out);
        assertTrue(out.contains("lguest-guest: ready") && out.contains("hello, guest\n") && out.contains("lguest-guest: power down"), out);
        assertTrue(g.deviceMetrics().get("console0").get("launcher.inputBytes") == 22L, g.deviceMetrics().toString());
    }

    @Test
    void anIdleGuestStopsItsTickAndMakesNoExitsUntilATypedLineWakesIt() throws Exception {
        Guest g = startReady();
        Thread.sleep(300); // the ready line is printed just before the first tickless halt
        long exits = g.info().orElseThrow().exits();
        Thread.sleep(2000);
        long idleExits = g.info().orElseThrow().exits() - exits;
        assertTrue(idleExits <= 2, "an idle guest with its tick stopped made " + idleExits
                + " exits in 2 s (a 100 Hz tick makes about 400)");
        RecordingDriver.BackEnd backEnd = console.opened.get(0);
        backEnd.context.deliver(0, java.nio.ByteBuffer.wrap("still here\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!backEnd.output.toString().contains("still here\n")) {
            assertTrue(System.nanoTime() < deadline, "the halted guest never woke for typed input: " + backEnd.output);
            Thread.sleep(10);
        }
    }

    @Test
    void thePowerButtonPowersAnIdleGuestOff() throws Exception {
        Guest g = startReady();
        String how = g.requestShutdown(false).orElseThrow();
        assertTrue(how.contains("power button"), how);
        Guest.End end = await(g, console, 30);
        String out = console.opened.get(0).output.toString();
        assertTrue(end.poweredOff(), end + "\n" + out);
        assertTrue(out.contains("power: button on IRQ 2") && out.contains("lguest-guest: power button: powering off"), out);
    }

    @Test
    void aGuestThatIgnoresThePowerButtonRunsOn() throws Exception {
        Guest g = launcher.start(new GuestSpec("deaf", 32L << 20, GUEST_KERNEL, "nopowerbutton", List.of()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!console.opened.get(0).output.toString().contains("lguest-guest: ready")) {
            assertTrue(System.nanoTime() < deadline, "the guest never got ready: " + console.opened.get(0).output);
            Thread.sleep(10);
        }
        assertTrue(g.requestShutdown(false).isPresent(), "the request is made even if nobody listens");
        Thread.sleep(1500);
        assertEquals(Guest.State.RUNNING, g.state(), console.opened.get(0).output.toString());
        g.stop();
        assertEquals(Guest.State.STOPPED, g.state(), "destroy still works");
    }

    @Test
    void aRebootRequestTheGuestIgnoredDoesNotTurnItsLaterPowerOffIntoARestart() throws Exception {
        Guest g = launcher.start(new GuestSpec("ignores", 32L << 20, GUEST_KERNEL, "nopowerbutton", List.of()));
        RecordingDriver.BackEnd backEnd = console.opened.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!backEnd.output.toString().contains("lguest-guest: ready")) {
            assertTrue(System.nanoTime() < deadline, "the guest never got ready: " + backEnd.output);
            Thread.sleep(10);
        }
        g.requestShutdown(true).orElseThrow();   // ignored: no button driver
        Thread.sleep(500);
        g.requestShutdown(false).orElseThrow();  // the last request is a shutdown
        backEnd.context.deliver(0, java.nio.ByteBuffer.wrap("poweroff\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertTrue(await(g, console, 30).poweredOff());
        Thread.sleep(1500);
        assertTrue(launcher.list().stream().noneMatch(x -> x.id() != g.id() && x.spec().name().equals("ignores")),
                "the guest was started again: " + launcher.list());
    }

    @Test
    void aRebootRequestStartsTheGuestAgainUnderANewId() throws Exception {
        Guest g = startReady();
        g.requestShutdown(true).orElseThrow();
        Guest.End end = await(g, console, 30);
        assertTrue(end.poweredOff(), end.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Guest again = null;
        while (again == null || console.opened.size() < 2
                || !console.opened.get(1).output.toString().contains("lguest-guest: ready")) {
            assertTrue(System.nanoTime() < deadline, "no second boot of 'attach': " + launcher.list());
            again = launcher.list().stream().filter(x -> x.id() != g.id() && x.spec().name().equals("attach")).findFirst().orElse(null);
            Thread.sleep(20);
        }
        assertTrue(console.opened.get(0).output.toString().contains("lguest-guest: power button: restarting"));
        assertEquals(Guest.State.RUNNING, again.state());
        assertTrue(launcher.get(g.id()).isEmpty(), "the old guest gives way to the new one");
    }

    @Test
    void aGuestTakesHostMemoryOnlyForTheFramesItTouched() throws Exception {
        Guest g = startReady();
        var info = g.info().orElseThrow();
        assertTrue(info.touchedBytes() > 0 && info.touchedBytes() < info.memoryBytes() / 2,
                "an idle 32M guest holds " + (info.touchedBytes() >> 10) + " KiB of its " + (info.memoryBytes() >> 10) + " KiB");
    }

    /** Keystrokes: {@code first}, then, once {@code screen} shows {@code awaited}, {@code then}. */
    static java.io.InputStream keys(String first, java.io.ByteArrayOutputStream screen, String awaited, byte[] then) {
        return new java.io.InputStream() {
            final java.nio.ByteBuffer a = java.nio.ByteBuffer.wrap(first.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            final java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(then);

            java.nio.ByteBuffer ready() {
                if (a.hasRemaining()) {
                    return a;
                }
                return screen.toString(java.nio.charset.StandardCharsets.US_ASCII).contains(awaited) ? b : null;
            }

            @Override
            public int available() {
                java.nio.ByteBuffer r = ready();
                return r == null ? 0 : r.remaining();
            }

            @Override
            public int read() {
                java.nio.ByteBuffer r = ready();
                return r == null || !r.hasRemaining() ? -1 : r.get() & 0xFF;
            }

            /** Blocks, as a terminal does, until there is something to read. */
            @Override
            public int read(byte[] into, int off, int len) {
                java.nio.ByteBuffer r;
                while ((r = ready()) == null || !r.hasRemaining()) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return -1;
                    }
                }
                int n = Math.min(len, r.remaining());
                r.get(into, off, n);
                return n;
            }
        };
    }

    /** Starts the echo-loop guest and waits until it reads its console. */
    Guest startReady() throws Exception {
        Guest g = launcher.start(new GuestSpec("attach", 32L << 20, GUEST_KERNEL, "", List.of()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!console.opened.get(0).output.toString().contains("lguest-guest: ready")) {
            assertTrue(System.nanoTime() < deadline, "the guest never got ready: " + console.opened.get(0).output);
            Thread.sleep(10);
        }
        return g;
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aTerminalAttachedToTheConsoleSeesTheEchoAndCtrlRightBracketDetaches() throws Exception {
        Guest g = startReady();
        java.io.ByteArrayOutputStream screen = new java.io.ByteArrayOutputStream();
        String result = ShellCommands.attach(g, keys("hello there\r", screen, "hello there\n", new byte[] {0x1d}),
                new java.io.PrintStream(screen, true, java.nio.charset.StandardCharsets.US_ASCII));
        String shown = screen.toString(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals("\ndetached from guest " + g.id(), result);
        assertTrue(shown.startsWith("Connected to guest " + g.id() + " (attach); escape character is ^]"), shown);
        assertTrue(shown.contains("hello there\n"), "the guest's echo of the typed line reached the terminal: " + shown);
        assertEquals(Guest.State.RUNNING, g.state(), "detaching leaves the guest running");
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void anAttachedTerminalIsToldWhenTheGuestEnds() throws Exception {
        Guest g = startReady();
        java.io.ByteArrayOutputStream screen = new java.io.ByteArrayOutputStream();
        String result = ShellCommands.attach(g, keys("poweroff\r", screen, "never", new byte[0]),
                new java.io.PrintStream(screen, true, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("\nguest " + g.id() + " ended: CRASH: Power down (the next key typed is dropped)", result);
        assertTrue(screen.toString(java.nio.charset.StandardCharsets.US_ASCII).contains("lguest-guest: power down"),
                screen.toString(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void theGuestKernelBootsRunsEverySelftestAndPowersOff() throws Exception {
        assertTrue(Files.isRegularFile(GUEST_KERNEL), "the guest kernel is built: " + GUEST_KERNEL.toAbsolutePath());
        Guest g = launcher.start(new GuestSpec("boot", 64L << 20, GUEST_KERNEL, "selftest poweroff", List.of()));
        Guest.End end = await(g, console, 120);
        String out = console.opened.get(0).output.toString();
        assertTrue(end.poweredOff(), "powered off, not: " + end.reason() + "\nconsole:\n" + out);
        for (String test : SELFTESTS) {
            assertTrue(out.contains("PASS " + test), "PASS " + test + "\nconsole:\n" + out);
        }
        assertTrue(!out.contains("FAIL "), "no FAIL line\nconsole:\n" + out);
        Matcher m = Pattern.compile("selftest: (\\d+) passed, (\\d+) failed").matcher(out);
        assertTrue(m.find(), "the summary line\nconsole:\n" + out);
        assertEquals("0", m.group(2), out);
        assertTrue(g.info().orElseThrow().hypercalls() > 0);
        assertTrue(mmu.allClosed(), "the guest memory was released");
    }

    @Test
    void consoleInputReachesTheGuestThroughItsBoundBuffer() throws Exception {
        Guest g = launcher.start(new GuestSpec("input", 32L << 20, GUEST_KERNEL, "selftest input-expected=hello poweroff", List.of()));
        RecordingDriver.BackEnd backEnd = console.opened.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!backEnd.output.toString().contains("waiting for console input")) {
            if (System.nanoTime() > deadline || g.state() != Guest.State.RUNNING) {
                throw new AssertionError("no input prompt; state " + g.state() + "; console:\n" + backEnd.output);
            }
            Thread.sleep(10);
        }
        java.nio.ByteBuffer input = java.nio.ByteBuffer.wrap("hello\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        while (input.hasRemaining()) {
            if (backEnd.context.deliver(0, input) < 0) {
                Thread.sleep(10);
            }
        }
        Guest.End end = await(g, console, 60);
        String out = backEnd.output.toString();
        assertTrue(end.poweredOff(), end.reason() + "\nconsole:\n" + out);
        assertTrue(out.contains("PASS console-input"), out);
    }

    @Test
    void twoGuestsRunTheirSelftestsSideBySide() throws Exception {
        Guest a = launcher.start(new GuestSpec("a", 32L << 20, GUEST_KERNEL, "selftest poweroff", List.of()));
        Guest b = launcher.start(new GuestSpec("b", 48L << 20, GUEST_KERNEL, "selftest poweroff", List.of()));
        Guest.End endA = a.ending().toCompletableFuture().get(120, TimeUnit.SECONDS);
        Guest.End endB = b.ending().toCompletableFuture().get(120, TimeUnit.SECONDS);
        String outA = console.opened.get(0).output.toString();
        String outB = console.opened.get(1).output.toString();
        assertTrue(endA.poweredOff() && endB.poweredOff(), endA + " " + endB + "\n" + outA + "\n" + outB);
        assertTrue(outA.contains("selftest: 9 passed, 0 failed") && outA.contains("32 MB of RAM"), outA);
        assertTrue(outB.contains("selftest: 9 passed, 0 failed") && outB.contains("48 MB of RAM"), outB);
    }

    @Test
    void theSeventeenthGuestIsRefusedAndTheSixteenRunOn() throws Exception {
        List<Guest> running = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            running.add(launcher.start(new GuestSpec("g" + i, 16L << 20, GUEST_KERNEL, "", List.of())));
        }
        int built = mmu.built.size();
        org.lguest.launcher.LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(org.lguest.launcher.LaunchException.class,
                () -> launcher.start(new GuestSpec("g16", 16L << 20, GUEST_KERNEL, "", List.of())));
        assertTrue(e.getMessage().contains("no free guest slot"), e.getMessage());
        assertEquals(built, mmu.built.size(), "no memory was allocated for the refused guest");
        assertEquals(16, control.guests().size());
        for (Guest g : running) {
            assertEquals(Guest.State.RUNNING, g.state());
            launcher.remove(g.id());
        }
        assertEquals(0, control.guests().size(), "every slot released");
        assertTrue(mmu.allClosed());
    }
}
