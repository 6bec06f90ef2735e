package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.testing.FakeLguest;
import org.lguest.launcher.testing.TrackingMmu;

/** The argument handling of {@code bin/lguest run} and the shell's formats. */
class CommandsTest {
    static final Path DEFAULT = Path.of("/dist/kernels/lguest-guest.elf");

    @Test
    void runOptions() {
        RunCommand.Options o = RunCommand.parse(new String[] {"--mem", "32M", "--cmdline", "selftest poweroff"}, DEFAULT);
        assertEquals(new RunCommand.Options(32L << 20, "selftest poweroff", DEFAULT), o);
        o = RunCommand.parse(new String[] {"--mem=1G", "--cmdline=a b", "/k.elf"}, DEFAULT);
        assertEquals(new RunCommand.Options(1L << 30, "a b", Path.of("/k.elf")), o);
        o = RunCommand.parse(new String[0], DEFAULT);
        assertEquals(new RunCommand.Options(64L << 20, "", DEFAULT), o);
        assertEquals(false, o.stats(), "no figures unless asked");
        assertEquals(true, RunCommand.parse(new String[] {"--stats"}, DEFAULT).stats(), "--stats asks for the guest's figures");
        o = RunCommand.parse(new String[] {"--disk", "a.img", "--disk=memory:1M", "--console", "tcp:4555"}, DEFAULT);
        assertEquals(List.of(DeviceSpec.disk("a.img"), DeviceSpec.disk("memory:1M"), DeviceSpec.console("tcp:4555")),
                o.devices(), "the disks in order, the console last");
        o = RunCommand.parse(new String[] {"--net", "tap:t0,netns=n", "--disk", "a.img", "--net=lan:x"}, DEFAULT);
        assertEquals(List.of(DeviceSpec.net("tap:t0,netns=n"), DeviceSpec.disk("a.img"), DeviceSpec.net("lan:x"),
                DeviceSpec.console("stdio")), o.devices(), "disks and networks in the order given");
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parse(new String[] {"--mem"}, DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parse(new String[] {"--verbose"}, DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parse(new String[] {"a", "b"}, DEFAULT));
    }

    @Test
    void runTakesSeveralGuestsSplitAtAnd() {
        List<RunCommand.Options> all = RunCommand.parseAll(new String[] {"--net", "lan:a", "--cmdline", "net recv",
            "--and", "--net", "lan:a", "/k2.elf", "--and", "--console", "stdio"}, DEFAULT);
        assertEquals(3, all.size());
        assertEquals("stdio", all.get(0).console(), "the first guest's console is the terminal");
        assertEquals("buffer", all.get(1).console(), "later guests keep theirs in a buffer");
        assertEquals(Path.of("/k2.elf"), all.get(1).kernel());
        assertEquals("stdio", all.get(2).console(), "unless --console says else");
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parseAll(new String[] {"--and", "x"}, DEFAULT));
    }

    @Test
    void runReportsBadArgumentsAndLaunchFailuresOnStderr() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RunCommand run = new RunCommand(new LauncherCore(TrackingMmu::new, FakeLguest::new), Path.of("/no/such/kernel.elf"),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, run.apply(new String[] {"--mem", "lots"}));
        assertEquals(1, run.apply(new String[] {"--mem", "1M"}));
        assertEquals(1, run.apply(new String[] {"--mem", "0"}), "a size out of range is the one rule's (1), not a usage error");
        assertEquals(1, run.apply(new String[] {"--mem", "3G"}));
        assertEquals(1, run.apply(new String[0]));
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("bad memory size 'lots'") && text.contains(RunCommand.USAGE), text);
        assertTrue(text.contains("guest memory 1M: a guest takes 16M to 2G, in whole 4K pages (--mem)"), text);
        assertTrue(text.contains("guest memory 0: a guest takes 16M to 2G"), text);
        assertTrue(text.contains("guest memory 3G: a guest takes 16M to 2G"), text);
        assertTrue(text.contains("no kernel at /no/such/kernel.elf"), text);
    }

    @Test
    void theKernelAndConfFoldersComeFromTheLaunchersConfigurationThenFollowTheHome() {
        Map<String, String> framework = Map.of("lguest.home", "/h");
        LauncherPaths paths = new LauncherPaths(framework::get, Map.of("kernel", "/k/guest.elf", "conf", "/etc/lguest"));
        assertEquals(Path.of("/k/guest.elf"), paths.kernel());
        assertEquals(Path.of("/etc/lguest"), paths.conf());
        paths.apply(Map.of());
        assertEquals(Path.of("/h/kernels/lguest-guest.elf"), paths.kernel(), "without a configuration: the home's bundled guest");
        assertEquals(Path.of("/h/conf"), paths.conf());
        paths.apply(Map.of("kernel", "/other.elf"));
        assertEquals(Path.of("/other.elf"), paths.kernel(), "an edit applies to the next command");
    }

    @Test
    void uptimesAreShort() {
        assertEquals("4.2s", ShellCommands.format(Duration.ofMillis(4250)));
        assertEquals("2m05s", ShellCommands.format(Duration.ofSeconds(125)));
        assertEquals("1h01m", ShellCommands.format(Duration.ofSeconds(3660)));
    }
}
