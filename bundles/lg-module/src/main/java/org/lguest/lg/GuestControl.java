package org.lguest.lg;

import org.lguest.mmu.GuestMemory;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One open control file, one guest: the requests a Launcher writes and the
 * {@code read} that runs the guest.
 *
 * <p>The thread that calls {@link #initialize} owns the guest: only it may
 * call {@link #run}, {@link #getDma}, {@link #irq} and {@link #close}
 * ({@link ControlException.Code#EPERM} otherwise). Any thread may call
 * {@link #breakOn()} and {@link #breakOff()}: that is how input wakes the
 * Launcher (the Waker of 2.6.23).
 */
@ProviderType
public interface GuestControl extends AutoCloseable {
    /**
     * {@code LHREQ_INITIALIZE}. {@code memory} is the guest memory the
     * Launcher laid out (its pfn limit is the guest's); {@code pgdir} the
     * guest-physical address of the initial page directory, {@code start} the
     * virtual entry point, {@code pageOffset} the guest's PAGE_OFFSET. Takes
     * one of the {@link org.lguest.lg.abi.ControlRequests#MAX_GUESTS} guest
     * slots. The guest starts at ring 1 with EFLAGS 0x202, ESI 0 (the boot
     * block) and every other register 0.
     *
     * @throws ControlException EBUSY when already initialized, ENOSPC when
     *         every slot is taken, EINVAL for arguments the guest could never run with
     */
    default void initialize(String name, GuestMemory memory, int pgdir, int start, int pageOffset) {
        initialize(GuestSetup.dmaEra(name, memory, pgdir, start, pageOffset));
    }

    /**
     * {@code LHREQ_INITIALIZE} for either ABI. A 4.x guest starts with ESI 0
     * (the boot parameters at physical 0) and, with {@code pgdir}
     * {@link org.lguest.mmu.ShadowPageTables#LINEAR}, linear paging.
     *
     * @throws ControlException as {@link #initialize(String, GuestMemory, int, int, int)}
     */
    void initialize(GuestSetup setup);

    /**
     * The answer to the read that ended the last {@link #run()} with
     * {@link RunResult.PortIo} or {@link RunResult.Mmio}: {@code value} goes
     * to the instruction's destination register (its low {@code size}
     * bytes; zero-extended where the instruction says so). Ignored after a
     * write. A read left unanswered when {@link #run()} is called again reads
     * all ones.
     */
    void completeIo(int value);

    /**
     * {@code LHREQ_GETDMA}: a free receive buffer the guest bound at {@code key}.
     * Returns the guest-physical address of its {@code lguest_dma}, whose
     * {@code used_len} now holds the binding's IRQ; or -1 when the guest has
     * no free buffer there (ENOENT).
     */
    int getDma(int key);

    /** {@code LHREQ_IRQ}: raises guest interrupt {@code irq} (0..31; EINVAL otherwise). */
    void irq(int irq);

    /** {@code LHREQ_BREAK(1)}: makes a running {@link #run()} return {@link RunResult.Break} and holds the guest until {@link #breakOff()}. */
    void breakOn();

    /** {@code LHREQ_BREAK(0)}. */
    void breakOff();

    /**
     * The {@code read}: runs the guest until user space is needed. A halted
     * guest sleeps here until an interrupt, its clock event or a break.
     * After death every call returns the same {@link RunResult.Dead}.
     *
     * @throws ControlException EINVAL before {@link #initialize}
     */
    RunResult run() throws InterruptedException;

    /** What the host counted for this guest so far. */
    GuestInfo info();

    /** Release: frees the guest's slot, bindings and shadow tables. Idempotent. */
    @Override
    void close();
}
