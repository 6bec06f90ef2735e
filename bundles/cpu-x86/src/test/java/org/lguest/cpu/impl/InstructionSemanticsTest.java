package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/** Integer instructions and their flags, one behaviour per test. Each program ends in HLT at ring 0. */
class InstructionSemanticsTest {
    static final int CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

    private static TestMachine runToHalt(int... code) {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(code);
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HALT, x.reason(), () -> "program should reach its HLT, got " + x);
        return m;
    }

    private static void assertFlags(TestMachine m, int mask, int expected) {
        int f = m.cpu.eflags() & mask;
        assertEquals(expected, f, () -> String.format("EFLAGS & %#x: expected %#x, got %#x (EFLAGS=%#x)", mask, expected, f,
                m.cpu.eflags()));
    }

    private static void assertReg(TestMachine m, int reg, int expected) {
        assertEquals(expected, m.cpu.reg(reg), () -> String.format("register %d: expected %#x, got %#x", reg, expected, m.cpu.reg(reg)));
    }

    @Test
    void addSignedOverflowSetsOfSfAfButNotCf() {
        TestMachine m = runToHalt(0xB8, 0xFF, 0xFF, 0xFF, 0x7F, 0x83, 0xC0, 0x01, 0xF4);
        assertReg(m, Cpu.EAX, 0x80000000);
        assertFlags(m, CF | ZF | SF | OF | AF | PF, OF | SF | AF | PF);
    }

    @Test
    void subBelowZeroSetsCarryAndSign() {
        TestMachine m = runToHalt(0xB8, 1, 0, 0, 0, 0x83, 0xE8, 0x02, 0xF4);
        assertReg(m, Cpu.EAX, -1);
        assertFlags(m, CF | ZF | SF | OF, CF | SF);
    }

    @Test
    void incLeavesCarryUnchanged() {
        TestMachine m = runToHalt(0xF9, 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0xF4);
        assertReg(m, Cpu.EAX, 0);
        assertFlags(m, CF | ZF, CF | ZF);
    }

    @Test
    void adcAddsTheCarry() {
        TestMachine m = runToHalt(0xF9, 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x83, 0xD0, 0x00, 0xF4);
        assertReg(m, Cpu.EAX, 0);
        assertFlags(m, CF | ZF, CF | ZF);
    }

    @Test
    void sbbSubtractsTheBorrow() {
        // stc; mov eax,5; sbb eax,5 -> -1, CF
        TestMachine m = runToHalt(0xF9, 0xB8, 5, 0, 0, 0, 0x83, 0xD8, 0x05, 0xF4);
        assertReg(m, Cpu.EAX, -1);
        assertFlags(m, CF | ZF | SF, CF | SF);
    }

    @Test
    void divideByZeroRaisesDivideErrorAtTheDivInstruction() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x31, 0xC9, 0xF7, 0xF1, 0xF4);
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason());
        assertEquals(0, x.vector(), "#DE");
        assertEquals(TestMachine.CODE + 2, m.cpu.eip(), "EIP must point at the faulting DIV");
    }

    @Test
    void idivQuotientOverflowRaisesDivideError() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // mov eax,0x80000000; cdq; mov ecx,-1; idiv ecx
        m.code(0xB8, 0, 0, 0, 0x80, 0x99, 0xB9, 0xFF, 0xFF, 0xFF, 0xFF, 0xF7, 0xF9, 0xF4);
        CpuExit x = m.run();
        assertEquals(0, x.vector(), "#DE expected for INT_MIN / -1, got " + x);
    }

    @Test
    void mulSetsCarryAndOverflowWhenHighHalfIsUsed() {
        TestMachine m = runToHalt(0xB8, 0, 0, 1, 0, 0xB9, 0, 0, 1, 0, 0xF7, 0xE1, 0xF4);
        assertReg(m, Cpu.EAX, 0);
        assertReg(m, Cpu.EDX, 1);
        assertFlags(m, CF | OF, CF | OF);
    }

    @Test
    void imulThreeOperandTruncatesAndFlagsOverflow() {
        // mov ecx,0x40000000; imul eax,ecx,4
        TestMachine m = runToHalt(0xB9, 0, 0, 0, 0x40, 0x6B, 0xC1, 0x04, 0xF4);
        assertReg(m, Cpu.EAX, 0);
        assertFlags(m, CF | OF, CF | OF);
    }

    @Test
    void divideGivesQuotientAndRemainder() {
        // mov edx,0; mov eax,100; mov ecx,7; div ecx
        TestMachine m = runToHalt(0xBA, 0, 0, 0, 0, 0xB8, 100, 0, 0, 0, 0xB9, 7, 0, 0, 0, 0xF7, 0xF1, 0xF4);
        assertReg(m, Cpu.EAX, 14);
        assertReg(m, Cpu.EDX, 2);
    }

    @Test
    void shlByOneSetsCarryFromTheTopBitAndOverflowOnSignChange() {
        TestMachine m = runToHalt(0xB8, 1, 0, 0, 0x80, 0xD1, 0xE0, 0xF4);
        assertReg(m, Cpu.EAX, 2);
        assertFlags(m, CF | OF, CF | OF);
    }

    @Test
    void sarKeepsTheSign() {
        // mov eax,0x80000000; sar eax,4
        TestMachine m = runToHalt(0xB8, 0, 0, 0, 0x80, 0xC1, 0xF8, 0x04, 0xF4);
        assertReg(m, Cpu.EAX, 0xF8000000);
    }

    @Test
    void rcrRotatesThroughCarry() {
        TestMachine m = runToHalt(0xF8, 0xB8, 1, 0, 0, 0, 0xD1, 0xD8, 0xF4);
        assertReg(m, Cpu.EAX, 0);
        assertFlags(m, CF, CF);
    }

    @Test
    void roloByteRotatesWithinTheByte() {
        // mov al,0x81; rol al,1 -> 0x03, CF=1
        TestMachine m = runToHalt(0xB0, 0x81, 0xD0, 0xC0, 0xF4);
        assertEquals(0x03, m.cpu.reg(Cpu.EAX) & 0xFF);
        assertFlags(m, CF, CF);
    }

    @Test
    void daaAdjustsPackedBcdAddition() {
        // mov al,0x79; add al,0x35; daa -> 0x14, CF
        TestMachine m = runToHalt(0xB0, 0x79, 0x04, 0x35, 0x27, 0xF4);
        assertEquals(0x14, m.cpu.reg(Cpu.EAX) & 0xFF);
        assertFlags(m, CF, CF);
    }

    @Test
    void dasAdjustsPackedBcdSubtraction() {
        // mov al,0x35; sub al,0x47; das -> 0x88, CF
        TestMachine m = runToHalt(0xB0, 0x35, 0x2C, 0x47, 0x2F, 0xF4);
        assertEquals(0x88, m.cpu.reg(Cpu.EAX) & 0xFF);
        assertFlags(m, CF, CF);
    }

    @Test
    void aaaAdjustsUnpackedAddition() {
        // mov ax,0x0009; add al,3; aaa -> AX=0x0102
        TestMachine m = runToHalt(0x66, 0xB8, 0x09, 0x00, 0x04, 0x03, 0x37, 0xF4);
        assertEquals(0x0102, m.cpu.reg(Cpu.EAX) & 0xFFFF);
        assertFlags(m, CF | AF, CF | AF);
    }

    @Test
    void aamAndAadConvertBetweenBinaryAndUnpackedBcd() {
        // mov al,73; aam -> AX=0x0703; aad -> AX=73
        TestMachine m = runToHalt(0xB0, 73, 0xD4, 0x0A, 0xF4);
        assertEquals(0x0703, m.cpu.reg(Cpu.EAX) & 0xFFFF);
        TestMachine n = runToHalt(0xB0, 73, 0xD4, 0x0A, 0xD5, 0x0A, 0xF4);
        assertEquals(73, n.cpu.reg(Cpu.EAX) & 0xFFFF);
    }

    @Test
    void aamByZeroRaisesDivideError() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xD4, 0x00, 0xF4);
        assertEquals(0, m.run().vector());
    }

    @Test
    void btWithRegisterOffsetAddressesBeyondTheOperand() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke8(0x7000 + 12, 0x10); // bit 100 = byte 12 bit 4
        // mov ebx,0x7000; mov ecx,100; bt [ebx],ecx; hlt
        m.code(0xBB, 0, 0x70, 0, 0, 0xB9, 100, 0, 0, 0, 0x0F, 0xA3, 0x0B, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertFlags(m, CF, CF);
    }

    @Test
    void btsWithNegativeOffsetSetsABitBelowTheOperand() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // mov ebx,0x7004; mov ecx,-1; bts [ebx],ecx
        m.code(0xBB, 4, 0x70, 0, 0, 0xB9, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xAB, 0x0B, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x80000000, m.peek32(0x7000), "bit -1 is bit 31 of the dword below");
        assertFlags(m, CF, 0);
    }

    @Test
    void btrWithImmediateClearsTheBit() {
        // mov eax,0xF0; btr eax,5
        TestMachine m = runToHalt(0xB8, 0xF0, 0, 0, 0, 0x0F, 0xBA, 0xF0, 0x05, 0xF4);
        assertReg(m, Cpu.EAX, 0xD0);
        assertFlags(m, CF, CF);
    }

    @Test
    void bsfOfZeroSetsZfAndLeavesTheDestination() {
        // mov eax,0x55; xor ecx,ecx; bsf eax,ecx
        TestMachine m = runToHalt(0xB8, 0x55, 0, 0, 0, 0x31, 0xC9, 0x0F, 0xBC, 0xC1, 0xF4);
        assertReg(m, Cpu.EAX, 0x55);
        assertFlags(m, ZF, ZF);
    }

    @Test
    void repPrefixedBsfRunsAsBsfNotTzcnt() {
        // mov ecx,0x80; F3 0F BC C1 -> eax = 7 (TZCNT would give the same, so test zero input: BSF keeps dest)
        TestMachine m = runToHalt(0xB8, 0x55, 0, 0, 0, 0x31, 0xC9, 0xF3, 0x0F, 0xBC, 0xC1, 0xF4);
        assertReg(m, Cpu.EAX, 0x55);
        assertFlags(m, ZF | CF, ZF);
    }

    @Test
    void bsrFindsTheHighestSetBit() {
        TestMachine m = runToHalt(0xB9, 0x00, 0x10, 0x00, 0x00, 0x0F, 0xBD, 0xC1, 0xF4);
        assertReg(m, Cpu.EAX, 12);
        assertFlags(m, ZF, 0);
    }

    @Test
    void shldShiftsInBitsFromTheSource() {
        TestMachine m = runToHalt(0xB8, 0x78, 0x56, 0x34, 0x12, 0xBA, 0xF0, 0xDE, 0xBC, 0x9A, 0x0F, 0xA4, 0xD0, 0x08, 0xF4);
        assertReg(m, Cpu.EAX, 0x3456789A);
    }

    @Test
    void shrdShiftsInBitsFromTheSource() {
        TestMachine m = runToHalt(0xB8, 0x78, 0x56, 0x34, 0x12, 0xBA, 0xF0, 0xDE, 0xBC, 0x9A, 0x0F, 0xAC, 0xD0, 0x08, 0xF4);
        assertReg(m, Cpu.EAX, 0xF0123456);
    }

    @Test
    void cmpxchgStoresWhenTheAccumulatorMatches() {
        TestMachine m = runToHalt(0xB8, 5, 0, 0, 0, 0xB9, 5, 0, 0, 0, 0xBA, 9, 0, 0, 0, 0x0F, 0xB1, 0xD1, 0xF4);
        assertReg(m, Cpu.ECX, 9);
        assertFlags(m, ZF, ZF);
    }

    @Test
    void cmpxchgLoadsTheAccumulatorOnMismatch() {
        TestMachine m = runToHalt(0xB8, 4, 0, 0, 0, 0xB9, 5, 0, 0, 0, 0xBA, 9, 0, 0, 0, 0x0F, 0xB1, 0xD1, 0xF4);
        assertReg(m, Cpu.EAX, 5);
        assertReg(m, Cpu.ECX, 5);
        assertFlags(m, ZF, 0);
    }

    @Test
    void cmpxchg8bExchangesSixtyFourBits() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke32(0x7000, 1);
        m.poke32(0x7004, 2);
        // eax=1 edx=2 ebx=0x33 ecx=0x44 esi=0x7000; cmpxchg8b [esi]
        m.code(0xB8, 1, 0, 0, 0, 0xBA, 2, 0, 0, 0, 0xBB, 0x33, 0, 0, 0, 0xB9, 0x44, 0, 0, 0, 0xBE, 0, 0x70, 0, 0,
                0x0F, 0xC7, 0x0E, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x33, m.peek32(0x7000));
        assertEquals(0x44, m.peek32(0x7004));
        assertFlags(m, ZF, ZF);
    }

    @Test
    void xaddExchangesAndAdds() {
        TestMachine m = runToHalt(0xB8, 1, 0, 0, 0, 0xBB, 2, 0, 0, 0, 0x0F, 0xC1, 0xD8, 0xF4);
        assertReg(m, Cpu.EAX, 3);
        assertReg(m, Cpu.EBX, 1);
    }

    @Test
    void bswapReversesBytes() {
        TestMachine m = runToHalt(0xB8, 0x78, 0x56, 0x34, 0x12, 0x0F, 0xC8, 0xF4);
        assertReg(m, Cpu.EAX, 0x78563412);
    }

    @Test
    void repMovsbCopiesBackwardsWhenDirectionFlagIsSet() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.bytes(0x7000, 1, 2, 3, 4);
        // std; mov esi,0x7003; mov edi,0x7103; mov ecx,4; rep movsb; cld; hlt
        m.code(0xFD, 0xBE, 3, 0x70, 0, 0, 0xBF, 3, 0x71, 0, 0, 0xB9, 4, 0, 0, 0, 0xF3, 0xA4, 0xFC, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x04030201, m.peek32(0x7100));
        assertReg(m, Cpu.ECX, 0);
        assertReg(m, Cpu.ESI, 0x6FFF);
        assertReg(m, Cpu.EDI, 0x70FF);
    }

    @Test
    void repneScasbStopsAtTheMatch() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.bytes(0x7000, 'a', 'b', 'c', 'X', 'd');
        // mov edi,0x7000; mov al,'X'; mov ecx,10; repne scasb
        m.code(0xBF, 0, 0x70, 0, 0, 0xB0, 'X', 0xB9, 10, 0, 0, 0, 0xF2, 0xAE, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertReg(m, Cpu.EDI, 0x7004);
        assertReg(m, Cpu.ECX, 6);
        assertFlags(m, ZF, ZF);
    }

    @Test
    void repStosdFillsAcrossPages() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // mov edi,0x6FF8; mov eax,0xAABBCCDD; mov ecx,8; rep stosd
        m.code(0xBF, 0xF8, 0x6F, 0, 0, 0xB8, 0xDD, 0xCC, 0xBB, 0xAA, 0xB9, 8, 0, 0, 0, 0xF3, 0xAB, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        for (int a = 0x6FF8; a < 0x7018; a += 4) assertEquals(0xAABBCCDD, m.peek32(a), "dword at " + Integer.toHexString(a));
        assertEquals(0, m.peek32(0x7018));
        assertReg(m, Cpu.ECX, 0);
    }

    @Test
    void operandSizePrefixWritesOnlySixteenBits() {
        TestMachine m = runToHalt(0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x66, 0xB8, 0x34, 0x12, 0xF4);
        assertReg(m, Cpu.EAX, 0xFFFF1234);
    }

    @Test
    void sixteenBitAddressingUsesBxSi() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke32(0x1234 + 0x10, 0xCAFEBABE);
        // mov ebx,0x1234; mov esi,0x10; 67 8B 00 = mov eax,[bx+si]
        m.code(0xBB, 0x34, 0x12, 0, 0, 0xBE, 0x10, 0, 0, 0, 0x67, 0x8B, 0x00, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertReg(m, Cpu.EAX, 0xCAFEBABE);
    }

    @Test
    void enterBuildsAFrameAndLeaveTearsItDown() {
        // enter 8,0; mov eax,esp; mov ecx,ebp; leave; hlt
        TestMachine m = runToHalt(0xC8, 0x08, 0x00, 0x00, 0x89, 0xE0, 0x89, 0xE9, 0xC9, 0xF4);
        assertReg(m, Cpu.ECX, 0x8000 - 4);
        assertReg(m, Cpu.EAX, 0x8000 - 12);
        assertReg(m, Cpu.ESP, 0x8000);
    }

    @Test
    void pushaThenPopaRestoresEveryRegisterButEsp() {
        // mov eax,1; mov ebp,6; pusha; mov eax,9; mov ebp,9; popa
        TestMachine m = runToHalt(0xB8, 1, 0, 0, 0, 0xBD, 6, 0, 0, 0, 0x60, 0xB8, 9, 0, 0, 0, 0xBD, 9, 0, 0, 0, 0x61, 0xF4);
        assertReg(m, Cpu.EAX, 1);
        assertReg(m, Cpu.EBP, 6);
        assertReg(m, Cpu.ESP, 0x8000);
        assertEquals(0x8000, m.peek32(0x8000 - 20), "PUSHA stores the original ESP");
    }

    @Test
    void setccAndCmovccFollowTheSignedComparison() {
        // mov eax,-1; mov ebx,1; cmp eax,ebx; setl cl; cmovl edx,ebx; hlt
        TestMachine m = runToHalt(0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0xBB, 1, 0, 0, 0, 0x39, 0xD8, 0x0F, 0x9C, 0xC1, 0x0F, 0x4C,
                0xD3, 0xF4);
        assertEquals(1, m.cpu.reg(Cpu.ECX) & 0xFF);
        assertReg(m, Cpu.EDX, 1);
    }

    @Test
    void loopCountsEcxDown() {
        // xor eax,eax; mov ecx,5; L: inc eax; loop L; hlt
        TestMachine m = runToHalt(0x31, 0xC0, 0xB9, 5, 0, 0, 0, 0x40, 0xE2, 0xFD, 0xF4);
        assertReg(m, Cpu.EAX, 5);
        assertReg(m, Cpu.ECX, 0);
    }

    @Test
    void xlatIndexesATableWithAl() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.bytes(0x7000 + 3, 0x99);
        m.code(0xBB, 0, 0x70, 0, 0, 0xB0, 3, 0xD7, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x99, m.cpu.reg(Cpu.EAX) & 0xFF);
    }

    @Test
    void cpuidReportsGenuineIntelAndOnlyImplementedFeatures() {
        TestMachine m = runToHalt(0x31, 0xC0, 0x0F, 0xA2, 0xF4);
        String vendor = new String(new byte[] {
            (byte) m.cpu.reg(Cpu.EBX), (byte) (m.cpu.reg(Cpu.EBX) >> 8), (byte) (m.cpu.reg(Cpu.EBX) >> 16), (byte) (m.cpu.reg(Cpu.EBX) >> 24),
            (byte) m.cpu.reg(Cpu.EDX), (byte) (m.cpu.reg(Cpu.EDX) >> 8), (byte) (m.cpu.reg(Cpu.EDX) >> 16), (byte) (m.cpu.reg(Cpu.EDX) >> 24),
            (byte) m.cpu.reg(Cpu.ECX), (byte) (m.cpu.reg(Cpu.ECX) >> 8), (byte) (m.cpu.reg(Cpu.ECX) >> 16), (byte) (m.cpu.reg(Cpu.ECX) >> 24)});
        assertEquals("GenuineIntel", vendor);
        TestMachine n = runToHalt(0xB8, 1, 0, 0, 0, 0x0F, 0xA2, 0xF4);
        int edx = n.cpu.reg(Cpu.EDX);
        assertTrue((edx & (1 << 8)) != 0 && (edx & (1 << 15)) != 0 && (edx & (1 << 4)) != 0, "CX8, CMOV and TSC advertised");
        assertEquals(0, edx & ((1 << 23) | (1 << 25) | (1 << 26) | (1 << 6)), "no MMX, SSE, SSE2 or PAE");
    }

    @Test
    void rdtscCountsRetiredInstructions() {
        TestMachine m = runToHalt(0x90, 0x90, 0x0F, 0x31, 0xF4);
        assertReg(m, Cpu.EAX, 2);
    }

    @Test
    void nearCallAndReturn() {
        // call +1; hlt; (target:) mov eax,7; ret
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xE8, 0x01, 0, 0, 0, 0xF4, 0xB8, 7, 0, 0, 0, 0xC3);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertReg(m, Cpu.EAX, 7);
        assertReg(m, Cpu.ESP, 0x8000);
        assertEquals(TestMachine.CODE + 6, m.cpu.eip());
    }

    @Test
    void farCallAndReturnAtTheSamePrivilege() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // call 0x08:CODE+0x20 ; hlt ; at +0x20: mov eax,3; retf
        m.code(0x9A, 0x20, 0x00, 0x01, 0x00, 0x08, 0x00, 0xF4);
        m.bytes(TestMachine.CODE + 0x20, 0xB8, 3, 0, 0, 0, 0xCB);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertReg(m, Cpu.EAX, 3);
        assertEquals(TestMachine.CODE + 8, m.cpu.eip());
    }
}
