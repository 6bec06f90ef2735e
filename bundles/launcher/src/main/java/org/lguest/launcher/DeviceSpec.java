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

    /** The console with the given back end ("buffer": kept for the shell; "terminal": this process's stdin/stdout). */
    public static DeviceSpec console(String backEnd) {
        return new DeviceSpec("console", Map.of("backend", backEnd));
    }
}
