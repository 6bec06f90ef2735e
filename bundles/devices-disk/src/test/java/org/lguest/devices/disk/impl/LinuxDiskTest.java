package org.lguest.devices.disk.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.testing.RealHost;

/**
 * The unmodified Linux 4.9 of the shared test data on a virtio-blk disk
 * backed by an image file: an ext2 file system made on the host with
 * {@code mke2fs -d} is mounted by the guest, which reads the host's file,
 * writes its own and unmounts; the host's {@code e2fsck -fn} then finds the
 * file system clean and {@code debugfs} shows what the guest wrote.
 */
@Timeout(600)
class LinuxDiskTest {
    static final Path LINUX = Path.of(System.getProperty("lguest.linux.dir", "../../../shared/linux"));

    @TempDir
    Path dir;
    RealHost host;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isRegularFile(LINUX.resolve("vmlinux")), "no Linux test data at " + LINUX.toAbsolutePath());
        host = new RealHost();
        host.launcher.addDriver("block", new BlockDriver(), 0);
    }

    @AfterEach
    void tearDown() {
        if (host != null) {
            host.close();
        }
    }

    /** An e2fsprogs tool: in /usr/sbin or /sbin, which a non-root PATH may lack. */
    static String tool(String name) {
        for (String d : new String[] {"/usr/sbin", "/sbin", "/usr/bin"}) {
            if (Files.isExecutable(Path.of(d, name))) {
                return d + "/" + name;
            }
        }
        return null;
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish");
        }
        return "exit " + p.exitValue() + "\n" + out;
    }


    @Test
    void linuxMountsAHostMadeExt2ImageWritesAFileAndTheHostFindsItClean() throws Exception {
        assumeTrue(tool("mke2fs") != null, "mke2fs (e2fsprogs) is not installed (build.sh test installs it)");
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello.txt"), "written on the host\n");
        Path image = dir.resolve("ext2.img");
        String made = run(tool("mke2fs"), "-q", "-F", "-t", "ext2", "-d", tree.toString(), image.toString(), "8M");
        assertTrue(made.startsWith("exit 0"), made);

        Guest g = host.launcher.start(new GuestSpec("disk", 64L << 20, LINUX.resolve("vmlinux"), "", List.of(
                DeviceSpec.disk(image.toString())), LINUX.resolve("initramfs.cpio.gz")));
        host.awaitConsole(g, "/ # ", 120);
        host.type(g, "cat /proc/partitions; mkdir -p /mnt && mount -t ext2 /dev/vda /mnt && cat /mnt/hello.txt && echo from-the-guest > /mnt/guest.txt"
                + " && umount /mnt && echo DISK-DONE; poweroff -f\n");
        Guest.End end = host.awaitEnd(g, 300);
        String console = host.consoleOf(g);
        assertTrue(console.matches("(?s).*254\\s+0\\s+8192 vda.*"), "the guest sees an 8 MiB vda\n" + console);
        assertTrue(console.contains("written on the host"), "the guest read the host's file\n" + console);
        assertTrue(console.contains("DISK-DONE"), "mount, write and unmount worked\n" + console);
        assertEquals(Guest.State.POWERED_OFF, end.state(), end.reason() + "\n" + console);

        String fsck = run(tool("e2fsck"), "-fn", image.toString());
        assertTrue(fsck.startsWith("exit 0"), "e2fsck finds the file system clean:\n" + fsck);
        String cat = run(tool("debugfs"), "-R", "cat /guest.txt", image.toString());
        assertTrue(cat.contains("from-the-guest"), "debugfs shows the guest's file:\n" + cat);
    }

    @Test
    void aReadWhoseDiskDriverStaysAwayIsAnIoErrorInLinuxAfterTheRequestTimeout() throws Exception {
        org.lguest.launcher.impl.LauncherCore quick = new org.lguest.launcher.impl.LauncherCore(() -> host.mmu,
                () -> host.control, 1 << 20, 10_000, 300);
        try {
            quick.addDriver("console", host.console, 0);
            BlockDriver driver = new BlockDriver();
            quick.addDriver("block", driver, 0);
            Guest g = quick.start(new GuestSpec("abandoned", 64L << 20, LINUX.resolve("vmlinux"), "", List.of(
                    DeviceSpec.disk("memory:1M")), LINUX.resolve("initramfs.cpio.gz")));
            host.awaitConsole(g, "/ # ", 120);
            quick.removeDriver(driver);
            host.type(g, "dd if=/dev/vda of=/dev/null bs=4k count=1 iflag=direct; echo DD-STATUS-$?-END\n");
            host.awaitConsole(g, "DD-STATUS-1-END", 120);
            String console = host.consoleOf(g);
            assertTrue(console.contains("I/O error"), "Linux reports the I/O error\n" + console);
            assertTrue(g.deviceInfo().get(1).counters().get("launcher.abandoned") >= 1, g.deviceInfo().toString());
            host.type(g, "poweroff -f\n");
            assertEquals(Guest.State.POWERED_OFF, g.ending().toCompletableFuture().get(60, TimeUnit.SECONDS).state());
        } finally {
            quick.shutdown();
        }
    }
}
