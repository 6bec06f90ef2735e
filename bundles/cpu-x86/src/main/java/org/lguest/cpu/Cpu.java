package org.lguest.cpu;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One i686-class processor in protected mode. Not thread-safe: one thread
 * runs it; other threads may only call {@link #requestExit()}.
 *
 * <p>Registers are read and written by the host between runs. Setters are
 * the host's privilege: they load values as given, without the checks the
 * corresponding instruction would make (that is what the host is for).
 */
@ProviderType
public interface Cpu {
    // General registers, in ModRM order.
    int EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
    // Segment registers, in the order of their sreg encoding.
    int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    int reg(int r);

    void setReg(int r, int value);

    int eip();

    void setEip(int eip);

    /** EFLAGS with every arithmetic flag computed. */
    int eflags();

    /** Sets every EFLAGS bit (reserved bits forced to their fixed values). */
    void setEflags(int eflags);

    /** CR0, CR2, CR3 or CR4. */
    int cr(int n);

    /** Writes CR0, CR2, CR3 or CR4 with the architectural side effects (CR3 and paging changes flush the TLB). */
    void setCr(int n, int value);

    int gdtBase();

    int gdtLimit();

    void setGdt(int base, int limit);

    int idtBase();

    int idtLimit();

    void setIdt(int base, int limit);

    int selector(int seg);

    int segmentBase(int seg);

    int segmentLimit(int seg);

    /** The descriptor's access rights as LAR returns them (bits 8..23 of the descriptor's high word). */
    int segmentAccess(int seg);

    /** Sets a segment register and its hidden descriptor cache directly. Loading CS sets CPL to the selector's RPL. */
    void setSegment(int seg, int selector, int base, int limit, int access);

    /**
     * Loads a segment register from the current GDT/LDT as the processor's own
     * segment load would at the current CPL (for CS, as a far jump with
     * CPL = RPL). Returns -1 on success, or the vector (#GP, #NP, #SS) the load
     * would raise.
     */
    int loadSegment(int seg, int selector);

    /** Sets the task register: selector and hidden base/limit/access. */
    void setTaskRegister(int selector, int base, int limit, int access);

    int taskRegisterSelector();

    /** Sets LDTR: selector and hidden base/limit. */
    void setLdt(int selector, int base, int limit);

    int cpl();

    /**
     * Declares the linear range [start, end) as the host's (the Switcher's).
     * When an exception, interrupt or INT n would enter code there through a
     * gate, {@link #run(long)} returns {@link CpuExit.Reason#HOST_VECTOR}
     * instead of delivering it. {@code start == end} disables the check.
     */
    void setHostRegion(int start, int end);

    /** Runs until an exit, executing at most {@code budget} instructions. */
    CpuExit run(long budget);

    /** Makes a running {@link #run(long)} return soon with EXIT_REQUESTED. Any thread may call it. */
    void requestExit();

    /** Instructions retired since the processor was made. */
    long instructionsRetired();

    /** Drops every TLB entry, global ones included. */
    void flushTlb();

    /** Drops the TLB entry for one linear address, as INVLPG does. */
    void invalidatePage(int linear);

    /** The host wrote physical memory behind the processor's back: drop any decoded code there. */
    void physicalWritten(long address, int length);

    /** The frames of the {@link PhysicalMemory} changed: drop everything cached from them. */
    void physicalMapChanged();

    /** Writes the x87 state in the 108-byte FNSAVE layout (without reinitialising the FPU). */
    void saveFpu(byte[] into108);

    /** Loads the x87 state from the 108-byte FRSTOR layout. */
    void restoreFpu(byte[] from108);
}
