package org.lguest.launcher;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.lguest.lg.GuestInfo;
import org.osgi.annotation.versioning.ProviderType;

/** One guest the Launcher started. */
@ProviderType
public interface Guest {
    enum State { RUNNING, POWERED_OFF, DEAD, STOPPED }

    /** How a guest ended. {@code reason} is the host's (for example "CRASH: Power down"), or "stopped". */
    record End(State state, String reason) {
        /** Whether the guest ended itself cleanly (power-off). */
        public boolean poweredOff() {
            return state == State.POWERED_OFF;
        }
    }

    /** The Launcher's id (1, 2, ...; never reused while the Launcher runs). */
    int id();

    GuestSpec spec();

    State state();

    /** Time since the guest was started (until it ended, for an ended guest). */
    Duration uptime();

    /** The host's counters (exits, hypercalls, ...), the last ones seen once the guest ended. */
    Optional<GuestInfo> info();

    /** Completes when the guest ends, for whatever reason. */
    CompletionStage<End> ending();

    /** Ends the guest (if it still runs) and releases its memory, control slot and back ends. Idempotent. */
    void stop();

    /**
     * Pauses the guest's processor (virsh suspend): it runs no instruction
     * until {@link #resume()}; its memory, devices, pending interrupts and
     * timers are kept, and input for it waits. Returns false for a guest
     * that has ended.
     */
    boolean suspend();

    /** Lets a paused guest run again; returns false when it was not paused. */
    boolean resume();

    /** Whether the guest is paused by {@link #suspend()}. */
    boolean isPaused();

    /**
     * Asks the guest to shut down (virsh shutdown), or with {@code restart}
     * to reboot (virsh reboot), and returns at once: the guest decides, and
     * may ignore it. A 2.6.23 guest is told through its power button (device
     * type 4 of the device page, our extension: the request in its features,
     * then its interrupt). lguest 4.x gives a Linux guest no power button (no
     * ACPI; this kernel has no SysRq), so a Linux guest is told through its
     * console: "poweroff -f" or "reboot -f" typed as a line for its shell
     * (busybox's forms that sync the disks and need no init daemon). A guest
     * that powers off after a restart request, or that restarts itself (4.x
     * SHUTDOWN with reason restart), is started again by the Launcher with
     * the same specification (a new id). Returns how the guest was asked, or
     * empty when it has ended.
     */
    java.util.Optional<String> requestShutdown(boolean restart);

    /**
     * What a user sees of the device of {@code type} ("console"): its back
     * end's transcript, then any output held while it had no driver.
     */
    Optional<String> transcript(String type);

    /**
     * Everything the guest sends to the device of {@code type} from now on
     * ("console": what it prints), a copy handed to {@code sink} on the
     * guest's thread as it goes out (keep the sink quick: queue, do not
     * block). Closing the result stops it. For a terminal attached to the
     * console ({@code lguest:console --attach}) and live views.
     *
     * @throws IllegalArgumentException when the guest has no such device
     */
    AutoCloseable watch(String type, java.util.function.Consumer<byte[]> sink);

    /** Input from a user for the device of {@code type}. False when the device takes none. */
    boolean input(String type, byte[] data);

    /** Per device ("console0"), the back end's counters and the Launcher's. */
    Map<String, Map<String, Long>> deviceMetrics();

    /**
     * One device as listings show it.
     *
     * @param name     "block0", "console1": type and slot
     * @param backEnd  what its back end says it is, or why it has none
     * @param driver   the driver's bundle and version ("org.lguest.devices.disk 0.1.0.SNAPSHOT"), or "-"
     * @param counters the back end's counters and the Launcher's (as {@link #deviceMetrics()})
     */
    record DeviceInfo(String name, String backEnd, String driver, Map<String, Long> counters) {
        public DeviceInfo {
            counters = Map.copyOf(counters);
        }
    }

    /** The devices, in slot order. */
    java.util.List<DeviceInfo> deviceInfo();
}
