package org.lguest.lg.abi;

/** The requests the Launcher writes to the control file (the first u32 of a write). */
public final class ControlRequests {
    /** pfnlimit, pgdir, start, page_offset. */
    public static final int INITIALIZE = 0;
    /** key: the address of a bound receive buffer, its IRQ stored in used_len. */
    public static final int GETDMA = 1;
    /** irq: raise a guest interrupt. */
    public static final int IRQ = 2;
    /** on (1/0): make a running read return, and hold the guest until off. */
    public static final int BREAK = 3;

    /** Guests the host runs at once. */
    public static final int MAX_GUESTS = 16;

    private ControlRequests() {
    }
}
