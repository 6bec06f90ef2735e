package org.lguest.cpu.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The oracle chosen by {@link Oracles} (the host processor through the
 * native helper, or qemu-system-i386 through the oracle kernel) reports
 * what the processor does: checked here against facts of the architecture,
 * independent of the Java processor.
 */
class OracleFactsTest {
    static final int STACK = Layout.DATA + 0x1000;
    static OracleCpu host;
    static byte[] pattern = CaseGenerator.patternFor(7);

    @BeforeAll
    static void start() throws Exception {
        host = new OracleCpu(Oracles.start(), pattern);
    }

    @AfterAll
    static void stop() throws Exception {
        host.finish();
        host.close();
    }

    static Outcome run(String hex, int eflags, int... regs) throws Exception {
        int[] r = new int[8];
        System.arraycopy(regs, 0, r, 0, regs.length);
        if (regs.length <= 4) {
            r[4] = STACK;
        }
        return run(hex, eflags, r, List.of());
    }

    static Outcome run(String hex, int eflags, int[] regs, List<DiffCase.Patch> patches) throws Exception {
        DiffCase c = new DiffCase(0, null, hex, Layout.CODE_OFFSET, HexFormat.of().parseHex(hex.replace(" ", "")),
                regs, eflags, patches, 0, new int[8], new int[0], 0, false, 0);
        host.send(c);
        host.flush();
        return host.receive();
    }

    static final int START = Layout.CODE + Layout.CODE_OFFSET;

    @Test
    void anInstructionThatCompletesStopsAtTheInt3AfterIt() throws Exception {
        Outcome o = run("01 d8", 0x2, 5, 0, 0, 7); // add eax, ebx
        assertEquals(3, o.vector());
        assertEquals(START + 3, o.eip(), "EIP is after the INT3 that follows the 2-byte instruction");
        assertEquals(12, o.regs()[0]);
        assertEquals(STACK, o.regs()[4]);
        assertEquals(0x4, o.eflags() & UndefinedBehaviour.ARITH, "12 = 1100b has even parity, nothing else set");
    }

    @Test
    void flagsGoInAndComeOut() throws Exception {
        Outcome o = run("90", 0x8d5 | UndefinedBehaviour.DF); // nop with every arithmetic flag and DF
        assertEquals(0x8d5 | UndefinedBehaviour.DF, o.eflags() & (UndefinedBehaviour.ARITH | UndefinedBehaviour.DF));
        assertEquals(UndefinedBehaviour.IF, o.eflags() & UndefinedBehaviour.IF, "user code runs with IF set");
    }

    @Test
    void divideByZeroIsVector0AtTheInstruction() throws Exception {
        Outcome o = run("f7 f1", 0x2, 1, 0, 0, 0); // div ecx
        assertEquals(0, o.vector());
        assertEquals(START, o.eip());
    }

    @Test
    void aWriteToAnUnmappedPageIsAPageFaultWithCr2AndAUserWriteErrorCode() throws Exception {
        Outcome o = run("89 05 00 30 00 20", 0x2); // mov [0x20003000], eax
        assertEquals(14, o.vector());
        assertEquals(0x20003000, o.cr2());
        assertEquals(0x6, o.errorCode() & ~Comparison.PF_INSTRUCTION_FETCH, "not present, write, user");
    }

    @Test
    void theCodePageIsReadOnly() throws Exception {
        Outcome read = run("8b 05 00 08 00 10", 0x2); // mov eax, [0x10000800]
        assertEquals(3, read.vector());
        assertEquals(0x0800058b, read.regs()[0], "reads its own first bytes: 8b 05 00 08");
        Outcome write = run("89 05 00 08 00 10", 0x2);
        assertEquals(14, write.vector());
        assertEquals(0x7, write.errorCode() & ~Comparison.PF_INSTRUCTION_FETCH, "protection, write, user");
    }

    @Test
    void pushWritesTheDataAreaAndTheChangeIsReportedThenUndone() throws Exception {
        Outcome o = run("50", 0x2, 0xdeadbeef);
        assertEquals(STACK - 4, o.regs()[4]);
        assertEquals(1, o.memory().size());
        assertEquals(0xdeadbeef, o.memory().get((STACK - 4 - Layout.DATA) / 4));
        Outcome next = run("90", 0x2);
        assertTrue(next.memory().isEmpty(), "the helper restores the pattern after every case");
    }

    @Test
    void patchesAreVisibleToTheInstruction() throws Exception {
        int[] r = {0, 0, 0, 0, STACK, 0, 0, 0};
        Outcome o = run("8b 04 24", 0x2, r, List.of(new DiffCase.Patch(0x1000, new byte[] {1, 2, 3, 4})));
        assertEquals(0x04030201, o.regs()[0]); // mov eax, [esp]
    }

    @Test
    void privilegedAndInvalidInstructionsFaultAsTheArchitectureSays() throws Exception {
        assertEquals(6, run("0f 0b", 0x2).vector(), "UD2");
        Outcome cli = run("fa", 0x2);
        assertEquals(13, cli.vector(), "CLI at CPL 3 with IOPL 0");
        assertEquals(0, cli.errorCode());
        Outcome intn = run("cd 21", 0x2);
        assertEquals(13, intn.vector(), "INT 0x21 through a DPL 0 gate");
        assertEquals(0x21 * 8 + 2, intn.errorCode(), "IDT selector error code");
        Outcome into = run("ce", 0x802);
        assertEquals(4, into.vector(), "INTO with OF set traps");
        assertEquals(START + 1, into.eip(), "after the instruction");
        Outcome fs = run("64 8b 00", 0x2);
        if (host.oracle().kind() == Oracle.Kind.QEMU) {
            // QemuDifferences.NULL_SEGMENT_ACCESS: QEMU reads through the null FS with base 0, here unmapped.
            assertEquals(14, fs.vector(), "QEMU reads through a null FS (QemuDifferences.NULL_SEGMENT_ACCESS)");
        } else {
            assertEquals(13, fs.vector(), "FS is null on the host");
        }
    }

    @Test
    void segmentLoadsAreReportedAndUndoneForTheNextCase() throws Exception {
        Outcome o = run("8e d8", 0x2); // mov ds, eax (0)
        assertEquals(3, o.vector());
        assertEquals(0, o.selectors()[3]);
        Outcome next = run("8b 00", 0x2, Layout.DATA);
        assertEquals(3, next.vector(), "DS is back for the next case");
        assertEquals(host.header().userDs(), next.selectors()[3]);
    }

    @Test
    void anInstructionLongerThan15BytesIsAGeneralProtectionFault() throws Exception {
        Outcome o = run("3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 90", 0x2); // 15 prefixes + NOP
        assertEquals(13, o.vector());
        assertEquals(0, o.errorCode());
        assertEquals(START, o.eip());
        assertEquals(3, run("3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 90", 0x2).vector(), "15 bytes are fine");
    }

    @Test
    void theOracleIsTheHostProcessorWhereTheHostRunsI386ProgramsAndQemuElsewhere() throws Exception {
        Oracle.Kind expected = Oracles.hostCannotRunI386() == null && !"qemu".equals(System.getProperty("diff.oracle"))
                ? Oracle.Kind.HOST : Oracle.Kind.QEMU;
        assertEquals(expected, host.oracle().kind(), "oracle in use: " + host.oracle().name());
        System.out.println("oracle: " + host.oracle().name());
    }

    @Test
    void aJumpLandsOnAnInt3InTheCodePage() throws Exception {
        Outcome o = run("eb 10", 0x2);
        assertEquals(START + 2 + 0x10 + 1, o.eip());
    }
}
