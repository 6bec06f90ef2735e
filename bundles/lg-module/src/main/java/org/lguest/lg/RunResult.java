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

    /**
     * The guest executed {@code in} or {@code out} (4.x ABI): {@code size}
     * bytes (1, 2 or 4) at {@code port}; for {@code out}, {@code value} holds
     * them. The instruction is already stepped over; a read waits for
     * {@link GuestControl#completeIo}.
     */
    record PortIo(int port, int size, boolean out, int value) implements RunResult {
    }

    /**
     * The guest read or wrote {@code size} bytes at guest-physical
     * {@code address} inside its I/O window (a PCI BAR). For a write,
     * {@code value} holds them. As for {@link PortIo}, the instruction is
     * stepped over and a read waits for {@link GuestControl#completeIo}.
     */
    record Mmio(int address, int size, boolean write, int value) implements RunResult {
    }

    /** {@link GuestControl#breakOn()} was called. */
    record Break() implements RunResult {
    }

    /** The guest is dead: {@code reason} says why (for example "CRASH: Power down"). */
    record Dead(String reason) implements RunResult {
        /** What a 4.x guest's SHUTDOWN(poweroff) with its "Power down" message ends with. */
        public static final String SHUTDOWN_POWER_DOWN = "SHUTDOWN: Power down";

        /**
         * Whether the guest ended itself by powering down (2.6.23: LHCALL_CRASH
         * with "Power down"; 4.x: LHCALL_SHUTDOWN, poweroff, "Power down").
         */
        public boolean poweredOff() {
            return reason.equals("CRASH: Power down") || reason.equals(SHUTDOWN_POWER_DOWN);
        }
    }
}
