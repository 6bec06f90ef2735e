package org.lguest.cpu.diff;

import java.util.Map;

/**
 * How a case ended, on either processor: the vector that stopped it (3 for
 * the INT3 sentinel after the instruction), its error code and CR2, and the
 * state at that moment.
 *
 * @param vector    exception vector, or -1 when the run ended some other way (see {@code other})
 * @param errorCode error code (meaningful for vectors 8, 10-14, 17)
 * @param cr2       CR2 (meaningful for vector 14)
 * @param eip       EIP as the handler of {@code vector} would see it
 * @param eflags    EFLAGS
 * @param regs      EAX ECX EDX EBX ESP EBP ESI EDI
 * @param selectors ES CS SS DS FS GS
 * @param memory    data-area dwords that differ from the run's pattern: dword index to value
 * @param other     for vector -1: what happened instead (budget exhausted, an exception in the emulator, ...)
 * @param fpu       the 108-byte FNSAVE image after the case, for x87 cases (else null)
 */
record Outcome(int vector, int errorCode, int cr2, int eip, int eflags, int[] regs, int[] selectors,
               Map<Integer, Integer> memory, String other, byte[] fpu) {

    static boolean hasErrorCode(int vector) {
        return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
    }

    static String vectorName(int v) {
        return switch (v) {
            case -1 -> "none";
            case 0 -> "#DE";
            case 1 -> "#DB";
            case 3 -> "#BP";
            case 4 -> "#OF";
            case 5 -> "#BR";
            case 6 -> "#UD";
            case 7 -> "#NM";
            case 8 -> "#DF";
            case 10 -> "#TS";
            case 11 -> "#NP";
            case 12 -> "#SS";
            case 13 -> "#GP";
            case 14 -> "#PF";
            case 16 -> "#MF";
            case 17 -> "#AC";
            default -> "vector " + v;
        };
    }
}
