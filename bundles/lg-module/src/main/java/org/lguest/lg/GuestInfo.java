package org.lguest.lg;

/**
 * A guest as the host sees it, for listings.
 *
 * @param id          the guest slot (0..15), also lguest_data.guestid
 * @param name        the name the Launcher gave
 * @param state       "running", "halted" or "dead: REASON"
 * @param memoryBytes guest memory below the pfn limit
 * @param startNanos  System.nanoTime() at INITIALIZE
 * @param exits       returns from the CPU to the host (traps, interrupts, time slices)
 * @param hypercalls  hypercalls executed, the asynchronous ring included
 * @param instructions guest instructions the processor retired (-1: not known)
 * @param interrupts  interrupts delivered to the guest (-1: not known)
 * @param touchedBytes host memory its frames have taken so far: RAM is given on first touch (-1: not known)
 */
public record GuestInfo(int id, String name, String state, long memoryBytes, long startNanos, long exits, long hypercalls,
        long instructions, long interrupts, long touchedBytes) {
    /** Without interrupt and memory counts (-1). */
    public GuestInfo(int id, String name, String state, long memoryBytes, long startNanos, long exits, long hypercalls,
            long instructions) {
        this(id, name, state, memoryBytes, startNanos, exits, hypercalls, instructions, -1, -1);
    }

    /** Without an instruction count (-1). */
    public GuestInfo(int id, String name, String state, long memoryBytes, long startNanos, long exits, long hypercalls) {
        this(id, name, state, memoryBytes, startNanos, exits, hypercalls, -1);
    }
}
