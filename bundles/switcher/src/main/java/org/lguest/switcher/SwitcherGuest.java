package org.lguest.switcher;

import org.lguest.cpu.Cpu;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One guest's Switcher state: its processor, its GDT, IDT and TSS in the
 * read-only Switcher page, and its register page. Driven by the guest's
 * thread only (the processor is single-threaded), except
 * {@link #requestExit()}.
 *
 * <p>Descriptor arguments are the two 32-bit words of an x86 descriptor as
 * the guest stored them ({@code lo} first).
 */
@ProviderType
public interface SwitcherGuest extends AutoCloseable {

    /** The guest's processor. Its registers are the guest's registers between runs. */
    Cpu cpu();

    /**
     * {@code LHCALL_LOAD_GDT}: copies the guest's descriptors 0..n-1 (n ≤ 32)
     * into the guest GDT, except the host-owned ones (LGUEST_CS/DS, TSS,
     * double-fault TSS), fixing each up: DPL 0 becomes 1, the accessed bit
     * is set, the limit is trimmed so the segment ends below 0xFFC00000, and
     * system descriptors (gates, TSS, LDT) are dropped.
     *
     * @param words 2·n ints: lo, hi of each descriptor
     * @throws IllegalArgumentException for more than 32 entries
     */
    void loadGdt(int[] words);

    /** {@code LHCALL_LOAD_TLS}: the three TLS descriptors (6 ints), fixed up as {@link #loadGdt}. */
    void loadTls(int[] words);

    /** The descriptor now in GDT slot {@code index}, as the processor sees it: {lo, hi}. */
    int[] gdtEntry(int index);

    /**
     * The guest's (already validated) gate for {@code vector}: installs it as a
     * direct trap in the real IDT when it is a present trap gate and the vector
     * may be direct (0–31 except 2, 7, 8, 13, 14, 15 and 0x1F; and 0x80);
     * otherwise the vector keeps (or gets back) its host stub. A host stub
     * for a vector the guest may own (0–31 but 2, 7, 8, 13, 14, 15, 0x1F;
     * 0x80) takes the DPL of the guest's gate, so software interrupts the
     * guest allows from ring 3 reach the host and can be reflected.
     * {@code hi == 0} (not present) restores the plain host stub (DPL 0).
     *
     * @return whether the gate is now direct
     */
    boolean setGuestGate(int vector, int lo, int hi);

    /** The gate now in the real IDT for {@code vector}: {lo, hi}. */
    int[] idtEntry(int vector);

    /** Whether {@code vector} enters the host (a stub) rather than the guest directly. */
    boolean isHostVector(int vector);

    /** {@code LHCALL_SET_STACK}: the ring-1 stack traps from ring 3 switch to (TSS ss1/esp1). */
    void setKernelStack(int ss1, int esp1);

    int kernelStackSegment();

    int kernelStackPointer();

    /** {@code LHCALL_TS}: the guest's virtual CR0.TS, put in the real CR0 before each entry. */
    void setTaskSwitched(boolean ts);

    /**
     * Enters the guest and runs it for at most {@code budget} instructions:
     * delivers pending host writes, loads CR3 from the shadow tables if it
     * changed, and the GDT, IDT and task register if they were replaced.
     */
    SwitcherExit run(long budget);

    /** Makes a running {@link #run(long)} return {@link SwitcherExit.Kind#INTERRUPTED} soon. Any thread. */
    void requestExit();

    /** Returns from a guest run so far (traps, slices, interruptions). */
    long exits();

    /** Gives the host frames back to the pool and clears the Switcher entry. Idempotent. */
    @Override
    void close();
}
