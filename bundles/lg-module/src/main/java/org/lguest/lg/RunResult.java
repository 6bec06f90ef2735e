package org.lguest.lg;

/** Why {@link GuestControl#run()} returned. */
public sealed interface RunResult {
    /**
     * The guest sent DMA to a key that is not bound in shared memory: it is
     * for the Launcher. {@code dma} is the guest-physical address of the
     * sender's {@code lguest_dma}; the Launcher writes its {@code used_len}
     * before the next run.
     */
    record Dma(int dma, int key) implements RunResult {
    }

    /** {@link GuestControl#breakOn()} was called. */
    record Break() implements RunResult {
    }

    /** The guest is dead: {@code reason} says why (for example "CRASH: Power down"). */
    record Dead(String reason) implements RunResult {
        /** Whether the guest ended itself by powering down (LHCALL_CRASH with "Power down"). */
        public boolean poweredOff() {
            return reason.equals("CRASH: Power down");
        }
    }
}
