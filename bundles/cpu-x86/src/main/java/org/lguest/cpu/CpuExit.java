package org.lguest.cpu;

/**
 * Why {@link Cpu#run(long)} returned.
 *
 * @param reason       what ended the run
 * @param vector       for {@link Reason#HOST_VECTOR}: the exception or interrupt vector
 * @param errorCode    for {@link Reason#HOST_VECTOR}: the error code the processor would have pushed
 * @param hasErrorCode whether that vector carries an error code
 */
public record CpuExit(Reason reason, int vector, int errorCode, boolean hasErrorCode) {

    public enum Reason {
        /**
         * A vector's gate leads into the host region. Nothing was pushed: the
         * registers are as the processor had them when the vector was raised
         * (for faults EIP is the faulting instruction, for traps and INT n the
         * next one), CR2 holds the address of a page fault.
         */
        HOST_VECTOR,
        /** The instruction budget ran out. */
        BUDGET,
        /** {@link Cpu#requestExit()} was called. */
        EXIT_REQUESTED,
        /** HLT executed; EIP is the instruction after it. */
        HALT,
        /** A fault while delivering a double fault (triple fault): the processor would reset. */
        SHUTDOWN
    }

    public static CpuExit of(Reason reason) {
        return new CpuExit(reason, -1, 0, false);
    }
}
