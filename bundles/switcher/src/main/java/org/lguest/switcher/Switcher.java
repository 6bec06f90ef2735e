package org.lguest.switcher;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The Switcher service: makes each guest's processor and the per-guest
 * Switcher state that runs it.
 *
 * <h2>Layout</h2>
 * Slot 1023 of every shadow directory maps one host page table:
 * <pre>
 *   0xFFC00000  code page: 256 stubs of 16 bytes; the CPU's host region  read-only
 *   0xFFC01000  register page: struct lguest_regs at its end (offset 4024) read-write
 *   0xFFC02000  read-only state: GDT at +0, TSS at +0x100, IDT at +0x800  read-only
 * </pre>
 */
@ProviderType
public interface Switcher {
    int SWITCHER_ADDR = ShadowPageTables.SWITCHER_ADDR;
    int CODE_PAGE = SWITCHER_ADDR;
    int REGS_PAGE = SWITCHER_ADDR + 0x1000;
    int STATE_PAGE = SWITCHER_ADDR + 0x2000;
    int GDT_ADDR = STATE_PAGE;
    int TSS_ADDR = STATE_PAGE + 0x100;
    int IDT_ADDR = STATE_PAGE + 0x800;
    /** Offset of {@code struct lguest_regs} (72 bytes) inside the register page. */
    int REGS_OFFSET = 4024;
    /** Highest address any guest segment may reach: one below the Switcher. */
    int SEGMENT_TOP = SWITCHER_ADDR - 1;

    /** GDT layout of Linux 2.6.2x i386 with lguest's two slots. */
    int GDT_ENTRIES = 32;
    int GDT_ENTRY_TLS_MIN = 6, GDT_ENTRY_TLS_ENTRIES = 3;
    int GDT_ENTRY_LGUEST_CS = 10, GDT_ENTRY_LGUEST_DS = 11;
    int GDT_ENTRY_KERNEL_CS = 12, GDT_ENTRY_KERNEL_DS = 13;
    int GDT_ENTRY_TSS = 16, GDT_ENTRY_DOUBLEFAULT_TSS = 31;
    int LGUEST_CS = GDT_ENTRY_LGUEST_CS << 3, LGUEST_DS = GDT_ENTRY_LGUEST_DS << 3;
    /** The guest kernel's selectors as it runs them: RPL 1. */
    int KERNEL_CS = GDT_ENTRY_KERNEL_CS << 3 | 1, KERNEL_DS = GDT_ENTRY_KERNEL_DS << 3 | 1;
    int TSS_SELECTOR = GDT_ENTRY_TSS << 3;

    /** Host frames each guest's Switcher state takes from the guest memory's pool. */
    int HOST_FRAMES = 4;

    /**
     * Makes the guest's processor over {@code memory}, takes
     * {@link #HOST_FRAMES} host frames, installs the Switcher's entry in the
     * shadow tables, and leaves the processor at ring 1 with lguest's initial
     * state (kernel CS/DS, EFLAGS 0x202, every general register 0). Call it on
     * the thread that will run the guest: the memory is attached to the new
     * processor from here.
     */
    SwitcherGuest attach(GuestMemory memory, ShadowPageTables spt);
}
