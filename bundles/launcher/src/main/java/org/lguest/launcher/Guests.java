package org.lguest.launcher;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** The guest lifecycle service of the Launcher bundle. */
@ProviderType
public interface Guests {
    /**
     * Lays out memory, loads the kernel, writes the boot block and initial
     * page tables, opens the devices, INITIALIZEs a guest and starts its
     * thread. Returns once the guest runs.
     *
     * @throws LaunchException for a bad kernel, a memory size out of range,
     *         no free guest slot, a missing device driver, ...; everything
     *         already made is released
     */
    Guest start(GuestSpec spec) throws LaunchException;

    /** Every guest started and not yet removed by {@link #remove}, running or ended. */
    List<Guest> list();

    Optional<Guest> get(int id);

    /** Stops the guest and forgets it. Returns false for an unknown id. */
    boolean remove(int id);
}
