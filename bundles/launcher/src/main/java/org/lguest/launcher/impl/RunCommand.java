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
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code bin/lguest run [--mem SIZE] [--cmdline TEXT] [--disk SPEC]... [--console C] [KERNEL]}: one guest with
 * its console on this process's terminal, until it ends. Registered as a
 * plain {@code java.util.function.Function<String[], Integer>} with the
 * property {@code lguest.main=run}, so the runtime's main (outside the
 * framework) can call it without sharing any class but the JDK's.
 *
 * <p>Returns the process exit status: 0 when the guest powered off, 1 when
 * it died (the reason is on stderr) or could not start, 2 for bad arguments.
 */
@Component(service = Function.class, property = "lguest.main=run")
public final class RunCommand implements Function<String[], Integer> {
    static final String USAGE = "usage: lguest run [--mem SIZE] [--cmdline \"TEXT\"] [--disk FILE[,ro]|memory:SIZE]... "
            + "[--console stdio|buffer|tcp:PORT] [KERNEL]";

    private final Guests guests;
    private final Path defaultKernel;
    private final PrintStream err;

    @Activate
    public RunCommand(@Reference Guests guests, BundleContext context) {
        this(guests, ShellCommands.defaultKernel(context::getProperty), System.err);
    }

    RunCommand(Guests guests, Path defaultKernel, PrintStream err) {
        this.guests = guests;
        this.defaultKernel = defaultKernel;
        this.err = err;
    }

    /** The parsed command line of {@code run}. */
    record Options(long memory, String cmdline, Path kernel, List<String> disks, String console) {
        Options {
            disks = List.copyOf(disks);
        }

        Options(long memory, String cmdline, Path kernel) {
            this(memory, cmdline, kernel, List.of(), "stdio");
        }

        /** The disks in the order given, then the console (on this process's terminal unless --console says else). */
        List<DeviceSpec> devices() {
            List<DeviceSpec> d = new ArrayList<>();
            for (String disk : disks) {
                d.add(DeviceSpec.disk(disk));
            }
            d.add(DeviceSpec.console(console));
            return d;
        }
    }

    static Options parse(String[] args, Path defaultKernel) {
        long memory = GuestSpec.DEFAULT_MEMORY;
        String cmdline = "";
        List<String> disks = new ArrayList<>();
        String console = "stdio";
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
                case "--mem", "-m", "--cmdline", "-c", "--disk", "-d", "--console" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(option + " needs a value");
                        }
                        value = args[++i];
                    }
                    if (option.equals("--mem") || option.equals("-m")) {
                        memory = GuestSpec.parseMemory(value);
                    } else if (option.equals("--disk") || option.equals("-d")) {
                        disks.add(value);
                    } else if (option.equals("--console")) {
                        console = value;
                    } else {
                        cmdline = value;
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
        return new Options(memory, cmdline, rest.isEmpty() ? defaultKernel : Path.of(rest.get(0)), disks, console);
    }

    @Override
    public Integer apply(String[] args) {
        Options options;
        try {
            options = parse(args, defaultKernel);
        } catch (IllegalArgumentException e) {
            err.println("lguest run: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        Guest guest;
        try {
            guest = guests.start(new GuestSpec(options.kernel().getFileName().toString().replaceFirst("\\.elf$", ""),
                    options.memory(), options.kernel(), options.cmdline(), options.devices()));
        } catch (LaunchException e) {
            err.println("lguest run: " + e.getMessage());
            return 1;
        }
        Guest.End end;
        try {
            end = guest.ending().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            guests.remove(guest.id());
            err.println("lguest run: interrupted");
            return 1;
        } catch (ExecutionException e) {
            err.println("lguest run: " + e.getCause());
            return 1;
        }
        guests.remove(guest.id());
        System.out.flush();
        if (end.poweredOff()) {
            return 0;
        }
        err.println("lguest run: the guest ended: " + end.reason());
        return 1;
    }
}
