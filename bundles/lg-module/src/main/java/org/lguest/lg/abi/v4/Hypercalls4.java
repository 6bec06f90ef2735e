package org.lguest.lg.abi.v4;

/**
 * The 4.x hypercalls: {@code int $0x1f} from ring 1 with the call number in
 * EAX and up to four arguments in EBX, ECX, EDX and ESI. No call returns a
 * value. An unknown number, or any call before LGUEST_INIT, kills the guest.
 * Numbers 3, 11, 12 and 17 are not used by 4.x guests.
 */
public final class Hypercalls4 {
    public static final int FLUSH_ASYNC = 0;
    /** PA of {@code lguest_data}. Must be the first call. */
    public static final int LGUEST_INIT = 1;
    /** PA of a message (at most 128 bytes read), reason {@link #SHUTDOWN_POWEROFF} or {@link #SHUTDOWN_RESTART}. */
    public static final int SHUTDOWN = 2;
    /** PA of the page directory; the first one ends the linear boot mapping. */
    public static final int NEW_PGTABLE = 4;
    /** 0: user mappings only; otherwise everything. */
    public static final int FLUSH_TLB = 5;
    /** Vector, low word, high word. */
    public static final int LOAD_IDT_ENTRY = 6;
    /** Stack segment (RPL 1), stack top, pages (at most 2). */
    public static final int SET_STACK = 7;
    /** The guest's virtual CR0.TS. */
    public static final int TS = 8;
    /** Nanoseconds to a one-shot IRQ 0; 0 cancels. */
    public static final int SET_CLOCKEVENT = 9;
    public static final int HALT = 10;
    /** PAE only: not used by a non-PAE guest; kills. */
    public static final int SET_PMD = 13;
    /** PA of the page directory, virtual address, entry. */
    public static final int SET_PTE = 14;
    /** PA of the page directory, index of the entry that changed. */
    public static final int SET_PGD = 15;
    /** PA of the thread's three TLS descriptors, cpu. */
    public static final int LOAD_TLS = 16;
    /** Index, low word, high word. */
    public static final int LOAD_GDT_ENTRY = 18;
    /** Nothing: a chance for the host to deliver an interrupt. */
    public static final int SEND_INTERRUPTS = 19;

    public static final int SHUTDOWN_POWEROFF = 1;
    public static final int SHUTDOWN_RESTART = 2;

    /** Slots of the asynchronous ring (as 2.6.23). */
    public static final int RING_SIZE = 64;
    public static final int RING_SLOT_FREE = 0xFF;

    private static final String[] NAMES = new String[20];
    static {
        NAMES[FLUSH_ASYNC] = "FLUSH_ASYNC";
        NAMES[LGUEST_INIT] = "LGUEST_INIT";
        NAMES[SHUTDOWN] = "SHUTDOWN";
        NAMES[NEW_PGTABLE] = "NEW_PGTABLE";
        NAMES[FLUSH_TLB] = "FLUSH_TLB";
        NAMES[LOAD_IDT_ENTRY] = "LOAD_IDT_ENTRY";
        NAMES[SET_STACK] = "SET_STACK";
        NAMES[TS] = "TS";
        NAMES[SET_CLOCKEVENT] = "SET_CLOCKEVENT";
        NAMES[HALT] = "HALT";
        NAMES[SET_PMD] = "SET_PMD";
        NAMES[SET_PTE] = "SET_PTE";
        NAMES[SET_PGD] = "SET_PGD";
        NAMES[LOAD_TLS] = "LOAD_TLS";
        NAMES[LOAD_GDT_ENTRY] = "LOAD_GDT_ENTRY";
        NAMES[SEND_INTERRUPTS] = "SEND_INTERRUPTS";
    }

    /** The LHCALL_ name of a 4.x call, or "unknown hypercall N". */
    public static String name(int call) {
        return call >= 0 && call < NAMES.length && NAMES[call] != null ? "LHCALL_" + NAMES[call]
                : "unknown hypercall " + Integer.toUnsignedString(call);
    }

    private Hypercalls4() {
    }
}
