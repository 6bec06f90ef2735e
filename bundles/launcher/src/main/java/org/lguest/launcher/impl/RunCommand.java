package org.lguest.launcher.impl;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.Guest;
import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.Guests;
import org.lguest.launcher.LaunchException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code bin/lguest run [--mem SIZE] [--cmdline TEXT] [--initrd FILE] [--disk SPEC]... [--net SPEC]... [--console C] [KERNEL]
 * [--and GUEST-OPTIONS...]...}: guests until they end, the first with its console on this process's
 * terminal. Registered as a plain {@code java.util.function.Function<String[], Integer>} with the
 * property {@code lguest.main=run}, so the runtime's main (outside the
 * framework) can call it without sharing any class but the JDK's.
 *
 * <p>Several guests: each {@code --and} starts the options of another guest
 * (two guests on one LAN need one process). Guests after the first keep
 * their console in a buffer unless {@code --console} says else; when all
 * have ended, each buffer is printed, every line prefixed with the guest's
 * name and number ({@code [lguest-guest#2] }).
 *
 * <p>Returns the process exit status: 0 when every guest powered off, 1
 * when one died (the reason is on stderr) or could not start, 2 for bad
 * arguments.
 */
@Component(service = Function.class, property = "lguest.main=run")
public final class RunCommand implements Function<String[], Integer> {
    static final String USAGE = "usage: lguest run [--mem SIZE] [--cmdline \"TEXT\"] [--initrd FILE] [--disk FILE[,ro]|memory:SIZE]... "
            + "[--net lan:NAME|tap:IFNAME[,netns=NS]]... [--console stdio|buffer|tcp:PORT] [--stats] [KERNEL] [--and GUEST-OPTIONS...]...";
    static final String AND = "--and";
    /** Set by bin/lguest's launcher (runtime Main) when the user interrupted the run, before the platform stops. */
    static final String INTERRUPTED_PROPERTY = "lguest.run.interrupted";

    private final Guests guests;
    /** The kernel booted when none is named, read at each run (configuration org.lguest.launcher). */
    private final java.util.function.Supplier<Path> defaultKernel;
    private final PrintStream err;
    private final PrintStream out;

    @Activate
    public RunCommand(@Reference Guests guests, @Reference LauncherPaths paths) {
        this(guests, paths::kernel, System.err, System.out);
    }

    RunCommand(Guests guests, Path defaultKernel, PrintStream err) {
        this(guests, () -> defaultKernel, err, System.out);
    }

    RunCommand(Guests guests, java.util.function.Supplier<Path> defaultKernel, PrintStream err, PrintStream out) {
        this.guests = guests;
        this.defaultKernel = defaultKernel;
        this.err = err;
        this.out = out;
    }

    /**
     * The parsed options of one guest.
     *
     * @param attached the disks and networks, in the order given (their slots, and so their IRQs, follow it)
     */
    record Options(long memory, String cmdline, Path kernel, List<DeviceSpec> attached, String console, Path initrd,
            boolean stats) {
        Options {
            attached = List.copyOf(attached);
        }

        Options(long memory, String cmdline, Path kernel, List<DeviceSpec> attached, String console) {
            this(memory, cmdline, kernel, attached, console, null, false);
        }

        Options(long memory, String cmdline, Path kernel) {
            this(memory, cmdline, kernel, List.of(), "stdio");
        }

        /** The disks and networks in the order given, then the console. */
        List<DeviceSpec> devices() {
            List<DeviceSpec> d = new ArrayList<>(attached);
            d.add(DeviceSpec.console(console));
            return d;
        }
    }

    /** The options of each guest, split at {@code --and}. */
    static List<Options> parseAll(String[] args, Path defaultKernel) {
        List<Options> all = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals(AND)) {
                String[] one = java.util.Arrays.copyOfRange(args, from, i);
                if (one.length == 0 && i < args.length) {
                    throw new IllegalArgumentException(AND + " with no guest options before it");
                }
                all.add(parse(one, defaultKernel, all.isEmpty() ? "stdio" : "buffer"));
                from = i + 1;
            }
        }
        return all;
    }

    static Options parse(String[] args, Path defaultKernel) {
        return parse(args, defaultKernel, "stdio");
    }

    static Options parse(String[] args, Path defaultKernel, String defaultConsole) {
        long memory = GuestSpec.DEFAULT_MEMORY;
        String cmdline = "";
        List<DeviceSpec> attached = new ArrayList<>();
        String console = defaultConsole;
        Path initrd = null;
        boolean stats = false;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            String option = a;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                option = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (option) {
                case "--stats" -> stats = true;
                case "--mem", "-m", "--cmdline", "-c", "--disk", "-d", "--net", "--console", "--initrd" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(option + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (option) {
                        case "--mem", "-m" -> memory = GuestSpec.parseMemory(value);
                        case "--disk", "-d" -> attached.add(DeviceSpec.disk(value));
                        case "--net" -> attached.add(DeviceSpec.net(value));
                        case "--console" -> console = value;
                        case "--initrd" -> initrd = Path.of(value);
                        default -> cmdline = value;
                    }
                }
                default -> {
                    if (a.startsWith("-") && a.length() > 1) {
                        throw new IllegalArgumentException("unknown option " + a);
                    }
                    rest.add(a);
                }
            }
        }
        if (rest.size() > 1) {
            throw new IllegalArgumentException("one kernel at most, got " + rest);
        }
        return new Options(memory, cmdline, rest.isEmpty() ? defaultKernel : Path.of(rest.get(0)), attached, console,
                initrd, stats);
    }

    @Override
    public Integer apply(String[] args) {
        List<Options> all;
        try {
            all = parseAll(args, defaultKernel.get());
        } catch (IllegalArgumentException e) {
            err.println("lguest run: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        List<Guest> started = new ArrayList<>();
        for (Options options : all) {
            try {
                started.add(guests.start(new GuestSpec(options.kernel().getFileName().toString().replaceFirst("\\.elf$", ""),
                        options.memory(), options.kernel(), options.cmdline(), options.devices(), options.initrd())));
            } catch (LaunchException e) {
                err.println("lguest run: " + (all.size() > 1 ? "guest " + (started.size() + 1) + ": " : "") + e.getMessage());
                for (Guest g : started) {
                    guests.remove(g.id());
                }
                return 1;
            }
        }
        int status = 0;
        for (int i = 0; i < started.size(); i++) {
            Guest guest = started.get(i);
            Guest.End end;
            try {
                end = guest.ending().toCompletableFuture().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                started.forEach(g -> guests.remove(g.id()));
                err.println("lguest run: interrupted");
                return 1;
            } catch (ExecutionException e) {
                err.println("lguest run: " + e.getCause());
                status = 1;
                continue;
            }
            if (i > 0 && "buffer".equals(all.get(i).console())) {
                String tag = "[" + guest.spec().name() + "#" + guest.id() + "] ";
                guest.transcript("console").ifPresent(text -> text.lines().forEach(line -> out.println(tag + line)));
            }
            if (all.get(i).stats()) {
                guest.info().ifPresent(info -> err.printf("lguest run: guest %d (%s): %.3f s, %d instructions, %d exits, %d hypercalls%n",
                        guest.id(), guest.spec().name(), guest.uptime().toNanos() / 1e9, info.instructions(), info.exits(),
                        info.hypercalls()));
            }
            guests.remove(guest.id());
            if (!end.poweredOff() && Boolean.getBoolean(INTERRUPTED_PROPERTY)) {
                err.println("lguest run: interrupted by the user (Ctrl-C): "
                        + (started.size() > 1 ? "guest " + guest.id() + " was" : "the guest was") + " stopped");
                status = 130;
            } else if (!end.poweredOff()) {
                err.println("lguest run: " + (started.size() > 1 ? "guest " + guest.id() + " " : "the guest ")
                        + "ended: " + end.reason());
                status = 1;
            }
        }
        out.flush();
        System.out.flush();
        return status;
    }
}
