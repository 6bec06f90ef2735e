package org.lguest.cpu.diff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The instruction forms the generator draws from: every one-byte and
 * 0F-prefixed opcode that an i686 accepts at ring 3, and whose outcome there
 * depends only on the registers, flags and memory the test controls.
 *
 * <p>What is left out, and why, is listed in {@link #EXCLUDED}; the same list
 * is in README-difftest.md.
 */
final class OpcodeTable {

    /** How the generator has to prepare the state for a form, beyond random registers and operands. */
    enum Kind {
        NORMAL, PUSH, POP, POP_SREG, PUSHA, POPA, PUSHF, POPF,
        CALL_REL, CALL_IND, CALLF_DIR, CALLF_IND, JMP_REL, JMP_IND, JMPF_DIR, JMPF_IND,
        JCC, LOOP, RET, RETF, IRET, ENTER, LEAVE, INT, STRING, LOAD_FAR, MOV_TO_SREG,
        SEL_QUERY, BT_MEM, BOUND, XLAT, ARPL, X87
    }

    /**
     * One instruction form.
     *
     * @param mnemonic  the name mismatches and {@link KnownCpuGaps} use
     * @param opcode    opcode bytes (with 0F for two-byte opcodes); for {@code Z} forms the base
     * @param reg       ModRM reg field: -1 no ModRM, 0..7 fixed (/digit), 8 any (/r)
     * @param mod       ModRM mod constraint: 'a' any, 'm' memory only, 'r' register only
     * @param operands  operand tokens (Intel's notation: Eb Ev Ew Gb Gv Gw Sw Ib Iw Iz Jb Jz Ap Ob Ov M Mp Ma Mq Zb Zv Cd Dd Rd CL 1 AL eAX DX)
     * @param kind      special preparation
     * @param flags     undefined-flag rule (see {@link UndefinedBehaviour})
     * @param lockable  whether LOCK is legal with a memory destination
     * @param opsize    whether a 66 prefix changes the operation (else the generator leaves it out)
     */
    record Form(String mnemonic, int[] opcode, int reg, char mod, String[] operands, Kind kind,
                UndefinedBehaviour.Rule flags, boolean lockable, boolean opsize) {

        boolean hasModrm() {
            return reg >= 0;
        }

        boolean has(String operand) {
            for (String o : operands) {
                if (o.equals(operand)) {
                    return true;
                }
            }
            return false;
        }

        /** The operand in the r/m position, or null. */
        String rmOperand() {
            for (String o : operands) {
                if (o.startsWith("E") || o.startsWith("M") || o.equals("Rd")) {
                    return o;
                }
            }
            return null;
        }

        boolean opcodeReg() {
            for (String o : operands) {
                if (o.startsWith("Z")) {
                    return true;
                }
            }
            return false;
        }

        String opcodeHex() {
            StringBuilder sb = new StringBuilder();
            for (int b : opcode) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(String.format("%02x", b));
            }
            if (reg >= 0 && reg < 8) {
                sb.append(" /").append(reg);
            }
            return sb.toString();
        }
    }

    /** What the generator never produces, with the reason. */
    static final List<String> EXCLUDED = List.of(
            "0F A2 CPUID, 0F 31 RDTSC, 0F 01 F9 RDTSCP, 0F 33 RDPMC: results come from the host processor, not from the state",
            "CD 80 INT 0x80, 0F 05 SYSCALL, 0F 34 SYSENTER, 0F 07 SYSRET: enter the host kernel",
            "0F 00 /0 SLDT, 0F 00 /1 STR, 0F 01 /0 SGDT, 0F 01 /1 SIDT, 0F 01 /4 SMSW: with UMIP the host kernel emulates them with values of its own",
            "0F 01 with mod=3 (MONITOR, XGETBV, SWAPGS, CLAC, ... ) except LMSW: extensions newer than the i686, or host-dependent",
            "F1 ICEBP/INT1: under a hypervisor the host reports it with the EIP of the instruction, not after it",
            "D6 SALC: undocumented",
            "x87: FISTTP (SSE3); F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS (results beyond the"
                    + " architected accuracy differ between implementations); FNSTENV/FNSAVE (they store the"
                    + " FPU instruction and data pointers, which hosts fill differently); the undocumented aliases"
                    + " (FSTP1, FCOM2, FCOMP3, FXCH4, FCOMP5, FSTP8/9, FFREEP) and FENI/FDISI/FSETPM",
            "x87 comparison leaves out FIP/FCS/FOP/FDP/FDS of the FNSAVE image and the contents of empty"
                    + " registers; C0/C2/C3 only compared after instructions that define them",
            "0F 10-17, 0F 28-2F, 0F 50-7F, 0F C2-C6, 0F D0-FF, 0F 38 xx, 0F 3A xx, 0F AE, 0F 0D, 0F 0E, 0F 0F, 0F 78/79, 0F B8, 0F FF:"
                    + " MMX/SSE/3DNow!/later extensions the i686 model does not have (or whose meaning differs between vendors)",
            "F2/F3 before 0F B8/BC/BD: POPCNT/TZCNT/LZCNT on the host, BSF/BSR on an i686",
            "C4/C5 (LES/LDS) and 62 (BOUND) with mod=3: VEX/EVEX prefixes on the host",
            "8F /1-/7: XOP prefix on some AMD hosts",
            "C6/C7 /7 (XABORT/XBEGIN) and 0F C7 /2-/7 (XSAVE*, RDRAND, RDSEED, RDPID, VMX): extensions",
            "0F 01 /5, 0F 00 /6-/7, 0F 37 GETSEC, 0F A6/A7, 0F 7A/7B: vendor- and model-specific",
            "FS/GS-relative accesses are generated only as faults (both selectors are null on the host)",
            "C6/C7 /1-/6 and 0F BA /0-/3 with a memory operand: AMD hosts translate the address (and page-fault)"
                    + " before raising #UD; generated with register operands only",
            "LOCK VERR/VERW: AMD hosts execute them, Intel raises #UD",
            "LOCK MOV to/from CR0: AMD's alternative encoding of CR8 (#GP(0) at CPL 3 there, #UD on an i686)",
            "IRET and RETF with fewer than 20 bytes of stack left in the data area: the host (a 64-bit kernel's"
                    + " compatibility mode) touches stack slots beyond the three it pops",
            "RETF imm16 releasing the stack beyond the data area: the host touches the released stack before"
                    + " checking the new CS; imm16 is kept small");

    static final List<Form> FORMS;

    private static final List<Form> forms = new ArrayList<>();

    private static void f(String opcode, String modrm, String mnemonic, String operands, Kind kind,
                          UndefinedBehaviour.Rule rule, boolean lock) {
        String[] hex = opcode.trim().split(" ");
        int[] op = new int[hex.length];
        for (int i = 0; i < hex.length; i++) {
            op[i] = Integer.parseInt(hex[i], 16);
        }
        int reg;
        char mod = 'a';
        if (modrm.isEmpty()) {
            reg = -1;
        } else {
            reg = modrm.charAt(1) == 'r' ? 8 : modrm.charAt(1) - '0';
            if (modrm.length() > 2) {
                mod = modrm.charAt(2);
            }
        }
        String[] ops = operands.isEmpty() ? new String[0] : operands.split(",");
        boolean opsize = false;
        for (String o : ops) {
            if (o.endsWith("v") || o.equals("Iz") || o.equals("Jz") || o.equals("Ap") || o.equals("Mp")
                    || o.equals("Ma") || o.equals("eAX")) {
                opsize = true;
            }
        }
        switch (kind) {
            case PUSH, POP, POP_SREG, PUSHA, POPA, PUSHF, POPF, CALL_REL, CALL_IND, RET, RETF, IRET, ENTER,
                 LEAVE, STRING, JMP_IND, JMP_REL, JCC, LOOP, XLAT, MOV_TO_SREG -> opsize = true;
            default -> { }
        }
        forms.add(new Form(mnemonic, op, reg, mod, ops, kind, rule, lock, opsize));
    }

    private static void f(String opcode, String modrm, String mnemonic, String operands) {
        f(opcode, modrm, mnemonic, operands, Kind.NORMAL, UndefinedBehaviour.Rule.NONE, false);
    }

    private static void f(String opcode, String modrm, String mnemonic, String operands, Kind kind) {
        f(opcode, modrm, mnemonic, operands, kind, UndefinedBehaviour.Rule.NONE, false);
    }

    private static void f(String opcode, String modrm, String mnemonic, String operands, UndefinedBehaviour.Rule rule) {
        f(opcode, modrm, mnemonic, operands, Kind.NORMAL, rule, false);
    }

    static {
        UndefinedBehaviour.Rule none = UndefinedBehaviour.Rule.NONE;
        UndefinedBehaviour.Rule logic = UndefinedBehaviour.Rule.LOGIC;
        String[] alu = {"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"};
        for (int i = 0; i < 8; i++) {
            String m = alu[i];
            UndefinedBehaviour.Rule r = (i == 1 || i == 4 || i == 6) ? logic : none;
            boolean lock = i != 7;
            String b = String.format("%02x", i * 8);
            f(b, "/r", m, "Eb,Gb", Kind.NORMAL, r, lock);
            f(String.format("%02x", i * 8 + 1), "/r", m, "Ev,Gv", Kind.NORMAL, r, lock);
            f(String.format("%02x", i * 8 + 2), "/r", m, "Gb,Eb", Kind.NORMAL, r, false);
            f(String.format("%02x", i * 8 + 3), "/r", m, "Gv,Ev", Kind.NORMAL, r, false);
            f(String.format("%02x", i * 8 + 4), "", m, "AL,Ib", Kind.NORMAL, r, false);
            f(String.format("%02x", i * 8 + 5), "", m, "eAX,Iz", Kind.NORMAL, r, false);
            f("80", "/" + i, m, "Eb,Ib", Kind.NORMAL, r, lock);
            f("81", "/" + i, m, "Ev,Iz", Kind.NORMAL, r, lock);
            f("82", "/" + i, m, "Eb,Ib", Kind.NORMAL, r, lock);
            f("83", "/" + i, m, "Ev,Ib", Kind.NORMAL, r, lock);
        }
        f("06", "", "PUSH ES", "", Kind.PUSH);
        f("07", "", "POP ES", "", Kind.POP_SREG);
        f("0e", "", "PUSH CS", "", Kind.PUSH);
        f("16", "", "PUSH SS", "", Kind.PUSH);
        f("17", "", "POP SS", "", Kind.POP_SREG);
        f("1e", "", "PUSH DS", "", Kind.PUSH);
        f("1f", "", "POP DS", "", Kind.POP_SREG);
        f("27", "", "DAA", "", UndefinedBehaviour.Rule.DAA);
        f("2f", "", "DAS", "", UndefinedBehaviour.Rule.DAA);
        f("37", "", "AAA", "", UndefinedBehaviour.Rule.AAA);
        f("3f", "", "AAS", "", UndefinedBehaviour.Rule.AAA);
        f("40", "", "INC", "Zv");
        f("48", "", "DEC", "Zv");
        f("50", "", "PUSH", "Zv", Kind.PUSH);
        f("58", "", "POP", "Zv", Kind.POP);
        f("60", "", "PUSHA", "", Kind.PUSHA);
        f("61", "", "POPA", "", Kind.POPA);
        f("62", "/rm", "BOUND", "Gv,Ma", Kind.BOUND);
        f("63", "/r", "ARPL", "Ew,Gw", Kind.ARPL);
        f("68", "", "PUSH", "Iz", Kind.PUSH);
        f("69", "/r", "IMUL", "Gv,Ev,Iz", UndefinedBehaviour.Rule.MUL);
        f("6a", "", "PUSH", "Ib", Kind.PUSH);
        f("6b", "/r", "IMUL", "Gv,Ev,Ib", UndefinedBehaviour.Rule.MUL);
        f("6c", "", "INSB", "", Kind.STRING);
        f("6d", "", "INSD", "v", Kind.STRING);
        f("6e", "", "OUTSB", "", Kind.STRING);
        f("6f", "", "OUTSD", "v", Kind.STRING);
        f("70", "", "Jcc", "Jb", Kind.JCC);
        f("84", "/r", "TEST", "Eb,Gb", logic);
        f("85", "/r", "TEST", "Ev,Gv", logic);
        f("86", "/r", "XCHG", "Eb,Gb", Kind.NORMAL, none, true);
        f("87", "/r", "XCHG", "Ev,Gv", Kind.NORMAL, none, true);
        f("88", "/r", "MOV", "Eb,Gb");
        f("89", "/r", "MOV", "Ev,Gv");
        f("8a", "/r", "MOV", "Gb,Eb");
        f("8b", "/r", "MOV", "Gv,Ev");
        f("8c", "/r", "MOV Ev,Sw", "Ev,Sw");
        f("8d", "/rm", "LEA", "Gv,M");
        f("8e", "/r", "MOV Sw,Ew", "Sw,Ew", Kind.MOV_TO_SREG);
        f("8f", "/0", "POP", "Ev", Kind.POP);
        f("90", "", "NOP", "");
        f("f3 90", "", "PAUSE", "");
        f("90", "", "XCHG", "Zv,eAX");
        f("98", "", "CWDE", "v");
        f("99", "", "CDQ", "v");
        f("9a", "", "CALLF", "Ap", Kind.CALLF_DIR);
        f("9c", "", "PUSHF", "", Kind.PUSHF);
        f("9d", "", "POPF", "", Kind.POPF);
        f("9e", "", "SAHF", "");
        f("9f", "", "LAHF", "");
        f("a0", "", "MOV", "AL,Ob");
        f("a1", "", "MOV", "eAX,Ov");
        f("a2", "", "MOV", "Ob,AL");
        f("a3", "", "MOV", "Ov,eAX");
        f("a4", "", "MOVSB", "", Kind.STRING);
        f("a5", "", "MOVSD", "v", Kind.STRING);
        f("a6", "", "CMPSB", "", Kind.STRING);
        f("a7", "", "CMPSD", "v", Kind.STRING);
        f("a8", "", "TEST", "AL,Ib", logic);
        f("a9", "", "TEST", "eAX,Iz", logic);
        f("aa", "", "STOSB", "", Kind.STRING);
        f("ab", "", "STOSD", "v", Kind.STRING);
        f("ac", "", "LODSB", "", Kind.STRING);
        f("ad", "", "LODSD", "v", Kind.STRING);
        f("ae", "", "SCASB", "", Kind.STRING);
        f("af", "", "SCASD", "v", Kind.STRING);
        f("b0", "", "MOV", "Zb,Ib");
        f("b8", "", "MOV", "Zv,Iv");
        String[] shifts = {"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"};
        for (int i = 0; i < 8; i++) {
            UndefinedBehaviour.Rule r = i < 2 ? UndefinedBehaviour.Rule.ROTATE
                    : i < 4 ? UndefinedBehaviour.Rule.RCROTATE : UndefinedBehaviour.Rule.SHIFT;
            f("c0", "/" + i, shifts[i], "Eb,Ib", r);
            f("c1", "/" + i, shifts[i], "Ev,Ib", r);
            f("d0", "/" + i, shifts[i], "Eb,1", r);
            f("d1", "/" + i, shifts[i], "Ev,1", r);
            f("d2", "/" + i, shifts[i], "Eb,CL", r);
            f("d3", "/" + i, shifts[i], "Ev,CL", r);
        }
        f("c2", "", "RET", "Iw", Kind.RET);
        f("c3", "", "RET", "", Kind.RET);
        f("c4", "/rm", "LES", "Gv,Mp", Kind.LOAD_FAR);
        f("c5", "/rm", "LDS", "Gv,Mp", Kind.LOAD_FAR);
        f("c6", "/0", "MOV", "Eb,Ib");
        f("c7", "/0", "MOV", "Ev,Iz");
        for (int i = 1; i < 7; i++) {
            f("c6", "/" + i + "r", "(bad C6)", "Eb,Ib");
            f("c7", "/" + i + "r", "(bad C7)", "Ev,Iz");
        }
        f("c8", "", "ENTER", "Iw,Ib", Kind.ENTER);
        f("c9", "", "LEAVE", "", Kind.LEAVE);
        f("ca", "", "RETF", "Iw", Kind.RETF);
        f("cb", "", "RETF", "", Kind.RETF);
        f("cc", "", "INT3", "");
        f("cd", "", "INT", "Ib", Kind.INT);
        f("ce", "", "INTO", "");
        f("cf", "", "IRET", "", Kind.IRET);
        f("d4", "", "AAM", "Ib", UndefinedBehaviour.Rule.AAM);
        f("d5", "", "AAD", "Ib", UndefinedBehaviour.Rule.AAM);
        f("d7", "", "XLAT", "", Kind.XLAT);
        f("e0", "", "LOOPNE", "Jb", Kind.LOOP);
        f("e1", "", "LOOPE", "Jb", Kind.LOOP);
        f("e2", "", "LOOP", "Jb", Kind.LOOP);
        f("e3", "", "JECXZ", "Jb", Kind.LOOP);
        f("e4", "", "IN", "AL,Ib");
        f("e5", "", "IN", "eAX,Ib");
        f("e6", "", "OUT", "Ib,AL");
        f("e7", "", "OUT", "Ib,eAX");
        f("e8", "", "CALL", "Jz", Kind.CALL_REL);
        f("e9", "", "JMP", "Jz", Kind.JMP_REL);
        f("ea", "", "JMPF", "Ap", Kind.JMPF_DIR);
        f("eb", "", "JMP", "Jb", Kind.JMP_REL);
        f("ec", "", "IN", "AL,DX");
        f("ed", "", "IN", "eAX,DX");
        f("ee", "", "OUT", "DX,AL");
        f("ef", "", "OUT", "DX,eAX");
        f("f4", "", "HLT", "");
        f("f5", "", "CMC", "");
        f("f6", "/0", "TEST", "Eb,Ib", logic);
        f("f6", "/1", "TEST(F6 /1)", "Eb,Ib", logic);
        f("f6", "/2", "NOT", "Eb", Kind.NORMAL, none, true);
        f("f6", "/3", "NEG", "Eb", Kind.NORMAL, none, true);
        f("f6", "/4", "MUL", "Eb", UndefinedBehaviour.Rule.MUL);
        f("f6", "/5", "IMUL", "Eb", UndefinedBehaviour.Rule.MUL);
        f("f6", "/6", "DIV", "Eb", UndefinedBehaviour.Rule.DIV);
        f("f6", "/7", "IDIV", "Eb", UndefinedBehaviour.Rule.DIV);
        f("f7", "/0", "TEST", "Ev,Iz", logic);
        f("f7", "/1", "TEST(F7 /1)", "Ev,Iz", logic);
        f("f7", "/2", "NOT", "Ev", Kind.NORMAL, none, true);
        f("f7", "/3", "NEG", "Ev", Kind.NORMAL, none, true);
        f("f7", "/4", "MUL", "Ev", UndefinedBehaviour.Rule.MUL);
        f("f7", "/5", "IMUL", "Ev", UndefinedBehaviour.Rule.MUL);
        f("f7", "/6", "DIV", "Ev", UndefinedBehaviour.Rule.DIV);
        f("f7", "/7", "IDIV", "Ev", UndefinedBehaviour.Rule.DIV);
        f("f8", "", "CLC", "");
        f("f9", "", "STC", "");
        f("fa", "", "CLI", "");
        f("fb", "", "STI", "");
        f("fc", "", "CLD", "");
        f("fd", "", "STD", "");
        f("fe", "/0", "INC", "Eb", Kind.NORMAL, none, true);
        f("fe", "/1", "DEC", "Eb", Kind.NORMAL, none, true);
        for (int i = 2; i < 8; i++) {
            f("fe", "/" + i, "(bad FE)", "Eb");
        }
        f("ff", "/0", "INC", "Ev", Kind.NORMAL, none, true);
        f("ff", "/1", "DEC", "Ev", Kind.NORMAL, none, true);
        f("ff", "/2", "CALL", "Ev", Kind.CALL_IND);
        f("ff", "/3m", "CALLF", "Mp", Kind.CALLF_IND);
        f("ff", "/4", "JMP", "Ev", Kind.JMP_IND);
        f("ff", "/5m", "JMPF", "Mp", Kind.JMPF_IND);
        f("ff", "/6", "PUSH", "Ev", Kind.PUSH);
        f("ff", "/7", "(bad FF)", "Ev");

        // Two-byte opcodes.
        f("0f 00", "/2", "LLDT", "Ew");
        f("0f 00", "/3", "LTR", "Ew");
        f("0f 00", "/4", "VERR", "Ew", Kind.SEL_QUERY);
        f("0f 00", "/5", "VERW", "Ew", Kind.SEL_QUERY);
        f("0f 01", "/2m", "LGDT", "M");
        f("0f 01", "/3m", "LIDT", "M");
        f("0f 01", "/6", "LMSW", "Ew");
        f("0f 01", "/7m", "INVLPG", "M");
        f("0f 02", "/r", "LAR", "Gv,Ew", Kind.SEL_QUERY);
        f("0f 03", "/r", "LSL", "Gv,Ew", Kind.SEL_QUERY);
        f("0f 06", "", "CLTS", "");
        f("0f 08", "", "INVD", "");
        f("0f 09", "", "WBINVD", "");
        f("0f 0b", "", "UD2", "");
        for (int h = 0x18; h <= 0x1f; h++) {
            f(String.format("0f %02x", h), "/r", "NOP Ev", "M");
        }
        f("0f 20", "/rr", "MOV Rd,Cd", "Rd,Cd");
        f("0f 21", "/rr", "MOV Rd,Dd", "Rd,Dd");
        f("0f 22", "/rr", "MOV Cd,Rd", "Cd,Rd");
        f("0f 23", "/rr", "MOV Dd,Rd", "Dd,Rd");
        f("0f 30", "", "WRMSR", "");
        f("0f 32", "", "RDMSR", "");
        f("0f 35", "", "SYSEXIT", "");
        f("0f aa", "", "RSM", "");
        for (int op : new int[] {0x04, 0x0a, 0x0c, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f}) {
            f(String.format("0f %02x", op), "", "(bad 0F)", "");
        }
        f("0f b9", "/r", "UD1", "Gv,Ev");
        f("0f 40", "/r", "CMOVcc", "Gv,Ev");
        f("0f 80", "", "Jcc", "Jz", Kind.JCC);
        f("0f 90", "/r", "SETcc", "Eb");
        f("0f a0", "", "PUSH FS", "", Kind.PUSH);
        f("0f a1", "", "POP FS", "", Kind.POP_SREG);
        f("0f a8", "", "PUSH GS", "", Kind.PUSH);
        f("0f a9", "", "POP GS", "", Kind.POP_SREG);
        UndefinedBehaviour.Rule bt = UndefinedBehaviour.Rule.BT;
        f("0f a3", "/r", "BT", "Ev,Gv", Kind.BT_MEM, bt, false);
        f("0f ab", "/r", "BTS", "Ev,Gv", Kind.BT_MEM, bt, true);
        f("0f b3", "/r", "BTR", "Ev,Gv", Kind.BT_MEM, bt, true);
        f("0f bb", "/r", "BTC", "Ev,Gv", Kind.BT_MEM, bt, true);
        f("0f ba", "/4", "BT", "Ev,Ib", Kind.NORMAL, bt, false);
        f("0f ba", "/5", "BTS", "Ev,Ib", Kind.NORMAL, bt, true);
        f("0f ba", "/6", "BTR", "Ev,Ib", Kind.NORMAL, bt, true);
        f("0f ba", "/7", "BTC", "Ev,Ib", Kind.NORMAL, bt, true);
        for (int i = 0; i < 4; i++) {
            f("0f ba", "/" + i + "r", "(bad 0F BA)", "Ev,Ib");
        }
        UndefinedBehaviour.Rule shd = UndefinedBehaviour.Rule.SHIFT_DOUBLE;
        f("0f a4", "/r", "SHLD", "Ev,Gv,Ib", shd);
        f("0f a5", "/r", "SHLD", "Ev,Gv,CL", shd);
        f("0f ac", "/r", "SHRD", "Ev,Gv,Ib", shd);
        f("0f ad", "/r", "SHRD", "Ev,Gv,CL", shd);
        f("0f af", "/r", "IMUL", "Gv,Ev", UndefinedBehaviour.Rule.MUL);
        f("0f b0", "/r", "CMPXCHG", "Eb,Gb", Kind.NORMAL, none, true);
        f("0f b1", "/r", "CMPXCHG", "Ev,Gv", Kind.NORMAL, none, true);
        f("0f b2", "/rm", "LSS", "Gv,Mp", Kind.LOAD_FAR);
        f("0f b4", "/rm", "LFS", "Gv,Mp", Kind.LOAD_FAR);
        f("0f b5", "/rm", "LGS", "Gv,Mp", Kind.LOAD_FAR);
        f("0f b6", "/r", "MOVZX", "Gv,Eb");
        f("0f b7", "/r", "MOVZX", "Gv,Ew");
        f("0f be", "/r", "MOVSX", "Gv,Eb");
        f("0f bf", "/r", "MOVSX", "Gv,Ew");
        UndefinedBehaviour.Rule bsx = UndefinedBehaviour.Rule.BITSCAN;
        f("0f bc", "/r", "BSF", "Gv,Ev", bsx);
        f("0f bd", "/r", "BSR", "Gv,Ev", bsx);
        f("0f c0", "/r", "XADD", "Eb,Gb", Kind.NORMAL, none, true);
        f("0f c1", "/r", "XADD", "Ev,Gv", Kind.NORMAL, none, true);
        f("0f c7", "/1m", "CMPXCHG8B", "Mq", Kind.NORMAL, none, true);
        f("0f c8", "", "BSWAP", "Zv");
        x87();
        FORMS = Collections.unmodifiableList(new ArrayList<>(forms));
    }

    private static void x(String opcode, String modrm, String mnemonic, String operand) {
        f(opcode, modrm, mnemonic, operand, Kind.X87);
    }

    /** D8-DF. Memory operand tokens: Mfs m32fp, Mfd m64fp, Mft m80fp, Mw m16int, Md m32int, Mq m64int, Mbcd, Menv, Mstate, Mcw. */
    private static void x87() {
        String[] arith = {"FADD", "FMUL", "FCOM", "FCOMP", "FSUB", "FSUBR", "FDIV", "FDIVR"};
        String[] iarith = {"FIADD", "FIMUL", "FICOM", "FICOMP", "FISUB", "FISUBR", "FIDIV", "FIDIVR"};
        for (int i = 0; i < 8; i++) {
            x("d8", "/" + i + "m", arith[i] + " m32fp", "Mfs");
            x("dc", "/" + i + "m", arith[i] + " m64fp", "Mfd");
            x("da", "/" + i + "m", iarith[i] + " m32int", "Md");
            x("de", "/" + i + "m", iarith[i] + " m16int", "Mw");
            x(String.format("d8 %02x", 0xc0 + 8 * i), "", arith[i] + " ST,STi", "Zst");
        }
        String[] rev = {"FADD", "FMUL", null, null, "FSUBR", "FSUB", "FDIVR", "FDIV"};
        for (int i = 0; i < 8; i++) {
            if (rev[i] != null) {
                x(String.format("dc %02x", 0xc0 + 8 * i), "", rev[i] + " STi,ST", "Zst");
                x(String.format("de %02x", 0xc0 + 8 * i), "", rev[i] + "P STi,ST", "Zst");
            }
        }
        x("de d9", "", "FCOMPP", "");
        x("d9", "/0m", "FLD m32fp", "Mfs");
        x("d9", "/2m", "FST m32fp", "Mfs");
        x("d9", "/3m", "FSTP m32fp", "Mfs");
        x("d9", "/4m", "FLDENV", "Menv");
        x("d9", "/5m", "FLDCW", "Mcw");
        x("d9", "/7m", "FNSTCW", "Mcw");
        x("d9", "/1m", "(bad D9 /1)", "Mfs");
        x("d9 c0", "", "FLD STi", "Zst");
        x("d9 c8", "", "FXCH", "Zst");
        x("d9 d0", "", "FNOP", "");
        String[] d9 = {"e0 FCHS", "e1 FABS", "e4 FTST", "e5 FXAM", "e8 FLD1", "e9 FLDL2T", "ea FLDL2E", "eb FLDPI",
            "ec FLDLG2", "ed FLDLN2", "ee FLDZ", "f4 FXTRACT", "f5 FPREM1", "f6 FDECSTP", "f7 FINCSTP", "f8 FPREM",
            "fa FSQRT", "fc FRNDINT", "fd FSCALE"};
        for (String s : d9) {
            x("d9 " + s.substring(0, 2), "", s.substring(3), "");
        }
        x("da c0", "", "FCMOVB", "Zst");
        x("da c8", "", "FCMOVE", "Zst");
        x("da d0", "", "FCMOVBE", "Zst");
        x("da d8", "", "FCMOVU", "Zst");
        x("da e9", "", "FUCOMPP", "");
        x("db", "/0m", "FILD m32int", "Md");
        x("db", "/2m", "FIST m32int", "Md");
        x("db", "/3m", "FISTP m32int", "Md");
        x("db", "/5m", "FLD m80fp", "Mft");
        x("db", "/7m", "FSTP m80fp", "Mft");
        x("db c0", "", "FCMOVNB", "Zst");
        x("db c8", "", "FCMOVNE", "Zst");
        x("db d0", "", "FCMOVNBE", "Zst");
        x("db d8", "", "FCMOVNU", "Zst");
        x("db e2", "", "FNCLEX", "");
        x("db e3", "", "FNINIT", "");
        x("db e8", "", "FUCOMI", "Zst");
        x("db f0", "", "FCOMI", "Zst");
        x("dd", "/0m", "FLD m64fp", "Mfd");
        x("dd", "/2m", "FST m64fp", "Mfd");
        x("dd", "/3m", "FSTP m64fp", "Mfd");
        x("dd", "/4m", "FRSTOR", "Mstate");
        x("dd", "/7m", "FNSTSW m16", "Mcw");
        x("dd c0", "", "FFREE", "Zst");
        x("dd d0", "", "FST STi", "Zst");
        x("dd d8", "", "FSTP STi", "Zst");
        x("dd e0", "", "FUCOM", "Zst");
        x("dd e8", "", "FUCOMP", "Zst");
        x("df", "/0m", "FILD m16int", "Mw");
        x("df", "/2m", "FIST m16int", "Mw");
        x("df", "/3m", "FISTP m16int", "Mw");
        x("df", "/4m", "FBLD", "Mbcd");
        x("df", "/5m", "FILD m64int", "Mq");
        x("df", "/6m", "FBSTP", "Mbcd");
        x("df", "/7m", "FISTP m64int", "Mq");
        x("df e0", "", "FNSTSW AX", "");
        x("df e8", "", "FUCOMIP", "Zst");
        x("df f0", "", "FCOMIP", "Zst");
        x("9b", "", "FWAIT", "");
    }

    private OpcodeTable() {
    }
}
