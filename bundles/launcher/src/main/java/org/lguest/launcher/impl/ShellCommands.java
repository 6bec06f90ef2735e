package org.lguest.launcher.impl;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.lguest.lg.GuestInfo;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The Gogo commands of the Launcher: {@code lguest:start}, {@code list}, {@code stop}, {@code console}, {@code input}, {@code devices}. */
@Component(service = ShellCommands.class, property = {
    "osgi.command.scope=lguest",
    "osgi.command.function=start",
    "osgi.command.function=list",
    "osgi.command.function=stop",
    "osgi.command.function=console",
    "osgi.command.function=input",
    "osgi.command.function=devices",
})
public final class ShellCommands {
    private final Guests guests;
    private final Path defaultKernel;

    @Activate
    public ShellCommands(@Reference Guests guests, BundleContext context) {
        this(guests, defaultKernel(context::getProperty));
    }

    ShellCommands(Guests guests, Path defaultKernel) {
        this.guests = guests;
        this.defaultKernel = defaultKernel;
    }

    /** The kernel of {@code lguest.kernel}, else the bundled guest under {@code lguest.home}/kernels. */
    static Path defaultKernel(java.util.function.Function<String, String> properties) {
        String kernel = properties.apply("lguest.kernel");
        if (kernel != null && !kernel.isBlank()) {
            return Path.of(kernel);
        }
        String home = properties.apply("lguest.home");
        return Path.of(home == null ? "." : home, "kernels", "lguest-guest.elf");
    }

    @Descriptor("starts a guest with the bundled kernel; prints its id")
    public int start(
            @Descriptor("guest memory (for example 32M, 64M)") @Parameter(names = {"-m", "--mem"}, absentValue = "64M") String mem,
            @Descriptor("kernel command line") @Parameter(names = {"-c", "--cmdline"}, absentValue = "") String cmdline,
            @Descriptor("a name for listings") @Parameter(names = {"-n", "--name"}, absentValue = "") String name,
            @Descriptor("a disk: FILE, FILE,ro or memory:SIZE") @Parameter(names = {"-d", "--disk"}, absentValue = "") String disk,
            @Descriptor("a network: lan:NAME (between guests) or tap:IFNAME[,netns=NS] (the host)") @Parameter(names = {"--net"}, absentValue = "") String net,
            @Descriptor("the console: buffer (kept for lguest:console) or tcp:PORT (loopback)") @Parameter(names = {"--console"}, absentValue = "buffer") String console)
            throws LaunchException {
        return start(mem, cmdline, name, disk, net, console, defaultKernel.toString());
    }

    @Descriptor("starts a guest; prints its id")
    public int start(
            @Descriptor("guest memory (for example 32M, 64M)") @Parameter(names = {"-m", "--mem"}, absentValue = "64M") String mem,
            @Descriptor("kernel command line") @Parameter(names = {"-c", "--cmdline"}, absentValue = "") String cmdline,
            @Descriptor("a name for listings") @Parameter(names = {"-n", "--name"}, absentValue = "") String name,
            @Descriptor("a disk: FILE, FILE,ro or memory:SIZE") @Parameter(names = {"-d", "--disk"}, absentValue = "") String disk,
            @Descriptor("a network: lan:NAME (between guests) or tap:IFNAME[,netns=NS] (the host)") @Parameter(names = {"--net"}, absentValue = "") String net,
            @Descriptor("the console: buffer (kept for lguest:console) or tcp:PORT (loopback)") @Parameter(names = {"--console"}, absentValue = "buffer") String console,
            @Descriptor("the guest kernel (an i386 ELF with the lguest marker)") String kernel) throws LaunchException {
        long bytes;
        try {
            bytes = GuestSpec.parseMemory(mem);
        } catch (IllegalArgumentException e) {
            throw new LaunchException(e.getMessage());
        }
        Path path = Path.of(kernel);
        String guestName = name.isBlank() ? path.getFileName().toString().replaceFirst("\\.elf$", "") : name;
        List<DeviceSpec> devices = new java.util.ArrayList<>();
        if (!disk.isBlank()) {
            devices.add(DeviceSpec.disk(disk));
        }
        if (!net.isBlank()) {
            devices.add(DeviceSpec.net(net));
        }
        devices.add(DeviceSpec.console(console));
        Guest g = guests.start(new GuestSpec(guestName, bytes, path, cmdline, devices));
        return g.id();
    }

    @Descriptor("lists the guests: id, state, memory, uptime, exits, hypercalls")
    public String list() {
        StringBuilder out = new StringBuilder(String.format("%-4s %-14s %-8s %-10s %10s %12s  %s%n",
                "ID", "NAME", "MEMORY", "UPTIME", "EXITS", "HYPERCALLS", "STATE"));
        for (Guest g : guests.list()) {
            GuestInfo info = g.info().orElse(null);
            out.append(String.format("%-4d %-14s %-8s %-10s %10s %12s  %s%n",
                    g.id(), g.spec().name(), GuestSpec.formatMemory(g.spec().memoryBytes()), format(g.uptime()),
                    info == null ? "-" : Long.toString(info.exits()), info == null ? "-" : Long.toString(info.hypercalls()),
                    stateText(g)));
        }
        return out.toString();
    }

    static String stateText(Guest g) {
        return switch (g.state()) {
            case RUNNING -> "running";
            case POWERED_OFF -> "powered off";
            case STOPPED -> "stopped";
            case DEAD -> "dead: " + g.ending().toCompletableFuture().getNow(new Guest.End(Guest.State.DEAD, "?")).reason();
        };
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return String.format("%d.%ds", s, d.toMillisPart() / 100);
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm", s / 3600, s / 60 % 60);
    }

    @Descriptor("stops a guest and forgets it")
    public String stop(@Descriptor("guest id") int id) {
        Guest g = guests.get(id).orElseThrow(() -> new IllegalArgumentException("no guest " + id));
        guests.remove(id);
        return "guest " + id + " " + g.state().name().toLowerCase().replace('_', ' ');
    }

    @Descriptor("shows a guest's console output (its most recent part)")
    public String console(@Descriptor("guest id") int id) {
        Guest g = guests.get(id).orElseThrow(() -> new IllegalArgumentException("no guest " + id));
        return g.transcript("console").orElse("");
    }

    @Descriptor("types a line at a guest's console (TEXT and a newline)")
    public String input(@Descriptor("guest id") int id, @Descriptor("the text") String text) {
        Guest g = guests.get(id).orElseThrow(() -> new IllegalArgumentException("no guest " + id));
        if (!g.input("console", (text + "\n").getBytes(StandardCharsets.UTF_8))) {
            throw new IllegalStateException("guest " + id + ": its console takes no input now (no driver, or the guest ended)");
        }
        return null;
    }

    @Descriptor("shows a guest's devices and their counters (the back end's and the Launcher's)")
    public String devices(@Descriptor("guest id") int id) {
        Guest g = guests.get(id).orElseThrow(() -> new IllegalArgumentException("no guest " + id));
        StringBuilder out = new StringBuilder();
        for (Guest.DeviceInfo device : g.deviceInfo()) {
            out.append(device.name()).append("  ").append(device.backEnd()).append('\n');
            out.append(String.format("  %-26s %s%n", "driver", device.driver()));
            device.counters().forEach((name, value) -> out.append(String.format("  %-26s %d%n", name, value)));
        }
        return out.toString();
    }
}
