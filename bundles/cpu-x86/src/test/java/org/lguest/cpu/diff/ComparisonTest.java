package org.lguest.cpu.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** What the comparison forgives, and what it does not. */
class ComparisonTest {
    static final byte[] PATTERN = CaseGenerator.patternFor(1);
    static final Comparison CMP = new Comparison(PATTERN);
    static final int START = Layout.CODE + Layout.CODE_OFFSET;

    static DiffCase aCase(int undefinedFlags, int[] undefinedRegs, int[] undefinedMemory) {
        return new DiffCase(0, null, "test", Layout.CODE_OFFSET, new byte[] {0x21, (byte) 0xd8}, new int[8], 0x202,
                List.of(), undefinedFlags, undefinedRegs, undefinedMemory, 0, false, 0);
    }

    static Outcome outcome(int vector, int err, int cr2, int eip, int eflags, int eax, Map<Integer, Integer> mem) {
        return new Outcome(vector, err, cr2, eip, eflags, new int[] {eax, 0, 0, 0, 0, 0, 0, 0},
                new int[] {0x2b, 0x23, 0x2b, 0x2b, 0, 0}, mem, null, null);
    }

    @Test
    void identicalOutcomesAgree() {
        Outcome o = outcome(3, 0, 0, START + 3, 0x246, 5, Map.of());
        assertTrue(CMP.differences(aCase(0, new int[8], new int[0]), o, o).isEmpty());
    }

    @Test
    void undefinedFlagsAreForgivenOnlyWhenTheInstructionCompleted() {
        DiffCase c = aCase(UndefinedBehaviour.AF, new int[8], new int[0]);
        Outcome host = outcome(3, 0, 0, START + 3, 0x256, 5, Map.of());
        Outcome java = outcome(3, 0, 0, START + 3, 0x246, 5, Map.of());
        assertTrue(CMP.differences(c, host, java).isEmpty(), "AF is undefined after AND");
        Outcome hostFault = outcome(14, 4, 0x1000, START, 0x256, 5, Map.of());
        Outcome javaFault = outcome(14, 4, 0x1000, START, 0x246, 5, Map.of());
        List<String> d = CMP.differences(c, hostFault, javaFault);
        assertEquals(1, d.size(), "a fault must leave EFLAGS as they were: " + d);
        assertTrue(d.get(0).startsWith("EFLAGS differ in AF"));
    }

    @Test
    void aDifferentFlagOutsideTheMaskIsReported() {
        DiffCase c = aCase(UndefinedBehaviour.AF, new int[8], new int[0]);
        List<String> d = CMP.differences(c, outcome(3, 0, 0, START + 3, 0x247, 5, Map.of()),
                outcome(3, 0, 0, START + 3, 0x246, 5, Map.of()));
        assertEquals(1, d.size());
        assertTrue(d.get(0).startsWith("EFLAGS differ in CF"));
    }

    @Test
    void pageFaultsCompareErrorCodeWithoutTheFetchBitAndCr2() {
        DiffCase c = aCase(0, new int[8], new int[0]);
        assertTrue(CMP.differences(c, outcome(14, 0x14, 0x10001000, START, 0x202, 0, Map.of()),
                outcome(14, 0x04, 0x10001000, START, 0x202, 0, Map.of())).isEmpty(), "I/D bit ignored");
        List<String> d = CMP.differences(c, outcome(14, 0x6, 0x20002000, START, 0x202, 0, Map.of()),
                outcome(14, 0x4, 0x20002002, START, 0x202, 0, Map.of()));
        assertEquals(List.of("error code: host 0x6, java 0x4", "CR2: host 20002000, java 20002002"), d);
    }

    @Test
    void cr2IsIgnoredForOtherVectors() {
        DiffCase c = aCase(0, new int[8], new int[0]);
        assertTrue(CMP.differences(c, outcome(13, 0, 0x1234, START, 0x202, 0, Map.of()),
                outcome(13, 0, 0, START, 0x202, 0, Map.of())).isEmpty());
    }

    @Test
    void undefinedRegisterAndMemoryBitsAreForgivenWhenCompleted() {
        int[] regs = new int[8];
        regs[0] = 0xffff;
        DiffCase c = aCase(0, regs, new int[] {0x102, 2});
        int w = 0x100 / 4;
        Outcome host = outcome(3, 0, 0, START + 3, 0x202, 0x12340000, Map.of(w, 0x11110000 | 0x2222));
        Outcome java = outcome(3, 0, 0, START + 3, 0x202, 0x1234ffff, Map.of(w, 0x00000000 | 0x2222));
        assertTrue(CMP.differences(c, host, java).isEmpty());
        Outcome javaHigh = outcome(3, 0, 0, START + 3, 0x202, 0x1235ffff, Map.of(w, 0x2222));
        assertEquals(1, CMP.differences(c, host, javaHigh).size(), "bits outside the mask still count");
    }

    @Test
    void memoryTheJavaCpuDidNotWriteIsComparedAgainstThePattern() {
        DiffCase c = aCase(0, new int[8], new int[0]);
        List<String> d = CMP.differences(c, outcome(3, 0, 0, START + 3, 0x202, 0, Map.of(7, 0xdeadbeef)),
                outcome(3, 0, 0, START + 3, 0x202, 0, Map.of()));
        assertEquals(1, d.size());
        assertTrue(d.get(0).startsWith("memory 2000001c: host deadbeef"), d.get(0));
    }

    @Test
    void aNullSelectorsRplIsForgivenOnlyWhenTheHostKernelZeroedIt() {
        DiffCase c = aCase(0, new int[8], new int[0]);
        Outcome host = outcome(3, 0, 0, START + 3, 0x202, 0, Map.of());
        int[] javaSel = {0x2b, 0x23, 0x2b, 0x3, 0, 0};
        Outcome java = new Outcome(3, 0, 0, START + 3, 0x202, new int[8], javaSel, Map.of(), null, null);
        Outcome hostZero = new Outcome(3, 0, 0, START + 3, 0x202, new int[8], new int[] {0x2b, 0x23, 0x2b, 0, 0, 0},
                Map.of(), null, null);
        assertTrue(CMP.differences(c, hostZero, java).isEmpty());
        assertEquals(List.of("DS: host 002b, java 0003"), CMP.differences(c, host, java));
    }

    @Test
    void anEmulatorThatDidNotReachAVectorIsAMismatch() {
        DiffCase c = aCase(0, new int[8], new int[0]);
        Outcome java = new Outcome(-1, 0, 0, 0, 0, new int[8], new int[6], Map.of(), "run ended with BUDGET", null);
        assertEquals(1, CMP.differences(c, outcome(3, 0, 0, START + 3, 0x202, 0, Map.of()), java).size());
    }
}
