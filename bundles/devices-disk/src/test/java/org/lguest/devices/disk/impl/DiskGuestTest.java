package org.lguest.devices.disk.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.launcher.testing.RealHost;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TrackingMmu;

/**
 * The guest kernel's {@code blk} commands over the lguest block device, on
 * the real hypervisor and Launcher (no OSGi): what the guest writes is in
 * the image file where dd would find it, and a sector changed behind its
 * back is named when it verifies.
 */
@Timeout(300)
class DiskGuestTest {
    static final Path GUEST_KERNEL = RealHost.GUEST_KERNEL;

    @TempDir
    Path dir;
    RealHost host;
    TrackingMmu mmu;
    RecordingDriver console;
    LauncherCore launcher;
    BlockDriver blockDriver;

    @BeforeEach
    void setUp() {
        host = new RealHost();
        mmu = host.mmu;
        console = host.console;
        launcher = host.launcher;
        blockDriver = new BlockDriver();
        launcher.addDriver("block", blockDriver, 0);
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    /** The guest's pattern (guest/src/blk.c): 127 words from seed, sector and place, then their sum. */
    static int[] sector(int seed, int s) {
        int[] w = new int[128];
        int sum = 0;
        for (int i = 0; i < 127; i++) {
            int x = seed * 0x9E3779B1 + s * 0x85EBCA6B + i * 0xC2B2AE35 + 0x27D4EB2F;
            x ^= x >>> 15;
            x *= 0x2C1B3C6D;
            x ^= x >>> 12;
            w[i] = x;
            sum += x;
        }
        w[127] = sum;
        return w;
    }

    Guest lastGuest;

    Guest.End run(String disk, String cmdline) throws Exception {
        Guest g = launcher.start(new GuestSpec("disk", 32L << 20, GUEST_KERNEL, cmdline,
                List.of(DeviceSpec.disk(disk))));
        lastGuest = g;
        return host.awaitEnd(g, 240);
    }

    String consoleOutput() {
        StringBuilder sb = new StringBuilder();
        for (RecordingDriver.BackEnd b : console.opened) {
            sb.append(b.output.toString()); // a snapshot: appending the StringBuffer itself races its writer
        }
        return sb.toString();
    }

    Path image(int sectors) throws IOException {
        Path p = dir.resolve("disk.img");
        Files.write(p, new byte[sectors * 512]);
        return p;
    }

    @Test
    void whatTheGuestWritesIsInTheImageFileSectorBySector() throws Exception {
        Path img = image(2048);
        Guest.End end = run(img.toString(), "blk write 7 256 poweroff");
        assertTrue(end.poweredOff(), end.reason() + "\n" + consoleOutput());
        assertTrue(consoleOutput().contains("block: 2048 sectors (1 MB) on IRQ 1"), consoleOutput());
        assertTrue(consoleOutput().contains("blk: wrote 256 sectors (seed 7)"), consoleOutput());
        Guest.DeviceInfo disk = lastGuest.deviceInfo().get(0);
        assertEquals("block0", disk.name());
        assertEquals("lguest_block on file " + img.toRealPath() + " (rw) (closed)", disk.backEnd(),
                "an ended guest's disk, as it was");
        assertEquals(BlockDriver.class.getName(), disk.driver(), "outside a framework: the driver's class");
        assertEquals(Long.valueOf(2), disk.counters().get("writes"), "256 sectors in two requests of 128");
        assertEquals(Long.valueOf(256 * 512), disk.counters().get("bytesWritten"));
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(img)).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < 256; s++) {
            int[] want = sector(7, s);
            for (int i = 0; i < 128; i++) {
                assertEquals(want[i], file.getInt(s * 512 + 4 * i), "sector " + s + " word " + i);
            }
        }
        for (int at = 256 * 512; at < file.capacity(); at += 4) {
            assertEquals(0, file.getInt(at), "untouched beyond sector 255, at byte " + at);
        }
    }

    @Test
    void theGuestsSelftestChecksItsDisk() throws Exception {
        Path img = image(64);
        Guest.End end = run(img.toString(), "selftest poweroff");
        String out = consoleOutput();
        assertTrue(end.poweredOff(), end.reason() + "\n" + out);
        assertTrue(out.contains("PASS block-device") && out.contains(" 0 failed"), out);
        assertEquals(Long.valueOf(1), lastGuest.deviceInfo().get(0).counters().get("flushes"), "the selftest flushed");
    }

    @Test
    void aFlushAfterWritesReachesTheFileAndRawModesMoveWholeRequests() throws Exception {
        Path img = image(2048);
        Guest.End end = run(img.toString(), "blk write 5 300 blk flush blk raw-read 2048 blk raw-write 1000 poweroff");
        assertTrue(end.poweredOff(), end.reason() + "\n" + consoleOutput());
        String out = consoleOutput();
        assertTrue(out.contains("blk: flushed"), out);
        assertTrue(out.contains("blk: raw read 2048 sectors") && out.contains("blk: raw wrote 1000 sectors"), out);
        Map<String, Long> c = lastGuest.deviceInfo().get(0).counters();
        assertEquals(Long.valueOf(1), c.get("flushes"), "one flush reached the back end: " + c);
        assertEquals(Long.valueOf(16), c.get("reads"), "2048 sectors in requests of 128: " + c);
        assertEquals(Long.valueOf(3 + 8), c.get("writes"), "300 sectors in 3 requests, 1000 in 8: " + c);
    }

    @Test
    void aSecondGuestVerifiesWhatTheFirstWroteAndNamesASectorChangedOnTheHost() throws Exception {
        Path img = image(512);
        assertTrue(run(img.toString(), "blk write 3 100 poweroff").poweredOff(), consoleOutput());
        Guest.End verified = run(img.toString(), "blk verify 3 100 poweroff");
        assertTrue(verified.poweredOff(), verified.reason() + "\n" + consoleOutput());
        assertTrue(consoleOutput().contains("blk: verified 100 sectors (seed 3)"), consoleOutput());

        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 42 * 512 + 8);
        }
        Guest.End bad = run(img.toString(), "blk verify 3 100 poweroff");
        assertFalse(bad.poweredOff());
        assertTrue(bad.reason().contains("blk verify: sector 42 is wrong"), bad.reason());
    }

    @Test
    void aReadOnlyDiskGivesTheGuestAnIoErrorAndTheFileStaysAsItWas() throws Exception {
        Path img = image(64);
        Guest.End end = run(img + ",ro", "blk write 1 8 poweroff");
        assertFalse(end.poweredOff());
        assertTrue(end.reason().contains("blk write: I/O error at sector 0"), end.reason());
        assertTrue(java.util.Arrays.equals(new byte[64 * 512], Files.readAllBytes(img)), "nothing written");
    }

    @Test
    void aMemoryDiskWorksWithoutAFile() throws Exception {
        Guest.End end = run("memory:1M", "blk write 9 64 blk verify 9 64 poweroff");
        assertTrue(end.poweredOff(), end.reason() + "\n" + consoleOutput());
        assertTrue(consoleOutput().contains("blk: wrote 64 sectors (seed 9)"), consoleOutput());
    }

    @Test
    void aRequestHeldWhileNoDriverServesTheDiskReachesTheNextDriverAndAHostileOneStillKills() throws Exception {
        Guest g = launcher.start(new GuestSpec("held", 32L << 20, GUEST_KERNEL, "blk write 1 64 poweroff",
                List.of(DeviceSpec.disk("memory:1M"))));
        launcher.removeDriver(blockDriver);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (g.deviceInfo().get(0).counters().getOrDefault("launcher.heldRequests", 0L) == 0) {
            assertTrue(System.nanoTime() < deadline, "no request held; console:\n" + consoleOutput());
            Thread.sleep(5);
        }
        assertTrue(g.deviceInfo().get(0).backEnd().startsWith("(no block driver"), g.deviceInfo().get(0).backEnd());
        org.lguest.device.DeviceDriver hostile = new org.lguest.device.DeviceDriver() {
            @Override
            public int deviceType() {
                return org.lguest.lg.abi.DevicePage.TYPE_BLOCK;
            }

            @Override
            public org.lguest.device.DeviceModel open(org.lguest.device.DeviceContext context) {
                return new org.lguest.device.DeviceModel() {
                    @Override
                    public void submit(org.lguest.device.DeviceRequest request) {
                        throw new org.lguest.mmu.GuestViolationException("bad block request: found at replay");
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
        launcher.addDriver("block", hostile, 0);
        Guest.End end = g.ending().toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertFalse(end.poweredOff());
        assertEquals("Launcher: bad block request: found at replay", end.reason());
    }

    @Test
    void aSecondGuestCannotWriteAnImageTheFirstHasAndItsFailedStartLeavesNothing() throws Exception {
        Path img = image(64);
        Guest first = launcher.start(new GuestSpec("first", 32L << 20, GUEST_KERNEL, "",
                List.of(DeviceSpec.disk(img.toString()))));
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> launcher.start(new GuestSpec("second", 32L << 20, GUEST_KERNEL, "",
                        List.of(DeviceSpec.disk(img.toString())))));
        assertTrue(e.getMessage().contains("already in use read-write by another guest"), e.getMessage());
        assertEquals(1, launcher.list().size(), "only the first guest is listed");
        assertEquals(Guest.State.RUNNING, first.state(), "the first guest carries on");
        launcher.remove(first.id());
        assertTrue(mmu.allClosed(), "both guests' memory released");
        Guest third = launcher.start(new GuestSpec("third", 32L << 20, GUEST_KERNEL, "poweroff",
                List.of(DeviceSpec.disk(img.toString()))));
        assertTrue(third.ending().toCompletableFuture().get(60, TimeUnit.SECONDS).poweredOff(),
                "the image is free again once the first guest is gone");
    }

    @Test
    void aDeviceTypeNoDriverServesFailsTheStartNamingTheTypesThereAre() {
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> launcher.start(new GuestSpec("net", 32L << 20, GUEST_KERNEL, "",
                        List.of(new DeviceSpec("net", java.util.Map.of())))));
        assertEquals("no driver for the net device (device types are those of the active driver services: "
                + "block, console)", e.getMessage());
        assertTrue(mmu.allClosed(), "nothing allocated");
    }

    @Test
    void aRequestWhoseDriverStaysAwayGetsAnIoErrorAfterTheRequestTimeout() throws Exception {
        LauncherCore quick = new LauncherCore(() -> mmu, () -> host.control, 1 << 20, 10_000, 300);
        try {
            quick.addDriver("console", console, 0);
            BlockDriver driver = new BlockDriver();
            quick.addDriver("block", driver, 0);
            Guest g = quick.start(new GuestSpec("abandoned", 32L << 20, GUEST_KERNEL, "blk write 1 1024 poweroff",
                    List.of(DeviceSpec.disk("memory:1M"))));
            quick.removeDriver(driver);
            Guest.End end = g.ending().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertFalse(end.poweredOff());
            assertTrue(end.reason().matches("CRASH: blk write: I/O error at sector \\d+"), end.reason());
            assertTrue(g.deviceInfo().get(0).counters().get("launcher.abandoned") >= 1, g.deviceInfo().toString());
        } finally {
            quick.shutdown();
        }
    }

    @Test
    void aMissingImageFailsTheStartWithItsNameAndLeavesNothingRunning() {
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> run(dir.resolve("none.img").toString(), "poweroff"));
        assertTrue(e.getMessage().contains("none.img: no such file"), e.getMessage());
        assertTrue(launcher.list().isEmpty(), "no guest left listed");
        assertTrue(mmu.allClosed(), "the guest memory was released");
    }
}
