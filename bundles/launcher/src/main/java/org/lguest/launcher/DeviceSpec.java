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

    /** The console with the given back end ("buffer": kept for the shell; "terminal": this process's stdin/stdout). */
    public static DeviceSpec console(String backEnd) {
        return new DeviceSpec("console", Map.of("backend", backEnd));
    }
}
