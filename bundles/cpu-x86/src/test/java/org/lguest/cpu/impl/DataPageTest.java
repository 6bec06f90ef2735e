package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * A compiled region reads and writes bytes and words through DS in the
 * page it last read and the page it last wrote directly (the data pages,
 * see CpuState.readMissed): no segment check and no TLB lookup. The guest
 * must see nothing of it: walks across pages, accesses that straddle a
 * page's end, stores into code, a page made read-only and a data segment
 * loaded in the middle of a region all behave as without it.
 */
class DataPageTest {
    /*
     * L: mov [eax],cl; inc eax; dec ecx; jnz L
     *    mov ecx,3000
     * M: movzx ebx,byte [esi]; add edx,ebx; inc esi; dec ecx; jnz M; hlt
     * -- 3000 bytes from 16 below a page boundary: both walks cross two
     */
    @Test
    void bytesWrittenAcrossPagesAreReadBackInOrder() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x88, 0x08, 0x40, 0x49, 0x75, 0xFA,
                0xB9, 0xB8, 0x0B, 0x00, 0x00,
                0x0F, 0xB6, 0x1E, 0x01, 0xDA, 0x46, 0x49, 0x75, 0xF7, 0xF4);
        m.cpu.setReg(Cpu.EAX, 0x8FF0);
        m.cpu.setReg(Cpu.ESI, 0x8FF0);
        m.cpu.setReg(Cpu.ECX, 3000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        int sum = 0;
        for (int k = 0; k < 3000; k++) {
            int a = 0x8FF0 + k;
            assertEquals((3000 - k) & 0xFF, m.peek8(a), "byte number " + k + " at " + Integer.toHexString(a));
            sum += (3000 - k) & 0xFF;
        }
        assertEquals(sum, m.cpu.reg(Cpu.EDX), "the second walk read every byte the first wrote");
        assertEquals(0x8FF0 + 3000, m.cpu.reg(Cpu.ESI));
    }

    /*
     * L: mov [eax],cx; movzx ebx,word [eax]; add edx,ebx; inc eax; dec ecx; jnz L; hlt
     * -- a word stored and read back at every byte from 0x40 below a page's end to 0x24 past it:
     * one of them straddles the end, three more lie in the page's last three bytes
     */
    @Test
    void wordsAtThePagesEndAndAcrossItReachBothPages() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x66, 0x89, 0x08, 0x0F, 0xB7, 0x18, 0x01, 0xDA, 0x40, 0x49, 0x75, 0xF4, 0xF4);
        m.cpu.setReg(Cpu.EAX, 0x8FC0);
        m.cpu.setReg(Cpu.ECX, 100);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(100 * 101 / 2, m.cpu.reg(Cpu.EDX), "each load read back the store before it");
        for (int k = 0; k < 100; k++) {
            int a = 0x8FC0 + k;
            assertEquals((100 - k) & 0xFF, m.peek8(a), "the low byte of store number " + k + " at " + Integer.toHexString(a));
        }
        assertEquals(0, m.peek8(0x8FC0 + 100), "the last store's high byte");
    }

    /*
     * L: lea ebx,[ecx+0x3400]; mov [eax],bx; movzx ebx,word [eax]; add edx,ebx; inc eax; dec ecx; jnz L; hlt
     * -- as above with both bytes of each word set: the accesses that go the usual way (the first in each
     * page, the page's last three bytes, the one across its end) read and write both bytes too
     */
    @Test
    void wordsWithBothBytesSetAroundAPagesEndAreReadBackWhole() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x8D, 0x99, 0x00, 0x34, 0x00, 0x00, 0x66, 0x89, 0x18, 0x0F, 0xB7, 0x18, 0x01, 0xDA, 0x40, 0x49, 0x75, 0xEE, 0xF4);
        m.cpu.setReg(Cpu.EAX, 0x8FC0);
        m.cpu.setReg(Cpu.ECX, 100);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(100 * 101 / 2 + 100 * 0x3400, m.cpu.reg(Cpu.EDX), "each load read back the whole word stored before it");
        assertEquals(0x34, m.peek8(0x8FC0 + 100), "the last store's high byte");
    }

    /*
     * 0x00 mov ecx,100
     * 0x05 L: mov ebx,0 (imm32 at 0x06, where ESI points)
     * 0x0A add edx,ebx; inc eax; mov [esi],al; dec ecx; jnz L; hlt
     * -- the loop rewrites its own immediate with a byte store through DS
     */
    @Test
    void byteStoresIntoAPageThatHoldsCodeAreSeenByThatCode() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB9, 100, 0, 0, 0, 0xBB, 0, 0, 0, 0, 0x01, 0xDA, 0x40, 0x88, 0x06, 0x49, 0x75, 0xF3, 0xF4);
        m.cpu.setReg(Cpu.ESI, TestMachine.CODE + 6);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(99 * 100 / 2, m.cpu.reg(Cpu.EDX), "each pass added the immediate the one before it stored");
    }

    /*
     * L: mov [eax],cl; dec ecx; jnz L
     *    mov dword [0x21020],0x8005   -- the written page's PTE: present, user, read-only
     *    invlpg [eax]
     *    mov [eax],bl                 -- faults: CR0.WP is set
     */
    @Test
    void aWrittenPageMadeReadOnlyInTheMiddleOfARegionFaultsOnTheNextStore() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.cpu.setCr(0, m.cpu.cr(0) | 0x10000);
        m.code(0x88, 0x08, 0x49, 0x75, 0xFB,
                0xC7, 0x05, 0x20, 0x10, 0x02, 0x00, 0x05, 0x80, 0x00, 0x00,
                0x0F, 0x01, 0x38,
                0x88, 0x18, 0xF4);
        m.cpu.setReg(Cpu.EAX, 0x8800);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.EBX, 0x12);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), "" + x);
        assertEquals(14, x.vector(), "the store to the read-only page is a #PF");
        assertEquals(0x8800, m.cpu.cr(2));
        assertEquals(TestMachine.CODE + 18, m.cpu.eip(), "EIP at the store");
        assertEquals(1, m.peek8(0x8800), "the last store before it stayed, the faulting one wrote nothing");
    }

    /*
     * O: mov ecx,20
     * L: mov [eax],cl; dec ecx; jnz L      -- a region that writes 0x8800's page (it takes it as its write page)
     *    cmp ebx,50; jne K
     *    mov dword [0x21020],0x8005        -- on pass 50: that page's PTE made present, user, read-only
     * K: invlpg [eax]                      -- interpreted: every pass leaves the region here
     *    inc ebx; jmp O                    -- and enters it again: on pass 51 the first store faults
     */
    @Test
    void aPageMadeReadOnlyBetweenTwoRunsOfARegionFaultsOnTheFirstStoreOfTheNext() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.cpu.setCr(0, m.cpu.cr(0) | 0x10000);
        m.code(0xB9, 20, 0, 0, 0,
                0x88, 0x08, 0x49, 0x75, 0xFB,
                0x83, 0xFB, 0x32, 0x75, 0x0A,
                0xC7, 0x05, 0x20, 0x10, 0x02, 0x00, 0x05, 0x80, 0x00, 0x00,
                0x0F, 0x01, 0x38, 0x43, 0xEB, 0xE1);
        m.cpu.setReg(Cpu.EAX, 0x8800);
        CpuExit x = m.cpu.run(1_000_000);
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), "" + x);
        assertEquals(14, x.vector(), "the store to the read-only page is a #PF");
        assertEquals(0x8800, m.cpu.cr(2));
        assertEquals(TestMachine.CODE + 5, m.cpu.eip(), "EIP at the store");
        assertEquals(51, m.cpu.reg(Cpu.EBX), "on the pass after the PTE changed");
        assertEquals(20, m.cpu.reg(Cpu.ECX), "at its first store");
        assertEquals(1, m.peek8(0x8800), "the last pass's last store stayed, the faulting one wrote nothing");
    }

    /*
     * mov dx,0x30; mov ds,dx           -- a data segment based at 0x1000, before the loop
     * L: mov es:[ebx+0x10],cl          -- flat ES: puts the page at offset 0x7800 in the write TLB
     *    mov [ebx],cl; dec ecx; jnz L  -- DS: linear 0x8800, never the page the TLB holds for 0x7800
     */
    @Test
    void aDataSegmentWithABaseHasNoDataPage() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0x1000, 0xFFFFF, 0x92, 0xC);
        m.code(0x66, 0xBA, 0x30, 0x00, 0x8E, 0xDA,
                0x26, 0x88, 0x4B, 0x10, 0x88, 0x0B, 0x49, 0x75, 0xF7, 0xF4);
        m.cpu.setReg(Cpu.EBX, 0x7800);
        m.cpu.setReg(Cpu.ECX, 1000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1, m.peek8(0x8800), "the DS stores land at the base plus EBX");
        assertEquals(1, m.peek8(0x7810), "the ES stores at EBX plus 0x10");
        assertEquals(0, m.peek8(0x7800), "nothing at the offset itself");
    }

    /*
     * L: mov [ebx],cl; dec ecx; jnz L
     *    mov dx,0x30; mov ds,dx      -- a data segment based at 0x1000
     *    mov [ebx],al; mov [ebx+1],al; hlt
     */
    @Test
    void aDataSegmentLoadedAfterARegionMovesTheStoresThatFollow() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0x1000, 0xFFFFF, 0x92, 0xC);
        m.code(0x88, 0x0B, 0x49, 0x75, 0xFB,
                0x66, 0xBA, 0x30, 0x00, 0x8E, 0xDA,
                0x88, 0x03, 0x88, 0x43, 0x01, 0xF4);
        m.cpu.setReg(Cpu.EBX, 0x7800);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.EAX, 0xCA);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1, m.peek8(0x7800), "the loop's last store, through the flat DS");
        assertEquals(0xCA, m.peek8(0x8800), "the store after mov ds lands at the new base plus EBX");
        assertEquals(0xCA, m.peek8(0x8801), "and so does the one after it");
        assertEquals(0, m.peek8(0x7801), "nothing through the old base");
    }

    /*
     * L: movzx eax,byte [esi]; add edx,eax; movzx eax,byte [edi]; add edx,eax; inc esi; inc edi; dec ecx; jnz L; hlt
     * -- two walks in one loop, 0x3000 apart: the read page cannot follow both, and each read still
     * reads its own byte
     */
    @Test
    void twoWalksInOneLoopEachReadTheirOwnBytes() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        for (int k = 0; k < 5000; k++) {
            m.poke8(0x8000 + k, k);
            m.poke8(0xB000 + k, 3 * k);
        }
        m.code(0x0F, 0xB6, 0x06, 0x01, 0xC2, 0x0F, 0xB6, 0x07, 0x01, 0xC2, 0x46, 0x47, 0x49, 0x75, 0xF1, 0xF4);
        m.cpu.setReg(Cpu.ESI, 0x8000);
        m.cpu.setReg(Cpu.EDI, 0xB000);
        m.cpu.setReg(Cpu.ECX, 5000);
        CpuExit x = m.cpu.run(200_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        int sum = 0;
        for (int k = 0; k < 5000; k++) sum += (k & 0xFF) + ((3 * k) & 0xFF);
        assertEquals(sum, m.cpu.reg(Cpu.EDX));
    }

    /* TestMachine.loopRewritingItsImmediateOnce, the store mov [esi],al; nop (ESI at the immediate) */
    @Test
    void aByteStoreIntoTheRunningRegionsCodeIsSeenByTheNextPass() {
        org.lguest.cpu.impl.compile.CompiledBlocks blocks = new org.lguest.cpu.impl.compile.CompiledBlocks();
        TestMachine m = new TestMachine(4, blocks);
        m.hostVectors();
        m.loopRewritingItsImmediateOnce(0x88, 0x06, 0x90);
        m.cpu.setReg(Cpu.ESI, TestMachine.REWRITTEN_IMMEDIATE);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(2, blocks.compiled(), "the loop compiled before the store, and again after it");
        assertEquals(51 + 48 * 51, m.cpu.reg(Cpu.EDX), "passes 2 to 52 added 1, passes 53 to 100 added 51");
        assertEquals(51, m.cpu.reg(Cpu.EBX));
    }
}
