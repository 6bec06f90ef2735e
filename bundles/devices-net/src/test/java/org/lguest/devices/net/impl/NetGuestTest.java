package org.lguest.devices.net.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
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
 * Guests on an inter-guest LAN, on the real hypervisor and Launcher (no
 * OSGi): the guest kernel's ping, UDP echo and bulk send across the shared
 * peer map and the DmaRouter.
 */
@Timeout(300)
class NetGuestTest {
    RealHost host;
    LauncherCore launcher;

    @BeforeEach
    void setUp() {
        host = new RealHost();
        launcher = host.launcher;
        launcher.addDriver("net", new NetDriver(), 0);
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    Guest start(String name, String net, String cmdline) throws LaunchException {
        return launcher.start(new GuestSpec(name, 32L << 20, RealHost.GUEST_KERNEL, cmdline, List.of(DeviceSpec.net(net))));
    }

    String consoleOf(Guest g) {
        return host.consoleOf(g);
    }

    Guest.End awaitEnd(Guest g) throws Exception {
        return host.awaitEnd(g, 240);
    }

    void awaitConsole(Guest g, String text) throws InterruptedException {
        host.awaitConsole(g, text, 120);
    }

    @Test
    void twoGuestsOnALanPingEachOther() throws Exception {
        Guest a = start("a", "lan:t1", "");
        awaitConsole(a, "net: address 10.0.0.1/24");
        Guest b = start("b", "lan:t1", "ping 10.0.0.1 5 poweroff");
        Guest.End end = awaitEnd(b);
        String out = consoleOf(b);
        assertTrue(end.poweredOff(), "the pinging guest should power off; it ended " + end + "; console:\n" + out);
        assertTrue(out.contains("net: address 10.0.0.2/24"), "the second guest on the LAN takes slot 1:\n" + out);
        assertTrue(out.contains("ping 10.0.0.1: 5 sent, 5 received, 0 lost"), "every echo should come back:\n" + out);
    }

    @Test
    void aBulkSendArrivesWhole() throws Exception {
        Guest receiver = start("rx", "lan:t2", "net recv poweroff");
        awaitConsole(receiver, "net recv: waiting");
        Guest sender = start("tx", "lan:t2", "net send 2 10.0.0.1 poweroff");
        Guest.End rxEnd = awaitEnd(receiver);
        Guest.End txEnd = awaitEnd(sender);
        String out = consoleOf(receiver);
        assertTrue(rxEnd.poweredOff() && txEnd.poweredOff(), "both should power off: " + rxEnd + ", " + txEnd
                + "; receiver:\n" + out + "\nsender:\n" + consoleOf(sender));
        assertTrue(out.contains("net recv: 1425 datagrams, 2048 KB"), "2 MiB in 1472-byte datagrams (the last one shorter):\n" + out);
        assertTrue(out.contains(", 0 lost"), "nothing may be lost when the sender waits for buffers:\n" + out);
    }

    @Test
    void theGuestsSelftestChecksItsNetworkDevice() throws Exception {
        Guest a = start("a", "lan:t5", "selftest poweroff");
        Guest.End end = awaitEnd(a);
        String out = consoleOf(a);
        assertTrue(end.poweredOff(), end + "\n" + out);
        assertTrue(out.contains("PASS net-device") && out.contains(" 0 failed"), out);
    }

    @Test
    void aGuestLeavingTheLanFreesItsSlot() throws Exception {
        Guest a = start("a", "lan:t3", "poweroff");
        awaitEnd(a);
        assertEquals(0, launcher.sharedMembers("lan:t3"), "the LAN should be forgotten with its last guest");
        Guest b = start("b", "lan:t3", "poweroff");
        awaitEnd(b);
        assertTrue(consoleOf(b).contains("net: address 10.0.0.1/24"), "the slot is free again:\n" + consoleOf(b));
    }

    @Test
    void pingWithNobodyThereCrashesWithTheAddress() throws Exception {
        Guest a = start("a", "lan:t4", "ping 10.0.0.9 1 poweroff");
        Guest.End end = awaitEnd(a);
        assertEquals(Guest.State.DEAD, end.state(), "a ping without an answer fails the run; console:\n" + consoleOf(a));
        assertTrue(end.reason().contains("10.0.0.9"), "the reason names the address: " + end.reason());
    }

    @Test
    void aBadAttachmentFailsTheStartWithTheSyntax() {
        LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class,
                () -> start("bad", "wifi:home", ""));
        assertTrue(e.getMessage().contains("lan:NAME or tap:IFNAME"), e.getMessage());
        assertTrue(host.mmu.allClosed(), "nothing may stay allocated after a refused start");
    }
}
