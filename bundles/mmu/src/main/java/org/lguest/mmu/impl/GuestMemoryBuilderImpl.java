package org.lguest.mmu.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;
import org.lguest.mmu.MemoryRegion;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.SharedRegion;

final class GuestMemoryBuilderImpl implements GuestMemoryBuilder {
    private final List<MemoryRegion> regions = new ArrayList<>();
    private int top;
    private int hostFrames = -1;
    private boolean built;

    GuestMemoryBuilderImpl(int ramPages) {
        addPages("ram", ramPages);
    }

    /**
     * The pool size used when none is given: room for every cached directory
     * to map all guest frames, plus 8 page tables each for user space, plus 16
     * frames for the Switcher.
     */
    static int defaultHostFrames(int pfnLimit) {
        int tablesPerRoot = (pfnLimit + 1023) / 1024 + 8;
        return ShadowPageTables.ROOTS * (tablesPerRoot + 1) + 16;
    }

    @Override
    public int top() {
        return top;
    }

    @Override
    public int addPages(String name, int pages) {
        return append(new MemoryRegion(checkName(name), top, checkPages(name, pages), null));
    }

    @Override
    public int addShared(String name, SharedRegion region) {
        Objects.requireNonNull(region, "region");
        if (!(region instanceof SharedRegionImpl)) {
            throw new IllegalArgumentException("shared region " + region.name() + " was not made by this MMU");
        }
        return append(new MemoryRegion(checkName(name), top, checkPages(name, region.pages()), region));
    }

    @Override
    public GuestMemoryBuilder hostFrames(int frames) {
        notBuilt();
        if (frames < ShadowPageTables.MIN_POOL_FRAMES) {
            throw new IllegalArgumentException("host frame pool of " + frames + " frames: the shadow page tables alone need "
                    + ShadowPageTables.MIN_POOL_FRAMES);
        }
        this.hostFrames = frames;
        return this;
    }

    @Override
    public GuestMemory build() {
        notBuilt();
        int pool = hostFrames >= 0 ? hostFrames : defaultHostFrames(top);
        if ((long) top + pool > GuestMemoryImpl.MAX_FRAMES) {
            throw new IllegalArgumentException(String.format(
                    "%d guest frames + %d host frames exceed the 32-bit physical address space (%d frames)",
                    top, pool, GuestMemoryImpl.MAX_FRAMES));
        }
        built = true;
        return new GuestMemoryImpl(List.copyOf(regions), top, pool);
    }

    private int append(MemoryRegion region) {
        notBuilt();
        if ((long) top + region.pages() > GuestMemoryImpl.MAX_FRAMES) {
            throw new IllegalArgumentException(String.format(
                    "region %s of %d pages at frame 0x%x goes past 4 GiB", region.name(), region.pages(), top));
        }
        regions.add(region);
        top += region.pages();
        return region.firstPfn();
    }

    private String checkName(String name) {
        Objects.requireNonNull(name, "name");
        for (MemoryRegion r : regions) {
            if (r.name().equals(name)) {
                throw new IllegalArgumentException("a region called " + name + " already exists");
            }
        }
        return name;
    }

    private static int checkPages(String name, int pages) {
        if (pages <= 0) {
            throw new IllegalArgumentException("region " + name + ": " + pages + " pages (must be at least 1)");
        }
        return pages;
    }

    private void notBuilt() {
        if (built) {
            throw new IllegalStateException("this layout was already built");
        }
    }
}
