package org.lguest.devices.net.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.launcher.testing.RealHost;

/**
 * A guest on a host TAP interface, on the real hypervisor and Launcher.
 * Every test makes its own network namespace and keeps all traffic in it:
 * the TAP is made there, the host side is 10.0.0.1/24 there, and the host's
 * programs (a UDP client in python3) run there. Needs root (CAP_NET_ADMIN),
 * /dev/net/tun, iproute2 and python3; without them the tests are skipped,
 * saying which is missing.
 */
@Timeout(300)
class TapNetTest {
    static final Path GUEST_KERNEL = RealHost.GUEST_KERNEL;
    static final Path HOSTILE_KERNEL = GUEST_KERNEL.resolveSibling("hostile-hcallargs.elf");
    static final AtomicInteger SEQ = new AtomicInteger();

    /** A UDP client: sends to the guest's echo port until an answer comes (20 tries, 1 s apart). */
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
            "    print(data.decode(), peer[0], peer[1])",
            "    sys.exit(0 if data == msg else 2)",
            "sys.exit(1)");

    RealHost host;
    LauncherCore launcher;
    NetDriver net;
    String netns;
    String tap;

    @BeforeAll
    static void hostCanMakeTaps() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun on this host");
        assumeTrue("root".equals(System.getProperty("user.name")), "not root: cannot make namespaces and TAPs");
        assumeTrue(run("ip", "-V").exit == 0, "no iproute2 (ip)");
        assumeTrue(run("python3", "-c", "pass").exit == 0, "no python3");
    }

    @BeforeEach
    void setUp() throws Exception {
        host = new RealHost();
        launcher = host.launcher;
        net = new NetDriver();
        launcher.addDriver("net", net, 0);
        int n = SEQ.incrementAndGet();
        netns = "lgtest-" + ProcessHandle.current().pid() + "-" + n;
        tap = "lgtap" + n;
        Result made = run("ip", "netns", "add", netns);
        assertEquals(0, made.exit, "ip netns add " + netns + ": " + made.output);
    }

    @AfterEach
    void tearDown() throws Exception {
        host.close();
        run("ip", "netns", "del", netns);
    }

    record Result(int exit, String output) {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out + "(timed out)");
        }
        return new Result(p.exitValue(), out);
    }

    Result inNetns(String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        c.addAll(List.of(command));
        return run(c.toArray(String[]::new));
    }

    /** The host's side: 10.0.0.1/24 on the TAP, up. */
    void configureHostSide() throws Exception {
        for (String[] c : new String[][] {{"ip", "-n", netns, "addr", "add", "10.0.0.1/24", "dev", tap},
                {"ip", "-n", netns, "link", "set", tap, "up"}, {"ip", "-n", netns, "link", "set", "lo", "up"}}) {
            Result r = run(c);
            assertEquals(0, r.exit, String.join(" ", c) + ": " + r.output);
        }
    }

    Guest start(Path kernel, String cmdline) throws LaunchException {
        return launcher.start(new GuestSpec("tap", 32L << 20, kernel, cmdline,
                List.of(DeviceSpec.net("tap:" + tap + ",netns=" + netns))));
    }

    String consoleOf(Guest g) {
        return host.consoleOf(g);
    }

    void awaitConsole(Guest g, String text) throws InterruptedException {
        host.awaitConsole(g, text, 120);
    }

    /** Types at the guest's console, retrying while the guest has not re-armed its input buffer. */
    void type(Guest g, String line) throws InterruptedException {
        byte[] data = line.getBytes(StandardCharsets.US_ASCII);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!g.input("console", data)) {
            assertTrue(System.nanoTime() < deadline, "the guest's console took no input for 30 s");
            Thread.sleep(10);
        }
    }

    Guest.End awaitEnd(Guest g) throws Exception {
        return host.awaitEnd(g, 120);
    }

    String hostSide() throws Exception {
        return run("ip", "-n", netns, "addr").output + run("ip", "-n", netns, "route").output
                + run("ip", "-n", netns, "-s", "link", "show", tap).output;
    }

    boolean tapExists() throws Exception {
        return run("ip", "-n", netns, "link", "show", tap).exit == 0;
    }

    @Test
    void theHostReachesTheGuestsUdpEchoAndTheGuestPingsTheHost() throws Exception {
        Guest g = start(GUEST_KERNEL, "");
        configureHostSide();
        awaitConsole(g, "net: address 10.0.0.2/24");
        Result echo = inNetns("python3", "-c", UDP_ECHO_CLIENT, "hello from the host");
        assertEquals(0, echo.exit, "the guest's UDP echo should answer 10.0.0.1 over the TAP: " + echo.output
                + "\nguest console:\n" + consoleOf(g) + "\nhost side:\n" + hostSide());
        assertTrue(echo.output.startsWith("hello from the host 10.0.0.2 7"), echo.output);

        type(g, "ping 10.0.0.1 3\n");
        awaitConsole(g, "ping 10.0.0.1: 3 sent");
        assertTrue(consoleOf(g).contains("ping 10.0.0.1: 3 sent, 3 received, 0 lost"),
                "the host's kernel answers the guest's pings:\n" + consoleOf(g));
        Map<String, Long> m = g.deviceInfo().get(0).counters();
        assertTrue(m.getOrDefault("tapFramesIn", 0L) >= 4 && m.getOrDefault("framesFromGuest", 0L) >= 4,
                "both directions counted: " + m);
    }

    @Test
    void theTapAndItsAddressSurviveAnUpdateOfTheDriver() throws Exception {
        Guest g = start(GUEST_KERNEL, "");
        configureHostSide();
        awaitConsole(g, "net: address 10.0.0.2/24");
        assertEquals(0, inNetns("python3", "-c", UDP_ECHO_CLIENT, "before").exit, "echo before the update");

        launcher.removeDriver(net);
        assertTrue(tapExists(), "the interface stays while no driver serves it");
        NetDriver replacement = new NetDriver();
        launcher.addDriver("net", replacement, 0);

        Result after = inNetns("python3", "-c", UDP_ECHO_CLIENT, "after");
        assertEquals(0, after.exit, "echo after the update: " + after.output + "\nguest:\n" + consoleOf(g));
        Result addr = run("ip", "-n", netns, "addr", "show", tap);
        assertTrue(addr.output.contains("10.0.0.1/24"), "the host's address stays on the TAP: " + addr.output);
        assertTrue(g.deviceInfo().get(0).backEnd().contains("made for this guest"),
                "the replacement knows the interface is the guest's: " + g.deviceInfo().get(0).backEnd());

        g.stop();
        awaitEnd(g);
        assertTrue(!tapExists(), "an interface made for the guest goes with it");
    }

    @Test
    void anInterfaceThatExistedIsLeftAfterTheGuest() throws Exception {
        Result made = run("ip", "-n", netns, "tuntap", "add", "dev", tap, "mode", "tap");
        assertEquals(0, made.exit, made.output);
        Guest g = start(GUEST_KERNEL, "poweroff");
        awaitEnd(g);
        assertTrue(tapExists(), "a TAP the host made is the host's: it stays");
    }

    @Test
    void aFrameLongerThanTheMtuKillsTheGuest() throws Exception {
        Guest g = start(HOSTILE_KERNEL, "net-mtu");
        Guest.End end = awaitEnd(g);
        assertEquals(Guest.State.DEAD, end.state(), "console:\n" + consoleOf(g));
        assertTrue(end.reason().contains("network frame of 2000 bytes is longer than the MTU"), end.reason());
        assertTrue(!tapExists(), "the interface made for it went with it");
    }

    @Test
    void aMissingNamespaceFailsTheStartAndLeavesNothing() {
        LaunchException e = assertThrows(LaunchException.class, () -> launcher.start(new GuestSpec("tap", 32L << 20,
                GUEST_KERNEL, "", List.of(DeviceSpec.net("tap:" + tap + ",netns=" + netns + "-absent")))));
        assertTrue(e.getMessage().contains("no network namespace " + netns + "-absent"), e.getMessage());
        assertTrue(host.mmu.allClosed(), "no guest memory may stay allocated");
    }

    @Test
    void aTunInterfaceOfTheSameNameIsRefused() throws Exception {
        Result made = run("ip", "-n", netns, "tuntap", "add", "dev", tap, "mode", "tun");
        assertEquals(0, made.exit, made.output);
        LaunchException e = assertThrows(LaunchException.class, () -> start(GUEST_KERNEL, ""));
        assertNotEquals(-1, e.getMessage().indexOf(tap), e.getMessage());
        assertTrue(e.getMessage().contains("not a TAP interface"), e.getMessage());
    }
}
