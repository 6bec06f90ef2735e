package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.impl.compile.CompiledBlocks;

/** Hot code runs from pre-decoded and compiled blocks; these behaviours must not change when it does. */
class CompiledCodeTest {
    @Test
    void selfModifyingCodeSeesItsOwnStoresAfterTheCodeWasCompiled() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        runLoopPatchingItsImmediateThrough(m, TestMachine.CODE + 1, "the second pass must run the patched immediate");
    }

    @Test
    void aStoreThroughAnotherVirtualAliasOfTheCodeReachesItsCompiledRegion() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 0x300 * 4, TestMachine.CODE | 0x7); // linear 0x300000 is the code's frame too
        runLoopPatchingItsImmediateThrough(m, 0x300001, "the second pass must run the immediate patched through the alias");
    }

    /**
     * L: mov eax,1 (imm at CODE+1); add ebx,eax; dec ecx; jnz L;
     * mov byte [patch],5; mov ecx,100; dec edx; jnz L; hlt -- 100 passes with the
     * loop compiled, then 100 that must add the patched immediate.
     */
    private static void runLoopPatchingItsImmediateThrough(TestMachine m, int patch, String what) {
        m.code(0xB8, 1, 0, 0, 0, 0x01, 0xC3, 0x49, 0x75, 0xF6,
                0xC6, 0x05, patch & 0xFF, (patch >> 8) & 0xFF, (patch >> 16) & 0xFF, patch >>> 24, 0x05,
                0xB9, 100, 0, 0, 0, 0x4A, 0x75, 0xE7, 0xF4);
        m.cpu.setReg(Cpu.ECX, 100);
        m.cpu.setReg(Cpu.EDX, 2);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(100 * 1 + 100 * 5, m.cpu.reg(Cpu.EBX), what);
    }

    @Test
    void aCompareWhoseFlagsNothingReadsStillFaultsOnItsMemoryOperand() {
        // cmp eax,[esi], whose flags the add after it replaces
        runReadingIntoTheUnmappedPage(0x3B, "the compare");
    }

    @Test
    void theCarryOfARotateReachesAnAdcThroughTheIncThatKeepsIt() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // L: dec ecx; rol ebx,1; inc edi; adc esi,esi; add ebx,edi; test ecx,ecx; jnz L; hlt
        // -- the rotate's CF, kept by inc, shifted into esi by adc (esi holds the last 32 carries)
        m.code(0x49, 0xC1, 0xC3, 0x01, 0x47, 0x11, 0xF6, 0x01, 0xFB, 0x85, 0xC9, 0x75, 0xF3, 0xF4);
        int ebx = 0x8000_0001 ^ 0x0F0F_3C5A;
        m.cpu.setReg(Cpu.EBX, ebx);
        m.cpu.setReg(Cpu.ECX, 1000);
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(100_000).reason());
        int carries = 0;
        for (int edi = 1; edi <= 1000; edi++) {
            carries = 2 * carries + (ebx >>> 31);
            ebx = Integer.rotateLeft(ebx, 1) + edi;
        }
        assertEquals(Integer.toBinaryString(carries), Integer.toBinaryString(m.cpu.reg(Cpu.ESI)), "the last 32 carries rotated out");
        assertEquals(ebx, m.cpu.reg(Cpu.EBX));
    }

    @Test
    void aSwitchIsCompiledOnceWithEveryCaseOfItsJumpTable() {
        CompiledBlocks blocks = new CompiledBlocks();
        TestMachine m = new TestMachine(4, blocks);
        m.hostVectors();
        int table = 0x30000, c = TestMachine.CODE;
        // L: mov eax,ecx; and eax,3; jmp [table+eax*4]; case k: add ebx,k+1; jmp next; next: dec ecx; jnz L; hlt
        java.util.List<Integer> code = new java.util.ArrayList<>(java.util.List.of(0x89, 0xC8, 0x83, 0xE0, 0x03, 0xFF, 0x24, 0x85,
                table & 0xFF, (table >> 8) & 0xFF, (table >> 16) & 0xFF, table >>> 24));
        for (int k = 0; k < 4; k++) {
            code.addAll(java.util.List.of(0x83, 0xC3, k + 1, 0xEB, 15 - 5 * k));
            m.poke32(table + 4 * k, c + 12 + 5 * k);
        }
        code.addAll(java.util.List.of(0x49, 0x75, 0xDD, 0xF4));
        m.code(code.stream().mapToInt(Integer::intValue).toArray());
        m.cpu.setReg(Cpu.ECX, 1000);
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(100_000).reason());
        int expected = 0;
        for (int ecx = 1000; ecx > 0; ecx--) expected += (ecx & 3) + 1;
        assertEquals(expected, m.cpu.reg(Cpu.EBX));
        assertEquals(1, blocks.compiled(), "one region: the loop with all four cases, none learnt later from exits");
    }

    @Test
    void aCompiledLoopThatNeverEndsLeavesWhenAnExitIsRequested() throws Exception {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x40, 0xEB, 0xFD); // L: inc eax; jmp L
        long before = m.cpu.instructionsRetired();
        Thread asker = new Thread(() -> {
            try {
                Thread.sleep(500); // the loop is compiled by then and runs as one region
            } catch (InterruptedException e) {
                return;
            }
            m.cpu.requestExit();
        });
        asker.start();
        CpuExit x = m.cpu.run(Long.MAX_VALUE / 2);
        asker.join();
        assertEquals(CpuExit.Reason.EXIT_REQUESTED, x.reason(), "" + x);
        long retired = m.cpu.instructionsRetired() - before;
        assertEquals((retired + 1) / 2, m.cpu.reg(Cpu.EAX) & 0xFFFFFFFFL, "one inc per loop of two instructions, after " + retired);
    }

    @Test
    void faultInsideAHotLoopReportsTheFaultingInstructionAndRetiredCount() {
        long retired = runReadingIntoTheUnmappedPage(0x8B, "the faulting load"); // mov eax,[esi]
        assertEquals(256 * 5, retired, "five instructions retired per completed iteration");
    }

    /**
     * L: OP eax,[esi]; add esi,4; inc edi; cmp esi,0x80000; jb L; hlt -- esi
     * runs into the unmapped page 0x74000: a #PF at the first instruction,
     * after 256 iterations. Returns the instructions retired.
     */
    private static long runReadingIntoTheUnmappedPage(int op, String what) {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 0x74 * 4, 0);
        m.code(op, 0x06, 0x83, 0xC6, 0x04, 0x47, 0x81, 0xFE, 0x00, 0x00, 0x08, 0x00, 0x72, 0xF2, 0xF4);
        m.cpu.setReg(Cpu.ESI, 0x73C00);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), "" + x);
        assertEquals(14, x.vector(), what + "'s read of the unmapped page is a #PF");
        assertEquals(0x74000, m.cpu.cr(2));
        assertEquals(TestMachine.CODE, m.cpu.eip(), "EIP at " + what);
        assertEquals(256, m.cpu.reg(Cpu.EDI), "256 iterations completed");
        return m.cpu.instructionsRetired() - before;
    }

    @Test
    void processorsOfOneFactoryShareTheCodeOfIdenticalBlocksAndNotOfDifferentOnes() {
        CompiledBlocks shared = new CompiledBlocks();
        // L: add ebx,imm32 ; dec ecx ; jnz L ; hlt   (the immediate is the only difference between the machines)
        int[] code = {0x81, 0xC3, 3, 0, 0, 0, 0x49, 0x75, 0xF7, 0xF4};
        TestMachine first = new TestMachine(4, shared);
        first.code(code);
        first.cpu.setReg(Cpu.ECX, 1000);
        assertEquals(CpuExit.Reason.HALT, first.cpu.run(100_000).reason());
        assertEquals(3000, first.cpu.reg(Cpu.EBX));
        long compiled = shared.compiled();
        org.junit.jupiter.api.Assertions.assertTrue(compiled > 0, "the hot loop was compiled");

        TestMachine same = new TestMachine(4, shared);
        same.code(code);
        same.cpu.setReg(Cpu.ECX, 1000);
        assertEquals(CpuExit.Reason.HALT, same.cpu.run(100_000).reason());
        assertEquals(3000, same.cpu.reg(Cpu.EBX));
        assertEquals(compiled, shared.compiled(), "the same loop in a second processor compiles nothing new");
        org.junit.jupiter.api.Assertions.assertTrue(shared.shared() > 0, "it ran the first processor's code");

        TestMachine other = new TestMachine(4, shared);
        int[] seven = code.clone();
        seven[2] = 7;
        other.code(seven);
        other.cpu.setReg(Cpu.ECX, 1000);
        assertEquals(CpuExit.Reason.HALT, other.cpu.run(100_000).reason());
        assertEquals(7000, other.cpu.reg(Cpu.EBX), "a loop that differs only in its immediate runs its own code");
        org.junit.jupiter.api.Assertions.assertTrue(shared.compiled() > compiled, "and was compiled for itself");
        java.lang.ref.Reference.reachabilityFence(first); // its blocks hold the shared code (held weakly by the cache)
    }

    @Test
    void budgetIsExactInCompiledLoops() {
        TestMachine m = new TestMachine();
        // L: inc eax; inc ebx; inc ecx; jmp L
        m.code(0x40, 0x43, 0x41, 0xEB, 0xFB);
        long before = m.cpu.instructionsRetired();
        for (int i = 0; i < 50; i++) assertEquals(CpuExit.Reason.BUDGET, m.cpu.run(1001).reason());
        assertEquals(50 * 1001, m.cpu.instructionsRetired() - before);
        long n = m.cpu.instructionsRetired() - before;
        assertEquals((n + 3) / 4, m.cpu.reg(Cpu.EAX), "EAX counts the iterations started");
    }

    @Test
    void theLargestBudgetRunsToTheEndAfterInstructionsHaveRetired() {
        TestMachine m = new TestMachine();
        // L: mov eax,7; dec ecx; jnz L; hlt
        m.code(0xB8, 7, 0, 0, 0, 0x49, 0x75, 0xF8, 0xF4);
        m.cpu.setReg(Cpu.ECX, 100);
        assertEquals(CpuExit.Reason.BUDGET, m.cpu.run(10).reason());
        // the run's end (instructions retired + budget) saturates instead of wrapping into the past
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(Long.MAX_VALUE).reason(), "a budget of Long.MAX_VALUE runs until the hlt");
        assertEquals(0, m.cpu.reg(Cpu.ECX));
    }

    /*
     * 0x00 mov ecx,40
     * 0x05 L: cmp ecx,3; sbb eax,eax; and eax,0x28000000; inc eax; call F; dec ecx; jnz L; hlt
     * 0x20 F: mov edx,eax; M: dec edx; jnz M; ret
     * -- 38 short calls make the loop a region that calls F's; the last two each retire 1.34 G
     * instructions, 2.68 G within one entry of the caller's region
     */
    @Test
    void nestedCallsThatRetireMoreThanTwoToThe31InstructionsInOneRunAreAllCounted() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB9, 40, 0, 0, 0, 0x83, 0xF9, 0x03, 0x19, 0xC0, 0x25, 0, 0, 0, 0x28, 0x40,
                0xE8, 0x0B, 0, 0, 0, 0x49, 0x75, 0xED, 0xF4);
        m.bytes(TestMachine.CODE + 0x20, 0x89, 0xC2, 0x4A, 0x75, 0xFD, 0xC3);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(Long.MAX_VALUE);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(2 + 40 * 9 + 2 * (38 + 2 * 0x28000001L), m.cpu.instructionsRetired() - before,
                "a region's int count must not wrap, however long the run");
        assertTrue(m.cpu.callsNested > 0, "the calls nested");
        assertEquals(0, m.cpu.budgetLeaves, "no region left for its budget: the counts were banked, not unwound");
    }

    @Test
    void hostWritesThroughPhysicalWrittenReachCompiledCode() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // L: mov eax,7; dec ecx; jnz L; hlt
        m.code(0xB8, 7, 0, 0, 0, 0x49, 0x75, 0xF8, 0xF4);
        m.cpu.setReg(Cpu.ECX, 200);
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(10_000).reason());
        assertEquals(7, m.cpu.reg(Cpu.EAX));
        m.poke8(TestMachine.CODE + 1, 9); // poke8 calls physicalWritten
        m.cpu.setReg(Cpu.ECX, 200);
        m.cpu.setEip(TestMachine.CODE);
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(10_000).reason());
        assertEquals(9, m.cpu.reg(Cpu.EAX));
    }

    @Test
    void conditionalBranchTakenInsideACompiledBlockLeavesItWithExactCounts() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // L: inc eax; cmp eax,50; je OUT; inc ebx; jmp L; OUT: hlt
        m.code(0x40, 0x83, 0xF8, 0x32, 0x74, 0x03, 0x43, 0xEB, 0xF7, 0xF4);
        long before = m.cpu.instructionsRetired();
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(100_000).reason());
        assertEquals(50, m.cpu.reg(Cpu.EAX));
        assertEquals(49, m.cpu.reg(Cpu.EBX));
        assertEquals(49 * 5 + 3 + 1, m.cpu.instructionsRetired() - before);
        assertEquals(TestMachine.CODE + 10, m.cpu.eip());
    }

    @Test
    void storesIntoACalledFunctionReachItsCompiledCode() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // 0: call F; dec ecx; jnz 0; mov byte [F+1],5; mov ecx,100; dec edx; jnz 0; hlt
        // F (0x20): mov eax,1; add ebx,eax; ret
        m.code(0xE8, 0x1B, 0, 0, 0, 0x49, 0x75, 0xF8, 0xC6, 0x05, 0x21, 0x00, 0x01, 0x00, 0x05, 0xB9, 100, 0, 0, 0,
                0x4A, 0x75, 0xE9, 0xF4);
        m.bytes(TestMachine.CODE + 0x20, 0xB8, 1, 0, 0, 0, 0x01, 0xC3, 0xC3);
        m.cpu.setReg(Cpu.ECX, 100);
        m.cpu.setReg(Cpu.EDX, 2);
        long before = m.cpu.instructionsRetired();
        assertEquals(CpuExit.Reason.HALT, m.cpu.run(100_000).reason());
        assertEquals(100 * 1 + 100 * 5, m.cpu.reg(Cpu.EBX), "the second pass must run the patched callee");
        assertEquals(0x8000, m.cpu.reg(Cpu.ESP));
        assertEquals(2 * 100 * 6 + 2 * 4 + 1, m.cpu.instructionsRetired() - before);
    }
}
