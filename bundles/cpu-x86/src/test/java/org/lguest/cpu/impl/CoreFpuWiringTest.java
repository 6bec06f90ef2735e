package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/** How the integer core hands ESC opcodes, WAIT and FXSAVE to the x87 unit. */
class CoreFpuWiringTest {
    @Test
    void escapeOpcodesReachTheX87() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // fld1; fadd st0,st0; fistp dword [0x7000]; hlt
        m.code(0xD9, 0xE8, 0xD8, 0xC0, 0xDB, 0x1D, 0x00, 0x70, 0, 0, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(2, m.peek32(0x7000));
    }

    @Test
    void taskSwitchedFlagMakesFloatingPointRaiseDeviceNotAvailable() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.cpu.setCr(0, m.cpu.cr(0) | 8);
        m.code(0xD9, 0xE8, 0xF4);
        assertEquals(7, m.run().vector());
    }

    @Test
    void waitRaisesDeviceNotAvailableOnlyWithMonitorCoprocessorAndTs() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.cpu.setCr(0, m.cpu.cr(0) | 8);
        m.code(0x9B, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason(), "TS without MP: WAIT runs");
        m.cpu.setCr(0, m.cpu.cr(0) | 2);
        m.code(0x9B, 0xF4);
        assertEquals(7, m.run().vector());
    }

    @Test
    void unmaskedFpuExceptionRaisesMathFaultOnTheNextWaitingInstruction() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.cpu.setCr(0, m.cpu.cr(0) | 0x20); // NE
        m.poke32(0x7000, 0x0000037E & ~0x4); // control word with ZE unmasked
        // fldcw [0x7000]; fld1; fldz; fdivp st1,st0 (sets pending ZE); fwait
        m.code(0xD9, 0x2D, 0x00, 0x70, 0, 0, 0xD9, 0xE8, 0xD9, 0xEE, 0xDE, 0xF9, 0x9B, 0xF4);
        CpuExit x = m.run();
        assertEquals(16, x.vector(), "#MF expected, got " + x);
        assertEquals(TestMachine.CODE + 12, m.cpu.eip(), "at the FWAIT");
    }

    @Test
    void fxsaveNeedsSixteenByteAlignmentAndCpuidAdvertisesFpuAndFxsr() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x0F, 0xAE, 0x05, 0x08, 0x70, 0, 0, 0xF4);
        assertEquals(13, m.run().vector());
        m.code(0x0F, 0xAE, 0x05, 0x00, 0x70, 0, 0, 0xB8, 1, 0, 0, 0, 0x0F, 0xA2, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x037F, m.peek32(0x7000) & 0xFFFF, "FXSAVE image starts with the control word");
        int edx = m.cpu.reg(Cpu.EDX);
        assertTrue((edx & 1) != 0 && (edx & (1 << 24)) != 0, "FPU and FXSR advertised");
    }
}
