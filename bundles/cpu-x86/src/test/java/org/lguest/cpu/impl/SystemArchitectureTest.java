package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/** Segmentation, privilege transitions, exceptions, paging and the host's ways out. */
class SystemArchitectureTest {
    static final int GP = 13, SS = 12, PF = 14, UD = 6, DF = 8, NP = 11, BR = 5;

    private static void assertVector(CpuExit x, int vector, int error) {
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason(), () -> "expected a host exit for vector " + vector + ", got " + x);
        assertEquals(vector, x.vector(), () -> "vector, exit was " + x);
        assertEquals(error, x.errorCode(), () -> String.format("error code: expected %#x, got %#x", error, x.errorCode()));
    }

    @Test
    void dataAccessBeyondTheSegmentLimitRaisesGeneralProtection() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0, 0xFFF, 0x92, 0x4); // byte-granular, limit 0xFFF
        // mov ax,0x30; mov ds,ax; mov eax,[0xFFE]
        m.code(0x66, 0xB8, 0x30, 0x00, 0x8E, 0xD8, 0xA1, 0xFE, 0x0F, 0, 0, 0xF4);
        assertVector(m.run(), GP, 0);
        assertEquals(TestMachine.CODE + 6, m.cpu.eip(), "EIP at the faulting MOV");
    }

    @Test
    void stackAccessBeyondTheLimitRaisesStackFault() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.cpu.setSegment(Cpu.SS, TestMachine.KDATA, 0, 0xFFF, 0x409300);
        m.cpu.setReg(Cpu.ESP, 0x1002);
        m.code(0x50, 0xF4); // push eax: writes 0xFFE..0x1001
        assertVector(m.run(), SS, 0);
        assertEquals(0x1002, m.cpu.reg(Cpu.ESP), "ESP unchanged by the faulting PUSH");
    }

    @Test
    void expandDownSegmentRejectsOffsetsAtOrBelowTheLimit() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0, 0x0FFF, 0x96, 0x4); // expand-down data, limit 0xFFF, B=1
        // mov ax,0x30; mov ds,ax; mov eax,[0x2000]; mov eax,[0x800]
        m.code(0x66, 0xB8, 0x30, 0x00, 0x8E, 0xD8, 0xA1, 0x00, 0x20, 0, 0, 0xA1, 0x00, 0x08, 0, 0, 0xF4);
        assertVector(m.run(), GP, 0);
        assertEquals(TestMachine.CODE + 11, m.cpu.eip(), "the access above the limit passes, the one below faults");
    }

    @Test
    void accessThroughANullSegmentRaisesGeneralProtection() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // xor eax,eax; mov es,ax; mov [es:0x100],eax
        m.code(0x31, 0xC0, 0x8E, 0xC0, 0x26, 0xA3, 0x00, 0x01, 0, 0, 0xF4);
        assertVector(m.run(), GP, 0);
    }

    @Test
    void loadingASelectorBeyondTheGdtLimitFaultsWithTheSelector() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x66, 0xB8, 0x80, 0x00, 0x8E, 0xD8, 0xF4); // mov ds,0x80 (GDT limit 0x7F)
        assertVector(m.run(), GP, 0x80);
    }

    @Test
    void loadingANotPresentSegmentRaisesSegmentNotPresent() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(6, 0, 0xFFFFF, 0x12, 0xC);
        m.code(0x66, 0xB8, 0x30, 0x00, 0x8E, 0xD8, 0xF4);
        assertVector(m.run(), NP, 0x30);
    }

    @Test
    void ringThreeCannotLoadARingZeroDataSegment() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.toUser();
        m.code(0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0xF4);
        assertVector(m.run(), GP, 0x10);
    }

    @Test
    void softwareInterruptFromRingThreeSwitchesToTheTssStack() {
        TestMachine m = new TestMachine();
        m.setGate(0x80, TestMachine.KCODE, TestMachine.STUBS + 16 * 0x80, 0xF, 3);
        m.toUser();
        m.code(0xCD, 0x80, 0xF4);
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HALT, x.reason(), "the ring-0 handler's HLT");
        assertEquals(0x80, m.haltedInVector());
        assertEquals(0, m.cpu.cpl());
        assertEquals(0x8000 - 20, m.cpu.reg(Cpu.ESP), "five dwords on the ring-0 stack");
        assertEquals(TestMachine.CODE + 2, m.peek32(0x8000 - 20), "return EIP");
        assertEquals(TestMachine.UCODE, m.peek32(0x8000 - 16), "return CS");
        assertEquals(0x9000, m.peek32(0x8000 - 8), "old ESP");
        assertEquals(TestMachine.UDATA, m.peek32(0x8000 - 4), "old SS");
    }

    @Test
    void softwareInterruptThroughAPrivilegedGateRaisesGeneralProtection() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.toUser();
        m.code(0xCD, 0x80, 0xF4);
        assertVector(m.run(), GP, 0x80 * 8 + 2);
        assertEquals(TestMachine.CODE, m.cpu.eip());
    }

    @Test
    void exceptionWithErrorCodePushesFlagsCsEipAndErrorInThatOrder() {
        TestMachine m = new TestMachine();
        m.code(0x0F, 0x0B); // ud2 -> no error code; use a GP instead:
        m.code(0x66, 0xB8, 0x80, 0x00, 0x8E, 0xD8); // mov ds,0x80 -> #GP(0x80)
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HALT, x.reason());
        assertEquals(GP, m.haltedInVector());
        assertEquals(0x8000 - 16, m.cpu.reg(Cpu.ESP));
        assertEquals(0x80, m.peek32(0x8000 - 16), "error code");
        assertEquals(TestMachine.CODE + 4, m.peek32(0x8000 - 12), "EIP of the faulting instruction");
        assertEquals(TestMachine.KCODE, m.peek32(0x8000 - 8), "CS");
        assertEquals(2, m.peek32(0x8000 - 4) & 0xFFFF0202, "EFLAGS image");
    }

    @Test
    void iretToRingThreeReloadsStackAndNullsKernelDataSegments() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        // push UDATA; push 0x9000; push 0x202; push UCODE; push CODE+0x40; iret ; at +0x40: hlt (ring 3 -> #GP)
        m.code(0x6A, 0x23, 0x68, 0x00, 0x90, 0, 0, 0x68, 0x02, 0x02, 0, 0, 0x6A, 0x1B, 0x68, 0x40, 0x00, 0x01, 0x00, 0xCF);
        m.bytes(TestMachine.CODE + 0x40, 0xF4);
        m.cpu.setEflags(0x3002); // IOPL 3 so the popped IF is taken
        CpuExit x = m.run();
        assertVector(x, GP, 0);
        assertEquals(3, m.cpu.cpl());
        assertEquals(0x9000, m.cpu.reg(Cpu.ESP));
        assertEquals(TestMachine.UDATA, m.cpu.selector(Cpu.SS));
        assertEquals(0, m.cpu.selector(Cpu.DS), "DS held a DPL-0 segment: nulled on return to ring 3");
        assertEquals(0x200, m.cpu.eflags() & 0x200, "IF restored");
    }

    @Test
    void callGateToRingZeroCopiesParametersAndFarReturnComesBack() {
        TestMachine m = new TestMachine();
        // call gate in GDT slot 7 (selector 0x3B with RPL 3): DPL 3, target KCODE:CODE+0x80, 1 parameter
        int target = TestMachine.CODE + 0x80;
        m.poke32(TestMachine.GDT + 7 * 8, (target & 0xFFFF) | (TestMachine.KCODE << 16));
        m.poke32(TestMachine.GDT + 7 * 8 + 4, (target & 0xFFFF0000) | 0xEC00 | 1);
        m.toUser();
        // push 0x55; call far 0x3B:0 ; mov ebx,eax ; then ud2 (host exit)
        m.code(0x6A, 0x55, 0x9A, 0, 0, 0, 0, 0x3B, 0x00, 0x89, 0xC3, 0x0F, 0x0B);
        // ring 0: mov eax,[esp+8] (the copied parameter); retf 4
        m.bytes(target, 0x8B, 0x44, 0x24, 0x08, 0xCA, 0x04, 0x00);
        m.hostVectors();
        CpuExit x = m.run();
        assertVector(x, UD, 0);
        assertEquals(0x55, m.cpu.reg(Cpu.EBX), "the parameter copied to the ring-0 stack");
        assertEquals(3, m.cpu.cpl());
        assertEquals(0x9000, m.cpu.reg(Cpu.ESP), "RETF 4 released the parameter on the outer stack");
    }

    @Test
    void undefinedOpcodesRaiseInvalidOpcode() {
        int[][] programs = {{0x0F, 0x0B}, {0x0F, 0xFF}, {0x0F, 0x38, 0x00, 0xC0}, {0xF0, 0x01, 0xC0}, {0x8E, 0xC8}, {0x0F, 0x0D, 0x00}};
        for (int[] p : programs) {
            TestMachine m = new TestMachine();
            m.hostVectors();
            m.code(p);
            CpuExit x = m.run();
            assertEquals(UD, x.vector(), () -> "program " + java.util.Arrays.toString(p) + " should raise #UD, got " + x);
            assertEquals(TestMachine.CODE, m.cpu.eip());
        }
    }

    @Test
    void boundRaisesBoundRangeExceeded() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke32(0x7000, 0);
        m.poke32(0x7004, 10);
        m.code(0xB8, 11, 0, 0, 0, 0x62, 0x05, 0x00, 0x70, 0, 0, 0xF4); // bound eax,[0x7000]
        assertEquals(BR, m.run().vector());
    }

    @Test
    void privilegedInstructionsAtRingThreeRaiseGeneralProtection() {
        int[][] programs = {{0xF4}, {0xFA}, {0x0F, 0x22, 0xD8}, {0x0F, 0x01, 0x15, 0, 0, 0, 0}, {0x0F, 0x06}, {0x0F, 0x32}};
        for (int[] p : programs) {
            TestMachine m = new TestMachine();
            m.hostVectors();
            m.toUser();
            m.code(p);
            CpuExit x = m.run();
            assertEquals(GP, x.vector(), () -> "program " + java.util.Arrays.toString(p) + " at ring 3 should raise #GP, got " + x);
        }
    }

    @Test
    void ioAtRingThreeFollowsTheTssBitmap() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.setDesc(5, TestMachine.TSS, 0x68 + 0x80 + 1, 0x89, 0);
        m.cpu.setTaskRegister(TestMachine.TSS_SEL, TestMachine.TSS, 0x68 + 0x80 + 1, 0x8B00);
        for (int i = 0; i < 0x81; i++) m.poke8(TestMachine.TSS + 0x68 + i, 0xFF);
        m.poke8(TestMachine.TSS + 0x68 + (0x3F8 >> 3), 0xFE); // allow port 0x3F8 only
        m.toUser();
        m.code(0xBA, 0xF8, 0x03, 0, 0, 0xEE, 0xBA, 0xF9, 0x03, 0, 0, 0xEE, 0xF4);
        CpuExit x = m.run();
        assertVector(x, GP, 0);
        assertEquals(TestMachine.CODE + 11, m.cpu.eip(), "port 0x3F9 is denied");
        assertEquals(java.util.List.of("out 3f8/1=0"), m.io);
    }

    @Test
    void hostRegionExitLeavesTheStateAsAtTheFault() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0x90, 0x0F, 0x0B);
        CpuExit x = m.run();
        assertEquals(CpuExit.Reason.HOST_VECTOR, x.reason());
        assertEquals(UD, x.vector());
        assertEquals(false, x.hasErrorCode());
        assertEquals(0x8000, m.cpu.reg(Cpu.ESP), "nothing pushed");
        assertEquals(TestMachine.CODE + 1, m.cpu.eip());
    }

    @Test
    void softwareInterruptHostExitReportsTheNextInstruction() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.code(0xCD, 0x30, 0xF4);
        CpuExit x = m.run();
        assertEquals(0x30, x.vector());
        assertEquals(TestMachine.CODE + 2, m.cpu.eip());
    }

    @Test
    void budgetExitRetiresExactlyTheBudget() {
        TestMachine m = new TestMachine();
        m.code(0xEB, 0xFE);
        long before = m.cpu.instructionsRetired();
        CpuExit x = m.cpu.run(1000);
        assertEquals(CpuExit.Reason.BUDGET, x.reason());
        assertEquals(1000, m.cpu.instructionsRetired() - before);
    }

    @Test
    void requestExitEndsTheRun() {
        TestMachine m = new TestMachine();
        m.code(0xEB, 0xFE);
        m.cpu.requestExit();
        assertEquals(CpuExit.Reason.EXIT_REQUESTED, m.cpu.run(1_000_000_000L).reason());
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            m.cpu.requestExit();
        });
        t.start();
        assertEquals(CpuExit.Reason.EXIT_REQUESTED, m.cpu.run(Long.MAX_VALUE / 2).reason(), "another thread's request ends the run");
    }

    @Test
    void faultWhileDeliveringAFaultBecomesADoubleFault() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.poke32(TestMachine.IDT + GP * 8 + 4, m.peek32(TestMachine.IDT + GP * 8 + 4) & ~0x8000); // #GP gate not present
        m.code(0x66, 0xB8, 0x80, 0x00, 0x8E, 0xD8);
        assertVector(m.run(), DF, 0);
    }

    @Test
    void faultWhileDeliveringADoubleFaultShutsDown() {
        TestMachine m = new TestMachine();
        m.cpu.setIdt(TestMachine.IDT, 0);
        m.code(0x0F, 0x0B);
        assertEquals(CpuExit.Reason.SHUTDOWN, m.run().reason());
    }

    // ------------------------------------------------------------ paging

    @Test
    void notPresentPageRaisesPageFaultWithCr2() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.code(0xA1, 0x34, 0x12, 0x40, 0x00, 0xF4); // mov eax,[0x401234]: PDE 1 not present
        assertVector(m.run(), PF, 0);
        assertEquals(0x401234, m.cpu.cr(2));
    }

    @Test
    void movFromCrIgnoresTheModBitsWhenFetchingAtThePageEnd() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 4 * 0x11, 0); // page 0x11000 not present
        m.bytes(0x10FFD, 0x0F, 0x20, 0x05); // mov ebp,cr0 with mod=0 rm=5 (disp32 elsewhere): three bytes here
        m.cpu.setEip(0x10FFD);
        assertVector(m.run(), PF, 0);
        assertEquals(0x11000, m.cpu.cr(2), "the next instruction's fetch faults, not the MOV's");
        assertEquals(m.cpu.cr(0), m.cpu.reg(Cpu.EBP), "the MOV ran");
    }

    @Test
    void userWriteToAReadOnlyPageRaisesProtectionPageFault() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 7 * 4, 0x7000 | 0x5); // page 7: user, read-only
        m.toUser();
        m.code(0xA3, 0x10, 0x70, 0, 0, 0xF4);
        assertVector(m.run(), PF, 7);
        assertEquals(0x7010, m.cpu.cr(2));
    }

    @Test
    void readModifyWriteToAReadOnlyPageFaultsAsAWriteBeforeTouchingFlags() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 7 * 4, 0x7000 | 0x5); // page 7: user, read-only
        m.toUser();
        m.cpu.setReg(Cpu.EAX, 0xFFFFFFFF);
        m.cpu.setEflags(0x2);
        m.poke32(0x7010, 1);
        m.code(0x01, 0x05, 0x10, 0x70, 0, 0, 0xF4); // add [0x7010],eax: would set CF, ZF, AF, PF
        assertVector(m.run(), PF, 7); // present | write | user
        assertEquals(0x7010, m.cpu.cr(2));
        assertEquals(0, m.cpu.eflags() & 0x8D5, "arithmetic flags untouched (all were clear)");
        assertEquals(1, m.peek32(0x7010));
    }

    @Test
    void misalignedUserAccessWithAmAndAcRaisesAlignmentCheck() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.toUser();
        m.cpu.setCr(0, m.cpu.cr(0) | 0x40000); // CR0.AM
        m.cpu.setEflags(0x40002); // EFLAGS.AC
        // mov eax,[0x7010] (aligned: fine); mov eax,[0x7012] (misaligned)
        m.code(0xA1, 0x10, 0x70, 0, 0, 0xA1, 0x12, 0x70, 0, 0, 0xF4);
        assertVector(m.run(), 17, 0);
        assertEquals(TestMachine.CODE + 5, m.cpu.eip(), "EIP at the misaligned load");
        m.cpu.setEflags(0x2); // AC clear: no check
        assertVector(m.run(), GP, 0); // the load runs; HLT at CPL 3 is #GP(0)
        assertEquals(TestMachine.CODE + 10, m.cpu.eip());
    }

    @Test
    void userAccessToASupervisorPageRaisesPageFault() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 7 * 4, 0x7000 | 0x3);
        m.toUser();
        m.code(0xA1, 0x10, 0x70, 0, 0, 0xF4);
        assertVector(m.run(), PF, 5);
    }

    @Test
    void supervisorWriteToReadOnlyPageFaultsOnlyWithWriteProtect() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x7);
        m.poke32(0x21000 + 7 * 4, 0x7000 | 0x1);
        m.code(0xA3, 0x10, 0x70, 0, 0, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason(), "WP clear: the supervisor may write");
        TestMachine n = new TestMachine();
        n.hostVectors();
        n.identityPaging(0x7);
        n.poke32(0x21000 + 7 * 4, 0x7000 | 0x1);
        n.cpu.setCr(0, n.cpu.cr(0) | 0x10000);
        n.code(0xA3, 0x10, 0x70, 0, 0, 0xF4);
        assertVector(n.run(), PF, 3);
    }

    @Test
    void readSetsAccessedAndWriteSetsDirty() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.code(0xA1, 0x00, 0x70, 0, 0, 0xF4);
        m.run();
        int pte7 = m.peek32(0x21000 + 7 * 4);
        assertEquals(0x20, pte7 & 0x60, "read: accessed set, dirty clear");
        assertEquals(0x20, m.peek32(0x20000) & 0x20, "PDE accessed");
        m.code(0xA3, 0x00, 0x60, 0, 0, 0xF4);
        m.run();
        assertEquals(0x60, m.peek32(0x21000 + 6 * 4) & 0x60, "write: accessed and dirty");
    }

    @Test
    void writeAfterReadThroughTheTlbStillSetsDirty() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.code(0xA1, 0x00, 0x70, 0, 0, 0xA3, 0x00, 0x70, 0, 0, 0xF4);
        m.run();
        assertEquals(0x60, m.peek32(0x21000 + 7 * 4) & 0x60);
    }

    @Test
    void largePagesMapFourMegabytesWhenPseIsOn() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.poke32(0x20000 + 4, 0x00000083); // 4 MiB page: 0x400000 -> 0
        m.cpu.setCr(4, 0x10);
        m.poke32(0x7008, 0x600DF00D);
        m.code(0xA1, 0x08, 0x70, 0x40, 0x00, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(0x600DF00D, m.cpu.reg(Cpu.EAX));
        assertEquals(0x20, m.peek32(0x20004) & 0x20, "accessed set in the PDE");
    }

    @Test
    void globalPagesSurviveCr3ReloadButNotInvlpg() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.cpu.setCr(4, 0x80);
        m.poke32(0x21000 + 0x50 * 4, 0x60000 | 0x103); // global: 0x50000 -> 0x60000
        m.poke32(0x60000, 111);
        m.poke32(0x61000, 222);
        // mov eax,[0x50000]; (change PTE) ; mov ecx,cr3; mov cr3,ecx; mov ebx,[0x50000]; invlpg [0x50000]; mov edx,[0x50000]
        m.code(0xA1, 0, 0, 5, 0, // mov eax,[0x50000]
                0xC7, 0x05, 0x40, 0x11, 0x02, 0x00, 0x03, 0x11, 0x06, 0x00, // mov dword [0x21140],0x61103
                0x0F, 0x20, 0xD9, 0x0F, 0x22, 0xD9, // mov ecx,cr3; mov cr3,ecx
                0x8B, 0x1D, 0, 0, 5, 0, // mov ebx,[0x50000]
                0x0F, 0x01, 0x3D, 0, 0, 5, 0, // invlpg [0x50000]
                0x8B, 0x15, 0, 0, 5, 0, 0xF4); // mov edx,[0x50000]
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(111, m.cpu.reg(Cpu.EAX));
        assertEquals(111, m.cpu.reg(Cpu.EBX), "global entry kept across the CR3 write");
        assertEquals(222, m.cpu.reg(Cpu.EDX), "INVLPG dropped it");
    }

    @Test
    void nonGlobalPagesAreDroppedOnCr3Reload() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.poke32(0x21000 + 0x50 * 4, 0x60000 | 0x3);
        m.poke32(0x60000, 111);
        m.poke32(0x61000, 222);
        m.code(0xA1, 0, 0, 5, 0, 0xC7, 0x05, 0x40, 0x11, 0x02, 0x00, 0x03, 0x10, 0x06, 0x00, 0x0F, 0x20, 0xD9, 0x0F, 0x22,
                0xD9, 0x8B, 0x1D, 0, 0, 5, 0, 0xF4);
        assertEquals(CpuExit.Reason.HALT, m.run().reason());
        assertEquals(222, m.cpu.reg(Cpu.EBX));
    }

    @Test
    void pageFaultInTheMiddleOfAStringCopyIsRestartable() {
        TestMachine m = new TestMachine();
        m.hostVectors();
        m.identityPaging(0x3);
        m.poke32(0x21000 + 0x71 * 4, 0); // 0x71000 not present
        // mov esi,0x7000; mov edi,0x70FF8; mov ecx,4; rep movsd
        m.code(0xBE, 0, 0x70, 0, 0, 0xBF, 0xF8, 0x0F, 0x07, 0, 0xB9, 4, 0, 0, 0, 0xF3, 0xA5, 0xF4);
        CpuExit x = m.run();
        assertVector(x, PF, 2);
        assertEquals(2, m.cpu.reg(Cpu.ECX), "two dwords copied before the fault");
        assertEquals(TestMachine.CODE + 15, m.cpu.eip(), "EIP at the REP MOVSD");
        assertTrue(m.cpu.cr(2) == 0x71000);
    }
}
