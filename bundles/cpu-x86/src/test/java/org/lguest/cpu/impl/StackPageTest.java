package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * A compiled region reaches the page ESP points into directly (the stack
 * page, see CpuState.stackFrame): a 32-bit access to SS within it skips the
 * segment check and the TLB. The guest must see nothing of it: accesses
 * off that page, a page that holds code, a page made read-only and a stack
 * segment loaded in the middle of a region all behave as without it.
 */
class StackPageTest {
    /*
     * L: push ecx; dec ecx; jnz L; M: pop eax; add ebx,eax; dec edx; jnz M; hlt
     * -- ESP starts 16 bytes above a page boundary: 2000 pushes cross two
     */
    @Test
    void pushesAcrossPageBoundariesAreReadBackInOrder() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x51, 0x49, 0x75, 0xFC, 0x58, 0x01, 0xC3, 0x4A, 0x75, 0xFA, 0xF4);
        m.cpu.setReg(Cpu.ESP, 0x9010);
        m.cpu.setReg(Cpu.ECX, 2000);
        m.cpu.setReg(Cpu.EDX, 2000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        for (int k = 1; k <= 2000; k++) {
            int a = 0x9010 - 4 * k;
            assertEquals(2001 - k, m.peek32(a), "push number " + k + " at " + Integer.toHexString(a));
        }
        assertEquals(2000 * 2001 / 2, m.cpu.reg(Cpu.EBX), "every pop read what its push wrote");
        assertEquals(0x9010, m.cpu.reg(Cpu.ESP));
    }

    /*
     * L: mov [esp],ecx; mov [esp+0xFE],ecx; mov ebx,[esp+0xFE]; add edx,ebx; dec ecx; jnz L; hlt
     * -- ESP at 0x9F00 (the first store puts its page in the TLB, so the region takes it as the stack
     * page): the other two accesses start in the stack page and end in the next
     */
    @Test
    void anAccessThatStartsInTheStackPageAndEndsInTheNextReachesBothPages() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x89, 0x0C, 0x24, 0x89, 0x8C, 0x24, 0xFE, 0, 0, 0, 0x8B, 0x9C, 0x24, 0xFE, 0, 0, 0, 0x01, 0xDA, 0x49, 0x75, 0xEA, 0xF4);
        m.cpu.setReg(Cpu.ESP, 0x9F00);
        m.cpu.setReg(Cpu.ECX, 1000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1000 * 1001 / 2, m.cpu.reg(Cpu.EDX), "each load read back the store before it");
        assertEquals(0x00000001, m.peek32(0x9FFE), "the last store's four bytes, over both pages");
        assertEquals(0x00000001, m.peek32(0x9F00));
    }

    /*
     * L: mov [esp],ecx; add [esp+4],ecx; sub [esp+0xFE],ecx; dec ecx; jnz L; hlt
     * -- read-modify-writes of the stack: one inside the stack page, one across its end
     */
    @Test
    void readModifyWritesOfTheStackInsideAndAcrossThePageLandWhereTheyPoint() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x89, 0x0C, 0x24, 0x01, 0x4C, 0x24, 0x04, 0x29, 0x8C, 0x24, 0xFE, 0, 0, 0, 0x49, 0x75, 0xEF, 0xF4);
        m.cpu.setReg(Cpu.ESP, 0x9F00);
        m.cpu.setReg(Cpu.ECX, 1000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1000 * 1001 / 2, m.peek32(0x9F04), "the adds inside the page");
        assertEquals(-(1000 * 1001 / 2), m.peek32(0x9FFE), "the subtracts across its end");
        assertEquals(1, m.peek32(0x9F00));
    }

    /*
     * 0x00 mov ecx,100
     * 0x05 L: mov ebx,0 (imm32 at 0x06, where ESP points)
     * 0x0A add edx,ebx; inc eax; mov [esp],eax; dec ecx; jnz L; hlt
     * -- the loop rewrites its own immediate through the stack
     */
    @Test
    void storesThroughTheStackIntoAPageThatHoldsCodeAreSeenByThatCode() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB9, 100, 0, 0, 0, 0xBB, 0, 0, 0, 0, 0x01, 0xDA, 0x40, 0x89, 0x04, 0x24, 0x49, 0x75, 0xF2, 0xF4);
        m.cpu.setReg(Cpu.ESP, TestMachine.CODE + 6);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(99 * 100 / 2, m.cpu.reg(Cpu.EDX), "each pass added the immediate the one before it stored");
    }

    /*
     * L: mov [esp],ecx; dec ecx; jnz L
     *    mov dword [0x2101C],0x7005   -- the stack page's PTE: present, user, read-only
     *    invlpg [esp]
     *    mov [esp],eax                -- faults: CR0.WP is set
     */
    @Test
    void aStackPageMadeReadOnlyInTheMiddleOfARegionFaultsOnTheNextStore() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.cpu.setCr(0, m.cpu.cr(0) | 0x10000);
        m.code(0x89, 0x0C, 0x24, 0x49, 0x75, 0xFA,
                0xC7, 0x05, 0x1C, 0x10, 0x02, 0x00, 0x05, 0x70, 0x00, 0x00,
                0x0F, 0x01, 0x3C, 0x24,
                0x89, 0x04, 0x24, 0xF4);
        m.cpu.setReg(Cpu.ESP, 0x7800);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.EAX, 0x1234);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), "" + x);
        assertEquals(14, x.vector(), "the store to the read-only stack page is a #PF");
        assertEquals(0x7800, m.cpu.cr(2));
        assertEquals(TestMachine.CODE + 20, m.cpu.eip(), "EIP at the store");
        assertEquals(1, m.peek32(0x7800), "the last store before it stayed, the faulting one wrote nothing");
    }

    /*
     * L: mov [esp],ecx; dec ecx; jnz L
     *    mov ax,0x30; mov ss,ax      -- a stack segment based at 0x1000
     *    mov [esp],ebx; hlt
     */
    @Test
    void aStackSegmentLoadedInTheMiddleOfARegionMovesTheStoresThatFollow() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0x1000, 0xFFFFF, 0x92, 0xC);
        m.code(0x89, 0x0C, 0x24, 0x49, 0x75, 0xFA,
                0x66, 0xB8, 0x30, 0x00, 0x8E, 0xD0,
                0x89, 0x1C, 0x24, 0xF4);
        m.cpu.setReg(Cpu.ESP, 0x7800);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.EBX, 0xCAFE);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1, m.peek32(0x7800), "the loop's last store, through the flat SS");
        assertEquals(0xCAFE, m.peek32(0x8800), "the store after mov ss lands at the new base plus ESP");
    }

    /* TestMachine.loopRewritingItsImmediateOnce, the store mov [esp],eax (ESP at the immediate) */
    @Test
    void aStoreThroughTheStackIntoTheRunningRegionsCodeIsSeenByTheNextPass() {
        org.lguest.cpu.impl.compile.CompiledBlocks blocks = new org.lguest.cpu.impl.compile.CompiledBlocks();
        TestMachine m = new TestMachine(4, blocks);
        m.hostVectors();
        m.loopRewritingItsImmediateOnce(0x89, 0x04, 0x24);
        m.cpu.setReg(Cpu.ESP, TestMachine.REWRITTEN_IMMEDIATE);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(2, blocks.compiled(), "the loop compiled before the store, and again after it");
        assertEquals(51 + 48 * 51, m.cpu.reg(Cpu.EDX), "passes 2 to 52 added 1, passes 53 to 100 added 51");
        assertEquals(51, m.cpu.reg(Cpu.EBX));
    }
}
