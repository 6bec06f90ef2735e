package org.lguest.lg;

import org.osgi.annotation.versioning.ProviderType;

/** The control interface service: the {@code /dev/lguest} device. */
@ProviderType
public interface LguestControl {
    /** Opens the control file: one open GuestControl is one guest (not yet initialized). */
    GuestControl open();

    /** The guests initialized and not yet closed, for listings. */
    java.util.List<GuestInfo> guests();
}
