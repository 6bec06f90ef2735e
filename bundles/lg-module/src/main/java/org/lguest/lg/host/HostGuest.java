package org.lguest.lg.host;

import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.SwitcherGuest;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A guest as the host module's services see it: lguest's {@code struct
 * lguest}. Its memory and processor, the host parts that run it (the shadow
 * page tables, the Switcher), and the state the hypercalls keep: where
 * {@code lguest_data} is, the interrupt window, the guest's gates and GDT,
 * the asynchronous ring's cursor, TS, the halt, the clock event, a DMA for
 * the Launcher. {@link ParavirtOps} acts on a guest only through this.
 *
 * <p>Everything but {@link #raiseInterrupt}, {@link #kill} and
 * {@link #isDead} is for the guest's own thread.
 */
@ProviderType
public interface HostGuest {
    /** {@link #lguestData()} before LGUEST_INIT. */
    int NO_DATA = -1;

    /** The slot, also {@code lguest_data.guestid}. */
    int id();

    String name();

    GuestMemory memory();

    /** Marks interrupt {@code irq} (0..31) pending and wakes the guest if it sleeps. Any thread. */
    void raiseInterrupt(int irq);

    /** Kills the guest with {@code reason} (the first reason wins). Any thread. */
    void kill(String reason);

    boolean isDead();

    /** The ABI the guest's kernel speaks (chosen at INITIALIZE from the kernel). */
    GuestAbi abi();

    /** The guest's processor (registers for synchronous results). */
    Cpu cpu();

    /** The guest's shadow page tables (page-table hypercalls, the kernel stack's pinning). */
    ShadowPageTables pageTables();

    /** The guest's Switcher pages: GDT, TLS, kernel stack, TS, gates. */
    SwitcherGuest switcher();

    /** Guest-physical address of {@code lguest_data}, or {@link #NO_DATA} before LGUEST_INIT. */
    int lguestData();

    /** LGUEST_INIT accepted {@code lguest_data} at {@code address}. */
    void setLguestData(int address);

    /** 2.6.23: interrupts are never delivered with EIP in [{@code start}, {@code end}). */
    void setNoInterruptRange(int start, int end);

    /** 4.x: the address of the guest's one {@code iret} (an interrupt arriving there reuses its frame). */
    void setNoInterruptIret(int eip);

    /** The asynchronous ring's next slot (lguest's {@code next_hcall}). */
    int nextHcall();

    void setNextHcall(int slot);

    /**
     * A checked gate of the guest's IDT ({@code lo}/{@code hi} as fixed up,
     * {@code hi} 0 for none): kept for reflecting traps and interrupts, and
     * given to the Switcher, which decides whether it becomes direct.
     */
    void setGuestGate(int vector, int lo, int hi);

    /** 4.x LOAD_GDT_ENTRY: one entry of the guest's GDT; the whole table goes to the Switcher again. */
    void setGdtEntry(int index, int lo, int hi);

    /** The guest's TS flag (lazy FPU switching): #NM is reflected only while it is set. */
    void setTaskSwitched(boolean ts);

    /** HALT: the guest sleeps until an interrupt it has not blocked is pending. */
    void halt();

    /** SET_CLOCKEVENT: interrupt 0 in {@code deltaNs} nanoseconds; 0 cancels. */
    void setClockEvent(long deltaNs);

    /** 2.6.23 SEND_DMA that no guest took: the Launcher gets it ({@code RunResult.Dma}) before the guest runs again. */
    void dmaForLauncher(int dma, int key);
}
