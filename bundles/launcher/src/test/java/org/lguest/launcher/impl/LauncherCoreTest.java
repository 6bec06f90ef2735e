package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.testing.FakeLguest;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TestElf;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.abi.DevicePage;
import org.lguest.mmu.GuestMemory;

/** The Launcher against the real MMU and a scripted stand-in for the control interface. */
@org.junit.jupiter.api.Timeout(60)
class LauncherCoreTest {
    static final Path GUEST_KERNEL = Path.of(System.getProperty("lguest.guest.kernel", "../../guest/target/lguest-guest.elf"));

    @TempDir
    Path dir;

    TrackingMmu mmu;
    FakeLguest lguest;
    RecordingDriver driver;
    LauncherCore launcher;

    @BeforeEach
    void setUp() {
        mmu = new TrackingMmu();
        lguest = new FakeLguest();
        driver = new RecordingDriver();
        launcher = new LauncherCore(() -> mmu, () -> lguest, 4096, 2000);
        launcher.addDriver("console", driver, 0);
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
    }

    GuestSpec spec(Path kernel, long mem, String cmdline) {
        return new GuestSpec("test", mem, kernel, cmdline, List.of());
    }

    Path kernelFile(byte[] image) throws Exception {
        Path p = Files.createTempFile(dir, "kernel", ".elf");
        Files.write(p, image);
        return p;
    }

    @Test
    void theRealGuestKernelIsLaidOutAsThe2623LauncherDid() throws Exception {
        assertTrue(Files.isRegularFile(GUEST_KERNEL), "the guest kernel is built: " + GUEST_KERNEL.toAbsolutePath());
        Guest g = launcher.start(spec(GUEST_KERNEL, 32L << 20, "selftest poweroff"));
        FakeLguest.Guest fake = lguest.opened.get(0);
        GuestMemory m = fake.memory;
        long mem = 32L << 20;

        // INITIALIZE: pfn limit = RAM + the device page; pgdir at the top of RAM; entry after the marker.
        assertEquals((int) (mem >> 12) + 1, m.pfnLimit());
        assertEquals(0xC0000000, fake.pageOffset);
        assertEquals((int) mem - 4096, fake.pgdir);
        int marker = fake.start - 13 - fake.pageOffset;
        assertEquals("GenuineLguest", new String(m.read(marker, 13), StandardCharsets.US_ASCII));

        // Boot block: one E820 RAM entry covering RAM, the command line at 4096, hardware_subarch 1.
        assertEquals(1, m.readU8(0x1e8));
        assertEquals(0, m.readU32(0x2d0));
        assertEquals((int) mem, m.readU32(0x2d8));
        assertEquals(1, m.readU32(0x2e0));
        assertEquals(4096, m.readU32(0x228));
        assertEquals("selftest poweroff", new String(m.read(4096, 17), StandardCharsets.US_ASCII));
        assertEquals(0, m.readU8(4096 + 17));
        assertEquals(1, m.readU32(0x23c));

        // Page tables: 8 PTE pages below the directory map RAM linearly at 0xC0000000; nothing at 0.
        int pgdir = fake.pgdir;
        assertEquals(0, m.readU32(pgdir), "no identity map (2.6.23 mapped only at PAGE_OFFSET)");
        for (int j = 0; j < 8; j++) {
            int pde = m.readU32(pgdir + (0x300 + j) * 4);
            assertEquals(pgdir - (8 - j) * 4096, pde & ~0xFFF);
            assertEquals(7, pde & 0xFFF);
        }
        assertEquals(0, m.readU32(pgdir + 0x308 * 4));
        int firstPte = m.readU32(pgdir + 0x300 * 4) & ~0xFFF;
        assertEquals(0x100000 | 7, m.readU32(firstPte + 0x100 * 4));
        int lastPte = m.readU32(pgdir + 0x307 * 4) & ~0xFFF;
        assertEquals(((int) mem - 4096) | 7, m.readU32(lastPte + 1023 * 4));

        // The device page: the console in slot 0, no pages; the power button (ours) after it; then nothing.
        int devices = (int) mem;
        assertEquals(DevicePage.TYPE_CONSOLE, m.readU16(devices + DevicePage.TYPE));
        assertEquals(0, m.readU16(devices + DevicePage.NUM_PAGES));
        assertEquals(DevicePage.TYPE_POWER, m.readU16(devices + DevicePage.DESCRIPTOR_SIZE + DevicePage.TYPE));
        assertEquals(0, m.readU16(devices + DevicePage.DESCRIPTOR_SIZE + DevicePage.NUM_PAGES));
        assertEquals(0, m.readU16(devices + 2 * DevicePage.DESCRIPTOR_SIZE + DevicePage.TYPE));

        // The kernel's first segment is at 1 MiB, as the file has it.
        byte[] image = Files.readAllBytes(GUEST_KERNEL);
        assertEquals(image[0x1000] & 0xFF, m.readU8(0x100000));
        g.stop();
        assertEquals(Guest.State.STOPPED, g.state());
    }

    @Test
    void outputGoesToTheDriverAndTheSenderSeesItsLength() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.Print("hello, "));
        fake.steps.add(new FakeLguest.Print("world\n"));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        Guest.End end = g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(end.poweredOff(), end.toString());
        assertEquals(Guest.State.POWERED_OFF, g.state());
        assertEquals("hello, world\n", driver.opened.get(0).output.toString());
        assertEquals("hello, world\n", g.transcript("console").orElseThrow(), "the console of an ended guest can still be read");
        assertEquals(List.of(7, 6), fake.outputUsedLens);
        assertTrue(fake.closed, "the control file is closed");
        assertTrue(mmu.allClosed(), "the guest memory is released");
        assertTrue(driver.opened.get(0).closed, "the back end is closed");
    }

    @Test
    void answeredRequestsDoNotPileUpInTheDevicesInFlightList() throws Exception {
        // Found by bench/soak.py: a device with no request timeout kept every request it had served.
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        for (int i = 0; i < 2000; i++) {
            fake.steps.add(new FakeLguest.Print("x"));
        }
        waitFor(() -> driver.opened.get(0).output.length() == 2000);
        LauncherDevice console = ((GuestRunner) g).devices().get(0);
        assertTrue(console.trackedRequests() <= 1, "2000 answered console writes, and the device still keeps "
                + console.trackedRequests() + " of them in flight");
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aGuestKilledByTheHostReportsTheReason() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        lguest.opened.get(0).steps.add(new FakeLguest.Die("bad hypercall 99"));
        Guest.End end = g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertFalse(end.poweredOff());
        assertEquals("bad hypercall 99", end.reason());
        assertEquals(Guest.State.DEAD, g.state());
        assertTrue(ShellCommands.stateText(g).contains("bad hypercall 99"));
    }

    @Test
    void inputFromAnotherThreadIsPlacedWithGetDmaAndAnInterrupt() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.BindInput(4, 1));
        fake.steps.add(new FakeLguest.ReadInput(10));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        RecordingDriver.BackEnd backEnd = driver.opened.get(0);
        java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap("0123456789".getBytes(StandardCharsets.US_ASCII));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (data.hasRemaining() && System.nanoTime() < deadline) {
            if (backEnd.context.deliver(0, data) < 0) {
                Thread.sleep(5);
            }
        }
        assertFalse(data.hasRemaining(), "all input placed");
        g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("0123456789", fake.received.toString());
        assertTrue(fake.irqs.stream().allMatch(i -> i == 1), "the IRQ the guest bound: " + fake.irqs);
        assertTrue(fake.breaks > 0, "input woke the guest with BREAK");
        assertTrue(backEnd.output.toString().contains("echo:0123456789"));
    }

    @Test
    void manySmallDeliveriesFromAnotherThreadAllArriveInOrder() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.BindInput(1, 3));
        fake.steps.add(new FakeLguest.ReadInput(300));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        RecordingDriver.BackEnd backEnd = driver.opened.get(0);
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            char c = (char) ('a' + i % 26);
            sent.append(c);
            java.nio.ByteBuffer one = java.nio.ByteBuffer.wrap(new byte[] {(byte) c});
            while (backEnd.context.deliver(0, one) < 0) {
                Thread.yield();
            }
        }
        g.ending().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(sent.toString(), fake.received.toString());
        assertEquals(300, fake.irqs.size());
    }

    @Test
    void stopEndsARunningGuestAndReleasesEverything() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        lguest.opened.get(0).steps.add(new FakeLguest.Idle());
        assertEquals(1, launcher.list().size());
        assertTrue(launcher.remove(g.id()));
        assertEquals(Guest.State.STOPPED, g.state());
        assertTrue(lguest.opened.get(0).closed);
        assertTrue(mmu.allClosed());
        assertEquals(List.of(), launcher.list());
    }

    // ---- bad input: a clear error, nothing half started ------------------------------

    void assertNothingStarted() {
        assertEquals(List.of(), launcher.list(), "no guest listed");
        assertTrue(mmu.allClosed(), "every guest memory built was released");
        assertTrue(lguest.opened.stream().allMatch(g -> g.closed || !g.initialized), "no control left initialized");
        assertTrue(driver.opened.stream().allMatch(b -> b.closed), "no back end left open");
    }

    @Test
    void aFileThatIsNotElfIsRefused() throws Exception {
        Path notElf = dir.resolve("notes.txt");
        Files.writeString(notElf, "this is not a kernel\n".repeat(10));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(notElf, 32L << 20, "")));
        assertTrue(e.getMessage().contains("not an ELF file"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void anElfWithoutTheMarkerIsRefused() throws Exception {
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(kernelFile(TestElf.kernel(false)), 32L << 20, "")));
        assertTrue(e.getMessage().contains("Is this image a genuine lguest?"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void aSegmentOutsideMemoryIsRefused() throws Exception {
        byte[] code = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);
        byte[] elf = TestElf.build(2, 3, new TestElf.Segment(0x100000, 0xC0000000, code, 0x1000),
                new TestElf.Segment(0x3000000, 0xC0000000, new byte[16], 0x1000));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(kernelFile(elf), 32L << 20, "")));
        assertTrue(e.getMessage().contains("outside guest memory"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void aSegmentOverTheInitialPageTablesIsRefused() throws Exception {
        byte[] code = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);
        byte[] elf = TestElf.build(2, 3, new TestElf.Segment(0xFFF000, 0xC0000000, code, 0x1000));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(kernelFile(elf), 16L << 20, "")));
        assertTrue(e.getMessage().contains("overlaps the initial page tables"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void segmentsThatDisagreeOnThePageOffsetAreRefused() throws Exception {
        byte[] code = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);
        byte[] elf = TestElf.build(2, 3, new TestElf.Segment(0x100000, 0xC0000000, code, 0x1000),
                new TestElf.Segment(0x200000, 0x80000000, new byte[16], 0x1000));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(kernelFile(elf), 32L << 20, "")));
        assertTrue(e.getMessage().contains("disagree on the page offset"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void aNon386ExecutableIsRefused() throws Exception {
        byte[] elf = TestElf.build(2, 62, new TestElf.Segment(0x100000, 0xC0000000, new byte[16], 0x1000));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(kernelFile(elf), 32L << 20, "")));
        assertTrue(e.getMessage().contains("not an i386 executable"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void aMissingKernelIsRefused() {
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(dir.resolve("nope.elf"), 32L << 20, "")));
        assertTrue(e.getMessage().contains("no kernel at"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void tooLittleAndTooMuchMemoryAreRefused() throws Exception {
        Path k = kernelFile(TestElf.kernel(true));
        LaunchException little = assertThrows(LaunchException.class, () -> launcher.start(spec(k, 4L << 20, "")));
        assertTrue(little.getMessage().contains("guest memory 4M: a guest takes 16M to 2G"), little.getMessage());
        LaunchException much = assertThrows(LaunchException.class, () -> launcher.start(spec(k, 3L << 30, "")));
        assertTrue(much.getMessage().contains("guest memory 3G: a guest takes 16M to 2G"), much.getMessage());
        LaunchException tooMuchForThisKernel = assertThrows(LaunchException.class, () -> launcher.start(spec(k, 768L << 20, "")));
        assertTrue(tooMuchForThisKernel.getMessage().contains("guest memory 768M: a 2.6.23 guest kernel takes 16M to 767M"),
                "every size accepted boots: the 2.6.23 kernel's limit: " + tooMuchForThisKernel.getMessage());
        assertNothingStarted();
        assertEquals(0, mmu.built.size(), "no memory was even allocated");
    }

    @Test
    void memorySizesParse() {
        assertEquals(64L << 20, GuestSpec.parseMemory("64M"));
        assertEquals(32L << 20, GuestSpec.parseMemory("32m"));
        assertEquals(1L << 30, GuestSpec.parseMemory("1G"));
        assertEquals(48L << 20, GuestSpec.parseMemory("48"));
        assertEquals(512L << 10, GuestSpec.parseMemory("512K"));
        assertEquals(64L << 20, GuestSpec.parseMemory("64MiB"));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.parseMemory("lots"));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.parseMemory("-5M"));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.parseMemory("9999999G"));
    }

    @Test
    void oneGuestTooManyIsRefusedWithNothingHalfStarted() throws Exception {
        lguest = new FakeLguest(2);
        launcher = new LauncherCore(() -> mmu, () -> lguest, 4096, 2000);
        launcher.addDriver("console", driver, 0);
        Path k = kernelFile(TestElf.kernel(true));
        List<Guest> running = new ArrayList<>();
        running.add(launcher.start(spec(k, 16L << 20, "")));
        running.add(launcher.start(spec(k, 16L << 20, "")));
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(spec(k, 16L << 20, "")));
        assertTrue(e.getMessage().contains("no free guest slot"), e.getMessage());
        assertEquals(2, launcher.list().size());
        assertEquals(2, mmu.built.stream().filter(m -> !TrackingMmu.isClosed(m)).count(), "only the two running guests hold memory");
        assertEquals(2, driver.opened.stream().filter(b -> !b.closed).count(), "only the two running guests hold back ends");
        for (Guest g : running) {
            launcher.remove(g.id());
        }
        assertNothingStarted();
    }

    @Test
    void theSlotCheckOfTheHostIsReportedWhenTheLauncherDidNotSeeItComing() throws Exception {
        // Two guests started through another Launcher fill the host: INITIALIZE itself says ENOSPC.
        FakeLguest host = new FakeLguest(1);
        LauncherCore other = new LauncherCore(() -> mmu, () -> host, 4096, 2000);
        other.addDriver("console", driver, 0);
        LauncherCore racing = new LauncherCore(() -> mmu, () -> new org.lguest.lg.LguestControl() {
            @Override
            public org.lguest.lg.GuestControl open() {
                return host.open();
            }

            @Override
            public List<org.lguest.lg.GuestInfo> guests() {
                return List.of(); // stale view: the slot check falls to INITIALIZE
            }
        }, 4096, 2000);
        racing.addDriver("console", driver, 0);
        Path k = kernelFile(TestElf.kernel(true));
        Guest first = other.start(spec(k, 16L << 20, ""));
        LaunchException e = assertThrows(LaunchException.class, () -> racing.start(spec(k, 16L << 20, "")));
        assertTrue(e.getMessage().contains("no free guest slot") && e.getMessage().contains("ENOSPC"), e.getMessage());
        assertEquals(List.of(), racing.list());
        other.remove(first.id());
        assertTrue(mmu.allClosed());
        assertTrue(driver.opened.stream().allMatch(b -> b.closed));
    }

    @Test
    void noHypervisorNoDriverAreClearErrors() throws Exception {
        Path k = kernelFile(TestElf.kernel(true));
        LauncherCore noHv = new LauncherCore(() -> mmu, () -> null);
        LaunchException e = assertThrows(LaunchException.class, () -> noHv.start(spec(k, 16L << 20, "")));
        assertTrue(e.getMessage().startsWith("no hypervisor"), e.getMessage());
        LauncherCore noDriver = new LauncherCore(() -> mmu, () -> lguest);
        e = assertThrows(LaunchException.class, () -> noDriver.start(spec(k, 16L << 20, "")));
        assertTrue(e.getMessage().contains("no driver for the console device"), e.getMessage());
        assertNothingStarted();
    }

    @Test
    void outputWaitsForAReplacementDriverAndNothingIsLost() throws Exception {
        Guest g = launcher.start(new GuestSpec("swap", 16L << 20, kernelFile(TestElf.kernel(true)), "",
                List.of(new DeviceSpec("console", java.util.Map.of("backend", "x")))));
        FakeLguest.Guest fake = lguest.opened.get(0);
        RecordingDriver.BackEnd first = driver.opened.get(0);
        assertEquals("x", first.context.configuration().get("backend"));
        fake.steps.add(new FakeLguest.Print("one "));
        waitFor(() -> first.output.toString().equals("one "));

        launcher.removeDriver(driver); // the console bundle stops
        assertTrue(first.closed);
        fake.steps.add(new FakeLguest.Print("two "));
        fake.steps.add(new FakeLguest.Print("three "));
        waitFor(() -> g.deviceMetrics().get("console0").get("launcher.heldNow") == 10L);
        assertEquals("two three ", g.transcript("console").orElseThrow());

        RecordingDriver second = new RecordingDriver();
        launcher.addDriver("console", second, 0); // and starts again
        RecordingDriver.BackEnd next = second.opened.get(0);
        assertEquals("x", next.context.configuration().get("backend"), "the replacement gets the configuration");
        assertEquals("one ", new String(next.context.savedState(), StandardCharsets.UTF_8), "and the saved state");
        fake.steps.add(new FakeLguest.Print("four"));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("two three four", next.output.toString());
        assertEquals(List.of(4, 4, 6, 4), fake.outputUsedLens, "every send acknowledged in full");
    }

    /** A console driver whose models count what they write ("writes") and report a level ("level", always 7). */
    static final class CountingDriver implements org.lguest.device.DeviceDriver {
        @Override
        public int deviceType() {
            return org.lguest.lg.abi.DevicePage.TYPE_CONSOLE;
        }

        @Override
        public int key(int pagesAddress) {
            return 0;
        }

        @Override
        public org.lguest.device.DeviceModel open(org.lguest.device.DeviceContext context) {
            return new org.lguest.device.DeviceModel() {
                long writes;

                @Override
                public synchronized void submit(org.lguest.device.DeviceRequest request) {
                    writes++;
                    request.complete(request.readableLength());
                }

                @Override
                public synchronized java.util.Map<String, Long> metrics() {
                    return java.util.Map.of("writes", writes, "level", 7L);
                }

                @Override
                public java.util.Set<String> gauges() {
                    return java.util.Set.of("level");
                }

                @Override
                public void close() {
                }
            };
        }
    }

    @Test
    void theBackEndsCountsSurviveADriverSwapAndItsLevelsDoNotAddUp() throws Exception {
        LauncherCore counting = new LauncherCore(() -> mmu, () -> lguest);
        try {
            CountingDriver first = new CountingDriver();
            counting.addDriver("console", first, 0);
            Guest g = counting.start(new GuestSpec("counted", 16L << 20, kernelFile(TestElf.kernel(true)), "", List.of()));
            FakeLguest.Guest fake = lguest.opened.get(lguest.opened.size() - 1);
            fake.steps.add(new FakeLguest.Print("a"));
            fake.steps.add(new FakeLguest.Print("b"));
            waitFor(() -> g.deviceMetrics().get("console0").getOrDefault("writes", 0L) == 2L);
            counting.removeDriver(first);
            assertEquals(Long.valueOf(2), g.deviceMetrics().get("console0").get("writes"), "between drivers the counts stay");
            counting.addDriver("console", new CountingDriver(), 0);
            fake.steps.add(new FakeLguest.Print("c"));
            waitFor(() -> g.deviceMetrics().get("console0").getOrDefault("writes", 0L) == 3L);
            assertEquals(Long.valueOf(7), g.deviceMetrics().get("console0").get("level"), "a level is the new back end's");
            fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
            g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(Long.valueOf(3), g.deviceInfo().get(0).counters().get("writes"), "and after the guest ended");
        } finally {
            counting.shutdown();
        }
    }

    /** A console driver whose model keeps its requests unanswered (a back end that went quiet). */
    static final class QuietDriver implements org.lguest.device.DeviceDriver {
        final List<org.lguest.device.DeviceRequest> kept = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean closed;

        @Override
        public int deviceType() {
            return org.lguest.lg.abi.DevicePage.TYPE_CONSOLE;
        }

        @Override
        public int key(int pagesAddress) {
            return 0;
        }

        @Override
        public org.lguest.device.DeviceModel open(org.lguest.device.DeviceContext context) {
            return new org.lguest.device.DeviceModel() {
                @Override
                public void submit(org.lguest.device.DeviceRequest request) {
                    kept.add(request);
                }

                @Override
                public void close() {
                    closed = true;
                }
            };
        }
    }

    @Test
    void aRequestInFlightWhenItsDriverGoesIsAnsweredByTheReplacementAndNotByTheOldModel() throws Exception {
        launcher.removeDriver(driver);
        QuietDriver quiet = new QuietDriver();
        launcher.addDriver("console", quiet, 0);
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        fake.steps.add(new FakeLguest.Print("in flight"));
        waitFor(() -> !quiet.kept.isEmpty());
        org.lguest.device.DeviceRequest seen = quiet.kept.get(0);
        assertEquals(9, seen.readableLength());
        assertEquals(1L, g.deviceMetrics().get("console0").get("launcher.inFlight"), "the guest waits for its answer");

        launcher.removeDriver(quiet);
        assertTrue(quiet.closed);
        seen.complete(99); // too late: its model is gone
        assertTrue(!seen.isComplete(), "the old model's answer does not count");

        RecordingDriver second = new RecordingDriver();
        launcher.addDriver("console", second, 0);
        waitFor(() -> second.opened.get(0).output.toString().equals("in flight"));
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        g.ending().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(List.of(9), fake.outputUsedLens, "the replacement's answer is the sender's used_len");
        assertEquals(1L, g.deviceMetrics().get("console0").get("launcher.replayed"));
    }

    @Test
    void whenTheHeldOutputIsFullTheGuestWaitsThenGetsAClearRefusal() throws Exception {
        Guest g = launcher.start(spec(kernelFile(TestElf.kernel(true)), 16L << 20, ""));
        FakeLguest.Guest fake = lguest.opened.get(0);
        launcher.removeDriver(driver);
        String big = "x".repeat(3000);
        fake.steps.add(new FakeLguest.Print(big));
        fake.steps.add(new FakeLguest.Print(big)); // 6000 > the 4096 bytes held: waits 2 s, then 0
        fake.steps.add(new FakeLguest.Die("CRASH: Power down"));
        long t0 = System.nanoTime();
        g.ending().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1900), "waited for a driver");
        assertEquals(List.of(3000, 0), fake.outputUsedLens);
        assertEquals(1L, g.deviceMetrics().get("console0").get("launcher.timeouts"));
        assertTrue(launcher.events(g.id()).stream().anyMatch(s -> s.contains("no console driver")), launcher.events(g.id()).toString());
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
