package org.lguest.devices.net.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.impl.LauncherCore;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.impl.DmaRouterImpl;
import org.lguest.lg.impl.LguestControlComponent;
import org.lguest.lg.impl.ParavirtOpsImpl;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * Guests on an inter-guest LAN, on the real hypervisor and Launcher (no
 * OSGi): the guest kernel's ping, UDP echo and bulk send across the shared
 * peer map and the DmaRouter.
 */
@Timeout(300)
class NetGuestTest {
    static final Path GUEST_KERNEL = Path.of(System.getProperty("lguest.guest.kernel",
            "../../guest/target/lguest-guest.elf"));

    TrackingMmu mmu;
    LguestControlComponent control;
    RecordingDriver console;
    LauncherCore launcher;

    @BeforeEach
    void setUp() {
        mmu = new TrackingMmu();
        DmaRouterImpl router = new DmaRouterImpl();
        control = new LguestControlComponent(mmu, new SwitcherComponent(new CpuFactoryImpl()), new ParavirtOpsImpl(router),
                router);
        console = new RecordingDriver();
        launcher = new LauncherCore(() -> mmu, () -> control);
        launcher.addDriver("console", console, 0);
        launcher.addDriver("net", new NetDriver(), 0);
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
        control.deactivate();
    }

    Guest start(String name, String net, String cmdline) throws LaunchException {
        return launcher.start(new GuestSpec(name, 32L << 20, GUEST_KERNEL, cmdline, List.of(DeviceSpec.net(net))));
    }

    String consoleOf(Guest g) {
        StringBuilder sb = new StringBuilder();
        for (RecordingDriver.BackEnd b : console.opened) {
            if (b.context.guestId() == g.id()) {
                sb.append(b.output);
            }
        }
        return sb.toString();
    }

    Guest.End awaitEnd(Guest g) throws Exception {
        try {
            return g.ending().toCompletableFuture().get(240, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("guest " + g.id() + " did not end; console:\n" + consoleOf(g), e);
        }
    }

    void awaitConsole(Guest g, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!consoleOf(g).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("guest " + g.id() + " never printed \"" + text + "\"; console:\n" + consoleOf(g));
            }
            Thread.sleep(20);
        }
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
        assertTrue(mmu.allClosed(), "nothing may stay allocated after a refused start");
    }
}
