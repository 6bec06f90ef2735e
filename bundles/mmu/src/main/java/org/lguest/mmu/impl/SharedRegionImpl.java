package org.lguest.mmu.impl;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

import org.lguest.cpu.PhysicalMemory;
import org.lguest.mmu.SharedRegion;

/** Frames several guest memories hold, and who holds them (to tell their processors about host writes). */
final class SharedRegionImpl implements SharedRegion {
    /** One guest memory holding the region from guest frame {@code firstPfn}. */
    record Holder(GuestMemoryImpl memory, int firstPfn) {
    }

    private final String name;
    private final byte[][] frames;
    private final List<Holder> holders = new CopyOnWriteArrayList<>();

    SharedRegionImpl(String name, int pages) {
        Objects.requireNonNull(name, "name");
        if (pages <= 0 || pages > GuestMemoryImpl.MAX_FRAMES) {
            throw new IllegalArgumentException("shared region " + name + ": " + pages + " pages (1.." + GuestMemoryImpl.MAX_FRAMES + ")");
        }
        this.name = name;
        this.frames = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            frames[i] = new byte[PhysicalMemory.PAGE_SIZE];
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int pages() {
        return frames.length;
    }

    byte[] frame(int index) {
        return frames[index];
    }

    void addHolder(GuestMemoryImpl memory, int firstPfn) {
        holders.add(new Holder(memory, firstPfn));
    }

    void removeHolder(GuestMemoryImpl memory) {
        holders.removeIf(h -> h.memory() == memory);
    }

    List<Holder> holders() {
        return holders;
    }

    @Override
    public String toString() {
        return "SharedRegion[" + name + ", " + frames.length + " pages, " + holders.size() + " holders]";
    }
}
