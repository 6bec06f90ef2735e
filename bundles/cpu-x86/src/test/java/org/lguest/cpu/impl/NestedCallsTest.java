package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * A call from one compiled region to a function of the same page is a JVM
 * call of the callee's own region (X86Cpu.callFunction): the guest sees
 * nothing of it. Its registers, stack, faults, budget and instruction
 * counts are those of the instructions it ran, whatever the nesting.
 */
class NestedCallsTest {
    /*
     * 0x00 mov ecx,200; L: mov eax,500; call F; add ebx,eax; dec ecx; jnz L; hlt
     * 0x40 F: test eax,eax; jz done; push eax; dec eax; call F; pop edx; add eax,edx; done: ret
     * -- F(n) = n + F(n-1), 500 deep: far deeper than regions nest
     */
    @Test
    void aRecursionDeeperThanRegionsNestReturnsWhatTheGuestComputes() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB9, 200, 0, 0, 0, 0xB8, 0xF4, 0x01, 0, 0, 0xE8, 0x31, 0, 0, 0, 0x01, 0xC3, 0x49, 0x75, 0xF1, 0xF4);
        m.bytes(TestMachine.CODE + 0x40, 0x85, 0xC0, 0x74, 0x0A, 0x50, 0x48, 0xE8, 0xF5, 0xFF, 0xFF, 0xFF, 0x5A, 0x01, 0xD0, 0xC3);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(10_000_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(200 * (500 * 501 / 2), m.cpu.reg(Cpu.EBX), "200 sums of 1..500");
        assertEquals(0x8000, m.cpu.reg(Cpu.ESP), "every call returned");
        assertEquals(1 + 200 * (5 + 500 * 8 + 3) + 1, m.cpu.instructionsRetired() - before);
        assertTrue(m.cpu.callsNested > 200 * 30, "the calls nested (to 40 deep): " + m.cpu.callsNested);
    }

    /*
     * 0x00 L: call F; dec ecx; jnz L; hlt
     * 0x20 F: mov eax,[esi]; add esi,4; inc edi; ret  -- esi runs into the unmapped page 0x74000
     */
    @Test
    void aFaultInACalledRegionReportsTheCalleesInstructionAndEveryInstructionRetiredBeforeIt() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 0x74 * 4, 0);
        m.code(0xE8, 0x1B, 0, 0, 0, 0x49, 0x75, 0xF8, 0xF4);
        m.bytes(TestMachine.CODE + 0x20, 0x8B, 0x06, 0x83, 0xC6, 0x04, 0x47, 0xC3);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.ESI, 0x73C00);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), "" + x);
        assertEquals(14, x.vector(), "the callee's read of the unmapped page is a #PF");
        assertEquals(0x74000, m.cpu.cr(2));
        assertEquals(TestMachine.CODE + 0x20, m.cpu.eip(), "EIP at the callee's load");
        assertEquals(256, m.cpu.reg(Cpu.EDI), "256 calls completed");
        assertEquals(1000 - 256, m.cpu.reg(Cpu.ECX), "the caller's count as it was at the call");
        assertEquals(0x8000 - 4, m.cpu.reg(Cpu.ESP), "the faulting call's return address is on the stack");
        assertEquals(256 * 7 + 1, m.cpu.instructionsRetired() - before, "seven per completed call, and the call itself");
        assertTrue(m.cpu.callsNested > 0, "the calls nested");
    }

    /*
     * 0x00 L: call F; inc ebx; inc edx; dec ecx; jnz L; hlt
     * 0x20 F: add dword [esp],1; ret   -- returns one byte further, past the inc ebx
     */
    @Test
    void aCalleeThatReturnsElsewhereGoesOnWhereItsReturnWent() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xE8, 0x1B, 0, 0, 0, 0x43, 0x42, 0x49, 0x75, 0xF6, 0xF4);
        m.bytes(TestMachine.CODE + 0x20, 0x83, 0x04, 0x24, 0x01, 0xC3);
        m.cpu.setReg(Cpu.ECX, 1000);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(0, m.cpu.reg(Cpu.EBX), "no return went to the inc ebx");
        assertEquals(1000, m.cpu.reg(Cpu.EDX), "every return went to the inc edx");
        assertEquals(0x8000, m.cpu.reg(Cpu.ESP));
        assertEquals(1000 * 6 + 1, m.cpu.instructionsRetired() - before);
        assertTrue(m.cpu.callsNested > 0, "the calls nested");
    }

    /* 0x00 L: call F; jmp L   0x20 F: inc eax; inc ebx; ret */
    @Test
    void aBudgetThatRunsOutInACalledRegionIsExact() {
        TestMachine m = new TestMachine();
        m.code(0xE8, 0x1B, 0, 0, 0, 0xEB, 0xF9);
        m.bytes(TestMachine.CODE + 0x20, 0x40, 0x43, 0xC3);
        long before = m.cpu.instructionsRetired();
        for (int i = 0; i < 50; i++) assertEquals(CpuExit.Reason.BUDGET, m.cpu.run(1001).reason());
        long n = m.cpu.instructionsRetired() - before;
        assertEquals(50 * 1001, n);
        assertEquals((n + 3) / 5, m.cpu.reg(Cpu.EAX), "one inc eax per five instructions (call, inc, inc, ret, jmp), after " + n);
        assertEquals((n + 2) / 5, m.cpu.reg(Cpu.EBX), "one inc ebx per five instructions, after " + n);
        assertTrue(m.cpu.callsNested > 0, "the calls nested");
    }

    /*
     * 0x00 L: call F; mov eax,1; add ebx,eax; dec ecx; jnz L; hlt
     * 0x40 F: cmp ecx,50; jne out; mov byte [L+6],5; out: ret
     * -- at the 50th call the callee rewrites the immediate its caller runs right after the return
     */
    @Test
    void aCalleeThatRewritesItsCallersCodeReturnsToTheNewCode() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        int patch = TestMachine.CODE + 6;
        m.code(0xE8, 0x3B, 0, 0, 0, 0xB8, 1, 0, 0, 0, 0x01, 0xC3, 0x49, 0x75, 0xF1, 0xF4);
        m.bytes(TestMachine.CODE + 0x40, 0x83, 0xF9, 0x32, 0x75, 0x07,
                0xC6, 0x05, patch & 0xFF, (patch >> 8) & 0xFF, (patch >> 16) & 0xFF, patch >>> 24, 5, 0xC3);
        m.cpu.setReg(Cpu.ECX, 100);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(50 * 1 + 50 * 5, m.cpu.reg(Cpu.EBX), "the 50 passes after the patch must add the new immediate");
        assertEquals(0x8000, m.cpu.reg(Cpu.ESP));
        assertEquals(100 * 8 + 1 + 1, m.cpu.instructionsRetired() - before);
        assertTrue(m.cpu.callsNested > 0, "the calls nested");
    }

    /* 0x00 F: call F -- a guest that only ever calls: the nesting stops, the guest goes on until its budget ends */
    @Test
    void aCallWithoutEndRunsOutOfBudgetNotOfTheJvmStack() {
        TestMachine m = new TestMachine();
        m.code(0xE8, 0xFB, 0xFF, 0xFF, 0xFF);
        CpuExit x = m.cpu.run(5000);
        assertEquals(CpuExit.Reason.BUDGET, x.reason(), "" + x);
        assertEquals(0x8000 - 4 * 5000, m.cpu.reg(Cpu.ESP), "5000 calls, each pushing its return address");
        assertEquals(TestMachine.CODE, m.cpu.eip());
    }
}
