package org.lguest.mmu;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The MMU service: makes each guest's memory and shadow page tables.
 * Holds no per-guest state itself.
 */
@ProviderType
public interface Mmu {

    /** Starts a guest memory layout with {@code ramPages} frames of zeroed RAM at frame 0 (region "ram"). */
    GuestMemoryBuilder newGuestMemory(int ramPages);

    /** Makes {@code pages} zeroed frames that guest memories can hold with {@link GuestMemoryBuilder#addShared}. */
    SharedRegion newSharedRegion(String name, int pages);

    /**
     * Makes the shadow page tables of a guest ({@code LHREQ_INITIALIZE}):
     * shadow root 0 starts blank for the guest page directory at
     * {@code guestPgdir}, or maps linearly when that is
     * {@link ShadowPageTables#LINEAR}. The guest's bounds are {@code memory}'s pfn limit.
     *
     * @param pageOffset the guest kernel's PAGE_OFFSET: 4 MiB aligned, below 0xFFC00000
     * @throws IllegalArgumentException for a page offset or page directory the Launcher should not have passed
     * @throws IllegalStateException when the host pool has fewer than {@link ShadowPageTables#MIN_POOL_FRAMES} free frames
     */
    ShadowPageTables newShadowPageTables(GuestMemory memory, int guestPgdir, int pageOffset);
}
