package org.lguest.launcher.impl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.lguest.launcher.DeviceSpec;
import org.lguest.launcher.GuestSpec;

/**
 * A guest defined once as a configuration (a Config Admin factory
 * configuration of {@link #FACTORY_PID}: the file
 * {@code conf/org.lguest.guest-NAME.cfg} that FileInstall reads, or one made
 * with {@code lguest:define}), which comes back whenever the platform runs.
 *
 * <p>Keys (all optional but {@code kernel} when there is no default):
 * {@code name} (else NAME from the file name), {@code kernel}, {@code memory}
 * (64M), {@code cmdline}, {@code initrd}, {@code disks} and {@code nets}
 * (specs as {@code --disk}/{@code --net} take them, separated by {@code ;}),
 * {@code console} (buffer), {@code autostart} (false).
 */
record GuestDefinition(String name, String source, Path kernel, long memory, String cmdline, Path initrd,
        List<DeviceSpec> devices, boolean autostart) {
    static final String FACTORY_PID = "org.lguest.guest";

    GuestDefinition {
        devices = List.copyOf(devices);
    }

    /** The spec a start of this definition uses. */
    GuestSpec spec() {
        return new GuestSpec(name, memory, kernel, cmdline, devices, initrd);
    }

    /**
     * Reads a configuration. A bad one is an {@link IllegalArgumentException}
     * whose message names the source (the file) and the field.
     */
    static GuestDefinition parse(Map<String, ?> properties, Path defaultKernel) {
        String source = source(properties);
        String name = text(properties, "name");
        if (name.isEmpty()) {
            name = nameFromSource(source);
        }
        if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException(source + ": name: '" + name + "' (1 to 64 letters, digits, '_', '.', '-')");
        }
        String kernelText = text(properties, "kernel");
        Path kernel = kernelText.isEmpty() ? defaultKernel : Path.of(kernelText);
        if (kernel == null) {
            throw new IllegalArgumentException(source + ": kernel: missing (the path of the guest kernel)");
        }
        long memory = GuestSpec.DEFAULT_MEMORY;
        String memoryText = text(properties, "memory");
        if (!memoryText.isEmpty()) {
            try {
                memory = GuestSpec.parseMemory(memoryText);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": memory: " + e.getMessage());
            }
        }
        String initrdText = text(properties, "initrd");
        List<DeviceSpec> devices = new ArrayList<>();
        for (String disk : list(properties, "disks")) {
            devices.add(DeviceSpec.disk(disk));
        }
        for (String net : list(properties, "nets")) {
            devices.add(DeviceSpec.net(net));
        }
        String console = text(properties, "console");
        devices.add(DeviceSpec.console(console.isEmpty() ? "buffer" : console));
        String autostart = text(properties, "autostart");
        if (!autostart.isEmpty() && !autostart.equalsIgnoreCase("true") && !autostart.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException(source + ": autostart: '" + autostart + "' (true or false)");
        }
        return new GuestDefinition(name, source, kernel, memory, text(properties, "cmdline"),
                initrdText.isEmpty() ? null : Path.of(initrdText), devices, Boolean.parseBoolean(autostart));
    }

    /** Where the configuration came from: FileInstall's file, else its PID. */
    static String source(Map<String, ?> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        if (file != null) {
            String f = String.valueOf(file);
            return f.startsWith("file:") ? Path.of(java.net.URI.create(f)).toString() : f;
        }
        Object pid = properties.get("service.pid");
        return pid == null ? FACTORY_PID : String.valueOf(pid);
    }

    /** NAME of {@code .../org.lguest.guest-NAME.cfg}, or of a PID {@code org.lguest.guest~NAME}. */
    static String nameFromSource(String source) {
        String base = source.substring(source.lastIndexOf('/') + 1);
        for (String prefix : List.of(FACTORY_PID + "-", FACTORY_PID + "~")) {
            int at = base.indexOf(prefix);
            if (at >= 0) {
                String rest = base.substring(at + prefix.length());
                return rest.endsWith(".cfg") ? rest.substring(0, rest.length() - 4) : rest;
            }
        }
        return base;
    }

    private static String text(Map<String, ?> properties, String key) {
        Object v = properties.get(key);
        return v == null ? "" : String.valueOf(v).strip();
    }

    private static List<String> list(Map<String, ?> properties, String key) {
        List<String> out = new ArrayList<>();
        for (String part : text(properties, key).split(";")) { // not ',': "FILE,ro" and "tap:t0,netns=n" have commas
            if (!part.isBlank()) {
                out.add(part.strip());
            }
        }
        return out;
    }

    /** The file's text for {@code lguest:define}: one key=value per line. */
    String toFile() {
        StringBuilder sb = new StringBuilder("# An lguest guest (lguest:define); FileInstall applies edits at the guest's next start.\n");
        sb.append("kernel=").append(kernel).append('\n');
        sb.append("memory=").append(GuestSpec.formatMemory(memory)).append('\n');
        if (!cmdline.isEmpty()) {
            sb.append("cmdline=").append(cmdline).append('\n');
        }
        if (initrd != null) {
            sb.append("initrd=").append(initrd).append('\n');
        }
        List<String> disks = new ArrayList<>(), nets = new ArrayList<>();
        String console = "buffer";
        for (DeviceSpec d : devices) {
            switch (d.type()) {
                case "block" -> disks.add(d.configuration().get("image"));
                case "net" -> nets.add(d.configuration().get("net"));
                default -> console = d.configuration().getOrDefault("backend", "buffer");
            }
        }
        if (!disks.isEmpty()) {
            sb.append("disks=").append(String.join(";", disks)).append('\n');
        }
        if (!nets.isEmpty()) {
            sb.append("nets=").append(String.join(";", nets)).append('\n');
        }
        sb.append("console=").append(console).append('\n');
        sb.append("autostart=").append(autostart).append('\n');
        return sb.toString();
    }
}
