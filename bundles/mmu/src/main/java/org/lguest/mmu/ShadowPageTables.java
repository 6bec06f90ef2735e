package org.lguest.mmu;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One guest's shadow page tables (two-level, non-PAE), built on demand from
 * the guest's own tables: lguest's {@code page_tables.c}.
 *
 * <p>The processor never walks the guest's tables. It walks these, which live
 * in host frames of the guest memory (above the pfn limit) and map only guest
 * frames that passed validation. A small cache of shadow page directories
 * ({@link #ROOTS}) is kept, keyed by guest page directory address; the
 * current one's physical address ({@link #shadowCr3()}) is what CR3 gets.
 *
 * <p>Slot {@link #SWITCHER_PGD_INDEX} (the top 4 MiB, {@link #SWITCHER_ADDR})
 * of every shadow directory belongs to the host: it holds the entry given to
 * {@link #setSwitcherPde(int)} and nothing the guest says ever reaches it.
 *
 * <p>After any change that removes or downgrades a mapping in the directory
 * the attached processor has loaded (its CR3), the processor's TLB is told
 * ({@code invalidatePage} or {@code flushTlb}), so no stale translation
 * survives. Switching directories is the Switcher's business: before each
 * run, load CR3 with {@link #shadowCr3()} if it differs.
 *
 * <p>Guest misbehaviour throws {@link GuestViolationException} with lguest's
 * reason; the shadow state stays consistent (nothing half-installed).
 * Not thread-safe: the guest's thread drives it.
 */
@ProviderType
public interface ShadowPageTables {
    /** Page-table entry bits (i386, non-PAE). */
    int PRESENT = 0x001, RW = 0x002, USER = 0x004, PWT = 0x008, PCD = 0x010,
        ACCESSED = 0x020, DIRTY = 0x040, PSE = 0x080, GLOBAL = 0x100;

    /** The flags a guest page-directory entry may carry ({@code _PAGE_TABLE}). */
    int PAGE_TABLE_FLAGS = PRESENT | RW | USER | ACCESSED | DIRTY;

    /** {@code _PAGE_KERNEL} for a page-directory entry: what the Switcher's entry normally carries. */
    int KERNEL_PDE_FLAGS = PRESENT | RW | ACCESSED | DIRTY;

    /** Error-code bits of a page fault. */
    int FAULT_PRESENT = 1, FAULT_WRITE = 2, FAULT_USER = 4;

    int SWITCHER_ADDR = 0xFFC00000;

    int SWITCHER_PGD_INDEX = 1023;

    /**
     * The page directory to give {@link Mmu#newShadowPageTables} for a guest
     * that boots with linear paging (the 4.x ABI): until its first
     * {@link #newPageTable}, every virtual address below the pfn limit maps to
     * the same guest-physical address, read-write, user and kernel alike, and
     * the guest has no tables of its own. No page-aligned directory can be
     * this value.
     */
    int LINEAR = -1;

    /** Shadow page directories kept (2.6.23 keeps 4). */
    int ROOTS = 4;

    /**
     * Free host frames the tables need to make progress whatever the guest
     * does: a directory, a page table for the faulting address and one for
     * each of two pinned stack pages.
     */
    int MIN_POOL_FRAMES = 4;

    GuestMemory memory();

    /** The guest kernel's PAGE_OFFSET: addresses at or above it are kernel mappings, shared by all directories. */
    int pageOffset();

    /** Guest-physical address of the guest page directory in use ({@link #LINEAR} while booting linearly). */
    int guestCr3();

    /** Whether the tables still give the linear boot mapping (no {@link #newPageTable} yet). */
    boolean isLinear();

    /**
     * Declares guest frames {@code [firstPfn, endPfn)}, at or above the pfn
     * limit and below the Switcher, as the guest's I/O window (PCI BARs):
     * guest page-table entries may point there without killing the guest,
     * but such a mapping is never installed, so every access faults and
     * {@link #ioAddress} tells the host which I/O address it was for.
     * An empty range ({@code firstPfn == endPfn}) removes the window.
     *
     * @throws IllegalArgumentException for a range inside guest memory or reaching the Switcher
     */
    void setIoWindow(int firstPfn, int endPfn);

    /**
     * For a page fault at {@code vaddr} that {@link #demandPage} did not
     * handle: the guest-physical address inside the I/O window that the
     * guest's own tables map {@code vaddr} to, when they allow the access
     * ({@code errorCode}'s write and user bits); -1 otherwise.
     */
    int ioAddress(int vaddr, int errorCode);

    /** Physical address of the shadow page directory in use: what CR3 gets. */
    int shadowCr3();

    /**
     * Handles a page fault at {@code vaddr} with the processor's error code
     * ({@code demand_page}): when the guest's tables allow the access, installs
     * the shadow entry (setting ACCESSED, and DIRTY for a write, in the guest's
     * entry) and returns true; otherwise returns false and the fault belongs to
     * the guest (reflect it, with CR2 = vaddr).
     *
     * @throws GuestViolationException for a bad guest entry or an access to the Switcher's slot
     */
    boolean demandPage(int vaddr, int errorCode);

    /**
     * {@code LHCALL_SET_PTE}: the guest set the entry for {@code vaddr} in the
     * page tables under {@code guestPgdir} to {@code pte}. Kernel addresses
     * update every cached directory, user addresses only the one shadowing
     * {@code guestPgdir} (if cached). An entry already ACCESSED or DIRTY is
     * installed at once, otherwise the old one is dropped to fault in later.
     */
    void setPte(int guestPgdir, int vaddr, int pte);

    /**
     * {@code LHCALL_SET_PMD}: entry {@code index} of the guest page directory
     * at {@code guestPgdir} changed; its shadow page table is dropped. Indexes
     * from {@link #SWITCHER_PGD_INDEX} up are ignored.
     */
    void setPmd(int guestPgdir, int index);

    /** {@code LHCALL_FLUSH_TLB(0)}: drops the user part (below the page offset) of the current directory. */
    void flushUser();

    /**
     * {@code LHCALL_FLUSH_TLB(non-zero)} and {@code LHCALL_LGUEST_INIT}: drops
     * every mapping of every cached directory (the Switcher slot stays), then
     * re-pins the stack.
     */
    void flushAll();

    /**
     * {@code LHCALL_NEW_PGTABLE}: switches to the shadow of the guest page
     * directory at {@code guestPgdir}, reusing a cached one or taking a slot
     * round-robin (its user part dropped), and pins the stack there.
     *
     * @throws GuestViolationException when the page directory lies outside guest memory
     */
    void newPageTable(int guestPgdir);

    /**
     * {@code LHCALL_SET_STACK}'s paging half: makes the {@code pages} pages
     * below {@code stackTop} present and writable now, and again whenever the
     * tables are rebuilt, so a direct trap never faults pushing its frame.
     *
     * @throws GuestViolationException for more than 2 pages or a stack page the guest has not mapped writable
     */
    void pinStack(int stackTop, int pages);

    /**
     * Sets the entry every shadow directory has in slot
     * {@link #SWITCHER_PGD_INDEX}: a present entry whose frame is a host frame
     * (at or above the pfn limit) holding the Switcher's page table. 0 clears it.
     */
    void setSwitcherPde(int pde);

    int switcherPde();

    /**
     * Translates a guest virtual address through the guest's <em>own</em> current
     * page tables: what the host needs to push an interrupt frame on the guest's
     * stack or read the instruction at its EIP ({@code guest_pa}). 2.6.23
     * subtracted the page offset instead; the walk gives the same answer for the
     * kernel's linear map and is right elsewhere too. No permission check: this
     * is the host looking.
     *
     * @throws GuestViolationException when the guest has not mapped {@code vaddr}, maps it
     *         with a 4 MiB page, or maps it beyond its memory
     */
    int guestPhysical(int vaddr);

    /** The shadow directory entry for {@code vaddr} in the current directory (0 when absent). */
    int shadowPde(int vaddr);

    /** The shadow page-table entry for {@code vaddr} in the current directory (0 when absent). */
    int shadowPte(int vaddr);

    /** The cached shadow directories, in slot order. */
    List<ShadowRoot> roots();

    /** Host frames these tables hold now (directories and page tables). */
    int framesInUse();

    /** Times the tables were thrown away because the host pool ran dry. */
    long reclaims();

    /** Frees every frame (guest death). Later calls throw {@link IllegalStateException}. */
    void release();
}
