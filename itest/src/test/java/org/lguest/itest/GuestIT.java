package org.lguest.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.lguest.launcher.Guest;
import org.lguest.launcher.Guests;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Guests in the real platform: started through the Gogo commands of the
 * Launcher, their consoles read with {@code lguest:console}, the console
 * bundle stopped and started while they run.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class GuestIT {
    @Inject
    BundleContext context;

    @Inject
    CommandProcessor processor;

    @Inject
    Guests guests;

    CommandSession session;
    final ByteArrayOutputStream sessionOut = new ByteArrayOutputStream();

    @Configuration
    public Option[] config() {
        List<Option> options = new ArrayList<>();
        File[] jars = new File(System.getProperty("it.bundles")).listFiles((d, n) -> n.endsWith(".jar"));
        assertNotNull("no bundles copied to it.bundles", jars);
        Arrays.sort(jars);
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        options.add(junitBundles());
        options.add(cleanCaches());
        options.add(systemProperty("lguest.kernel").value(System.getProperty("lguest.kernel")));
        options.add(systemProperty("lguest.linux.dir").value(System.getProperty("lguest.linux.dir", "")));
        // Guests as configurations: FileInstall watches a folder of this run; lguest:define writes there.
        CONF.mkdirs();
        for (File left : CONF.listFiles()) {
            left.delete(); // a configuration a failed run left behind
        }
        options.add(systemProperty("felix.fileinstall.dir").value(CONF.getPath()));
        options.add(systemProperty("felix.fileinstall.poll").value("100"));
        options.add(systemProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(systemProperty("lguest.conf").value(CONF.getPath()));
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        return options.toArray(new Option[0]);
    }

    static final File CONF = new File(System.getProperty("java.io.tmpdir"), "lguest-it-conf-" + ProcessHandle.current().pid());

    /** The guest named {@code name}, once it is listed (within {@code seconds}). */
    Guest awaitGuestNamed(String name, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < end) {
            for (Guest g : guests.list()) {
                if (g.spec().name().equals(name)) {
                    return g;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no guest named " + name + " within " + seconds + " s:\n" + shell("lguest:list"));
    }

    void awaitNoGuestNamed(String name, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (guests.list().stream().anyMatch(g -> g.spec().name().equals(name))) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("guest " + name + " still listed after " + seconds + " s:\n" + shell("lguest:list"));
            }
            Thread.sleep(50);
        }
    }

    @Test
    public void suspendStopsTheProcessorResumeLetsItRunAndTheConsoleStillWorks() throws Exception {
        int id = (Integer) shell("lguest:start --mem 32M --name pausable");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        assertTrue(String.valueOf(shell("lguest:suspend pausable")).contains("paused"));
        assertTrue(listLine(id), listLine(id).endsWith("paused"));
        long exits = guests.get(id).orElseThrow().info().orElseThrow().exits();
        Thread.sleep(1000);
        assertEquals("a paused guest makes no exits", exits, guests.get(id).orElseThrow().info().orElseThrow().exits());
        shell("lguest:input " + id + " typed-while-paused");
        Thread.sleep(300);
        assertTrue("nothing is echoed while paused", !console(id).contains("typed-while-paused\n"));
        shell("lguest:resume " + id);
        awaitConsole(id, t -> t.contains("typed-while-paused\n"), 30);
        assertTrue(listLine(id), listLine(id).endsWith("running"));
        String info = String.valueOf(shell("lguest:info pausable"));
        assertTrue(info, info.contains("Name:        pausable") && info.contains("Memory:      32M") && info.contains("console0"));
        String stats = String.valueOf(shell("lguest:stats " + id));
        assertTrue(stats, stats.contains("Domain: 'pausable'") && stats.contains("cpu.exits=") && stats.contains("console0.console.bytesIn="));
        java.util.regex.Matcher interrupts = java.util.regex.Pattern.compile("cpu\\.interrupts=(\\d+)").matcher(stats);
        assertTrue("the guest took its console interrupts: " + stats, interrupts.find() && Long.parseLong(interrupts.group(1)) > 0);
        java.util.regex.Matcher rss = java.util.regex.Pattern.compile("balloon\\.rss=(\\d+)").matcher(stats);
        assertTrue("the guest holds some but not all of its 32M: " + stats,
                rss.find() && Long.parseLong(rss.group(1)) > 0 && Long.parseLong(rss.group(1)) < 32 * 1024);
        assertTrue(String.valueOf(shell("lguest:destroy pausable")).contains("destroyed"));
        assertEquals("", listLine(id));
    }

    @Test
    public void rebootBringsTheGuestBackAndShutdownPowersItOff() throws Exception {
        int id = (Integer) shell("lguest:start --mem 32M --name button");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        String rebooted = String.valueOf(shell("lguest:reboot button"));
        assertTrue(rebooted, rebooted.startsWith("guest " + id + " (button) rebooted: now guest "));
        int again = Integer.parseInt(rebooted.replaceAll(".*now guest (\\d+).*", "$1"));
        awaitConsole(again, t -> t.contains("lguest-guest: ready"), 60);
        String down = String.valueOf(shell("lguest:shutdown button"));
        assertEquals("guest " + again + " (button) shut down: CRASH: Power down", down);
        assertTrue(listLine(again), listLine(again).endsWith("powered off"));
        shell("lguest:destroy " + again);
    }

    @Test
    public void shutdownOfAGuestThatIgnoresItTimesOutClearlyAndDestroyStillWorks() throws Exception {
        int id = (Integer) shell("lguest:start --mem 32M --name deaf --cmdline nopowerbutton");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        try {
            shell("lguest:shutdown --timeout 2 deaf");
            throw new AssertionError("lguest:shutdown of a guest that ignores its power button returned");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("guest " + id + " (deaf) did not shut down within 2 s")
                    && e.getMessage().contains("lguest:destroy " + id + " ends it at once"));
        }
        assertTrue(listLine(id), listLine(id).endsWith("running"));
        assertTrue(String.valueOf(shell("lguest:destroy deaf")).contains("destroyed"));
        assertEquals("", listLine(id));
    }

    @Test
    public void aConfigurationFileMakesAGuestAppearAndBootAndRemovingItStopsAndForgetsIt() throws Exception {
        java.nio.file.Path cfg = CONF.toPath().resolve("org.lguest.guest-fromfile.cfg");
        java.nio.file.Files.writeString(cfg, "kernel=" + System.getProperty("lguest.kernel") + "\nmemory=32M\nautostart=true\n");
        Guest g = awaitGuestNamed("fromfile", 30);
        awaitConsole(g.id(), t -> t.contains("lguest-guest: ready"), 60);
        assertTrue(listLine(g.id()), listLine(g.id()).contains("32M") && listLine(g.id()).endsWith("running"));
        java.nio.file.Files.delete(cfg);
        awaitNoGuestNamed("fromfile", 30);
    }

    @Test
    public void aBadConfigurationStartsNothingAndTheOthersCarryOn() throws Exception {
        java.nio.file.Path good = CONF.toPath().resolve("org.lguest.guest-fine.cfg");
        java.nio.file.Path bad = CONF.toPath().resolve("org.lguest.guest-broken.cfg");
        java.nio.file.Files.writeString(good, "kernel=" + System.getProperty("lguest.kernel") + "\nmemory=32M\nautostart=true\n");
        java.nio.file.Files.writeString(bad, "kernel=" + System.getProperty("lguest.kernel") + "\nmemory=lots\nautostart=true\n");
        try {
            Guest g = awaitGuestNamed("fine", 30);
            awaitConsole(g.id(), t -> t.contains("lguest-guest: ready"), 60);
            Thread.sleep(1000);
            assertTrue("no guest from the bad file:\n" + shell("lguest:list"),
                    guests.list().stream().noneMatch(x -> x.spec().name().equals("broken")));
            try {
                shell("lguest:start broken");
                throw new AssertionError("a guest whose configuration is bad cannot be started by name");
            } catch (Exception e) {
                assertTrue(String.valueOf(e.getMessage()), String.valueOf(e.getMessage()).contains("no guest defined as 'broken'"));
            }
        } finally {
            java.nio.file.Files.deleteIfExists(bad);
            java.nio.file.Files.deleteIfExists(good);
        }
        awaitNoGuestNamed("fine", 30);
    }

    @Test
    public void defineWritesTheConfigurationStartByNameBootsItAndUndefineForgetsIt() throws Exception {
        Object said = shell("lguest:define --mem 32M --cmdline poweroff defined " + System.getProperty("lguest.kernel"));
        assertTrue(String.valueOf(said), String.valueOf(said).contains("org.lguest.guest-defined.cfg"));
        assertTrue(new File(CONF, "org.lguest.guest-defined.cfg").isFile());
        int id = -1;
        long end = System.currentTimeMillis() + 30_000;
        while (id < 0) { // FileInstall reads the file within its poll
            try {
                id = (Integer) shell("lguest:start defined");
            } catch (Exception e) {
                if (System.currentTimeMillis() > end) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
        awaitState(id, "powered off");
        assertTrue(console(id), console(id).contains("lguest-guest: power down"));
        int again = (Integer) shell("lguest:start defined");
        assertTrue("a defined guest that ended starts again: " + again, again != id);
        awaitState(again, "powered off");
        shell("lguest:undefine defined");
        assertTrue(!new File(CONF, "org.lguest.guest-defined.cfg").exists());
        awaitNoGuestNamed("defined", 30);
    }

    @Before
    public void openSession() {
        session = processor.createSession(InputStream.nullInputStream(), new PrintStream(sessionOut, true), System.err);
    }

    @After
    public void closeSession() {
        for (Guest g : guests.list()) {
            guests.remove(g.id());
        }
        session.close();
    }

    Object shell(String command) throws Exception {
        return session.execute(command);
    }

    String console(int id) throws Exception {
        return String.valueOf(shell("lguest:console " + id));
    }

    String awaitConsole(int id, Predicate<String> done, int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        String text = console(id);
        while (!done.test(text)) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("console of guest " + id + " after " + seconds + " s:\n" + text
                        + "\nlguest:list\n" + shell("lguest:list"));
            }
            Thread.sleep(20);
            text = console(id);
        }
        return text;
    }

    String listLine(int id) throws Exception {
        return String.valueOf(shell("lguest:list")).lines().filter(l -> l.startsWith(id + " ")).findFirst().orElse("");
    }

    void awaitState(int id, String state) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (!listLine(id).endsWith(state)) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("guest " + id + " not '" + state + "': " + shell("lguest:list"));
            }
            Thread.sleep(20);
        }
    }

    /** The installed bundle with this symbolic name. */
    Bundle installed(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow();
    }

    /** A zero-filled disk image of {@code bytes}, deleted when the tests end. */
    static File diskImage(int bytes) throws java.io.IOException {
        File img = File.createTempFile("lguest-disk", ".img");
        img.deleteOnExit();
        java.nio.file.Files.write(img.toPath(), new byte[bytes]);
        return img;
    }

    static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            n++;
        }
        return n;
    }

    @Test
    public void aGuestStartedFromTheShellBootsEchoesInputAndPowersOff() throws Exception {
        int id = (Integer) shell("lguest:start --mem 32M");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        assertTrue(listLine(id), listLine(id).contains("32M") && listLine(id).endsWith("running"));
        shell("lguest:input " + id + " hello");
        awaitConsole(id, t -> t.contains("hello\n"), 30);
        shell("lguest:input " + id + " poweroff");
        awaitState(id, "powered off");
        String text = console(id);
        assertTrue("the console of an ended guest can still be read:\n" + text,
                text.contains("lguest-guest: booting lguest") && text.contains("lguest-guest: power down"));
        shell("lguest:stop " + id);
        assertEquals("", listLine(id));
    }

    @Test
    public void aGuestStartedFromTheShellPassesEverySelftest() throws Exception {
        int id = (Integer) shell("lguest:start --mem 64M --cmdline \"selftest\"");
        String text = awaitConsole(id, t -> t.contains("selftest: ") && t.contains(" passed, "), 120);
        for (String test : List.of("paging-demand", "paging-batch", "user-syscall", "user-tls", "user-stack-demand",
                "user-timer", "user-kernel-protected", "timer-ticks", "halt-wake")) {
            assertTrue("PASS " + test + "\n" + text, text.contains("PASS " + test));
        }
        assertTrue(text, text.contains(" 0 failed"));
    }

    /** guest/src/blk.c's pattern word: sector s, word i, seed. */
    static int patternWord(int seed, int s, int i) {
        int x = seed * 0x9E3779B1 + s * 0x85EBCA6B + i * 0xC2B2AE35 + 0x27D4EB2F;
        x ^= x >>> 15;
        x *= 0x2C1B3C6D;
        return x ^ (x >>> 12);
    }

    @Test
    public void aPatternAGuestWritesToItsDiskIsReadBackFromTheFileOnTheHost() throws Exception {
        File img = diskImage(1 << 20);
        int id = (Integer) shell("lguest:start --mem 32M --disk " + img + " --cmdline \"blk write 11 128 poweroff\"");
        awaitState(id, "powered off");
        assertTrue(console(id), console(id).contains("blk: wrote 128 sectors (seed 11)"));
        java.nio.ByteBuffer file = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(img.toPath()))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int sector = 0; sector < 128; sector++) {
            int sum = 0;
            for (int i = 0; i < 127; i++) {
                int w = patternWord(11, sector, i);
                assertEquals("sector " + sector + " word " + i, w, file.getInt(sector * 512 + 4 * i));
                sum += w;
            }
            assertEquals("sector " + sector + " checksum", sum, file.getInt(sector * 512 + 508));
        }
    }

    @Test
    public void aDiskWrittenBeforeAnUpdateOfTheDiskBundleVerifiesAfterIt() throws Exception {
        File img = diskImage(1 << 20);
        int id = (Integer) shell("lguest:start --mem 32M --disk " + img + " --name swapdisk");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        shell("lguest:input " + id + " \"blk write 4 200\"");
        awaitConsole(id, t -> t.contains("blk: wrote 200 sectors (seed 4)"), 60);
        Bundle disk = installed("org.lguest.devices.disk");
        disk.update();
        shell("lguest:input " + id + " \"blk verify 4 200\"");
        String text = awaitConsole(id, t -> t.contains("blk: verified 200 sectors (seed 4)") || t.contains("PANIC"), 60);
        assertTrue(text, text.contains("blk: verified 200 sectors (seed 4)"));
        assertTrue(listLine(id), listLine(id).endsWith("running"));
        String devices = String.valueOf(shell("lguest:devices " + id));
        assertTrue(devices, devices.contains("block0  lguest_block on file " + img.getCanonicalPath() + " (rw)"));
        assertTrue(devices, java.util.regex.Pattern.compile("driver +org\\.lguest\\.devices\\.disk \\d").matcher(devices).find());
        assertTrue(devices, java.util.regex.Pattern.compile("launcher\\.swapsSurvived +1\\b").matcher(devices).find());
        assertTrue(devices, devices.contains("console1  console on the buffer back end"));
    }

    @Test
    public void anUpdateOfTheDiskBundleInTheMiddleOfAWriteStreamLosesNoSector() throws Exception {
        File img = diskImage(16 << 20);
        int id = (Integer) shell("lguest:start --mem 32M --disk " + img
                + " --cmdline \"blk write 21 30000 blk verify 21 30000 poweroff\"");
        awaitConsole(id, t -> t.contains("block: 32768 sectors"), 60);
        Bundle disk = installed("org.lguest.devices.disk");
        Thread.sleep(50);
        String before = console(id);
        long t0 = System.nanoTime();
        disk.update();
        System.out.printf("GuestIT: the disk bundle's update in the write stream took %.1f ms (stop, update, start)%n",
                (System.nanoTime() - t0) / 1e6);
        awaitState(id, "powered off");
        String text = console(id);
        java.util.regex.Matcher stall = java.util.regex.Pattern.compile("launcher\\.lastSwapMicros +(\\d+)")
                .matcher(String.valueOf(shell("lguest:devices " + id)));
        assertTrue("the disk's swap was timed", stall.find());
        System.out.printf("GuestIT: the disk's I/O stall across the update: %.1f ms (old back end closed to the "
                + "held requests taken by the new one)%n", Long.parseLong(stall.group(1)) / 1000.0);
        assertTrue("the update came during the write stream:\n" + before, !before.contains("blk: wrote"));
        assertTrue(text, text.contains("blk: wrote 30000 sectors (seed 21)"));
        assertTrue(text, text.contains("blk: verified 30000 sectors (seed 21)"));
    }

    @Test
    public void anUpdateOfTheDiskBundleWhileLinuxWritesWithDdLosesNothing() throws Exception {
        File linux = new File(System.getProperty("lguest.linux.dir", ""));
        org.junit.Assume.assumeTrue("no Linux test data at " + linux, new File(linux, "vmlinux").isFile());
        File img = diskImage(16 << 20);
        int id = (Integer) shell("lguest:start --mem 64M --disk " + img + " --initrd " + new File(linux, "initramfs.cpio.gz")
                + " " + new File(linux, "vmlinux"));
        awaitConsole(id, t -> t.contains("/ # "), 120);
        shell("lguest:input " + id + " 'seq 1 150000 | dd of=/dev/vda bs=4k oflag=direct && sync && echo DD-DONE'");
        Thread.sleep(2000);
        String before = console(id);
        Bundle disk = installed("org.lguest.devices.disk");
        disk.update();
        String text = awaitConsole(id, t -> t.contains("\nDD-DONE"), 300);
        assertTrue("the update came while dd wrote:\n" + before, !before.contains("\nDD-DONE"));
        String devices = String.valueOf(shell("lguest:devices " + id));
        java.util.regex.Matcher swaps = java.util.regex.Pattern.compile("(?s)block1  virtio-blk.*?launcher\\.swapsSurvived +(\\d+)")
                .matcher(devices);
        assertTrue("the disk's swaps are counted:\n" + devices, swaps.find());
        assertEquals("the disk was served by the updated bundle:\n" + devices, "1", swaps.group(1));
        java.util.regex.Matcher stall = java.util.regex.Pattern.compile("(?s)block1  virtio-blk.*?launcher\\.lastSwapMicros +(\\d+)")
                .matcher(devices);
        assertTrue("the swap was timed:\n" + devices, stall.find());
        System.out.printf("GuestIT: Linux's virtio-blk I/O stall across the disk bundle's update: %.1f ms%n",
                Long.parseLong(stall.group(1)) / 1000.0);
        shell("lguest:input " + id + " 'poweroff -f'");
        awaitState(id, "powered off");
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 150000; i++) {
            expected.append(i).append('\n');
        }
        byte[] want = expected.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] got = java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(img.toPath()), want.length);
        int mismatch = java.util.Arrays.mismatch(want, got);
        assertEquals("the image holds what dd wrote; first difference at byte " + mismatch + " (sector " + mismatch / 512
                + ")\n" + text, -1, mismatch);
    }

    @Test
    public void twoGuestsOnALanPingEachOtherAcrossAnUpdateOfTheNetBundle() throws Exception {
        int a = (Integer) shell("lguest:start --mem 32M --net lan:itest --name lan-a");
        awaitConsole(a, t -> t.contains("lguest-guest: ready"), 60);
        int b = (Integer) shell("lguest:start --mem 32M --net lan:itest --name lan-b"
                + " --cmdline \"ping 10.0.0.1 200 net stat poweroff\"");
        awaitConsole(b, t -> t.contains("net: address 10.0.0.2/24"), 60);
        Thread.sleep(300);
        String before = console(b);
        installed("org.lguest.devices.net").update();
        awaitState(b, "powered off");
        String text = console(b);
        assertTrue("the update came while the pings ran:\n" + before, !before.contains("ping 10.0.0.1:"));
        assertTrue(text, text.contains("ping 10.0.0.1: 200 sent, 200 received, 0 lost"));
        assertTrue("the guest counts what its peers did not take:\n" + text,
                java.util.regex.Pattern.compile("net: tx \\d+ frames \\d+ KB, 0 dropped").matcher(text).find());
        String devices = String.valueOf(shell("lguest:devices " + a));
        assertTrue(devices, devices.contains("net0  lguest_net on LAN itest, slot 0, MAC 02:00:"));
        assertTrue(devices, java.util.regex.Pattern.compile("driver +org\\.lguest\\.devices\\.net \\d").matcher(devices).find());
        assertTrue(devices, java.util.regex.Pattern.compile("launcher\\.swapsSurvived +1\\b").matcher(devices).find());
        shell("lguest:stop " + a);
    }

    /** Runs a host command; its exit status and output. */
    static String[] host(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        boolean done = p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        return new String[] {done ? Integer.toString(p.exitValue()) : "timeout", out};
    }

    /** A UDP client: sends to 10.0.0.2's echo port until the same bytes come back (20 tries, 1 s apart). */
    static final String UDP_ECHO_CLIENT = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
            "s.settimeout(1)",
            "msg = sys.argv[1].encode()",
            "for i in range(20):",
            "    s.sendto(msg, ('10.0.0.2', 7))",
            "    try:",
            "        data, peer = s.recvfrom(2048)",
            "    except socket.timeout:",
            "        continue",
            "    print(data.decode(), peer[0])",
            "    sys.exit(0 if data == msg else 2)",
            "sys.exit(1)");

    @Test
    public void theHostReachesAGuestsUdpEchoOverATapInANamespaceOfItsOwn() throws Exception {
        org.junit.Assume.assumeTrue("needs /dev/net/tun and root", new File("/dev/net/tun").exists()
                && "root".equals(System.getProperty("user.name")));
        String ns = "lgit-" + ProcessHandle.current().pid();
        String tap = "lgit" + (ProcessHandle.current().pid() % 100000);
        String[] made = host("ip", "netns", "add", ns);
        assertEquals("ip netns add " + ns + ": " + made[1], "0", made[0]);
        try {
            int id = (Integer) shell("lguest:start --mem 32M --name tapguest --net tap:" + tap + ",netns=" + ns);
            for (String[] c : new String[][] {{"ip", "-n", ns, "addr", "add", "10.0.0.1/24", "dev", tap},
                    {"ip", "-n", ns, "link", "set", tap, "up"}, {"ip", "-n", ns, "link", "set", "lo", "up"}}) {
                String[] r = host(c);
                assertEquals(String.join(" ", c) + ": " + r[1], "0", r[0]);
            }
            awaitConsole(id, t -> t.contains("net: address 10.0.0.2/24"), 60);
            String[] echo = host("ip", "netns", "exec", ns, "python3", "-c", UDP_ECHO_CLIENT, "hello over the tap");
            assertEquals("the guest's UDP echo answers over the TAP: " + echo[1] + "\n" + console(id), "0", echo[0]);
            assertTrue(echo[1], echo[1].startsWith("hello over the tap 10.0.0.2"));
            String devices = String.valueOf(shell("lguest:devices " + id));
            assertTrue(devices, devices.contains("net0  lguest_net on TAP " + tap + " in netns " + ns + " (made for this guest)"));
            shell("lguest:stop " + id);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while ("0".equals(host("ip", "-n", ns, "link", "show", tap)[0]) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue("the TAP goes with its guest", !"0".equals(host("ip", "-n", ns, "link", "show", tap)[0]));
        } finally {
            host("ip", "netns", "del", ns);
        }
    }

    @Test
    public void aConsoleOnALoopbackTcpPortIsTheGuestsTerminal() throws Exception {
        int id = (Integer) shell("lguest:start --mem 32M --console tcp:0");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        String devices = String.valueOf(shell("lguest:devices " + id));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("console on the tcp 127\\.0\\.0\\.1:(\\d+) back end")
                .matcher(devices);
        assertTrue(devices, m.find());
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), Integer.parseInt(m.group(1)))) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write("hello tcp\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder echoed = new StringBuilder();
            InputStream in = s.getInputStream();
            while (!echoed.toString().contains("hello tcp")) {
                int c = in.read();
                assertTrue("the connection ended; got: " + echoed, c >= 0);
                echoed.append((char) c);
            }
            s.getOutputStream().write("poweroff\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            awaitState(id, "powered off");
        }
        assertTrue(console(id), console(id).contains("hello tcp"));
    }

    @Test
    public void startingWithABadKernelFailsClearlyAndLeavesNoGuest() throws Exception {
        File notElf = File.createTempFile("not-a-kernel", ".txt");
        java.nio.file.Files.writeString(notElf.toPath(), "hello");
        try {
            shell("lguest:start " + notElf);
            throw new AssertionError("lguest:start of a text file succeeded");
        } catch (org.lguest.launcher.LaunchException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not an ELF file"));
        }
        assertEquals(List.of(), guests.list());
    }

    /**
     * Hot swap: the console bundle is stopped right after the guest starts and
     * started again once the guest has printed while no console driver existed
     * (its selftests print after waiting for ten ticks, so they come while the
     * bundle is stopped), and stopped and started once more between two lines
     * typed at the echo loop. Every line arrives exactly once, in order.
     */
    @Test
    public void theConsoleBundleIsReplacedWhileTheGuestPrintsAndNothingIsLost() throws Exception {
        Bundle consoleBundle = installed("org.lguest.devices.console");
        int id = (Integer) shell("lguest:start --mem 32M --name swap --cmdline selftest");
        consoleBundle.stop();
        Guest swapped = guests.get(id).orElseThrow();
        long held = System.currentTimeMillis() + 30_000;
        while (swapped.deviceMetrics().get("console0").get("launcher.heldTotal") == 0) {
            assertTrue("nothing the guest printed was held: " + swapped.deviceMetrics(), System.currentTimeMillis() < held);
            Thread.sleep(10);
        }
        consoleBundle.start();
        String text = awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        for (String line : List.of("lguest-guest: booting lguest", "traps: GDT loaded", "paging: ", "console: input on IRQ 1",
                "timer: 100 Hz tick", "lguest-guest: boot complete", "lguest-guest: ready")) {
            assertEquals("'" + line + "' once in\n" + text, 1, count(text, line));
        }
        assertTrue(text, text.indexOf("booting") < text.indexOf("boot complete") && text.indexOf("boot complete") < text.indexOf("ready"));

        shell("lguest:input " + id + " first");
        awaitConsole(id, t -> t.contains("first\n"), 30);
        consoleBundle.stop();
        consoleBundle.start();
        shell("lguest:input " + id + " second");
        text = awaitConsole(id, t -> t.contains("second\n"), 30);
        assertEquals(text, 1, count(text, "first\n"));
        assertEquals(text, 1, count(text, "lguest-guest: booting lguest"));
        assertTrue(text, text.indexOf("first\n") < text.indexOf("second\n"));
        Guest g = guests.get(id).orElseThrow();

        java.util.Map<String, Long> metrics = g.deviceMetrics().get("console0");
        assertEquals(metrics.toString(), Long.valueOf(0), metrics.get("launcher.timeouts"));
        assertTrue("output was held while no console driver existed: " + metrics, metrics.get("launcher.heldTotal") > 0);
        assertEquals(metrics.toString(), Long.valueOf(3), metrics.get("launcher.driverChanges"));
        shell("lguest:input " + id + " poweroff");
        awaitState(id, "powered off");
    }

    /** Stopping the hypervisor bundle kills its guests with a reason the Launcher reports; started again, it runs new ones. */
    @Test
    public void stoppingTheHypervisorBundleEndsItsGuestsWithAReason() throws Exception {
        Bundle lg = installed("org.lguest.lg");
        int id = (Integer) shell("lguest:start --mem 16M");
        awaitConsole(id, t -> t.contains("lguest-guest: ready"), 60);
        lg.stop();
        try {
            awaitState(id, "dead: the lguest module was stopped");
            try {
                shell("lguest:start --mem 16M");
                throw new AssertionError("a guest started without a hypervisor");
            } catch (org.lguest.launcher.LaunchException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("no hypervisor"));
            }
        } finally {
            lg.start();
        }
        long end = System.currentTimeMillis() + 30_000;
        Object next = null;
        while (next == null) {
            try {
                next = shell("lguest:start --mem 16M --cmdline poweroff");
            } catch (org.lguest.launcher.LaunchException e) {
                if (System.currentTimeMillis() > end) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
        awaitState((Integer) next, "powered off");
    }
}
