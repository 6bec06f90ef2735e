package org.lguest.mmu.impl;

import org.lguest.mmu.GuestMemory;

/** Writes a guest's own two-level page tables into its memory, as the guest kernel would. */
final class GuestTables {
    private final GuestMemory memory;

    GuestTables(GuestMemory memory) {
        this.memory = memory;
    }

    /** Sets the guest directory entry covering {@code vaddr}. */
    void pde(int pgdir, int vaddr, int value) {
        memory.writeU32(pgdir + (vaddr >>> 22) * 4, value);
    }

    int pde(int pgdir, int vaddr) {
        return memory.readU32(pgdir + (vaddr >>> 22) * 4);
    }

    /** Sets the guest page-table entry for {@code vaddr}, through the directory entry already there. */
    void pte(int pgdir, int vaddr, int value) {
        memory.writeU32(pteAddress(pgdir, vaddr), value);
    }

    int pte(int pgdir, int vaddr) {
        return memory.readU32(pteAddress(pgdir, vaddr));
    }

    private int pteAddress(int pgdir, int vaddr) {
        int table = pde(pgdir, vaddr) & ~0xFFF;
        return table + ((vaddr >>> 12) & 0x3FF) * 4;
    }
}
