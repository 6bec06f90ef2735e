package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/** LAR/LSL/VERR/VERW, the descriptor-table registers, LTR, single-step and CR access. */
class DescriptorInstructionsTest {
    static final int ZF = 0x40;

    private static TestMachine halted(int... code) {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(code);
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HALT, x.reason(), () -> "program should reach HLT, got " + x);
        return m;
    }

    @Test
    void larReturnsAccessRightsAndLslTheExpandedLimit() {
        // mov ecx,0x10; lar eax,ecx; lsl edx,ecx; hlt
        TestMachine m = halted(0xB9, 0x10, 0, 0, 0, 0x0F, 0x02, 0xC1, 0x0F, 0x03, 0xD1, 0xF4);
        assertEquals(0x00CF9200, m.cpu.reg(Cpu.EAX) & 0x00FFFF00, "flat data as in the GDT: P, DPL0, S, RW, G, B");
        assertEquals(0xFFFFFFFF, m.cpu.reg(Cpu.EDX));
        assertEquals(ZF, m.cpu.eflags() & ZF);
    }

    @Test
    void larOfANullSelectorClearsZf() {
        TestMachine m = halted(0x31, 0xC9, 0xB8, 7, 0, 0, 0, 0x0F, 0x02, 0xC1, 0xF4);
        assertEquals(0, m.cpu.eflags() & ZF);
        assertEquals(7, m.cpu.reg(Cpu.EAX), "destination untouched");
    }

    @Test
    void verrAndVerwTellReadableFromWritable() {
        // mov ecx,0x08 (code, readable); verr cx -> ZF=1; verw cx -> ZF=0 (kept in bl via setz)
        TestMachine m = halted(0xB9, 0x08, 0, 0, 0, 0x0F, 0x00, 0xE1, 0x0F, 0x94, 0xC3, 0x0F, 0x00, 0xE9, 0x0F, 0x94, 0xC7, 0xF4);
        assertEquals(1, m.cpu.reg(Cpu.EBX) & 0xFF, "VERR of readable code");
        assertEquals(0, (m.cpu.reg(Cpu.EBX) >> 8) & 0xFF, "VERW of code");
    }

    @Test
    void sgdtStoresWhatLgdtLoaded() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke32(0x7000, 0x1234FFFF); // limit 0xFFFF, base low 0x1234
        m.poke32(0x7004, 0x00005678);
        // lgdt [0x7000]; sgdt [0x7100]; hlt
        m.code(0x0F, 0x01, 0x15, 0, 0x70, 0, 0, 0x0F, 0x01, 0x05, 0, 0x71, 0, 0, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x56781234, m.cpu.gdtBase());
        assertEquals(0xFFFF, m.cpu.gdtLimit());
        assertEquals(0x1234FFFF, m.peek32(0x7100));
        assertEquals(0x5678, m.peek32(0x7104) & 0xFFFF);
    }

    @Test
    void ltrLoadsTheTaskRegisterAndMarksTheTssBusy() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0x3000, 0x67, 0x89, 0);
        m.code(0x66, 0xB8, 0x30, 0x00, 0x0F, 0x00, 0xD8, 0xF4); // mov ax,0x30; ltr ax
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x30, m.cpu.taskRegisterSelector());
        assertEquals(0x8B, m.peek8(TestMachine.GDT + 6 * 8 + 5), "type 9 became busy type 11");
        m.code(0x66, 0xB8, 0x30, 0x00, 0x0F, 0x00, 0xD8, 0xF4);
        assertEquals(13, m.run().vector(), "a busy TSS cannot be loaded again");
    }

    @Test
    void trapFlagRaisesDebugAfterEachInstruction() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x90, 0x90, 0xF4);
        m.cpu.setEflags(0x102);
        CpuExit x = m.run();
        assertEquals(1, x.vector(), "#DB after the first NOP, got " + x);
        assertEquals(TestMachine.CODE + 1, m.cpu.eip(), "trap: EIP after the instruction");
    }

    @Test
    void movToCr4WithReservedBitsRaisesGeneralProtection() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xB8, 0x20, 0, 0, 0, 0x0F, 0x22, 0xE0, 0xF4); // mov eax,0x20 (PAE); mov cr4,eax
        assertEquals(13, m.run().vector());
    }

    @Test
    void popfAtRingThreeCannotChangeIoplOrIf() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.toUser();
        m.cpu.setEflags(0x2);
        // push 0x3202; popf; pushf; pop eax; ud2
        m.code(0x68, 0x02, 0x32, 0, 0, 0x9D, 0x9C, 0x58, 0x0F, 0x0B);
        assertEquals(6, m.run().vector());
        assertEquals(0, m.cpu.reg(Cpu.EAX) & 0x3200, "IOPL and IF unchanged at CPL 3 with IOPL 0");
    }
}
