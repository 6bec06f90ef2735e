package org.lguest.mmu;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Lays out one guest's memory the way the 2.6.23 Launcher does: RAM from
 * frame 0, then whatever the Launcher appends (the device descriptor page,
 * each device's pages, shared regions), each at the current top. The final
 * top is the pfn limit. Not thread-safe; use once.
 */
@ProviderType
public interface GuestMemoryBuilder {

    /** The frame the next region will start at (the Launcher's {@code top / 4096}). */
    int top();

    /** Appends {@code pages} zeroed private frames named {@code name}; returns the first frame number. */
    int addPages(String name, int pages);

    /** Appends the frames of {@code region} (the same arrays every holder sees); returns the first frame number. */
    int addShared(String name, SharedRegion region);

    /**
     * Sets the host frame pool size (shadow page tables and the Switcher's
     * pages). At least {@link ShadowPageTables#MIN_POOL_FRAMES} plus what the
     * Switcher takes. The default grows with guest memory; see the bundle README.
     */
    GuestMemoryBuilder hostFrames(int frames);

    /** Allocates every frame and returns the memory. */
    GuestMemory build();
}
