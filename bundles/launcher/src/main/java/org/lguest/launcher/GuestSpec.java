package org.lguest.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What to start: the Launcher's command line of 2.6.23
 * ({@code lguest [--block=FILE ...] MEM vmlinux [args...]}) as a value.
 *
 * @param name        a name for listings and messages
 * @param memoryBytes guest RAM, a multiple of 4096 (see {@link #parseMemory})
 * @param kernel      the guest kernel: an i386 ELF with the lguest entry marker
 * @param commandLine the kernel command line
 * @param devices     the devices in descriptor order; 2.6.23 always adds the
 *                    console last, and so does the Launcher when none is named
 *                    (a 4.x guest's console is always PCI slot 1, whatever the order)
 * @param initrd      an initial RAM disk for a 4.x (Linux) guest, or {@code null}
 */
public record GuestSpec(String name, long memoryBytes, Path kernel, String commandLine, List<DeviceSpec> devices, Path initrd) {
    /** Guest RAM when none is given. */
    public static final long DEFAULT_MEMORY = 64L << 20;

    public GuestSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        commandLine = commandLine == null ? "" : commandLine;
        devices = List.copyOf(devices);
    }

    /** A guest without an initrd. */
    public GuestSpec(String name, long memoryBytes, Path kernel, String commandLine, List<DeviceSpec> devices) {
        this(name, memoryBytes, kernel, commandLine, devices, null);
    }

    /**
     * Parses a memory size: a number followed by K, M or G (powers of 1024;
     * {@code 64M}, {@code 1G}), or a plain number of megabytes as the 2.6.23
     * Launcher took it.
     *
     * @throws IllegalArgumentException with a message for the user
     */
    public static long parseMemory(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        long unit = 1L << 20;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 0;
            }
            if (unit != 0) {
                t = t.substring(0, t.length() - 1);
            } else {
                unit = 1L << 20;
            }
        }
        long n;
        try {
            n = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad memory size '" + text + "': expected a number with K, M or G (for example 64M)");
        }
        if (n < 0 || n > (1L << 40) / unit) {
            throw new IllegalArgumentException("bad memory size '" + text + "'");
        }
        return n * unit; // whether the guest can have it is the Launcher's one rule (it depends on the kernel)
    }

    /** {@code bytes} as the shortest of G, M or K. */
    public static String formatMemory(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        if (bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "G";
        }
        if (bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "M";
        }
        return (bytes >> 10) + "K";
    }
}
