package org.lguest.lg;

import java.util.Objects;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;

/**
 * What {@code LHREQ_INITIALIZE} says about a guest.
 *
 * @param name       for messages and listings
 * @param memory     the guest memory the Launcher laid out; its pfn limit is the guest's
 * @param abi        the ABI the guest kernel speaks
 * @param pgdir      guest-physical address of the initial page directory, or
 *                   {@link ShadowPageTables#LINEAR} for a guest that boots with linear paging (4.x)
 * @param start      the entry point: a virtual address (linear paging: the physical one)
 * @param pageOffset the guest kernel's PAGE_OFFSET
 * @param ioFirstPfn first frame of the I/O window (PCI BARs) whose accesses come back as
 *                   {@link RunResult.Mmio}; equal to {@code ioEndPfn} for none
 * @param ioEndPfn   the frame after the I/O window
 */
public record GuestSetup(String name, GuestMemory memory, GuestAbi abi, int pgdir, int start, int pageOffset,
        int ioFirstPfn, int ioEndPfn) {
    public GuestSetup {
        Objects.requireNonNull(abi, "abi");
    }

    /** A DMA-era guest: no I/O window. */
    public static GuestSetup dmaEra(String name, GuestMemory memory, int pgdir, int start, int pageOffset) {
        return new GuestSetup(name, memory, GuestAbi.LGUEST_2_6_23, pgdir, start, pageOffset, 0, 0);
    }
}
