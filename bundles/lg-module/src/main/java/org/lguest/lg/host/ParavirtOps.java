package org.lguest.lg.host;

import org.lguest.lg.GuestAbi;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One ABI's hypercall table (lguest's {@code hypercalls.c}): what
 * {@code int $0x1f} and the asynchronous ring reach. A service per ABI,
 * registered with {@link #ABI} naming it; the hypervisor serves each guest
 * with the table of the ABI its kernel speaks, chosen when the guest is
 * initialized. A table acts on the guest only through {@link HostGuest}. An
 * invalid call or argument kills the guest (there are no error returns).
 */
@ProviderType
public interface ParavirtOps {
    /** Service property: the ABI, "2.6.23" ({@link GuestAbi#LGUEST_2_6_23}) or "4.x" ({@link GuestAbi#LGUEST_4_X}). */
    String ABI = "lguest.abi";

    /** The ABI this table is. */
    GuestAbi abi();

    /**
     * Executes one call. {@code sync}: from {@code int $0x1f}, so a result
     * (GET_WALLCLOCK, BIND_DMA) goes to the guest's EAX; otherwise from the
     * ring. Arguments in the ABI's order (2.6.23: EDX, EBX, ECX; 4.x: EBX,
     * ECX, EDX, ESI). On the guest's thread. Misbehaviour kills the guest;
     * nothing is thrown for it.
     */
    void hypercall(HostGuest guest, int call, int arg1, int arg2, int arg3, int arg4, boolean sync);

    /**
     * {@code do_async_hcalls}: runs the calls the guest queued in its
     * {@code lguest_data} ring from its cursor on, freeing each slot; stops
     * early when the guest died or a DMA waits for the Launcher. Returns the
     * calls it ran (the guest's hypercall count).
     */
    int drainRing(HostGuest guest);

    /** Whether {@code call} is a call of the table. */
    boolean known(int call);
}
