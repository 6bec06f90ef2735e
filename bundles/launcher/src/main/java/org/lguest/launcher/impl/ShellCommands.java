package org.lguest.launcher.impl;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.lguest.lg.GuestInfo;
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
    "osgi.command.function=define",
    "osgi.command.function=undefine",
    "osgi.command.function=shutdown",
    "osgi.command.function=reboot",
    "osgi.command.function=suspend",
    "osgi.command.function=resume",
    "osgi.command.function=destroy",
    "osgi.command.function=info",
    "osgi.command.function=stats",
})
public final class ShellCommands {
    private final Guests guests;
    /** The default kernel and the folder lguest:define writes to (configuration org.lguest.launcher). */
    private final LauncherPaths paths;
    /** The guests defined as configurations (null without them, in tests). */
    private final Definitions definitions;

    @Activate
    public ShellCommands(@Reference Guests guests, @Reference Definitions definitions, @Reference LauncherPaths paths) {
        this.guests = guests;
        this.paths = paths;
        this.definitions = definitions;
    }

    ShellCommands(Guests guests, Path defaultKernel) {
        this.guests = guests;
        this.paths = new LauncherPaths(defaultKernel, null);
        this.definitions = null;
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
        return start(mem, cmdline, name, disk, net, console, "", paths.kernel().toString());
    }

    /**
     * What Gogo calls when no other {@code start} fits the words: an option
     * given without its value ({@code lguest:start --mem}), which Gogo itself
     * would report as "Cannot coerce start(Token)".
     */
    @Descriptor("(any other words: says which option lacks its value)")
    public int start(@Descriptor("the words typed") String[] words) {
        java.util.Set<String> takesValue = java.util.Set.of("-m", "--mem", "-c", "--cmdline", "-n", "--name", "-d", "--disk",
                "--net", "--console", "--initrd");
        if (words.length > 0 && takesValue.contains(words[words.length - 1])) {
            throw new IllegalArgumentException("lguest:start: " + words[words.length - 1] + " needs a value (help lguest:start)");
        }
        throw new IllegalArgumentException("lguest:start: cannot read '" + String.join(" ", words)
                + "': options with a value, then at most one kernel or defined guest (help lguest:start)");
    }

    @Descriptor("starts a guest; prints its id")
    public int start(
            @Descriptor("guest memory (for example 32M, 64M)") @Parameter(names = {"-m", "--mem"}, absentValue = "64M") String mem,
            @Descriptor("kernel command line") @Parameter(names = {"-c", "--cmdline"}, absentValue = "") String cmdline,
            @Descriptor("a name for listings") @Parameter(names = {"-n", "--name"}, absentValue = "") String name,
            @Descriptor("a disk: FILE, FILE,ro or memory:SIZE") @Parameter(names = {"-d", "--disk"}, absentValue = "") String disk,
            @Descriptor("a network: lan:NAME (between guests) or tap:IFNAME[,netns=NS] (the host)") @Parameter(names = {"--net"}, absentValue = "") String net,
            @Descriptor("the console: buffer (kept for lguest:console) or tcp:PORT (loopback)") @Parameter(names = {"--console"}, absentValue = "buffer") String console,
            @Descriptor("an initrd for a Linux 4.x kernel") @Parameter(names = {"--initrd"}, absentValue = "") String initrd,
            @Descriptor("the guest kernel: a 2.6.23-ABI ELF with the lguest marker, or a Linux 4.x vmlinux or bzImage") String kernel)
            throws LaunchException {
        if (definitions != null && !kernel.contains("/")) {
            if (definitions.get(kernel).isPresent()) {
                return definitions.start(kernel).id(); // a defined guest, started as its configuration says
            }
            if (!java.nio.file.Files.exists(Path.of(kernel))) {
                throw new LaunchException("no guest defined as '" + kernel + "' (lguest:define, or conf/"
                        + GuestDefinition.FACTORY_PID + "-" + kernel + ".cfg), and no kernel file " + kernel);
            }
        }
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
        Guest g = guests.start(new GuestSpec(guestName, bytes, path, cmdline, devices,
                initrd.isBlank() ? null : Path.of(initrd)));
        return g.id();
    }

    @Descriptor("defines a guest of the default kernel (configuration org.lguest.launcher, kernel) as a configuration")
    public String define(
            @Descriptor("guest memory (for example 32M, 64M)") @Parameter(names = {"-m", "--mem"}, absentValue = "64M") String mem,
            @Descriptor("kernel command line") @Parameter(names = {"-c", "--cmdline"}, absentValue = "") String cmdline,
            @Descriptor("disks: FILE, FILE,ro or memory:SIZE, separated by ;") @Parameter(names = {"-d", "--disk"}, absentValue = "") String disk,
            @Descriptor("networks: lan:NAME or tap:IFNAME[,netns=NS], separated by ;") @Parameter(names = {"--net"}, absentValue = "") String net,
            @Descriptor("the console: buffer or tcp:PORT") @Parameter(names = {"--console"}, absentValue = "buffer") String console,
            @Descriptor("start it whenever the platform runs") @Parameter(names = {"--autostart"}, presentValue = "true", absentValue = "false") boolean autostart,
            @Descriptor("the guest's name") String name) throws java.io.IOException {
        return define(mem, cmdline, disk, net, console, "", autostart, name, paths.kernel().toString());
    }

    @Descriptor("defines a guest as a configuration (conf/org.lguest.guest-NAME.cfg), started by lguest:start NAME or, with --autostart, whenever the platform runs")
    public String define(
            @Descriptor("guest memory (for example 32M, 64M)") @Parameter(names = {"-m", "--mem"}, absentValue = "64M") String mem,
            @Descriptor("kernel command line") @Parameter(names = {"-c", "--cmdline"}, absentValue = "") String cmdline,
            @Descriptor("disks: FILE, FILE,ro or memory:SIZE, separated by ;") @Parameter(names = {"-d", "--disk"}, absentValue = "") String disk,
            @Descriptor("networks: lan:NAME or tap:IFNAME[,netns=NS], separated by ;") @Parameter(names = {"--net"}, absentValue = "") String net,
            @Descriptor("the console: buffer or tcp:PORT") @Parameter(names = {"--console"}, absentValue = "buffer") String console,
            @Descriptor("an initrd for a Linux 4.x kernel") @Parameter(names = {"--initrd"}, absentValue = "") String initrd,
            @Descriptor("start it whenever the platform runs") @Parameter(names = {"--autostart"}, presentValue = "true", absentValue = "false") boolean autostart,
            @Descriptor("the guest's name") String name,
            @Descriptor("the guest kernel") String kernel) throws java.io.IOException {
        Path confDir = paths.conf();
        if (confDir == null) {
            throw new IllegalStateException("no configuration folder");
        }
        java.util.Map<String, Object> properties = new java.util.LinkedHashMap<>();
        properties.put("name", name);
        properties.put("kernel", Path.of(kernel).toAbsolutePath().toString());
        properties.put("memory", mem);
        properties.put("cmdline", cmdline);
        properties.put("initrd", initrd.isBlank() ? "" : Path.of(initrd).toAbsolutePath().toString());
        properties.put("disks", disk);
        properties.put("nets", net);
        properties.put("console", console);
        properties.put("autostart", Boolean.toString(autostart));
        Path file = confDir.resolve(GuestDefinition.FACTORY_PID + "-" + name + ".cfg");
        properties.put("felix.fileinstall.filename", file.toUri().toString());
        GuestDefinition d = GuestDefinition.parse(properties, paths.kernel()); // a bad one fails here, naming the field
        java.nio.file.Files.createDirectories(confDir);
        java.nio.file.Files.writeString(file, d.toFile());
        return "guest " + name + " defined in " + file;
    }

    @Descriptor("removes a guest's configuration: the guest stops and is forgotten")
    public String undefine(@Descriptor("the guest's name") String name) throws java.io.IOException {
        Path confDir = paths.conf();
        if (confDir == null) {
            throw new IllegalStateException("no configuration folder");
        }
        Path file = confDir.resolve(GuestDefinition.FACTORY_PID + "-" + name + ".cfg");
        if (!java.nio.file.Files.deleteIfExists(file)) {
            throw new IllegalArgumentException("no guest defined as '" + name + "' in " + confDir);
        }
        return "guest " + name + " undefined (" + file + " removed)";
    }

    /** The guest a command names: an id, or a name (the newest guest of that name). */
    Guest named(String idOrName) {
        if (idOrName.matches("\\d+")) {
            return guests.get(Integer.parseInt(idOrName))
                    .orElseThrow(() -> new IllegalArgumentException("no guest " + idOrName));
        }
        Guest found = null;
        for (Guest g : guests.list()) {
            if (g.spec().name().equals(idOrName) && (found == null || g.id() > found.id())) {
                found = g;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException("no guest named '" + idOrName + "' runs (lguest:list --all)");
        }
        return found;
    }

    @Descriptor("asks a guest to shut down (virsh shutdown): a 2.6.23 guest through its power button, a Linux guest by"
            + " typing poweroff on its console; waits for it to power off, failing after the timeout (lguest:destroy ends it at once)")
    public String shutdown(
            @Descriptor("seconds to wait for the guest to power off") @Parameter(names = {"-t", "--timeout"}, absentValue = "60") int timeout,
            @Descriptor("guest id or name") String guest) throws InterruptedException {
        Guest g = named(guest);
        String how = g.requestShutdown(false).orElseThrow(() -> new IllegalStateException(
                "guest " + g.id() + " has ended: " + stateText(g)));
        Guest.End end = awaitEnd(g, timeout, "shut down", how);
        return "guest " + g.id() + " (" + g.spec().name() + ") shut down: " + end.reason();
    }

    @Descriptor("asks a guest to reboot (virsh reboot), as shutdown does, and waits until it runs again (under a new id)")
    public String reboot(
            @Descriptor("seconds to wait for the guest to go down and come back") @Parameter(names = {"-t", "--timeout"}, absentValue = "60") int timeout,
            @Descriptor("guest id or name") String guest) throws InterruptedException {
        Guest g = named(guest);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(timeout);
        String how = g.requestShutdown(true).orElseThrow(() -> new IllegalStateException(
                "guest " + g.id() + " has ended: " + stateText(g)));
        awaitEnd(g, timeout, "reboot", how);
        while (System.nanoTime() < deadline) {
            for (Guest again : guests.list()) {
                if (again.id() > g.id() && again.spec().name().equals(g.spec().name()) && again.state() == Guest.State.RUNNING) {
                    return "guest " + g.id() + " (" + g.spec().name() + ") rebooted: now guest " + again.id();
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("guest " + g.id() + " (" + g.spec().name() + ") went down for the reboot but did not"
                + " come back within " + timeout + " s (the platform log says why)");
    }

    /** Waits for a guest asked to go down; the timeout is a clear failure that names the way out. */
    private static Guest.End awaitEnd(Guest g, int timeout, String what, String how) throws InterruptedException {
        try {
            return g.ending().toCompletableFuture().get(timeout, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(String.format("guest %d (%s) did not %s within %d s of the request (%s): it"
                    + " ignores it or is busy; lguest:destroy %d ends it at once", g.id(), g.spec().name(), what, timeout, how,
                    g.id()));
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("guest " + g.id() + ": " + e.getCause(), e.getCause());
        }
    }

    @Descriptor("pauses a guest's processor (its memory, devices and timers are kept; input waits)")
    public String suspend(@Descriptor("guest id or name") String guest) {
        Guest g = named(guest);
        if (!g.suspend()) {
            throw new IllegalStateException("guest " + g.id() + " has ended: " + stateText(g));
        }
        return "guest " + g.id() + " (" + g.spec().name() + ") paused";
    }

    @Descriptor("lets a paused guest run again")
    public String resume(@Descriptor("guest id or name") String guest) {
        Guest g = named(guest);
        if (!g.resume()) {
            throw new IllegalStateException("guest " + g.id() + " is not paused: " + stateText(g));
        }
        return "guest " + g.id() + " (" + g.spec().name() + ") running";
    }

    @Descriptor("ends a guest at once (virsh destroy) and removes it from the list; a defined guest stays defined")
    public String destroy(@Descriptor("guest id or name") String guest) {
        Guest g = named(guest);
        guests.remove(g.id());
        return "guest " + g.id() + " (" + g.spec().name() + ") destroyed";
    }

    @Descriptor("a guest's definition and state: kernel, memory, command line, devices, uptime")
    public String info(@Descriptor("guest id or name") String guest) {
        Guest g = named(guest);
        StringBuilder out = new StringBuilder();
        out.append(String.format("%-12s %d%n", "Id:", g.id()));
        out.append(String.format("%-12s %s%n", "Name:", g.spec().name()));
        out.append(String.format("%-12s %s%n", "State:", stateText(g)));
        out.append(String.format("%-12s %s%n", "Kernel:", g.spec().kernel()));
        if (g.spec().initrd() != null) {
            out.append(String.format("%-12s %s%n", "Initrd:", g.spec().initrd()));
        }
        out.append(String.format("%-12s %s%n", "Memory:", GuestSpec.formatMemory(g.spec().memoryBytes())));
        g.info().filter(i -> i.touchedBytes() >= 0).ifPresent(i -> out.append(String.format("%-12s %d KiB%n", "Used memory:", i.touchedBytes() >> 10)));
        out.append(String.format("%-12s %s%n", "Cmdline:", g.spec().commandLine()));
        out.append(String.format("%-12s %s%n", "Uptime:", format(g.uptime())));
        for (Guest.DeviceInfo d : g.deviceInfo()) {
            out.append(String.format("%-12s %s  %s%n", "Device:", d.name(), d.backEnd()));
        }
        return out.toString();
    }

    @Descriptor("a guest's counters in the shape of virsh domstats: state, cpu, exits, hypercalls, per device")
    public String stats(@Descriptor("guest id or name") String guest) {
        Guest g = named(guest);
        StringBuilder out = new StringBuilder("Domain: '" + g.spec().name() + "'\n");
        out.append("  state.state=").append(stateText(g)).append('\n');
        out.append("  uptime.ms=").append(g.uptime().toMillis()).append('\n');
        g.info().ifPresent(info -> {
            out.append("  cpu.instructions=").append(info.instructions()).append('\n');
            out.append("  cpu.exits=").append(info.exits()).append('\n');
            out.append("  cpu.hypercalls=").append(info.hypercalls()).append('\n');
            out.append("  cpu.interrupts=").append(info.interrupts()).append('\n');
            out.append("  balloon.current=").append(info.memoryBytes() >> 10).append('\n');
            out.append("  balloon.rss=").append(info.touchedBytes() >> 10).append('\n');
        });
        g.deviceMetrics().forEach((device, counters) -> counters.forEach(
                (name, value) -> out.append("  ").append(device).append('.').append(name).append('=').append(value).append('\n')));
        return out.toString();
    }

    @Descriptor("lists the guests: id, state, memory, uptime, exits, hypercalls")
    public String list() {
        return (String) list(false, false);
    }

    @Descriptor("lists the guests; with --all also the defined ones that do not run (state 'shut off', id '-')")
    public Object list(@Descriptor("also defined guests that do not run") @Parameter(names = {"-a", "--all"},
            presentValue = "true", absentValue = "false") boolean all,
            @Descriptor("only the names, one a line (virsh list --name; the shell completes guest names with it)")
            @Parameter(names = {"--name"}, presentValue = "true", absentValue = "false") boolean namesOnly) {
        if (namesOnly) {
            // As virsh list --name: the running guests; with --all also those that ended and the defined ones.
            java.util.Set<String> names = new java.util.TreeSet<>();
            guests.list().stream().filter(g -> all || g.state() == Guest.State.RUNNING).forEach(g -> names.add(g.spec().name()));
            if (all && definitions != null) {
                definitions.all().forEach(d -> names.add(d.name()));
            }
            return List.copyOf(names);
        }
        StringBuilder out = new StringBuilder(String.format("%-4s %-14s %-8s %-10s %10s %12s  %s%n",
                "ID", "NAME", "MEMORY", "UPTIME", "EXITS", "HYPERCALLS", "STATE"));
        java.util.Set<String> listed = new java.util.HashSet<>();
        for (Guest g : guests.list()) {
            GuestInfo info = g.info().orElse(null);
            listed.add(g.spec().name());
            out.append(String.format("%-4d %-14s %-8s %-10s %10s %12s  %s%n",
                    g.id(), g.spec().name(), GuestSpec.formatMemory(g.spec().memoryBytes()), format(g.uptime()),
                    info == null ? "-" : Long.toString(info.exits()), info == null ? "-" : Long.toString(info.hypercalls()),
                    stateText(g)));
        }
        if (all && definitions != null) {
            for (GuestDefinition d : definitions.all()) {
                if (!listed.contains(d.name())) {
                    out.append(String.format("%-4s %-14s %-8s %-10s %10s %12s  %s%n", "-", d.name(),
                            GuestSpec.formatMemory(d.memory()), "-", "-", "-", "shut off" + (d.autostart() ? " (autostart)" : "")));
                }
            }
        }
        return out.toString();
    }

    static String stateText(Guest g) {
        return switch (g.state()) {
            case RUNNING -> g.isPaused() ? "paused" : "running";
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

    @Descriptor("shows a guest's console output; with --attach, connects this terminal to it (like virsh console) until Ctrl-] or the guest's end")
    public String console(CommandSession session,
            @Descriptor("connect the terminal: the guest's output as it comes, keystrokes to the guest; Ctrl-] detaches")
            @Parameter(names = {"-a", "--attach"}, presentValue = "true", absentValue = "false") boolean attach,
            @Descriptor("guest id") int id) throws InterruptedException {
        if (!attach) {
            return console(id);
        }
        Guest g = guests.get(id).orElseThrow(() -> new IllegalArgumentException("no guest " + id));
        if (Boolean.TRUE.equals(session.get("lguest.batch"))) {
            throw new IllegalStateException("lguest:console --attach needs an interactive shell (bin/lguest with no piped"
                    + " input or -c); in a script use lguest:console " + id + " and lguest:input " + id + " TEXT");
        }
        return attach(g, session.getKeyboard(), session.getConsole());
    }

    /** Ctrl-]: what ends {@code console --attach}, as in virsh and telnet. */
    static final int ESCAPE = 0x1d;

    /**
     * The guest's console on a terminal: what the guest prints from now on
     * goes to {@code out} as it comes; bytes from {@code keyboard} go to the
     * guest until {@link #ESCAPE}. Returns when the user detaches or the
     * guest ends, saying which.
     *
     * <p>The keyboard is read by a thread of its own with plain blocking
     * reads (a shell's keyboard stream need not report {@code available()}).
     * It ends when it reads the escape, so detaching swallows nothing; when
     * the guest ends first, that thread still waits for one more key, which
     * it drops (the reply says so).
     */
    static String attach(Guest g, InputStream keyboard, PrintStream out) throws InterruptedException {
        if (g.state() != Guest.State.RUNNING) {
            throw new IllegalStateException("guest " + g.id() + " is " + g.state().name().toLowerCase().replace('_', ' ')
                    + ": nothing to attach to");
        }
        java.util.concurrent.BlockingQueue<byte[]> printed = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.CountDownLatch detached = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean attached = new java.util.concurrent.atomic.AtomicBoolean(true);
        // Watch first, then read keys: the echo of the first key is never missed.
        try (AutoCloseable watching = g.watch("console", printed::add)) {
            out.println("Connected to guest " + g.id() + " (" + g.spec().name() + "); escape character is ^]");
            out.flush();
            Thread keys = Thread.ofPlatform().daemon().name("lguest-console-attach-" + g.id()).start(() -> {
                byte[] typed = new byte[256];
                try {
                    while (true) {
                        int n = keyboard.read(typed, 0, typed.length);
                        if (n < 0) {
                            return; // the keyboard closed: stay attached until the guest ends
                        }
                        int escape = -1;
                        for (int i = 0; i < n; i++) {
                            if (typed[i] == ESCAPE) {
                                escape = i;
                                break;
                            }
                        }
                        int send = escape < 0 ? n : escape;
                        if (send > 0 && attached.get() && !g.input("console", java.util.Arrays.copyOf(typed, send))) {
                            printed.add("\n(the console takes no input now: no driver)\n".getBytes(StandardCharsets.UTF_8));
                        }
                        if (escape >= 0 || !attached.get()) {
                            detached.countDown();
                            return;
                        }
                    }
                } catch (IOException e) {
                    // the keyboard failed: stay attached until the guest ends
                }
            });
            while (true) {
                // Look first, then show: what the guest printed before it ended or the user detached is
                // in the queue by now (the watcher runs on the guest's thread), so none of it is lost.
                boolean detachedNow = detached.getCount() == 0;
                boolean ended = g.state() != Guest.State.RUNNING;
                for (byte[] b = printed.poll(); b != null; b = printed.poll()) {
                    out.write(b, 0, b.length);
                }
                out.flush();
                if (detachedNow) {
                    return "\ndetached from guest " + g.id();
                }
                if (ended) {
                    attached.set(false);
                    return "\nguest " + g.id() + " ended: " + g.ending().toCompletableFuture().join().reason()
                            + (keys.isAlive() ? " (the next key typed is dropped)" : "");
                }
                byte[] b = printed.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (b != null) {
                    out.write(b, 0, b.length);
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            attached.set(false);
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
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
