package org.lguest.lg.host;

import org.lguest.mmu.GuestMemory;
import org.osgi.annotation.versioning.ProviderType;

/** A guest as the host module's services see it ({@code struct lguest}). */
@ProviderType
public interface HostGuest {
    /** The slot, also {@code lguest_data.guestid}. */
    int id();

    String name();

    GuestMemory memory();

    /** Marks interrupt {@code irq} (0..31) pending and wakes the guest if it sleeps. Any thread. */
    void raiseInterrupt(int irq);

    /** Kills the guest with {@code reason} (the first reason wins). Any thread. */
    void kill(String reason);

    boolean isDead();
}
