package org.lguest.devices.net.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.testing.RealHost;

/**
 * The unmodified Linux 4.9 of the shared test data on virtio-net: two
 * guests on one LAN (a {@link LanSwitch}) ping each other, and the host
 * fetches a page from a guest's busybox httpd over a TAP device in a
 * network namespace.
 */
@Timeout(600)
class LinuxNetTest {
    static final Path LINUX = Path.of(System.getProperty("lguest.linux.dir", "../../../shared/linux"));
    static final AtomicInteger SEQ = new AtomicInteger();

    RealHost host;
    String netns;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isRegularFile(LINUX.resolve("vmlinux")), "no Linux test data at " + LINUX.toAbsolutePath());
        host = new RealHost();
        host.launcher.addDriver("net", new NetDriver(), 0);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (host != null) {
            host.close();
        }
        if (netns != null) {
            TapNetTest.run("ip", "netns", "del", netns);
        }
    }

    Guest boot(String name, String net) throws Exception {
        return host.launcher.start(new GuestSpec(name, 64L << 20, LINUX.resolve("vmlinux"), "",
                List.of(DeviceSpec.net(net)), LINUX.resolve("initramfs.cpio.gz")));
    }


    @Test
    void twoLinuxGuestsOnOneLanPingEachOther() throws Exception {
        String lan = "lan:ping" + SEQ.incrementAndGet();
        Guest a = boot("a", lan);
        Guest b = boot("b", lan);
        host.awaitConsole(a, "/ # ", 180);
        host.awaitConsole(b, "/ # ", 180);
        host.type(b, "ip addr add 10.9.0.2/24 dev eth0 && ip link set eth0 up && echo B-UP-$((6*7))\n");
        host.awaitConsole(b, "B-UP-42", 60); // the output, not the echo of the typed line
        host.type(a, "ip addr add 10.9.0.1/24 dev eth0 && ip link set eth0 up && ping -c 3 -W 5 10.9.0.2 && echo PING-OK; poweroff -f\n");
        Guest.End endA = host.awaitEnd(a, 240);
        String console = host.consoleOf(a);
        assertTrue(console.contains("3 packets transmitted, 3 packets received"), "a pinged b\n" + console
                + "\n--- b ---\n" + host.consoleOf(b));
        assertTrue(console.contains("PING-OK"), console);
        assertEquals(Guest.State.POWERED_OFF, endA.state(), endA.reason());
        host.type(b, "poweroff -f\n");
        assertEquals(Guest.State.POWERED_OFF, host.awaitEnd(b, 120).state());
    }

    @Test
    void theHostFetchesAPageFromTheGuestsHttpdOverTap() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun on this host");
        assumeTrue("root".equals(System.getProperty("user.name")), "not root: cannot make namespaces and TAPs");
        assumeTrue(TapNetTest.run("ip", "-V").exit() == 0, "no iproute2 (ip)");
        assumeTrue(TapNetTest.run("python3", "-c", "pass").exit() == 0, "no python3");
        int n = SEQ.incrementAndGet();
        netns = "lglinux-" + ProcessHandle.current().pid() + "-" + n;
        String tap = "lgltap" + n;
        assertEquals(0, TapNetTest.run("ip", "netns", "add", netns).exit());
        Guest g = boot("web", "tap:" + tap + ",netns=" + netns);
        for (String[] c : new String[][] {{"ip", "-n", netns, "addr", "add", "10.8.0.1/24", "dev", tap},
                {"ip", "-n", netns, "link", "set", tap, "up"}, {"ip", "-n", netns, "link", "set", "lo", "up"}}) {
            TapNetTest.Result r = TapNetTest.run(c);
            assertEquals(0, r.exit(), String.join(" ", c) + ": " + r.output());
        }
        host.awaitConsole(g, "/ # ", 180);
        host.type(g, "mkdir -p /www && echo served-by-linux > /www/index.html && ip addr add 10.8.0.2/24 dev eth0"
                + " && ip link set eth0 up && httpd -p 80 -h /www && echo HTTPD-UP-$((6*7))\n");
        host.awaitConsole(g, "HTTPD-UP-42", 60); // the output, not the echo of the typed line
        TapNetTest.Result fetched = TapNetTest.run("ip", "netns", "exec", netns, "python3", "-c",
                "import urllib.request; print(urllib.request.urlopen('http://10.8.0.2/index.html', timeout=30).read().decode())");
        assertEquals(0, fetched.exit(), fetched.output() + "\n" + host.consoleOf(g));
        assertTrue(fetched.output().contains("served-by-linux"), fetched.output());
        host.type(g, "poweroff -f\n");
        assertEquals(Guest.State.POWERED_OFF, host.awaitEnd(g, 120).state());
    }
}
