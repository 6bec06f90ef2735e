package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.testing.RealHost;

/**
 * The unmodified Linux 4.9.337 of the shared test data, booted on the real
 * hypervisor through the 4.x ABI with its busybox initramfs: the early
 * console, the virtio console over PCI, init's markers, and the power-off.
 */
@org.junit.jupiter.api.Timeout(600)
class LinuxBootTest {
    static final Path LINUX = LinuxKernelTest.LINUX;
    static final long MEMORY = 64L << 20;

    RealHost host;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isRegularFile(LINUX.resolve("vmlinux")), "no Linux test data at " + LINUX.toAbsolutePath());
        host = new RealHost();
    }

    @AfterEach
    void tearDown() {
        if (host != null) {
            host.close();
        }
    }

    private Guest boot(String kernel, String commandLine) throws Exception {
        return host.launcher.start(new GuestSpec("linux", MEMORY, LINUX.resolve(kernel), commandLine, List.of(),
                LINUX.resolve("initramfs.cpio.gz")));
    }

    @Test
    void vmlinuxBootsToInitRunsTheAutotestAndPowersOff() throws Exception {
        Guest g = boot("vmlinux", "autotest");
        Guest.End end = host.awaitEnd(g, 400);
        String console = host.consoleOf(g);
        assertTrue(console.contains("LGUEST-LINUX: init reached"), "init never ran; the guest ended: " + end.state() + ", " + end.reason() + "; console:\n" + console);
        assertTrue(console.contains("LGUEST-LINUX: autotest done"), "the autotest did not finish; console:\n" + console);
        assertTrue(console.contains("2+3=5"), "the shell's arithmetic is missing; console:\n" + console);
        assertEquals(Guest.State.POWERED_OFF, end.state(), "ended with " + end.reason() + "; console:\n" + console);
    }

    @Test
    void aLinuxGuestAskedToShutDownPowersOffThroughItsShell() throws Exception {
        Guest g = boot("vmlinux", "");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(400);
        while (!host.consoleOf(g).contains("LGUEST-LINUX: init reached")) {
            assertTrue(System.nanoTime() < deadline && g.state() == Guest.State.RUNNING, "init never ran:\n" + host.consoleOf(g));
            Thread.sleep(50);
        }
        Thread.sleep(2000); // the shell reaches its prompt
        String how = g.requestShutdown(false).orElseThrow();
        assertTrue(how.contains("poweroff -f"), how);
        Guest.End end = host.awaitEnd(g, 120);
        assertEquals(Guest.State.POWERED_OFF, end.state(), "ended with " + end.reason() + "; console:\n" + host.consoleOf(g));
    }

    @Test
    void linesTypedBeforeTheShellStartsAreAllReadByIt() throws Exception {
        Guest g = boot("vmlinux", "");
        host.type(g, "echo TYPED-$((6*7))\npoweroff -f\n"); // waits until the serial driver first listens
        Guest.End end = host.awaitEnd(g, 400);
        String console = host.consoleOf(g);
        assertTrue(console.contains("TYPED-42"), "a typed-ahead byte was lost before the shell read it (the guest ended "
                + end.state() + ", " + end.reason() + "):\n" + console);
        assertEquals(Guest.State.POWERED_OFF, end.state(), "ended with " + end.reason() + "; console:\n" + console);
    }

    @Test
    void theBzImageOfTheSameBuildBootsTheSameWay() throws Exception {
        assumeTrue(Files.isRegularFile(LINUX.resolve("bzImage")), "no bzImage at " + LINUX.toAbsolutePath());
        Guest g = boot("bzImage", "autotest");
        Guest.End end = host.awaitEnd(g, 400);
        String console = host.consoleOf(g);
        assertTrue(console.contains("LGUEST-LINUX: autotest done"), "the autotest did not finish; the guest ended: "
                + end.state() + ", " + end.reason() + "; console:\n" + console);
        assertEquals(Guest.State.POWERED_OFF, end.state(), "ended with " + end.reason() + "; console:\n" + console);
    }

    @Test
    void theSerialPortIsTheConsoleAndTheEarlyWritersCopyIsNotShownTwice() throws Exception {
        Guest g = boot("vmlinux", "autotest");
        host.awaitEnd(g, 400);
        String console = host.consoleOf(g);
        assertTrue(console.contains("ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16450"),
                "Linux's 8250 driver did not find COM1; console:\n" + console);
        int first = console.indexOf("Linux version 4.9.337");
        assertTrue(first >= 0, "no banner; console:\n" + console);
        assertEquals(-1, console.indexOf("Linux version 4.9.337", first + 1), "the banner is shown twice; console:\n" + console);
    }


    @Test
    void linuxGuestsRunBesideA2623GuestAndOneThatPokesThePciWindowBadlyIsKilledAlone() throws Exception {
        Guest hostile = boot("vmlinux", "");
        Guest calm = boot("vmlinux", "");
        Guest old = host.launcher.start(new GuestSpec("dma-era", 32L << 20, RealHost.GUEST_KERNEL, "selftest poweroff",
                List.of()));
        host.awaitConsole(hostile, "/ # ", 180);
        host.awaitConsole(calm, "/ # ", 180);
        // Root in the guest, through /dev/port, sets the length of 00:01.0's PCI-cfg access window (config
        // register 0x90) to 3 and reads the window's data (0x94): an access no driver makes, which the
        // hypervisor refuses by ending the guest.
        host.type(hostile, "printf '\\220\\010\\000\\200' | dd of=/dev/port bs=1 seek=3320 count=4 2>/dev/null;"
                + " printf '\\003' | dd of=/dev/port bs=1 seek=3324 count=1 2>/dev/null;"
                + " printf '\\224\\010\\000\\200' | dd of=/dev/port bs=1 seek=3320 count=4 2>/dev/null;"
                + " dd if=/dev/port bs=1 skip=3324 count=1 2>/dev/null | od -An -tx1\n");
        Guest.End killed = host.awaitEnd(hostile, 120);
        assertEquals(Guest.State.DEAD, killed.state(), killed.reason());
        assertTrue(killed.reason().contains("PCI-cfg access window read") && killed.reason().contains("the length must be 1, 2 or 4"),
                "the reason names the bad access: " + killed.reason());
        host.type(calm, "echo STILL-HERE-$((6*7)); poweroff -f\n");
        Guest.End calmEnd = host.awaitEnd(calm, 120);
        assertTrue(host.consoleOf(calm).contains("STILL-HERE-42"), host.consoleOf(calm));
        assertEquals(Guest.State.POWERED_OFF, calmEnd.state(), calmEnd.reason());
        Guest.End oldEnd = host.awaitEnd(old, 300);
        assertEquals(Guest.State.POWERED_OFF, oldEnd.state(), oldEnd.reason() + "\n" + host.consoleOf(old));
        assertTrue(host.consoleOf(old).contains(" passed, 0 failed"), host.consoleOf(old));
    }
}
