package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * A compiled region computes flags only where something may read them
 * (RegionCompiler's flag liveness): an inc or dec whose flags an
 * instruction overwrites before anything reads them is a plain add, and one
 * whose CF nothing reads does not look CF up. What is read must still be
 * exact: across branches, at a branch target where the compiler does not
 * know which instruction set the flags, and at the region's exits.
 */
class FlagLivenessTest {
    /*
     * 0x00 mov ecx,100
     * 0x05 L: cmp ecx,50; jae S; nop
     * 0x0B S: inc ebx            -- a branch target: the flags' maker is not known here
     * 0x0C    adc edx,0          -- reads the CF the inc kept from the cmp
     * 0x0F    dec ecx; jnz L; hlt
     */
    @Test
    void anIncAtABranchTargetKeepsTheCarryOfTheCompareBeforeTheBranch() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB9, 100, 0, 0, 0, 0x83, 0xF9, 0x32, 0x73, 0x01, 0x90, 0x43, 0x83, 0xD2, 0x00, 0x49, 0x75, 0xF3, 0xF4);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(49, m.cpu.reg(Cpu.EDX), "one carry for each pass with ECX below 50");
        assertEquals(100, m.cpu.reg(Cpu.EBX));
    }

    /*
     * L: inc eax; dec ecx; jmp M; M: jnz L; hlt
     * -- the dec's ZF crosses a jump before the branch reads it
     */
    @Test
    void flagsReadAfterAJumpAreTheOnesSetBeforeIt() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x40, 0x49, 0xEB, 0x00, 0x75, 0xFA, 0xF4);
        m.cpu.setReg(Cpu.ECX, 1000);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(1000, m.cpu.reg(Cpu.EAX));
        assertEquals(0, m.cpu.reg(Cpu.ECX));
    }

    /*
     * L: add eax,ebx; inc esi; inc edi; cmp esi,ecx; jne L   -- the incs' flags are dead: the cmp sets all
     *    inc edx; hlt                                          -- this inc's flags leave with the region
     * -- EDX starts at 0x7FFFFFFF: the last inc overflows, and the flags the processor keeps say so
     */
    @Test
    void flagsOfAnIncThatNothingInTheRegionReadsAreStillThereWhenItLeaves() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x01, 0xD8, 0x46, 0x47, 0x39, 0xCE, 0x75, 0xF8, 0x42, 0xF4);
        m.cpu.setReg(Cpu.EBX, 3);
        m.cpu.setReg(Cpu.ECX, 1000);
        m.cpu.setReg(Cpu.EDX, 0x7FFFFFFF);
        CpuExit x = m.cpu.run(100_000);
        assertEquals(CpuExit.Reason.HALT, x.reason(), "" + x);
        assertEquals(3000, m.cpu.reg(Cpu.EAX));
        assertEquals(1000, m.cpu.reg(Cpu.EDI));
        int f = m.cpu.eflags();
        assertEquals(0x800, f & 0x800, "OF: 0x7FFFFFFF + 1 overflows");
        assertEquals(0x80, f & 0x80, "SF");
        assertEquals(0, f & 0x40, "ZF");
        assertEquals(0, f & 0x1, "CF: the cmp before the inc found ESI equal to ECX, and inc keeps CF");
    }
}
