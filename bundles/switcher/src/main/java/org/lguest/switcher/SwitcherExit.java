package org.lguest.switcher;

/**
 * Why {@link SwitcherGuest#run(long)} came back.
 *
 * @param kind      what ended the run
 * @param trap      for {@link Kind#TRAP}: the vector (lguest's {@code regs.trapnum})
 * @param errorCode for {@link Kind#TRAP}: the error code the processor pushed, 0 for vectors without one
 * @param cr2       for a page fault (trap 14): the faulting address
 */
public record SwitcherExit(Kind kind, int trap, int errorCode, int cr2) {
    public enum Kind {
        /** A vector reached a host stub: the host must handle {@link #trap()}. */
        TRAP,
        /** The time slice (instruction budget) ran out. */
        SLICE,
        /** {@link SwitcherGuest#requestExit()} was called. */
        INTERRUPTED,
        /** The processor shut down (a fault while delivering a double fault). */
        SHUTDOWN
    }

    public static final int PAGE_FAULT = 14, GENERAL_PROTECTION = 13, DEVICE_NOT_AVAILABLE = 7, DOUBLE_FAULT = 8;
}
