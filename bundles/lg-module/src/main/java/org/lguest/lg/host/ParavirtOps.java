package org.lguest.lg.host;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hypercall table of the 2.6.23 ABI ({@link org.lguest.lg.abi.Hypercalls}):
 * what {@code int $0x1f} and the asynchronous ring reach. An invalid call or
 * argument kills the guest (there are no error returns).
 */
@ProviderType
public interface ParavirtOps {
    /**
     * Executes one call for {@code guest} as its synchronous hypercall:
     * a result (GET_WALLCLOCK, BIND_DMA) goes to the guest's EAX. Must run on
     * the guest's own thread. Misbehaviour kills the guest; nothing is thrown
     * for it.
     */
    void hypercall(HostGuest guest, int call, int arg1, int arg2, int arg3);

    /** Whether {@code call} is a call of the table. */
    boolean known(int call);
}
