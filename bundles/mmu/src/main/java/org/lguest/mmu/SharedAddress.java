package org.lguest.mmu;

import java.util.Objects;

/**
 * A place inside a {@link SharedRegion}: the guest-independent name of a
 * guest-physical address in shared memory (the futex key of a shared mapping
 * in 2.6.23). Equal in two guests exactly when both name the same byte.
 *
 * @param region the shared region
 * @param offset byte offset from the region's start
 */
public record SharedAddress(SharedRegion region, long offset) {
    public SharedAddress {
        Objects.requireNonNull(region, "region");
        if (offset < 0 || offset >= (long) region.pages() << 12) {
            throw new IllegalArgumentException("offset " + offset + " outside shared region " + region.name());
        }
    }
}
