package org.lguest.cpu.diff;

import java.util.ArrayList;
import java.util.List;

/**
 * Where qemu-system-i386 (the oracle on hosts that cannot execute i386
 * code, see {@link Oracles}) does not do what the hardware does: each
 * difference once, with the cases it touches, QEMU's answer, the
 * hardware's answer and where that comes from. This is the only place a
 * case is masked, and only when the oracle is QEMU.
 *
 * <p>A masked case is not compared with QEMU's answer; the Java processor's
 * outcome is checked against the hardware's answer instead
 * ({@link Difference#hardwareDisagrees}), and the test prints how many cases
 * each entry masked and how many of them the Java processor got right. A
 * {@link When#NOT_SENT} entry is recognised from the case alone and never
 * reaches QEMU (QEMU would die on it); a {@link When#ON_MISMATCH} entry is
 * consulted only when QEMU's and the Java processor's outcomes differ; a
 * {@link When#LAST_RESORT} entry only when no other entry explains them.
 */
final class QemuDifferences {

    enum When {
        /** Recognised from the case; QEMU never sees it. */
        NOT_SENT,
        /** Recognised from a mismatch between QEMU and the Java processor. */
        ON_MISMATCH,
        /** Like ON_MISMATCH, but consulted only when no other entry explains the mismatch. */
        LAST_RESORT
    }

    interface CaseTest {
        /**
         * @param qemu  QEMU's outcome (null for a NOT_SENT test)
         * @param diffs the differences Comparison found (empty for a NOT_SENT test)
         */
        boolean test(DiffCase c, byte[] pattern, Outcome qemu, Outcome java, List<String> diffs);
    }

    interface HardwareCheck {
        /** Null when the Java outcome is the hardware's answer, else what differs. QEMU's outcome may be null. */
        String check(DiffCase c, byte[] pattern, Outcome qemu, Outcome java);
    }

    /**
     * @param statusBits for an entry that explains x87 status-word bits: those bits (a status-word line is
     *                   explained when entries cover every bit that differs); 0 for the others
     */
    record Difference(String id, When when, String cases, String qemuAnswer, String hardwareAnswer, String source,
                      CaseTest affects, HardwareCheck hardwareDisagrees, int statusBits) {
        Difference(String id, When when, String cases, String qemuAnswer, String hardwareAnswer, String source,
                   CaseTest affects, HardwareCheck hardwareDisagrees) {
            this(id, when, cases, qemuAnswer, hardwareAnswer, source, affects, hardwareDisagrees, 0);
        }
    }

    static final int EFLAGS_VM = 0x20000;
    static final int EFLAGS_AC = 0x40000;
    static final String RECORDED = "recorded: the native helper on the AMD EPYC build host (2026-11), where "
        + "CpuDifferentialTest ran 1,000,000 cases a build with 0 mismatches and the Java processor gave this answer";

    static final List<Difference> LIST = List.of(
        new Difference("LOCK_BT_REGISTER", When.NOT_SENT,
            "LOCK BT/BTS/BTR/BTC with a register destination (0F A3/AB/B3/BB, 0F BA /4-/7, mod=3)",
            "qemu-system-i386 7.2 aborts: \"tcg/tcg.c:3243: tcg fatal error\" (the emulator exits 134)",
            "#UD at the instruction, nothing changed (#GP(0) when it is longer than 15 bytes, "
                + "INSTRUCTION_OVER_15_BYTES)",
            "SDM Vol. 2A, LOCK: #UD \"if the LOCK prefix is used ... [and] the destination operand is not a "
                + "memory operand\"",
            (c, p, q, j, d) -> lockedBitTestOnRegister(c),
            (c, p, q, j) -> c.code().length - testedInstruction(c) > 15 ? faultAtInstruction(c, j, 13, 0)
                : faultAtInstruction(c, j, 6, -1)),
        new Difference("IRET_VM_AT_CPL3", When.NOT_SENT,
            "IRET (32-bit) at CPL 3 whose EFLAGS image has VM (bit 17) set",
            "enters virtual-8086 mode; afterwards VIF and VIP stay set in EFLAGS for every later case, because "
                + "QEMU's IRET at CPL 0 does not load them",
            "VM in the image is ignored: a return to protected mode, EFLAGS.VM stays 0",
            "SDM Vol. 2A, IRET pseudocode: RETURN-TO-VIRTUAL-8086-MODE only when the image's VM = 1 and CPL = 0",
            (c, p, q, j, d) -> iretImageHasVm(c, p),
            (c, p, q, j) -> (j.eflags() & EFLAGS_VM) == 0 ? null
                : String.format("java entered virtual-8086 mode (EFLAGS %08x)", j.eflags())),
        new Difference("NULL_SEGMENT_ACCESS", When.ON_MISMATCH,
            "a memory access through FS or GS, which hold the null selector",
            "the access goes ahead with base 0 (a #PF on the unmapped page, or it completes)",
            "#GP(0) at the instruction, nothing changed",
            "SDM Vol. 3A 3.4.2: loading a null selector into DS, ES, FS or GS is allowed, but a memory reference "
                + "through it causes #GP(0)",
            (c, p, q, j, d) -> (hasPrefix(c, 0x64) || hasPrefix(c, 0x65)) && j.vector() == 13 && j.errorCode() == 0
                && !(q.vector() == 13 && q.errorCode() == 0),
            (c, p, q, j) -> faultAtInstruction(c, j, 13, 0)),
        new Difference("WRITE_THROUGH_CS", When.ON_MISMATCH,
            "a memory write through a CS segment override (CS is an execute/read code segment)",
            "the write goes ahead (QEMU's TCG does not check segment types on data accesses)",
            "#GP(0) at the instruction, nothing changed",
            "SDM Vol. 3A 5.5 (type checking): \"no instruction may write into a code segment\"; #GP(0) in each "
                + "instruction's Protected Mode Exceptions for a non-writable segment",
            (c, p, q, j, d) -> hasPrefix(c, 0x2e) && j.vector() == 13 && j.errorCode() == 0 && q.vector() != 13,
            (c, p, q, j) -> faultAtInstruction(c, j, 13, 0)),
        new Difference("NO_ALIGNMENT_CHECK", When.ON_MISMATCH,
            "a misaligned data access at CPL 3 with CR0.AM and EFLAGS.AC set",
            "no #AC: the access goes ahead (QEMU's TCG does not implement alignment checking)",
            "#AC(0) at the instruction, nothing changed",
            "SDM Vol. 3A 6.15, Interrupt 17 Alignment Check Exception",
            (c, p, q, j, d) -> (c.eflags() & EFLAGS_AC) != 0 && j.vector() == 17 && q.vector() != 17,
            (c, p, q, j) -> faultAtInstruction(c, j, 17, 0)),
        new Difference("RMW_FAULT_IS_WRITE", When.ON_MISMATCH,
            "a read-modify-write instruction (ALU op, shift, INC/DEC, NOT/NEG, BTS/BTR/BTC, XADD, CMPXCHG...) on a "
                + "page it may not write",
            "#PF with W = 0 in the error code (QEMU's read of the operand faults first)",
            "#PF with W = 1: the processor reads the operand for writing",
            RECORDED,
            (c, p, q, j, d) -> q.vector() == 14 && j.vector() == 14 && q.cr2() == j.cr2()
                && (j.errorCode() & ~2) == (q.errorCode() & ~2 & ~Comparison.PF_INSTRUCTION_FETCH)
                && (j.errorCode() & 2) != 0 && (q.errorCode() & 2) == 0,
            (c, p, q, j) -> (j.errorCode() & 2) != 0 ? null : "java's #PF error code has W = 0"),
        new Difference("LOCK_NOT_ALLOWED", When.ON_MISMATCH,
            "LOCK before an instruction that cannot be locked, or before one whose destination is a register",
            "the LOCK prefix is ignored and the instruction runs",
            "#UD at the instruction, nothing changed",
            "SDM Vol. 2A, LOCK: \"An undefined opcode exception will also be generated if the LOCK prefix is used "
                + "with any instruction not in the above list\"",
            (c, p, q, j, d) -> hasPrefix(c, 0xf0) && j.vector() == 6 && q.vector() != 6,
            (c, p, q, j) -> faultAtInstruction(c, j, 6, -1)),
        new Difference("RESERVED_GROUP_ENCODING", When.ON_MISMATCH,
            "C6 /1-/7 and C7 /1-/7 with a register operand (only /0, MOV, is defined), FF /7",
            "C6/C7: executed as MOV Eb,Ib / MOV Ev,Iv; FF /7: reads the memory operand first (a #PF there)",
            "#UD at the instruction, nothing changed",
            "SDM Vol. 2, Table A-6 (opcode extensions for one- and two-byte opcodes by group number): these "
                + "encodings are not defined",
            (c, p, q, j, d) -> reservedGroupEncoding(c) && j.vector() == 6 && q.vector() != 6,
            (c, p, q, j) -> faultAtInstruction(c, j, 6, -1)),
        new Difference("TEST_ALIAS_F6_F7_1", When.ON_MISMATCH,
            "F6 /1 and F7 /1",
            "#UD",
            "TEST, the same as F6 /0 and F7 /0",
            RECORDED + "; sandpile.org, opcode groups: F6 /1 and F7 /1 are TEST aliases",
            (c, p, q, j, d) -> testAlias(c) && q.vector() == 6 && j.vector() != 6,
            (c, p, q, j) -> j.vector() != 6 ? null : "java raised #UD"),
        new Difference("ENTER_CHECKS_FINAL_ESP", When.ON_MISMATCH,
            "ENTER whose new stack frame (ESP - size) reaches a page it may not write",
            "ENTER completes: it writes only the pushes and lowers ESP",
            "#PF (W = 1) at the instruction before anything is written",
            RECORDED,
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("ENTER") && j.vector() == 14 && (j.errorCode() & 2) != 0
                && q.eip() != c.entry(),
            (c, p, q, j) -> faultAtInstruction(c, j, 14, -1)),
        new Difference("RET_IMM16_SIGN_EXTENDED", When.ON_MISMATCH,
            "RET imm16 / RETF imm16 with imm16 >= 0x8000",
            "ESP is moved by the sign-extended imm16 (0x10000 less than the hardware)",
            "imm16 is an unsigned byte count: ESP grows by it",
            "SDM Vol. 2B, RET: \"imm16: number of bytes to release\" (ESP <- ESP + SRC, SRC zero-extended)",
            (c, p, q, j, d) -> retImm16(c) >= 0x8000 && j.regs()[4] - q.regs()[4] == 0x10000,
            (c, p, q, j) -> j.regs()[4] - q.regs()[4] == 0x10000 ? null : "java's ESP is not QEMU's + 0x10000"),
        new Difference("BSWAP_16", When.ON_MISMATCH,
            "BSWAP with a 16-bit operand size (66 0F C8+r)",
            "swaps all 32 bits of the register",
            "the upper 16 bits stay as they were (the lower 16 are undefined, UndefinedBehaviour)",
            "SDM Vol. 2A, BSWAP: \"When the BSWAP instruction references a 16-bit register, the result is "
                + "undefined\"; the register's upper half is not an operand",
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("BSWAP") && hasPrefix(c, 0x66),
            (c, p, q, j) -> {
                int r = (c.code()[opcodeIndex(c) + 1] & 0xff) - 0xc8;
                return (j.regs()[r] >>> 16) == (c.regs()[r] >>> 16) ? null
                    : String.format("java changed the upper half of %s", Comparison.REG[r]);
            }),
        new Difference("X87_STACK_FAULT", When.ON_MISMATCH,
            "an x87 instruction that reads an empty register or pushes onto a full one",
            "no stack fault: it reads or overwrites whatever the register holds; IE and SF stay clear",
            "IE and SF set (C1 = 0 underflow, 1 overflow); with IE masked the QNaN indefinite is the result; "
                + "with IE unmasked, #MF at the next waiting x87 instruction",
            "SDM Vol. 1 8.5.1.1, Stack Overflow or Underflow Exception (#IS)",
            (c, p, q, j, d) -> c.fpu() && j.fpu() != null && q.fpu() != null
                && (sw(j) & 0x41) == 0x41 && (sw(q) & 0x40) == 0,
            (c, p, q, j) -> (sw(j) & 0x41) == 0x41 ? null : "java's status word lacks IE|SF"),
        new Difference("X87_TAG_OF_STORED_REGISTER", When.ON_MISMATCH,
            "FST/FSTP ST(i) (and others writing ST(i)) into an empty register",
            "the destination's tag stays empty",
            "the destination is tagged valid, zero or special by its new contents",
            "SDM Vol. 1 8.1.7, x87 FPU Tag Word: the tag of each register follows its contents",
            (c, p, q, j, d) -> c.fpu() && d.size() == 1 && d.get(0).startsWith("x87 tag word")
                && emptyRegisters(tw(j)) < emptyRegisters(tw(q)),
            (c, p, q, j) -> emptyRegisters(tw(j)) < emptyRegisters(tw(q)) ? null
                : "java left as many registers empty as QEMU"),
        new Difference("X87_C1_ROUNDED_UP", When.ON_MISMATCH,
            "an inexact x87 result that was rounded up (PE set)",
            "C1 = 0",
            "C1 = 1: \"C1 indicates whether the result was rounded up\"",
            "SDM Vol. 1 8.1.3.3 and 8.5.6, Inexact-Result (Precision) Exception",
            (c, p, q, j, d) -> c.fpu() && (sw(j) & 0x220) == 0x220 && (sw(q) & 0x200) == 0,
            (c, p, q, j) -> (sw(j) & 0x220) == 0x220 ? null : "java has C1 without PE", 0x200),
        new Difference("X87_DENORMAL_NOT_FLAGGED", When.ON_MISMATCH,
            "an x87 arithmetic instruction or load from single or double precision with a denormal operand",
            "DE stays clear",
            "DE set (the denormal-operand exception, masked here)",
            "SDM Vol. 1 8.5.2, Denormal Operand Exception (#D)",
            (c, p, q, j, d) -> c.fpu() && (sw(j) & 0x02) != 0 && (sw(q) & 0x02) == 0,
            null, 0x02),
        new Difference("X87_CW_RESERVED_BITS", When.ON_MISMATCH,
            "FLDCW, FLDENV or FRSTOR of a control word with reserved bits (6, 7, 13-15) not as the hardware keeps them",
            "the reserved bits read back as loaded",
            "bit 6 reads back as 1, bits 7 and 13-15 as 0 (the FNINIT value is 037F)",
            RECORDED + "; SDM Vol. 1 Figure 8-6 (x87 FPU control word): bits 6, 7, 13-15 reserved",
            (c, p, q, j, d) -> c.fpu() && d.size() == 1 && d.get(0).startsWith("x87 control word")
                && ((cw(j) ^ cw(q)) & ~0xe0c0 & 0xffff) == 0,
            (c, p, q, j) -> (cw(j) & 0xe0c0) == 0x40 ? null
                : String.format("java's control word %04x has the reserved bits wrong", cw(j))),
        new Difference("X87_ES_NOT_RECOMPUTED", When.ON_MISMATCH,
            "FLDCW, FLDENV or FRSTOR that leaves an exception flag set whose exception the control word unmasks",
            "ES and B keep their loaded values (clear), so no #MF at the next waiting x87 instruction",
            "ES = B = 1 and #MF at the next waiting x87 instruction",
            "SDM Vol. 1 8.1.3.1 (ES: set when any unmasked exception bit is set) and 8.7 (#MF at the next "
                + "waiting x87 instruction)",
            (c, p, q, j, d) -> c.fpu() && (sw(j) & 0x80) != 0 && (sw(q) & 0x80) == 0,
            (c, p, q, j) -> (sw(j) & 0x3f & ~cw(j)) != 0 && (sw(j) & 0x8080) == 0x8080 ? null
                : String.format("java's ES/B (status %04x) do not follow its unmasked flags (control %04x)", sw(j),
                    cw(j))),
        new Difference("X87_STORE_FAULT_SETS_FLAGS", When.ON_MISMATCH,
            "an x87 store (FIST/FISTP/FST/FSTP/FBSTP m) whose destination page-faults",
            "the exception flags of the conversion (IE, PE) are already set when the #PF is taken",
            "the #PF comes first: the x87 state is as before the instruction",
            RECORDED,
            (c, p, q, j, d) -> c.fpu() && q.vector() == 14 && j.vector() == 14 && d.size() == 1
                && d.get(0).startsWith("x87 status word") && (sw(q) & ~sw(j) & 0x3f) != 0,
            null),
        new Difference("FCOMI_LEAVES_OF_SF_AF", When.ON_MISMATCH,
            "FCOMI, FCOMIP, FUCOMI, FUCOMIP",
            "OF, SF and AF keep their old values",
            "OF, SF and AF cleared",
            "SDM Vol. 2A, FCOMI/FCOMIP/FUCOMI/FUCOMIP, Flags Affected: \"OF, SF and AF are cleared\"",
            (c, p, q, j, d) -> c.form().mnemonic().matches("FU?COMIP?") && d.size() == 1
                && d.get(0).startsWith("EFLAGS differ in") && ((q.eflags() ^ j.eflags()) & ~0x890) == 0,
            (c, p, q, j) -> (j.eflags() & 0x890) == 0 ? null : "java left OF, SF or AF set"),
        new Difference("CMPS_READS_EDI_FIRST", When.ON_MISMATCH,
            "CMPS where both operands are on pages that fault",
            "the #PF is for ES:EDI (QEMU loads the second operand first)",
            "the #PF is for DS:ESI, the first operand",
            RECORDED,
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("CMPS") && q.vector() == 14 && j.vector() == 14
                && q.cr2() != j.cr2(),
            (c, p, q, j) -> j.cr2() == (hasPrefix(c, 0x67) ? c.regs()[6] & 0xffff : c.regs()[6]) ? null
                : String.format("java's CR2 %08x is not ESI's address", j.cr2())),
        new Difference("MOV_CR_RESERVED", When.ON_MISMATCH,
            "MOV to or from CR1, CR5, CR6 or CR7 at CPL 3",
            "#GP(0) (the privilege check first)",
            "#UD (the register check first)",
            RECORDED + "; SDM Vol. 2B, MOV (control registers): #UD for CR1, CR5-CR7 and #GP(0) at CPL > 0, "
                + "order not stated",
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("MOV") && controlRegister(c) >= 0
                && q.vector() == 13 && j.vector() == 6,
            (c, p, q, j) -> faultAtInstruction(c, j, 6, -1)),
        new Difference("FAR_CALL_PUSH_IS_SUPERVISOR", When.ON_MISMATCH,
            "a far CALL (9A, FF /3) whose pushes page-fault",
            "#PF error code without U (QEMU pushes with supervisor access)",
            "#PF error code with U: the pushes are CPL 3 accesses",
            "SDM Vol. 3A 4.7: U/S is 1 for an access made at CPL 3",
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("CALLF") && q.vector() == 14 && j.vector() == 14
                && (q.errorCode() & 4) == 0 && (j.errorCode() & 4) != 0,
            (c, p, q, j) -> (j.errorCode() & 4) != 0 ? null : "java's #PF error code has U = 0"),
        new Difference("ARPL_ALWAYS_WRITES", When.ON_MISMATCH,
            "ARPL with a memory destination whose RPL is not below the source's",
            "writes the unchanged destination back (a #PF on a page it may not write)",
            "no write: ZF = 0, the destination is left alone",
            RECORDED + "; SDM Vol. 2A, ARPL: DEST is written only when DEST.RPL < SRC.RPL",
            (c, p, q, j, d) -> c.form().mnemonic().startsWith("ARPL") && q.vector() == 14 && j.vector() == 3,
            (c, p, q, j) -> j.vector() == 3 && (j.eflags() & 0x40) == 0 ? null : "java did not complete with ZF = 0"),
        new Difference("INSTRUCTION_OVER_15_BYTES", When.ON_MISMATCH,
            "an instruction longer than 15 bytes (redundant prefixes)",
            "#UD for an undefined opcode, or #PF from the memory operand (decoded and executed before the length "
                + "is checked)",
            "#GP(0) at the instruction",
            RECORDED + "; SDM Vol. 2A 2.3.11: an instruction over 15 bytes raises #GP",
            (c, p, q, j, d) -> c.code().length - testedInstruction(c) > 15 && j.vector() == 13 && j.errorCode() == 0
                && q.vector() != 13,
            (c, p, q, j) -> faultAtInstruction(c, j, 13, 0)),
        new Difference("X87_STORE_WITH_UNMASKED_INVALID", When.ON_MISMATCH,
            "FIST/FISTP/FBSTP/FST/FSTP to memory of a value that raises an unmasked invalid-operation exception",
            "stores the integer or real indefinite",
            "stores nothing (an unmasked exception leaves the destination alone)",
            "SDM Vol. 1 8.5.1.2 (invalid arithmetic operand, unmasked: the destination is not modified)",
            (c, p, q, j, d) -> c.fpu() && c.form().mnemonic().matches("(FISTP?|FBSTP|FSTP?) m.*")
                && (cw(j) & 1) == 0 && (sw(j) & 1) != 0 && d.stream().allMatch(l -> l.startsWith("memory")),
            (c, p, q, j) -> storedNothingNew(c, p, j)),
        new Difference("X87_PRECISION_CONTROL", When.ON_MISMATCH,
            "x87 cases whose control word selects 24- or 53-bit precision (PC != 11b)",
            "QEMU rounds to the selected precision where the hardware does not (FLD m64fp, FLD m80fp, FPREM, "
                + "FRNDINT...), so results, C1 and PE differ, and with them the #MF of a following FWAIT",
            "precision control applies only to FADD, FSUB(R), FMUL, FDIV(R) and FSQRT",
            "SDM Vol. 1 8.1.5.2, Precision Control Field; the x87 vectors recorded on a real FPU "
                + "(X87HardwareVectorsTest, X87HardwareStatesTest, X87HardwareImagesTest) check these on every machine",
            (c, p, q, j, d) -> c.fpu() && j.fpu() != null && q.fpu() != null && (cw(j) >> 8 & 3) != 3
                && x87Only(d),
            null),
        new Difference("HINT_NOP_0F18_REGISTER", When.ON_MISMATCH,
            "0F 18 /0-/7 (PREFETCHh and the hint NOPs) with a register operand",
            "#UD",
            "a NOP: the instruction completes",
            RECORDED + "; SDM Vol. 2B, NOP: 0F 18-1F are reserved-NOP hints",
            (c, p, q, j, d) -> twoByteOpcode(c) == 0x18 && q.vector() == 6 && j.eip() != c.entry(),
            (c, p, q, j) -> {
                int end = c.entry() + c.code().length;
                boolean completed = (j.vector() == 3 && j.eip() == end + 1) || (j.vector() == 14 && j.eip() == end);
                return completed ? null : "java did not complete the instruction";
            }),
        new Difference("WHOLE_INSTRUCTION_FETCHED_FIRST", When.ON_MISMATCH,
            "an instruction that runs over the end of the code page onto the unmapped page after it",
            "the privilege or opcode check of the decoded part first (#GP, #UD)",
            "#PF for the fetch of the instruction's last bytes (CR2 = the next page)",
            RECORDED,
            (c, p, q, j, d) -> j.vector() == 14 && j.cr2() == Layout.CODE + Layout.CODE_SIZE && j.eip() == c.entry()
                && q.vector() != 14,
            (c, p, q, j) -> faultAtInstruction(c, j, 14, -1)),
        new Difference("FAULTING_SLOT_ORDER", When.ON_MISMATCH,
            "PUSHA, FBLD, FRSTOR and other multi-part accesses whose parts lie on both sides of a page that faults",
            "CR2 names the part QEMU happens to access first (PUSHA: the lowest slot), and the parts before it "
                + "are already written",
            "CR2 is in the first part, in program order, that faults (PUSHA: the highest slot that is not "
                + "writable, and the slots above it are already written); a load writes nothing",
            RECORDED,
            (c, p, q, j, d) -> q.vector() == 14 && j.vector() == 14 && q.errorCode() == j.errorCode()
                && d.stream().allMatch(l -> l.startsWith("CR2") || l.startsWith("memory")),
            (c, p, q, j) -> c.form().mnemonic().startsWith("PUSHA") ? pushaFaultedInOrder(c, p, j)
                : storedNothingNew(c, p, j)),
        new Difference("FAULT_CHANGES_FLAGS", When.ON_MISMATCH,
            "RCL/RCR (and other flag-writing instructions) whose memory destination faults",
            "EFLAGS (CF, OF) already updated when the fault is taken",
            "a fault leaves EFLAGS as it was",
            "SDM Vol. 3A 6.5: a fault is reported with the state before the faulting instruction",
            (c, p, q, j, d) -> q.vector() == j.vector() && j.vector() != 3 && j.eip() == c.entry()
                && d.size() == 1 && d.get(0).startsWith("EFLAGS differ"),
            (c, p, q, j) -> ((j.eflags() ^ c.eflags()) & UndefinedBehaviour.ARITH) == 0 ? null
                : String.format("java changed the flags: %08x (initial %08x)", j.eflags(), c.eflags())),
        new Difference("X87_REMAINDER", When.ON_MISMATCH,
            "FPREM and FPREM1",
            "the quotient bits (C0, C3, C1) and partial remainders of QEMU 7.2's floatx80 remainder",
            "the hardware's partial remainder and quotient bits",
            "SDM Vol. 2A, FPREM/FPREM1; the recorded x87 vectors (X87HardwareVectorsTest) check these on every machine",
            (c, p, q, j, d) -> c.fpu() && c.form().mnemonic().startsWith("FPREM") && x87Only(d),
            null),
        new Difference("X87_CORNER_RESULTS", When.LAST_RESORT,
            "x87 arithmetic, comparisons and stores whose operands are special (NaNs, infinities, denormals, "
                + "unnormals, pseudo-denormals) or whose exceptions cascade (a stack fault or invalid operation whose "
                + "flag a later FNSTSW reads or a later FWAIT raises)",
            "QEMU 7.2's softfloat results and flags",
            "the hardware's results and flags",
            "the x87 vectors recorded on a real FPU (X87HardwareVectorsTest, X87HardwareStatesTest, "
                + "X87HardwareImagesTest) check these on every machine",
            (c, p, q, j, d) -> c.fpu() && j.fpu() != null && q.fpu() != null && d.stream().allMatch(l ->
                l.startsWith("x87 ") || l.startsWith("EIP") || l.startsWith("memory") || l.startsWith("EAX")
                    || l.startsWith("EFLAGS") || l.matches("ending: host #(BP|MF|PF).*, java #(BP|MF|PF).*")),
            null));


    private QemuDifferences() {
    }

    /** Every difference is in the x87 state, or is a consequence of it (the #MF of a following FWAIT). */
    static boolean x87Only(List<String> d) {
        return !d.isEmpty() && d.stream().allMatch(l -> l.startsWith("x87 ") || l.startsWith("EIP")
            || l.matches("ending: host #(BP|MF) .*, java #(BP|MF) .*"));
    }

    /** Java wrote nothing: every data dword it reports is what the case started with. */
    static String storedNothingNew(DiffCase c, byte[] pattern, Outcome j) {
        for (var e : j.memory().entrySet()) {
            if (e.getValue() != Comparison.initialWord(pattern, c, e.getKey())) {
                return String.format("java wrote %08x at %08x", e.getValue(), Layout.DATA + e.getKey() * 4);
            }
        }
        return null;
    }

    /** A PUSHA fault: CR2 in the first slot that faults, and writes only in the slots above it. */
    static String pushaFaultedInOrder(DiffCase c, byte[] pattern, Outcome j) {
        if (!inFirstFaultingPushaSlot(c, j.cr2())) {
            return String.format("java's PUSHA fault %08x is not in the first slot that faults", j.cr2());
        }
        for (var e : j.memory().entrySet()) {
            int was = Comparison.initialWord(pattern, c, e.getKey());
            long at = Layout.DATA + e.getKey() * 4 & 0xffffffffL;
            boolean aboveFault = at + 3 >= (j.cr2() & 0xffffffffL) && at < (c.regs()[4] & 0xffffffffL);
            if (e.getValue() != was && !aboveFault) {
                return String.format("java wrote %08x at %08x, outside the slots above the fault", e.getValue(), at);
            }
        }
        return null;
    }

    /** Whether cr2 lies in the first PUSHA slot (EAX's first) that is not inside the data area. */
    static boolean inFirstFaultingPushaSlot(DiffCase c, int cr2) {
        int width = hasPrefix(c, 0x66) ? 2 : 4;
        for (int k = 1; k <= 8; k++) {
            int slot = c.regs()[4] - k * width;
            if (!Layout.inData(slot, width)) {
                return Integer.compareUnsigned(cr2 - slot, width) < 0;
            }
        }
        return false;
    }

    static int sw(Outcome o) {
        return u16(o.fpu(), 4);
    }

    static int cw(Outcome o) {
        return u16(o.fpu(), 0);
    }

    static int tw(Outcome o) {
        return u16(o.fpu(), 8);
    }

    private static int u16(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
    }

    static int emptyRegisters(int tagWord) {
        int n = 0;
        for (int i = 0; i < 8; i++) {
            n += (tagWord >> (2 * i) & 3) == 3 ? 1 : 0;
        }
        return n;
    }

    /** The NOT_SENT entry that keeps this case from QEMU, or null. */
    static Difference notSent(DiffCase c, byte[] pattern) {
        for (Difference d : LIST) {
            if (d.when() == When.NOT_SENT && d.affects().test(c, pattern, null, null, List.of())) {
                return d;
            }
        }
        return null;
    }

    /**
     * The entries that explain a mismatch, or an empty list: one ON_MISMATCH entry that explains the whole
     * case, or else one for each difference line (x87 status-word lines bit by bit), the LAST_RESORT entries
     * only for a line nothing else explains.
     */
    static List<Difference> explaining(DiffCase c, byte[] pattern, Outcome qemu, Outcome java, List<String> diffs) {
        for (Difference d : LIST) {
            if (d.when() == When.ON_MISMATCH && d.statusBits() == 0
                    && d.affects().test(c, pattern, qemu, java, diffs)) {
                return List.of(d);
            }
        }
        java.util.LinkedHashSet<Difference> used = new java.util.LinkedHashSet<>();
        for (String line : diffs) {
            List<String> one = List.of(line);
            Difference found = first(When.ON_MISMATCH, c, pattern, qemu, java, one);
            if (found != null) {
                used.add(found);
                continue;
            }
            if (line.startsWith("x87 status word") && qemu.fpu() != null && java.fpu() != null) {
                int bits = (sw(qemu) ^ sw(java)) & ~c.fpuStatusUndefined() & 0xffff;
                List<Difference> byBit = new ArrayList<>();
                for (Difference d : LIST) {
                    if (d.statusBits() != 0 && (bits & d.statusBits()) != 0
                            && d.affects().test(c, pattern, qemu, java, one)) {
                        bits &= ~d.statusBits();
                        byBit.add(d);
                    }
                }
                if (bits == 0) {
                    used.addAll(byBit);
                    continue;
                }
            }
            found = first(When.LAST_RESORT, c, pattern, qemu, java, one);
            if (found == null) {
                return List.of();
            }
            used.add(found);
        }
        return List.copyOf(used);
    }

    /** The first entry of this kind (not a status-bit entry) that explains these differences, or null. */
    private static Difference first(When when, DiffCase c, byte[] pattern, Outcome qemu, Outcome java,
                                    List<String> diffs) {
        for (Difference d : LIST) {
            if (d.when() == when && d.statusBits() == 0 && d.affects().test(c, pattern, qemu, java, diffs)) {
                return d;
            }
        }
        return null;
    }

    /**
     * The case ended with this vector (and error code, unless -1) at the instruction under test (its first byte;
     * for x87 cases, after the loads before it), registers as they were.
     */
    static String faultAtInstruction(DiffCase c, Outcome j, int vector, int errorCode) {
        if (j.vector() != vector || (errorCode >= 0 && j.errorCode() != errorCode)) {
            return String.format("java ended with %s (error code %#x), the hardware with %s%s",
                Outcome.vectorName(j.vector()), j.errorCode(), Outcome.vectorName(vector),
                errorCode >= 0 ? "(" + errorCode + ")" : "");
        }
        boolean atInstruction = j.eip() == c.entry()
            || (c.fpu() && j.eip() > c.entry() && j.eip() < c.entry() + c.code().length);
        if (!atInstruction) {
            return String.format("java's EIP %08x is not the instruction's %08x", j.eip(), c.entry());
        }
        for (int i = 0; i < 8; i++) {
            if (j.regs()[i] != c.regs()[i]) {
                return String.format("java changed %s to %08x (initial %08x)", Comparison.REG[i], j.regs()[i],
                    c.regs()[i]);
            }
        }
        return null;
    }

    /**
     * Where the instruction under test starts in the case's code: 0, or for x87 cases after the loads that
     * prepare the registers (FLD m64/m80, FILD m32, FLDCW, 6 bytes each, from the top of the data area).
     */
    static int testedInstruction(DiffCase c) {
        byte[] b = c.code();
        int i = 0;
        if (!c.fpu()) {
            return 0;
        }
        while (i + 6 < b.length) {
            int op = (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
            int addr = (b[i + 2] & 0xff) | (b[i + 3] & 0xff) << 8 | (b[i + 4] & 0xff) << 16 | (b[i + 5] & 0xff) << 24;
            boolean load = op == 0xdd05 || op == 0xdb2d || op == 0xdb05 || op == 0xd92d;
            if (!load || addr - Layout.DATA < 0x1f00 || addr - Layout.DATA >= Layout.DATA_SIZE) {
                break;
            }
            i += 6;
        }
        return i;
    }

    /** Index of the first byte after the legacy prefixes of the instruction under test. */
    static int opcodeIndex(DiffCase c) {
        int i = testedInstruction(c);
        while (i < c.code().length && isPrefix(c.code()[i] & 0xff)) {
            i++;
        }
        return i;
    }

    static boolean hasPrefix(DiffCase c, int prefix) {
        for (int i = testedInstruction(c); i < opcodeIndex(c); i++) {
            if ((c.code()[i] & 0xff) == prefix) {
                return true;
            }
        }
        return false;
    }

    private static boolean isPrefix(int b) {
        return switch (b) {
            case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3 -> true;
            default -> false;
        };
    }

    static boolean reservedGroupEncoding(DiffCase c) {
        byte[] b = c.code();
        int i = opcodeIndex(c);
        if (i + 1 >= b.length) {
            return false;
        }
        int op = b[i] & 0xff;
        int reg = (b[i + 1] >> 3) & 7;
        return ((op == 0xc6 || op == 0xc7) && reg != 0) || (op == 0xff && reg == 7) || (op == 0xfe && reg >= 2);
    }

    /** The second byte of a two-byte (0F xx) opcode, or -1. */
    static int twoByteOpcode(DiffCase c) {
        byte[] b = c.code();
        int i = opcodeIndex(c);
        return i + 1 < b.length && (b[i] & 0xff) == 0x0f ? b[i + 1] & 0xff : -1;
    }

    /** The control register of a MOV to or from CRn (0F 20 / 0F 22), or -1. */
    static int controlRegister(DiffCase c) {
        byte[] b = c.code();
        int i = opcodeIndex(c);
        int op = twoByteOpcode(c);
        return (op == 0x20 || op == 0x22) && i + 2 < b.length ? (b[i + 2] >> 3) & 7 : -1;
    }

    static boolean testAlias(DiffCase c) {
        byte[] b = c.code();
        int i = opcodeIndex(c);
        return i + 1 < b.length && ((b[i] & 0xff) == 0xf6 || (b[i] & 0xff) == 0xf7) && ((b[i + 1] >> 3) & 7) == 1;
    }

    /** The imm16 of RET/RETF imm16, or -1. */
    static int retImm16(DiffCase c) {
        byte[] b = c.code();
        int i = opcodeIndex(c);
        if (i + 2 < b.length && ((b[i] & 0xff) == 0xc2 || (b[i] & 0xff) == 0xca)) {
            return (b[i + 1] & 0xff) | (b[i + 2] & 0xff) << 8;
        }
        return -1;
    }

    /** A 32-bit IRET whose EFLAGS image (at ESP + 8, in the data area) has VM set. */
    static boolean iretImageHasVm(DiffCase c, byte[] pattern) {
        int i = opcodeIndex(c);
        if (i >= c.code().length || (c.code()[i] & 0xff) != 0xcf || hasPrefix(c, 0x66)) {
            return false;
        }
        long at = (c.regs()[4] & 0xffffffffL) + 10 - Layout.DATA; // the byte holding EFLAGS bits 16..23
        if (at < 0 || at >= Layout.DATA_SIZE) {
            return false;
        }
        int v = pattern[(int) at] & 0xff;
        for (DiffCase.Patch p : c.patches()) {
            if (at >= p.offset() && at < p.offset() + p.bytes().length) {
                v = p.bytes()[(int) (at - p.offset())] & 0xff;
            }
        }
        return (v & 2) != 0;
    }

    static boolean lockedBitTestOnRegister(DiffCase c) {
        if (!hasPrefix(c, 0xf0)) {
            return false;
        }
        byte[] b = c.code();
        int i = opcodeIndex(c);
        if (i + 2 >= b.length || (b[i] & 0xff) != 0x0f) {
            return false;
        }
        int op = b[i + 1] & 0xff;
        int modrm = b[i + 2] & 0xff;
        boolean register = (modrm >> 6) == 3;
        return register && (op == 0xa3 || op == 0xab || op == 0xb3 || op == 0xbb
            || (op == 0xba && ((modrm >> 3) & 7) >= 4));
    }
}
