package org.lguest.cpu.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The list of QEMU's differences from the hardware recognises the cases it
 * names and no others, and checks the Java outcome against the hardware's
 * answer (a wrong Java outcome is not masked).
 */
class QemuDifferencesTest {
    static final byte[] PATTERN = CaseGenerator.patternFor(1);
    static final int STACK = Layout.DATA + 0x1000;

    static DiffCase c(String hex, boolean fpu, int esp, List<DiffCase.Patch> patches) {
        int[] regs = {1, 2, 3, 4, esp, 6, 7, 8};
        OpcodeTable.Form add = OpcodeTable.FORMS.stream().filter(f -> f.mnemonic().equals("ADD")).findFirst()
                .orElseThrow();
        return new DiffCase(0, add, hex, Layout.CODE_OFFSET, HexFormat.of().parseHex(hex.replace(" ", "")), regs,
                0x2, patches, 0, new int[8], new int[0], 0, fpu, 0);
    }

    static DiffCase c(String hex) {
        return c(hex, false, STACK, List.of());
    }

    static Outcome ending(DiffCase c, int vector, int error, int eip) {
        return new Outcome(vector, error, 0, eip, 0x202, c.regs().clone(), new int[6], Map.of(), null, null);
    }

    @Test
    void everyEntryHasAnIdTheCasesBothAnswersAndASourceAndIdsAreUnique() {
        Set<String> ids = new HashSet<>();
        for (QemuDifferences.Difference d : QemuDifferences.LIST) {
            assertTrue(ids.add(d.id()), "duplicate id " + d.id());
            for (String text : List.of(d.cases(), d.qemuAnswer(), d.hardwareAnswer(), d.source())) {
                assertFalse(text.isBlank(), d.id() + " has an empty description");
            }
        }
    }

    @Test
    void aLockedBitTestOnARegisterIsKeptFromQemuAndOnMemoryItIsNot() {
        assertNotNull(QemuDifferences.notSent(c("f0 0f ba fa 10"), PATTERN), "LOCK BTC edx, 16");
        assertNotNull(QemuDifferences.notSent(c("f0 0f bb c1"), PATTERN), "LOCK BTC ecx, eax");
        assertNull(QemuDifferences.notSent(c("f0 0f ba 3a 10"), PATTERN), "LOCK BTC [edx], 16 goes to QEMU");
        assertNull(QemuDifferences.notSent(c("0f ba fa 10"), PATTERN), "BTC edx, 16 without LOCK goes to QEMU");
    }

    @Test
    void anIretWhoseEflagsImageHasVmIsKeptFromQemu() {
        int esp = Layout.DATA + 0x100;
        byte[] image = {0x00, 0x08, 0x00, 0x10, 0x73, 0, 0, 0, 0x02, 0x02, 0x02, 0x00}; // EIP, CS, EFLAGS with VM
        DiffCase withVm = c("cf", false, esp, List.of(new DiffCase.Patch(0x100, image)));
        assertEquals("IRET_VM_AT_CPL3", QemuDifferences.notSent(withVm, PATTERN).id());
        image[10] = 0;
        DiffCase withoutVm = c("cf", false, esp, List.of(new DiffCase.Patch(0x100, image)));
        assertNull(QemuDifferences.notSent(withoutVm, PATTERN));
    }

    @Test
    void theInstructionUnderTestOfAnX87CaseStartsAfterItsLoads() {
        DiffCase x87 = c("dd 05 00 1f 00 20 d9 2d 80 1f 00 20 f0 d8 c1", true, STACK, List.of());
        assertEquals(12, QemuDifferences.testedInstruction(x87));
        assertTrue(QemuDifferences.hasPrefix(x87, 0xf0), "the LOCK of the tested instruction is seen");
        assertEquals(0, QemuDifferences.testedInstruction(c("dd 05 00 1f 00 20")), "not an x87 case");
    }

    @Test
    void theHardwareAnswerCheckRejectsAWrongJavaOutcome() {
        DiffCase lockBtc = c("f0 0f ba fa 10");
        QemuDifferences.Difference d = QemuDifferences.notSent(lockBtc, PATTERN);
        assertNull(d.hardwareDisagrees().check(lockBtc, PATTERN, null, ending(lockBtc, 6, 0, lockBtc.entry())));
        assertNotNull(d.hardwareDisagrees().check(lockBtc, PATTERN, null,
                ending(lockBtc, 3, 0, lockBtc.entry() + 6)), "completing is not the hardware's #UD");
    }

    @Test
    void aPushaFaultIsExpectedInTheFirstSlotBelowTheDataArea() {
        DiffCase pusha = c("60", false, Layout.DATA + 4, List.of());
        assertTrue(QemuDifferences.inFirstFaultingPushaSlot(pusha, Layout.DATA - 4), "ECX's slot, the second");
        assertFalse(QemuDifferences.inFirstFaultingPushaSlot(pusha, Layout.DATA - 0x20), "EDI's slot, the last");
    }

    @Test
    void aMismatchNoEntryNamesIsNotExplained() {
        DiffCase add = c("01 d8");
        Outcome qemu = ending(add, 3, 0, add.entry() + 3);
        Outcome java = ending(add, 3, 0, add.entry() + 3);
        assertTrue(QemuDifferences.explaining(add, PATTERN, qemu, java, List.of("EAX: host 0000000c, java 0000000d"))
                .isEmpty());
    }
}
