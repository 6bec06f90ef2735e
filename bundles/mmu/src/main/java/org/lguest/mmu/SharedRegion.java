package org.lguest.mmu;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Frames that several guest memories hold: the same byte arrays appear in
 * each of them (at whatever guest frame each Launcher put them), so what one
 * guest or host writes there the others see. This is what inter-guest DMA
 * runs over, as two 2.6.23 Launchers that {@code mmap(MAP_SHARED)} one file.
 *
 * <p>Its identity (this object plus an offset, see
 * {@link GuestMemory#sharedAddress(int)}) plays the role of the futex key of
 * shared memory: two guests name the same place whatever their addresses.
 */
@ProviderType
public interface SharedRegion {
    String name();

    /** Size in 4 KiB frames. */
    int pages();
}
