package org.lguest.mmu.impl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.lguest.cpu.Cpu;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.ShadowRoot;

/**
 * lguest's page_tables.c over {@link GuestMemoryImpl}: shadow directories and
 * page tables are host frames of the guest memory, entries are little-endian
 * 32-bit words in them. A guest frame number is also the processor's frame
 * number (the guest memory is the processor's physical memory), so a shadow
 * entry is the guest entry with its flags adjusted.
 */
final class ShadowPageTablesImpl implements ShadowPageTables {
    private static final int ENTRIES = 1024;
    private static final int PAGE = GuestMemory.PAGE_SIZE;
    private static final int PAGE_MASK = 0xFFF;
    private static final int FRAME_MASK = ~PAGE_MASK;

    private final GuestMemoryImpl mem;
    private final int pageOffset;
    /** First directory index of kernel mappings (page offset >> 22). */
    private final int firstKernelIndex;

    // The cache of shadow directories: host frame (or -1) and the guest directory it shadows.
    private final int[] rootPfn = new int[ROOTS];
    private final int[] rootGuest = new int[ROOTS];
    private int current;
    private int nextVictim;

    private int switcherPde;
    private int stackTop;
    private int stackPages;
    private boolean repinPending;
    private boolean repinning;

    /** True from a LINEAR start until the first newPageTable. */
    private boolean linear;
    /** The I/O window's frames [ioFirst, ioEnd): mapped by the guest, never installed. */
    private int ioFirst, ioEnd;

    private int framesInUse;
    private long reclaims;
    private boolean released;

    ShadowPageTablesImpl(GuestMemoryImpl mem, int guestPgdir, int pageOffset) {
        if ((pageOffset & 0x3FFFFF) != 0 || Integer.compareUnsigned(pageOffset, SWITCHER_ADDR) >= 0) {
            throw new IllegalArgumentException(String.format(
                    "page offset 0x%08x must be 4 MiB aligned and below the Switcher at 0x%08x", pageOffset, SWITCHER_ADDR));
        }
        if (guestPgdir != LINEAR && ((guestPgdir & PAGE_MASK) != 0 || !mem.isValid(guestPgdir, PAGE))) {
            throw new IllegalArgumentException(String.format(
                    "initial page directory 0x%08x must be a page-aligned page inside guest memory (which ends at 0x%08x)",
                    guestPgdir, mem.limitBytes()));
        }
        if (mem.freeHostFrames() < MIN_POOL_FRAMES) {
            throw new IllegalStateException(String.format(
                    "the shadow page tables need %d free host frames; the pool has %d of %d free",
                    MIN_POOL_FRAMES, mem.freeHostFrames(), mem.hostFrameCount()));
        }
        this.mem = mem;
        this.pageOffset = pageOffset;
        this.firstKernelIndex = pageOffset >>> 22;
        Arrays.fill(rootPfn, -1);
        rootPfn[0] = allocFrame();
        rootGuest[0] = guestPgdir;
        linear = guestPgdir == LINEAR;
        current = 0;
        nextVictim = 1;
    }

    // ---- accessors ----

    @Override
    public GuestMemory memory() {
        return mem;
    }

    @Override
    public int pageOffset() {
        return pageOffset;
    }

    @Override
    public int guestCr3() {
        alive();
        return rootGuest[current];
    }

    @Override
    public boolean isLinear() {
        return linear;
    }

    @Override
    public void setIoWindow(int firstPfn, int endPfn) {
        alive();
        if (Integer.compareUnsigned(firstPfn, endPfn) > 0 || firstPfn != endPfn
                && (Integer.compareUnsigned(firstPfn, mem.frameCount()) < 0
                        || Integer.compareUnsigned(endPfn, SWITCHER_ADDR >>> 12) > 0)) {
            throw new IllegalArgumentException(String.format(
                    "I/O window frames 0x%x..0x%x must lie above guest memory and its host frames (0x%x) and below the Switcher (0x%x)",
                    firstPfn, endPfn, mem.frameCount(), SWITCHER_ADDR >>> 12));
        }
        ioFirst = firstPfn;
        ioEnd = endPfn;
    }

    private boolean inIoWindow(int pfn) {
        return Integer.compareUnsigned(pfn, ioFirst) >= 0 && Integer.compareUnsigned(pfn, ioEnd) < 0;
    }

    @Override
    public int ioAddress(int vaddr, int errorCode) {
        alive();
        if (linear || ioFirst == ioEnd) {
            return -1;
        }
        int gpde = mem.readU32(rootGuest[current] + (vaddr >>> 22) * 4);
        if ((gpde & PRESENT) == 0 || gpde >>> 12 >= mem.pfnLimit()) {
            return -1;
        }
        int gpte = mem.readU32((gpde & FRAME_MASK) + ((vaddr >>> 12) & 0x3FF) * 4);
        if ((gpte & PRESENT) == 0 || !inIoWindow(gpte >>> 12)) {
            return -1;
        }
        if ((errorCode & FAULT_WRITE) != 0 && ((gpte & RW) == 0 || (gpde & RW) == 0)) {
            return -1;
        }
        if ((errorCode & FAULT_USER) != 0 && ((gpte & USER) == 0 || (gpde & USER) == 0)) {
            return -1;
        }
        return (gpte & FRAME_MASK) | (vaddr & PAGE_MASK);
    }

    @Override
    public int shadowCr3() {
        alive();
        return rootPfn[current] << 12;
    }

    @Override
    public int switcherPde() {
        return switcherPde;
    }

    @Override
    public int shadowPde(int vaddr) {
        alive();
        return entry(rootPfn[current], vaddr >>> 22);
    }

    @Override
    public int shadowPte(int vaddr) {
        int pde = shadowPde(vaddr);
        if ((pde & PRESENT) == 0) {
            return 0;
        }
        return entry(pde >>> 12, (vaddr >>> 12) & 0x3FF);
    }

    @Override
    public List<ShadowRoot> roots() {
        alive();
        List<ShadowRoot> out = new ArrayList<>(ROOTS);
        for (int r = 0; r < ROOTS; r++) {
            if (rootPfn[r] >= 0) {
                out.add(new ShadowRoot(rootGuest[r], rootPfn[r] << 12, r == current));
            }
        }
        return out;
    }

    @Override
    public int framesInUse() {
        return framesInUse;
    }

    @Override
    public long reclaims() {
        return reclaims;
    }

    // ---- demand paging ----

    @Override
    public boolean demandPage(int vaddr, int errorCode) {
        alive();
        boolean handled = demand(vaddr, errorCode);
        finish();
        return handled;
    }

    /** demand_page without re-pinning the stack afterwards. */
    private boolean demand(int vaddr, int errorCode) {
        if (linear) {
            return demandLinear(vaddr);
        }
        int index = vaddr >>> 22;
        int gpdeAddr = rootGuest[current] + index * 4;
        int gpde = mem.readU32(gpdeAddr);
        if ((gpde & PRESENT) == 0) {
            return false; // the guest has no page table here: its fault
        }
        if (index >= SWITCHER_PGD_INDEX) {
            throw new GuestViolationException(String.format(
                    "attempt to access switcher pages: fault at 0x%08x, and the guest maps that slot (entry 0x%08x)", vaddr, gpde));
        }
        boolean write = (errorCode & FAULT_WRITE) != 0;
        boolean user = (errorCode & FAULT_USER) != 0;

        int spde = entry(rootPfn[current], index);
        if ((spde & PRESENT) == 0) {
            checkGuestPde(gpde, vaddr);
            int table = allocFrame(); // may throw every table away (the current directory stays)
            spde = table << 12 | (gpde & PAGE_MASK);
            setEntry(rootPfn[current], index, spde);
        }

        int gpteAddr = (gpde & FRAME_MASK) + ((vaddr >>> 12) & 0x3FF) * 4;
        int gpte = mem.readU32(gpteAddr);
        if ((gpte & PRESENT) == 0) {
            return false;
        }
        // The guest's own tables decide, directory entry and page entry both, as the hardware would.
        if (write && ((gpte & RW) == 0 || (gpde & RW) == 0)) {
            return false;
        }
        if (user && ((gpte & USER) == 0 || (gpde & USER) == 0)) {
            return false;
        }
        checkGuestPte(gpte, vaddr);
        if (inIoWindow(gpte >>> 12)) {
            return false; // device registers: every access is the host's to emulate
        }

        int updated = gpte | ACCESSED | (write ? DIRTY : 0);
        int slot = (vaddr >>> 12) & 0x3FF;
        int table = spde >>> 12;
        int old = entry(table, slot);
        setEntry(table, slot, toShadow(updated));
        if (updated != gpte) {
            mem.writeU32(gpteAddr, updated);
        }
        if ((old & PRESENT) != 0) {
            invalidatePage(current, vaddr); // a read-only entry became writable (or changed frame)
        }
        return true;
    }

    /** The linear boot mapping: page {@code vaddr} is guest frame {@code vaddr >>> 12}, when there is one. */
    private boolean demandLinear(int vaddr) {
        int index = vaddr >>> 22;
        if (index >= SWITCHER_PGD_INDEX || vaddr >>> 12 >= mem.pfnLimit()) {
            return false;
        }
        int spde = entry(rootPfn[current], index);
        if ((spde & PRESENT) == 0) {
            int table = allocFrame();
            spde = table << 12 | PAGE_TABLE_FLAGS;
            setEntry(rootPfn[current], index, spde);
        }
        int slot = (vaddr >>> 12) & 0x3FF;
        int old = entry(spde >>> 12, slot);
        setEntry(spde >>> 12, slot, (vaddr & FRAME_MASK) | PAGE_TABLE_FLAGS);
        if ((old & PRESENT) != 0) {
            invalidatePage(current, vaddr);
        }
        return true;
    }

    /** The shadow of a validated guest entry: no GLOBAL, and read-only until the guest entry is dirty. */
    private static int toShadow(int gpte) {
        int s = gpte & ~GLOBAL;
        if ((gpte & DIRTY) == 0) {
            s &= ~RW;
        }
        return s;
    }

    private void checkGuestPde(int gpde, int vaddr) {
        int flags = gpde & PAGE_MASK;
        if ((flags & ~PAGE_TABLE_FLAGS) != 0) {
            throw new GuestViolationException(String.format(
                    "bad page directory entry 0x%08x for 0x%08x: flags 0x%03x are not within _PAGE_TABLE (0x%03x)%s",
                    gpde, vaddr, flags, PAGE_TABLE_FLAGS,
                    (flags & PSE) != 0 ? "; 4 MiB pages (PSE) are not available to lguest guests" : ""));
        }
        if (gpde >>> 12 >= mem.pfnLimit()) {
            throw new GuestViolationException(String.format(
                    "bad page directory entry 0x%08x for 0x%08x: its page table frame 0x%x is beyond guest memory (pfn limit 0x%x)",
                    gpde, vaddr, gpde >>> 12, mem.pfnLimit()));
        }
    }

    private void checkGuestPte(int gpte, int vaddr) {
        if ((gpte & (PWT | PSE)) != 0) {
            throw new GuestViolationException(String.format(
                    "bad page table entry 0x%08x for 0x%08x: PWT and PAT bits are not allowed", gpte, vaddr));
        }
        if (gpte >>> 12 >= mem.pfnLimit() && !inIoWindow(gpte >>> 12)) {
            throw new GuestViolationException(String.format(
                    "bad page table entry 0x%08x for 0x%08x: frame 0x%x is beyond guest memory (pfn limit 0x%x)",
                    gpte, vaddr, gpte >>> 12, mem.pfnLimit()));
        }
    }

    @Override
    public int guestPhysical(int vaddr) {
        alive();
        if (linear) {
            if (vaddr >>> 12 >= mem.pfnLimit() || vaddr < 0) {
                throw new GuestViolationException(String.format(
                        "bad address 0x%08x: beyond guest memory (0x%x) while paging is linear", vaddr, mem.limitBytes()));
            }
            return vaddr;
        }
        int gpde = mem.readU32(rootGuest[current] + (vaddr >>> 22) * 4);
        if ((gpde & PRESENT) == 0) {
            throw new GuestViolationException(String.format("bad address 0x%08x: no page table there", vaddr));
        }
        checkGuestPde(gpde, vaddr);
        int gpte = mem.readU32((gpde & FRAME_MASK) + ((vaddr >>> 12) & 0x3FF) * 4);
        if ((gpte & PRESENT) == 0) {
            throw new GuestViolationException(String.format("bad address 0x%08x: page not present", vaddr));
        }
        if (gpte >>> 12 >= mem.pfnLimit()) {
            throw new GuestViolationException(String.format(
                    "bad address 0x%08x: mapped to frame 0x%x beyond guest memory (pfn limit 0x%x)",
                    vaddr, gpte >>> 12, mem.pfnLimit()));
        }
        return (gpte & FRAME_MASK) | (vaddr & PAGE_MASK);
    }

    // ---- guest-initiated updates ----

    @Override
    public void setPte(int guestPgdir, int vaddr, int pte) {
        alive();
        boolean install = (pte & PRESENT) != 0 && (pte & (ACCESSED | DIRTY)) != 0;
        if (install && inIoWindow(pte >>> 12)) {
            install = false; // never installed: accesses fault and are emulated
        }
        if (linear) {
            return; // no guest tables are shadowed yet
        }
        if (Integer.compareUnsigned(vaddr, pageOffset) >= 0) {
            // A kernel mapping: the same in every directory. Validate once, before touching any.
            if (vaddr >>> 22 >= SWITCHER_PGD_INDEX) {
                throw new GuestViolationException(String.format(
                        "attempt to access switcher pages: SET_PTE for 0x%08x", vaddr));
            }
            if (install) {
                checkGuestPte(pte, vaddr);
            }
            for (int r = 0; r < ROOTS; r++) {
                if (rootPfn[r] >= 0) {
                    setShadowPte(r, vaddr, pte, install);
                }
            }
        } else {
            int r = find(guestPgdir & FRAME_MASK);
            if (r >= 0) {
                if (install && (entry(rootPfn[r], vaddr >>> 22) & PRESENT) != 0) {
                    checkGuestPte(pte, vaddr);
                }
                setShadowPte(r, vaddr, pte, install);
            }
        }
    }

    /** do_set_pte: replace one shadow entry of directory {@code r} when its page table exists. */
    private void setShadowPte(int r, int vaddr, int pte, boolean install) {
        int spde = entry(rootPfn[r], vaddr >>> 22);
        if ((spde & PRESENT) == 0) {
            return; // nothing shadowed there: it will fault in
        }
        int table = spde >>> 12;
        int slot = (vaddr >>> 12) & 0x3FF;
        int old = entry(table, slot);
        setEntry(table, slot, install ? toShadow(pte) : 0);
        if ((old & PRESENT) != 0) {
            invalidatePage(r, vaddr);
        }
    }

    @Override
    public void setPmd(int guestPgdir, int index) {
        alive();
        if (Integer.compareUnsigned(index, SWITCHER_PGD_INDEX) >= 0) {
            return; // the Switcher's slot (and nonsense beyond it): not the guest's to change
        }
        int r = find(guestPgdir & FRAME_MASK);
        if (r >= 0) {
            releaseTable(r, index, true);
        }
    }

    @Override
    public void flushUser() {
        alive();
        boolean any = false;
        for (int i = 0; i < firstKernelIndex; i++) {
            any |= releaseTable(current, i, false);
        }
        if (any) {
            flushTlbIfLoaded(current);
        }
    }

    @Override
    public void flushAll() {
        alive();
        clearEverything(false);
        repinPending = true;
        finish();
    }

    @Override
    public void newPageTable(int guestPgdir) {
        alive();
        int pgdir = guestPgdir & FRAME_MASK;
        if (!mem.isValid(pgdir, PAGE)) {
            throw new GuestViolationException(String.format(
                    "NEW_PGTABLE: page directory 0x%08x is outside guest memory (which ends at 0x%08x)",
                    guestPgdir, mem.limitBytes()));
        }
        if (linear) {
            // The end of the boot mapping: the linear directory becomes the guest's first.
            linear = false;
            boolean any = false;
            for (int i = 0; i < SWITCHER_PGD_INDEX; i++) {
                any |= releaseTable(current, i, false);
            }
            if (any) {
                flushTlbIfLoaded(current);
            }
            rootGuest[current] = pgdir;
            repinPending = true;
            finish();
            return;
        }
        int r = find(pgdir);
        if (r < 0) {
            r = nextVictim == current ? (nextVictim + 1) % ROOTS : nextVictim;
            nextVictim = (r + 1) % ROOTS;
            if (rootPfn[r] < 0) {
                int frame = allocFrame(); // may free other directories, never slot r (it is empty)
                rootPfn[r] = frame;
                setEntry(frame, SWITCHER_PGD_INDEX, switcherPde);
            } else {
                // Kernel mappings are the same in every guest directory: keep them.
                boolean any = false;
                for (int i = 0; i < firstKernelIndex; i++) {
                    any |= releaseTable(r, i, false);
                }
                if (any) {
                    flushTlbIfLoaded(r);
                }
            }
            rootGuest[r] = pgdir;
        }
        if (r != current) {
            // 2.6.23 re-pinned only into a blank directory; a cached one may predate the last SET_STACK.
            repinPending = true;
        }
        current = r;
        finish();
    }

    @Override
    public void pinStack(int stackTop, int pages) {
        alive();
        if (Integer.compareUnsigned(pages, 2) > 0) {
            throw new GuestViolationException("bad stack pages " + Integer.toUnsignedString(pages) + " (at most 2)");
        }
        this.stackTop = stackTop;
        this.stackPages = pages;
        repinPending = true;
        finish();
    }

    @Override
    public void setSwitcherPde(int pde) {
        alive();
        if (pde != 0) {
            int pfn = pde >>> 12;
            if ((pde & PRESENT) == 0 || (pde & PSE) != 0 || !mem.isTakenHostFrame(pfn)) {
                throw new IllegalArgumentException(String.format(
                        "Switcher directory entry 0x%08x must be present, not a 4 MiB page, and point at a host frame"
                                + " taken from the pool (frames 0x%x..0x%x)",
                        pde, mem.pfnLimit(), mem.frameCount() - 1));
            }
        }
        if (pde == switcherPde) {
            return;
        }
        switcherPde = pde;
        boolean loaded = false;
        for (int r = 0; r < ROOTS; r++) {
            if (rootPfn[r] >= 0) {
                setEntry(rootPfn[r], SWITCHER_PGD_INDEX, pde);
                loaded |= isLoaded(r);
            }
        }
        if (loaded) {
            mem.attachedCpu().flushTlb();
        }
    }

    @Override
    public void release() {
        if (released) {
            return;
        }
        clearEverything(true);
        released = true;
    }

    // ---- internals ----

    private void alive() {
        if (released) {
            throw new IllegalStateException("these shadow page tables were released");
        }
    }

    private int find(int pgdir) {
        for (int r = 0; r < ROOTS; r++) {
            if (rootPfn[r] >= 0 && rootGuest[r] == pgdir) {
                return r;
            }
        }
        return -1;
    }

    /**
     * Drops every page table of every directory and tells the processor. With
     * {@code freeRoots} the directories go too (all of them, for release);
     * otherwise they stay.
     */
    private void clearEverything(boolean freeRoots) {
        boolean loaded = false;
        for (int r = 0; r < ROOTS; r++) {
            if (rootPfn[r] < 0) {
                continue;
            }
            for (int i = 0; i < SWITCHER_PGD_INDEX; i++) {
                releaseTable(r, i, false);
            }
            loaded |= isLoaded(r);
            if (freeRoots) {
                freeFrame(rootPfn[r]);
                rootPfn[r] = -1;
            }
        }
        if (loaded) {
            mem.attachedCpu().flushTlb();
        }
    }

    /**
     * The host pool ran dry: throw away every page table, and every directory
     * but the current one, then rebuild on demand (and re-pin the stack).
     */
    private void reclaim() {
        reclaims++;
        boolean loaded = false;
        for (int r = 0; r < ROOTS; r++) {
            if (rootPfn[r] < 0) {
                continue;
            }
            for (int i = 0; i < SWITCHER_PGD_INDEX; i++) {
                releaseTable(r, i, false);
            }
            loaded |= isLoaded(r);
            if (r != current) {
                freeFrame(rootPfn[r]);
                rootPfn[r] = -1;
            }
        }
        if (loaded) {
            mem.attachedCpu().flushTlb();
        }
        repinPending = true;
    }

    /**
     * release_pgd: frees the shadow page table under directory entry
     * {@code index} of directory {@code r}. With {@code invalidateEach}, tells
     * the processor page by page (else the caller flushes). Returns whether
     * there was one.
     */
    private boolean releaseTable(int r, int index, boolean invalidateEach) {
        int root = rootPfn[r];
        int spde = entry(root, index);
        if ((spde & PRESENT) == 0) {
            return false;
        }
        setEntry(root, index, 0);
        int table = spde >>> 12;
        if (invalidateEach && isLoaded(r)) {
            Cpu cpu = mem.attachedCpu();
            int base = index << 22;
            cpu.invalidatePage(base); // also drops any cached walk through this directory entry
            for (int i = 1; i < ENTRIES; i++) {
                if ((entry(table, i) & PRESENT) != 0) {
                    cpu.invalidatePage(base | i << 12);
                }
            }
        }
        freeFrame(table);
        return true;
    }

    /**
     * After an operation: map the stack again if the tables were rebuilt. Pinning
     * may itself run the pool dry and throw everything away; then it starts over,
     * once: a second time means the pool cannot hold the stack at all.
     */
    private void finish() {
        if (!repinPending || repinning) {
            return;
        }
        repinning = true;
        try {
            for (int pass = 0; repinPending; pass++) {
                if (pass == 2) {
                    throw new IllegalStateException(String.format(
                            "the host frame pool (%d frames, %d free) cannot keep the guest's stack mapped;"
                                    + " build the guest memory with more host frames",
                            mem.hostFrameCount(), mem.freeHostFrames()));
                }
                repinPending = false;
                for (int i = 0; i < stackPages && !repinPending; i++) {
                    int vaddr = stackTop - 1 - i * PAGE;
                    if (!writable(vaddr) && !demand(vaddr, FAULT_WRITE)) {
                        throw new GuestViolationException(String.format("bad stack page 0x%08x", vaddr));
                    }
                }
            }
        } finally {
            repinning = false;
        }
    }

    private boolean writable(int vaddr) {
        int spde = entry(rootPfn[current], vaddr >>> 22);
        if ((spde & PRESENT) == 0) {
            return false;
        }
        return (entry(spde >>> 12, (vaddr >>> 12) & 0x3FF) & (PRESENT | RW)) == (PRESENT | RW);
    }

    private int allocFrame() {
        int pfn = mem.tryAllocateHostFrame();
        if (pfn < 0 && rootPfn[current] >= 0) {
            reclaim();
            pfn = mem.tryAllocateHostFrame();
        }
        if (pfn < 0) {
            throw new IllegalStateException(String.format(
                    "the host frame pool is exhausted (%d frames, %d held by the shadow page tables, the rest by the Switcher);"
                            + " the shadow tables need %d to make progress: build the guest memory with more host frames",
                    mem.hostFrameCount(), framesInUse, MIN_POOL_FRAMES));
        }
        framesInUse++;
        return pfn;
    }

    private void freeFrame(int pfn) {
        mem.freeHostFrame(pfn);
        framesInUse--;
    }

    /** Whether directory {@code r} is what the attached processor's CR3 holds. */
    private boolean isLoaded(int r) {
        Cpu cpu = mem.attachedCpu();
        return cpu != null && rootPfn[r] >= 0 && cpu.cr(3) >>> 12 == rootPfn[r];
    }

    private void invalidatePage(int r, int vaddr) {
        if (isLoaded(r)) {
            mem.attachedCpu().invalidatePage(vaddr & FRAME_MASK);
        }
    }

    private void flushTlbIfLoaded(int r) {
        if (isLoaded(r)) {
            mem.attachedCpu().flushTlb();
        }
    }

    private int entry(int pfn, int index) {
        return (int) GuestMemoryImpl.U32.get(mem.frame(pfn), index * 4);
    }

    private void setEntry(int pfn, int index, int value) {
        GuestMemoryImpl.U32.set(mem.frame(pfn), index * 4, value);
    }

    @Override
    public String toString() {
        return String.format("ShadowPageTables[guest cr3 0x%08x, shadow cr3 0x%08x, %d roots, %d frames, page offset 0x%08x]",
                rootGuest[current], rootPfn[current] << 12, roots().size(), framesInUse, pageOffset);
    }
}
