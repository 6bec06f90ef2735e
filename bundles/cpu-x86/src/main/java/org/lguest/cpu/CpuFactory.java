package org.lguest.cpu;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The CPU service. Each guest (or bare machine) gets its own processor,
 * attached to its own physical memory and I/O port space.
 */
@ProviderType
public interface CpuFactory {
    /**
     * Makes a processor in its reset state for protected-mode use: CR0.PE set,
     * paging off, CPL 0, flat 4 GiB code and data segments, EFLAGS 0x2.
     */
    Cpu create(PhysicalMemory memory, IoPorts ports);
}
