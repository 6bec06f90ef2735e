package org.lguest.lg;

import org.osgi.annotation.versioning.ProviderType;

/** The control interface service: the {@code /dev/lguest} device. */
@ProviderType
public interface LguestControl {
    /** Opens the control file: one open GuestControl is one guest (not yet initialized). */
    GuestControl open();

    /** The guests initialized and not yet closed, for listings. */
    java.util.List<GuestInfo> guests();

    /**
     * How many guests may run at once: lguest's 16
     * ({@link org.lguest.lg.abi.ControlRequests#MAX_GUESTS}) unless the
     * module's configuration ({@code org.lguest.lg}, {@code maxGuests})
     * raises it.
     */
    default int maxGuests() {
        return org.lguest.lg.abi.ControlRequests.MAX_GUESTS;
    }
}
