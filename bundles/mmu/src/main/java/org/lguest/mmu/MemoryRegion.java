package org.lguest.mmu;

import java.util.Objects;

/**
 * A named run of guest frames, as the Launcher laid it out.
 *
 * @param name     what the frames are for ("ram", "devices", "net0", ...)
 * @param firstPfn the first guest frame number
 * @param pages    how many frames
 * @param shared   the shared region behind these frames, or {@code null} when they are private to the guest
 */
public record MemoryRegion(String name, int firstPfn, int pages, SharedRegion shared) {
    public MemoryRegion {
        Objects.requireNonNull(name, "name");
        if (firstPfn < 0 || pages <= 0) {
            throw new IllegalArgumentException("region " + name + ": first pfn " + firstPfn + ", " + pages + " pages");
        }
    }

    /** Guest-physical address of the first byte. */
    public int address() {
        return firstPfn << 12;
    }

    /** Size in bytes (as a long: a region may be 4 GiB minus the pool). */
    public long size() {
        return (long) pages << 12;
    }

    /** The frame after the last one. */
    public int endPfn() {
        return firstPfn + pages;
    }

    public boolean isShared() {
        return shared != null;
    }
}
