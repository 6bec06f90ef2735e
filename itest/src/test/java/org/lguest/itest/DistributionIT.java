package org.lguest.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution as a user runs it: runtime/target/lguest/bin/lguest with
 * commands on standard input or after -c, from any folder, no terminal.
 */
class DistributionIT {
    private static final Path DIST = Path.of(System.getProperty("lguest.dist", "../runtime/target/lguest")).toAbsolutePath().normalize();

    record Run(int status, String out, String err) {
        String both() {
            return "exit status " + status + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private static Run lguest(Path cwd, String stdin, String... args) throws IOException, InterruptedException {
        return lguestFrom(DIST, cwd, stdin, args);
    }

    private static Run lguestFrom(Path dist, Path cwd, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(dist.resolve("bin/lguest").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        Path out = Files.createTempFile("lguest-out", ".txt");
        Path err = Files.createTempFile("lguest-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/lguest " + String.join(" ", args) + " did not finish within 120 s");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void pipedListOfBundlesShowsEveryProjectBundleActiveAndExitsZero(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "lb -s\n");
        assertEquals(0, run.status(), run.both());
        for (String bsn : PlatformIT.PROJECT_BUNDLES) {
            boolean active = run.out().lines().anyMatch(l -> l.contains("|Active") && l.contains(bsn));
            assertTrue(active, "bundle " + bsn + " listed as Active\n" + run.both());
        }
        for (String extra : List.of("org.apache.felix.scr", "org.apache.felix.configadmin",
                "org.apache.felix.fileinstall", "org.apache.felix.gogo.command")) {
            assertTrue(run.out().lines().anyMatch(l -> l.contains("|Active") && l.contains(extra)),
                    "platform bundle " + extra + " listed as Active\n" + run.both());
        }
    }

    /**
     * The distribution's web console (bundles/web): while the platform runs,
     * the Guests page in the Felix Web Console and /metrics answer on
     * loopback (the port here a free one, given as Felix HTTP's framework
     * property); {@code bin/lguest run} opens none.
     */
    @Test
    void theShellsPlatformServesTheGuestsPageAndMetricsOnLoopbackAndRunServesNothing(@TempDir Path anywhere) throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(DIST.resolve("bin/lguest").toString()).directory(anywhere.toFile())
                .redirectOutput(anywhere.resolve("out.txt").toFile()).redirectError(anywhere.resolve("err.txt").toFile());
        pb.environment().put("LGUEST_JAVA_OPTS", "-Dorg.osgi.service.http.port=" + port);
        Process p = pb.start();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        try (var in = p.getOutputStream()) {
            in.write("lguest:start --mem 32M --name webdist\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            String base = "http://127.0.0.1:" + port;
            long end = System.currentTimeMillis() + 60_000;
            java.net.http.HttpResponse<String> page = null;
            while (page == null || page.statusCode() != 200) {
                assertTrue(System.currentTimeMillis() < end, "the Guests page did not answer within 60 s: "
                        + (page == null ? "nothing listens" : page.statusCode() + " " + page.body()));
                try {
                    page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/system/console/guests")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) {
                    Thread.sleep(200);
                }
            }
            assertTrue(page.body().contains("lguest-guests") && page.body().contains("/lguest/guests.js"), page.body());
            String metrics = "";
            while (!metrics.contains("guest=\"webdist\"")) {
                assertTrue(System.currentTimeMillis() < end, "no webdist in /metrics within 60 s:\n" + metrics);
                metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/metrics")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                Thread.sleep(200);
            }
            assertTrue(metrics.contains("lguest_guest_exits_total{guest=\"webdist\",id=\"1\"}"), metrics);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bin/lguest did not end after its input did");
        String err = Files.readString(anywhere.resolve("err.txt"));
        assertTrue(err.contains("web console at http://127.0.0.1:" + port + "/system/console/guests"), err);

        ProcessBuilder run = new ProcessBuilder(DIST.resolve("bin/lguest").toString(), "run", "--mem", "32M", "--cmdline", "poweroff")
                .directory(anywhere.toFile()).redirectErrorStream(true);
        run.environment().put("LGUEST_JAVA_OPTS", "-Dorg.osgi.service.http.port=" + port);
        Process r = run.start();
        r.getOutputStream().close();
        String said = new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(r.waitFor(60, TimeUnit.SECONDS), said);
        assertEquals(0, r.exitValue(), said);
        assertTrue(!said.contains("web console") && !said.contains("jetty") && !said.contains("Jetty"),
                "bin/lguest run opens no web console and says nothing of one\n" + said);
    }

    @Test
    void pipedFailingCommandExitsNonZeroAndSaysWhichCommand(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "lb -s\nno-such-command\n");
        assertNotEquals(0, run.status(), run.both());
        assertTrue(run.err().contains("no-such-command"), "the failing command is named\n" + run.both());
    }

    @Test
    void anOptionWithoutItsValueIsNamedNotACoercionError(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "-c", "lguest:start --mem");
        assertEquals(1, run.status(), run.both());
        assertTrue(run.err().contains("lguest:start: --mem needs a value") && !run.err().contains("Cannot coerce"), run.both());
    }

    @Test
    void helpDescribesAGuestCommandAndItsOptions(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "-c", "help lguest:shutdown");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains("asks a guest to shut down") && run.out().contains("--timeout")
                && run.out().contains("seconds to wait for the guest to power off"), run.both());
    }

    @Test
    void commandGivenWithDashCRunsAndExits(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "-c", "echo hello from dash-c");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains("hello from dash-c"), run.both());
    }

    @Test
    void plainStartAndStopAreFelixsBundleCommandsAndExitEndsTheCommands(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "-c", "start 9999\nexit\nno-such-command");
        assertEquals(0, run.status(), "exit ends the commands before the unknown one\n" + run.both());
        assertTrue(run.out().contains("Bundle ID '9999'") || run.err().contains("Bundle ID '9999'"),
                "start 9999 reached Felix's bundle command, as in Karaf\n" + run.both());
    }

    @Test
    void pipedCommandsRunAsTheirLinesArriveSoAGuestStartedFromAPipeLivesOn(@TempDir Path anywhere) throws Exception {
        Process p = new ProcessBuilder(DIST.resolve("bin/lguest").toString()).directory(anywhere.toFile())
                .redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write("lguest:start --mem 32M\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            Thread.sleep(8000);
            in.write("lguest:list\n".getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/lguest did not end after its input did");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        java.util.regex.Matcher up = java.util.regex.Pattern.compile("(?m)^1 +lguest-guest +32M +(\\d+)\\.(\\d)s .*running$").matcher(out);
        assertTrue(up.find(), "the guest is listed as running\n" + out);
        assertTrue(Integer.parseInt(up.group(1)) >= 2, "the guest ran while the pipe waited (uptime " + up.group(1) + "."
                + up.group(2) + " s), so lguest:list ran when its line came\n" + out);
    }

    /** The bundled guest's disk pattern (guest/src/blk.c pattern_word): 127 words from seed, sector and place, then their sum. */
    static byte[] pattern(int seed, int sector) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int sum = 0;
        for (int i = 0; i < 127; i++) {
            int x = seed * 0x9E3779B1 + sector * 0x85EBCA6B + i * 0xC2B2AE35 + 0x27D4EB2F;
            x ^= x >>> 15;
            x *= 0x2C1B3C6D;
            x ^= x >>> 12;
            b.putInt(x);
            sum += x;
        }
        b.putInt(sum);
        return b.array();
    }

    /**
     * Crash consistency: the platform is killed (SIGKILL) at a random moment while the guest writes
     * and flushes; every write the guest saw flushed is in the image afterwards. The guest writes
     * 256 sectors with seed 1, flushes, with seed 2, flushes, ...; after the kill, each sector holds
     * the pattern of the last seed whose "blk: flushed" was printed, or of a later seed (written, not
     * yet flushed). {@code -Dlguest.crash.runs=50} for the full series.
     */
    @Test
    void writesTheGuestSawFlushedSurviveAKillMinusNineOfThePlatform(@TempDir Path dir) throws Exception {
        int runs = Integer.getInteger("lguest.crash.runs", 8);
        java.util.SplittableRandom random = new java.util.SplittableRandom(Long.getLong("lguest.crash.seed", System.nanoTime()));
        StringBuilder cmdline = new StringBuilder();
        int seeds = 8; // the bundled guest keeps 255 bytes of command line: 8 writes and flushes fit
        for (int seed = 1; seed <= seeds; seed++) {
            cmdline.append("blk write ").append(seed).append(" 256 blk flush ");
        }
        cmdline.append("poweroff");
        int checked = 0;
        for (int run = 0; run < runs; run++) {
            Path img = dir.resolve("crash" + run + ".img");
            Files.write(img, new byte[2048 * 512]);
            int killAfterFlushes = 1 + random.nextInt(seeds - 1);
            long extraMillis = random.nextInt(150);
            Process p = new ProcessBuilder(DIST.resolve("bin/lguest").toString(), "run", "--mem", "32M", "--disk", img.toString(),
                    "--cmdline", cmdline.toString()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
            int flushed = 0;
            StringBuilder seen = new StringBuilder();
            Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
                try {
                    if (!p.waitFor(90, TimeUnit.SECONDS)) {
                        p.destroyForcibly(); // a guest that stopped printing must not hang the test
                    }
                } catch (InterruptedException e) {
                    // the run ended
                }
            });
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while ((line = lines.readLine()) != null && System.nanoTime() < deadline) {
                    seen.append(line).append('\n');
                    if (line.contains("blk: flushed")) {
                        flushed++;
                        if (flushed == killAfterFlushes) {
                            Thread.sleep(extraMillis); // a little further into the next write
                            p.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no close
                            break;
                        }
                    }
                }
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the platform did not die");
            watchdog.interrupt();
            assertEquals(killAfterFlushes, flushed, "the guest never reached its flush " + killAfterFlushes + "\n" + seen);
            byte[] image = Files.readAllBytes(img);
            for (int s = 0; s < 256; s++) {
                byte[] got = java.util.Arrays.copyOfRange(image, s * 512, s * 512 + 512);
                boolean ok = false;
                for (int seed = flushed; seed <= seeds && !ok; seed++) {
                    ok = java.util.Arrays.equals(pattern(seed, s), got);
                }
                assertTrue(ok, "run " + run + " (killed " + extraMillis + " ms after flush " + flushed + "): sector " + s
                        + " holds neither seed " + flushed + "'s data nor a later seed's\n" + seen);
                checked++;
            }
        }
        System.out.printf("DistributionIT: %d kill -9 runs, %d sectors checked, every flushed write found%n", runs, checked);
    }

    @Test
    void unknownSubcommandIsAUsageError(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "frobnicate");
        assertEquals(2, run.status(), run.both());
        assertTrue(run.err().contains("unknown command 'frobnicate'"), run.both());
    }

    @Test
    void aFreshStartLeavesNoBundleCacheBehind(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "lb -s\n");
        assertEquals(0, run.status(), run.both());
        try (var left = Files.list(anywhere)) {
            assertEquals(List.of(), left.toList(), "files left in the working folder");
        }
        assertTrue(Files.notExists(DIST.resolve("felix-cache")), "no bundle cache inside the distribution");
    }

    @Test
    void aBundleDroppedIntoDeployIsStartedWhileThePlatformRuns(@TempDir Path copy) throws Exception {
        Path dist = copy.resolve("lguest");
        copyTree(DIST, dist);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        manifest.getMainAttributes().putValue("Bundle-SymbolicName", "test.hot.deployed");
        manifest.getMainAttributes().putValue("Bundle-Version", "1.0.0");
        try (var jar = new JarOutputStream(Files.newOutputStream(dist.resolve("deploy/test-hot-deployed.jar")), manifest)) {
            jar.flush();
        }
        Run run = lguestFrom(dist, copy, "", "-c", "sleep 3\nlb -s test.hot");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().lines().anyMatch(l -> l.contains("|Active") && l.contains("test.hot.deployed")),
                "the bundle dropped into deploy/ is listed as Active\n" + run.both());
    }

    // ---- bin/lguest run: one guest, its console on the terminal ----------------------------

    @Test
    void runBootsTheBundledGuestAndExitsZeroWhenItPowersOff(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "run", "--cmdline", "poweroff");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains("lguest-guest: booting lguest, cmdline \"poweroff\""), run.both());
        assertTrue(run.out().contains("lguest-guest: power down"), run.both());
    }

    @Test
    void runWithSelftestPoweroffPassesEverySelftestAndExitsZero(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "run", "--cmdline", "selftest poweroff");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains(" passed, 0 failed"), run.both());
        assertTrue(!run.out().contains("FAIL "), run.both());
    }

    @Test
    void runTakesConsoleInputFromAPipe(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "hello there\npoweroff\n", "run", "--mem", "32M");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains("hello there\n"), "the echo loop echoed the piped line\n" + run.both());
        assertTrue(run.out().contains("lguest-guest: power down"), run.both());
    }

    @Test
    void runOfAGuestThatCrashesExitsNonZeroWithTheReasonOnStderr(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "run", "--cmdline", "crashtest");
        assertEquals(1, run.status(), run.both());
        assertTrue(run.err().contains("the guest ended: ") && run.err().contains("crash requested on the command line"), run.both());
    }

    @Test
    void runOfANonElfFileOrTooLittleMemoryIsAClearError(@TempDir Path anywhere) throws Exception {
        Path notElf = anywhere.resolve("kernel.txt");
        Files.writeString(notElf, "not a kernel");
        Run run = lguest(anywhere, "", "run", notElf.toString());
        assertEquals(1, run.status(), run.both());
        assertTrue(run.err().contains("is not an ELF file"), run.both());
        run = lguest(anywhere, "", "run", "--mem", "4M");
        assertEquals(1, run.status(), run.both());
        assertTrue(run.err().contains("guest memory 4M: a guest takes 16M to 2G"), run.both());
        run = lguest(anywhere, "", "run", "--frobnicate");
        assertEquals(2, run.status(), run.both());
        assertTrue(run.err().contains("unknown option --frobnicate"), run.both());
    }

    @Test
    void theShellStartsListsAndStopsGuests(@TempDir Path anywhere) throws Exception {
        Run run = lguest(anywhere, "", "-c", "lguest:start --mem 32M --name one\nsleep 1\nlguest:list\nlguest:devices 1\nlguest:stop 1\nlguest:list");
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("1 ") && l.contains("one") && l.contains("32M") && l.endsWith("running")), run.both());
        assertTrue(run.out().contains("guest 1 stopped"), run.both());
        assertTrue(run.out().contains("console0") && run.out().contains("console.bytesOut"), run.both());
    }

    /** The unmodified Linux 4.9 of the shared test data (../shared/linux from the repository). */
    static final Path LINUX = Path.of(System.getProperty("lguest.linux.dir", "../../shared/linux")).toAbsolutePath().normalize();

    @Test
    void runBootsUnmodifiedLinuxThroughItsAutotestAndExitsZeroOnPowerOff(@TempDir Path anywhere) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(LINUX.resolve("vmlinux")), "no Linux test data at " + LINUX);
        for (String kernel : List.of("vmlinux", "bzImage")) {
            Run run = lguest(anywhere, "", "run", "--initrd", LINUX.resolve("initramfs.cpio.gz").toString(), "--cmdline",
                    "autotest", LINUX.resolve(kernel).toString());
            assertEquals(0, run.status(), kernel + ": " + run.both());
            assertTrue(run.out().contains("LGUEST-LINUX: init reached"), kernel + ": " + run.both());
            assertTrue(run.out().contains("LGUEST-LINUX: autotest done"), kernel + ": " + run.both());
        }
    }

    @Test
    void runGivesLinuxAShellThatReadsPipedCommands(@TempDir Path anywhere) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(LINUX.resolve("vmlinux")), "no Linux test data at " + LINUX);
        // Typed ahead: the lines wait in the serial port's input until the shell reads them.
        Run run = lguest(anywhere, "echo SHELL-$((6*7))\npoweroff -f\n", "run", "--initrd",
                LINUX.resolve("initramfs.cpio.gz").toString(), LINUX.resolve("vmlinux").toString());
        assertEquals(0, run.status(), run.both());
        assertTrue(run.out().contains("SHELL-42"), "the shell ran the piped command\n" + run.both());
    }

    @Test
    void runOnATerminalPassesKeysAsTypedAndRestoresTheTerminal(@TempDir Path anywhere) throws Exception {
        // script(1) (util-linux, in every Debian) gives bin/lguest a pseudo-terminal as stdin.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "no /usr/bin/script");
        Path keys = anywhere.resolve("keys.sh");
        Files.writeString(keys, "sleep 8; printf 'abc\\r'; sleep 1; printf 'poweroff\\r'; sleep 5\n");
        String inner = DIST.resolve("bin/lguest") + " run --mem 32M; echo EXIT=$?; stty -a";
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "sh " + keys + " | script -qec '" + inner + "' /dev/null")
                .directory(anywhere.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).replace("\r", "");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertTrue(out.contains("EXIT=0"), out);
        assertEquals(1, out.split("abc\n", -1).length - 1, "typed text is echoed once, by the guest\n" + out);
        assertTrue(out.contains(" icanon") && out.contains(" echo "), "the terminal is restored\n" + out);
    }

    @Test
    void theShellOnATerminalCompletesCommandsAndGuestNamesWithTab(@TempDir Path anywhere) throws Exception {
        // script(1) is util-linux's (bsdutils, essential in Debian): its absence is a broken machine, not a skip.
        assertTrue(Files.isExecutable(Path.of("/usr/bin/script")), "no /usr/bin/script: install bsdutils (util-linux)");
        Path keys = anywhere.resolve("keys.sh");
        // "lguest:shu" + Tab must become lguest:shutdown, "tab" + Tab the guest's name "tabbed".
        Files.writeString(keys, "sleep 8; printf 'lguest:start --mem 16M --name tabbed\\r'; sleep 3; printf 'lguest:shu\\t'; sleep 1;"
                + " printf 'tab\\t'; sleep 1; printf '\\r'; sleep 5; printf 'exit\\r'; sleep 3\n");
        String inner = "stty cols 120 rows 40; " + DIST.resolve("bin/lguest");
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "sh " + keys + " | script -qec '" + inner + "' /dev/null")
                .directory(anywhere.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String raw = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), raw);
        String out = raw.replaceAll("\u001B\\[[0-9;?]*[A-Za-z]|\u001B[=>]", "").replace("\r", "");
        assertTrue(!out.contains("Unable to create a system terminal"), "JLine fell back to a dumb terminal:\n" + out);
        assertTrue(out.contains("guest 1 (tabbed) shut down: CRASH: Power down"),
                "the completed line 'lguest:shutdown tabbed' did not run:\n" + out);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
