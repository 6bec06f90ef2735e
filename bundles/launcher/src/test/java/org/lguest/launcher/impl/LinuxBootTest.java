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
}
