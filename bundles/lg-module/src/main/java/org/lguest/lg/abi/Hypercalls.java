package org.lguest.lg.abi;

/**
 * Hypercalls: the guest executes {@code int $0x1f} with the call number in
 * EAX and arguments in EDX, EBX, ECX; a result comes back in EAX. An invalid
 * call is not an error return: the host kills the guest.
 */
public final class Hypercalls {
    /** The trap vector of a hypercall: the highest below the hardware interrupts. */
    public static final int TRAP_ENTRY = 0x1F;
    /** Guest IRQ n arrives on vector FIRST_EXTERNAL_VECTOR + n. */
    public static final int FIRST_EXTERNAL_VECTOR = 32;
    /** The system call vector, delivered to the guest as a direct trap. */
    public static final int SYSCALL_VECTOR = 0x80;

    public static final int FLUSH_ASYNC = 0;
    public static final int LGUEST_INIT = 1;
    public static final int CRASH = 2;
    public static final int LOAD_GDT = 3;
    public static final int NEW_PGTABLE = 4;
    public static final int FLUSH_TLB = 5;
    public static final int LOAD_IDT_ENTRY = 6;
    public static final int SET_STACK = 7;
    public static final int TS = 8;
    public static final int SET_CLOCKEVENT = 9;
    public static final int HALT = 10;
    public static final int GET_WALLCLOCK = 11;
    public static final int BIND_DMA = 12;
    public static final int SEND_DMA = 13;
    public static final int SET_PTE = 14;
    public static final int SET_PMD = 15;
    public static final int LOAD_TLS = 16;
    /** Calls are 0 .. COUNT-1. */
    public static final int COUNT = 17;

    /** Slots in the asynchronous hypercall ring inside lguest_data. */
    public static final int RING_SIZE = 64;
    /** Ring status byte written by the host: slot free or done. 0 means pending. */
    public static final int RING_SLOT_FREE = 0xFF;

    /** The shortest and longest one-shot clock event, in nanoseconds. */
    public static final long CLOCK_MIN_DELTA_NS = 100;
    public static final long CLOCK_MAX_DELTA_NS = 0xFFFF_FFFFL;

    /** Most GDT entries LOAD_GDT copies; more kills the guest. */
    public static final int GDT_ENTRIES = 32;
    /** Most pages SET_STACK may name. */
    public static final int MAX_STACK_PAGES = 2;

    private static final String[] NAMES = {
        "FLUSH_ASYNC", "LGUEST_INIT", "CRASH", "LOAD_GDT", "NEW_PGTABLE", "FLUSH_TLB",
        "LOAD_IDT_ENTRY", "SET_STACK", "TS", "SET_CLOCKEVENT", "HALT", "GET_WALLCLOCK",
        "BIND_DMA", "SEND_DMA", "SET_PTE", "SET_PMD", "LOAD_TLS"
    };

    /** The LHCALL_ name of a call number, or "unknown hypercall N". */
    public static String name(int call) {
        return call >= 0 && call < COUNT ? "LHCALL_" + NAMES[call] : "unknown hypercall " + Integer.toUnsignedString(call);
    }

    private Hypercalls() {
    }
}
