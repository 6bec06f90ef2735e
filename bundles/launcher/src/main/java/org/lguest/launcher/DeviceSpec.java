package org.lguest.launcher;

import java.util.Map;
import java.util.Objects;

/**
 * One device of a guest: its type as drivers register it ("console",
 * "block", "net") and the configuration its driver receives.
 */
public record DeviceSpec(String type, Map<String, String> configuration) {
    public DeviceSpec {
        Objects.requireNonNull(type, "type");
        configuration = Map.copyOf(configuration);
    }

    /**
     * A disk: {@code FILE} (raw image, read-write), {@code FILE,ro}, or
     * {@code memory:SIZE} (see the devices-disk bundle).
     */
    public static DeviceSpec disk(String image) {
        return new DeviceSpec("block", Map.of("image", image));
    }

    /**
     * A network device: {@code lan:NAME} (the inter-guest LAN called NAME,
     * shared by every guest of this platform that names it) or
     * {@code tap:IFNAME[,netns=NS]} (the host's TAP interface IFNAME, made
     * if absent, in the named network namespace if one is given); see the
     * devices-net bundle.
     */
    public static DeviceSpec net(String attachment) {
        return new DeviceSpec("net", Map.of("net", attachment));
    }

    /** The console with the given back end ("buffer": kept for the shell; "terminal": this process's stdin/stdout). */
    public static DeviceSpec console(String backEnd) {
        return new DeviceSpec("console", Map.of("backend", backEnd));
    }
}
