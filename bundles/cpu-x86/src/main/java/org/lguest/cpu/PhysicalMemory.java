package org.lguest.cpu;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The physical address space as the processor sees it, in 4 KiB frames.
 * Frames are plain byte arrays so the processor's TLB can point straight at
 * them; two address spaces may hold the same array (shared memory).
 */
@ConsumerType
public interface PhysicalMemory {
    int PAGE_SHIFT = 12;
    int PAGE_SIZE = 1 << PAGE_SHIFT;

    /** Frames addressable; physical addresses at or beyond {@code frameCount() << 12} have no memory. */
    int frameCount();

    /**
     * The 4096-byte array behind frame {@code pfn}, or {@code null} where no
     * memory is (reads there return all ones, writes are dropped). The answer
     * for a frame must stay the same until the owner calls
     * {@link Cpu#physicalMapChanged()}.
     */
    byte[] frame(int pfn);
}
