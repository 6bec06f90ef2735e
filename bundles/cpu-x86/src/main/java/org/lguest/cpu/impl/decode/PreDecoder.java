package org.lguest.cpu.impl.decode;

/**
 * The pre-decoder: turns the bytes of an instruction in a 32-bit code
 * segment into an {@link Insn} record once, so that the fast path and the
 * region compiler never decode it again. It knows the common forms (the
 * {@link Kind}s); anything else, 16-bit forms of the stack and branch
 * instructions, and an instruction running past the end of its page come out
 * as {@link Insn#GENERIC}, which the interpreter runs.
 *
 * <p>Which bytes an instruction has comes from the opcode table
 * ({@link Opcodes}): after the prefixes and the opcode, the ModRM byte (with
 * its SIB byte and displacement) when the table says there is one, then the
 * immediate in the table's form, read as one little-endian value. The forms
 * below only say what the instruction is and which operand the value is
 * (and whether it is sign-extended), so a record's length is always the
 * table's.
 *
 * <p>One pre-decoder per processor: it holds the page it is reading.
 */
public final class PreDecoder {
    private byte[] dp;
    private int dpos;

    private int db() {
        return dpos < 0x1000 ? dp[dpos++] & 0xFF : (dpos++ & 0) ;
    }

    private void modrmInto(Insn in, int seg) {
        int m = db();
        in.reg = (m >> 3) & 7;
        if (m >= 0xC0) {
            in.rm = m & 7;
            return;
        }
        in.mem = true;
        int mod = m >> 6, rm = m & 7;
        int def = 3;
        if (rm == 4) {
            int sib = db();
            int base = sib & 7, idx = (sib >> 3) & 7;
            if (base == 5 && mod == 0) in.disp = dword();
            else {
                in.base = base;
                if (base == 4 || base == 5) def = 2;
            }
            if (idx != 4) {
                in.index = idx;
                in.scale = sib >> 6;
            }
        } else if (rm == 5 && mod == 0) {
            in.disp = dword();
        } else {
            in.base = rm;
            if (rm == 5) def = 2;
        }
        if (mod == 1) in.disp += (byte) db();
        else if (mod == 2) in.disp += dword();
        in.seg = seg >= 0 ? seg : def;
    }

    private int dword() {
        return db() | db() << 8 | db() << 16 | db() << 24;
    }

    /** The immediate in the opcode's form, little-endian and not sign-extended (its first four bytes). */
    private int immediate(int entry, boolean o16, int reg) {
        int n = Opcodes.immediateBytes(entry, !o16, true, reg);
        int v = 0;
        for (int i = 0; i < n; i++) {
            int b = db();
            if (i < 4) v |= b << (8 * i);
        }
        return v;
    }

    /** Decodes the instruction at offset off of page p (32-bit code segment). */
    public Insn decodeAt(byte[] p, int off) {
        dp = p;
        dpos = off;
        int seg = -1;
        boolean o16 = false;
        int op;
        for (int n = 0;; n++) {
            if (n > 4) return Insn.GENERIC;
            op = db();
            switch (op) {
                case 0x26: seg = 0; continue;
                case 0x2E: seg = 1; continue;
                case 0x36: seg = 2; continue;
                case 0x3E: seg = 3; continue;
                case 0x64: seg = 4; continue;
                case 0x65: seg = 5; continue;
                case 0x66: o16 = true; continue;
                default: break;
            }
            break;
        }
        int entry = Opcodes.oneByte(op), op2 = -1;
        if (op == 0x0F) {
            op2 = db();
            entry = Opcodes.twoByte(op2);
        }
        // 67 and the LOCK and REP prefixes are not opcodes; MOV CRn/DRn are not forms of this decoder
        if (!Opcodes.defined(entry) || Opcodes.modIgnored(entry)) return Insn.GENERIC;
        Insn in = new Insn();
        in.sz = o16 ? 2 : 4;
        if (Opcodes.hasModrm(entry)) modrmInto(in, seg);
        int imm = immediate(entry, o16, in.reg);
        if (op < 0x40 && (op & 7) < 6) {
            in.op = op >> 3;
            switch (op & 7) {
                case 0: in.kind = Kind.ALU_RM_R; in.sz = 1; break;
                case 1: in.kind = Kind.ALU_RM_R; break;
                case 2: in.kind = Kind.ALU_R_RM; in.sz = 1; break;
                case 3: in.kind = Kind.ALU_R_RM; break;
                case 4: in.kind = Kind.ALU_RM_IMM; in.sz = 1; in.rm = 0; in.imm = imm; break;
                default: in.kind = Kind.ALU_RM_IMM; in.rm = 0; in.imm = imm; break;
            }
        } else if (op >= 0x40 && op < 0x60) {
            in.rm = op & 7;
            if (op < 0x48) in.kind = Kind.INC_R;
            else if (op < 0x50) in.kind = Kind.DEC_R;
            else if (o16) return Insn.GENERIC;
            else in.kind = op < 0x58 ? Kind.PUSH_R : Kind.POP_R;
        } else if (op >= 0x70 && op < 0x80) {
            if (o16) return Insn.GENERIC;
            in.kind = Kind.JCC;
            in.op = op & 15;
            in.imm = (byte) imm;
        } else if (op >= 0xB0 && op < 0xC0) {
            in.kind = Kind.MOV_R_IMM;
            in.rm = op & 7;
            if (op < 0xB8) in.sz = 1;
            in.imm = imm;
        } else {
            if (!decodeRest(in, op, op2, o16, imm)) return Insn.GENERIC;
        }
        in.len = dpos - off;
        if (dpos > 0x1000) return Insn.GENERIC;
        dp = null;
        specialize(in);
        return in;
    }

    private static void specialize(Insn in) {
        if (in.sz != 4) return;
        switch (in.kind) {
            case ALU_RM_R: if (!in.mem) in.kind = Kind.RR; break;
            case ALU_RM_IMM: if (!in.mem) in.kind = Kind.RI; break;
            case ALU_R_RM:
                if (!in.mem) { // op r32, r/m32 with a register source: same as the RM_R form with operands swapped
                    int t = in.rm; in.rm = in.reg; in.reg = t; in.kind = Kind.RR;
                }
                break;
            case MOV_RM_R: in.kind = in.mem ? Kind.STORE32 : Kind.MOV_RR32; break;
            case MOV_R_RM:
                if (in.mem) in.kind = Kind.LOAD32;
                else { int t = in.rm; in.rm = in.reg; in.reg = t; in.kind = Kind.MOV_RR32; }
                break;
            case SHIFT:
                if (!in.mem && in.imm > 0 && (in.imm & 31) != 0 && (in.op == 4 || in.op == 5 || in.op == 6 || in.op == 7)) {
                    in.imm &= 31;
                    in.kind = in.op == 5 ? Kind.SHR_RI : in.op == 7 ? Kind.SAR_RI : Kind.SHL_RI;
                }
                break;
            default: break;
        }
    }

    /** The other one-byte forms; the ModRM byte and the immediate ({@code imm}, as read) are already in. */
    private static boolean decodeRest(Insn in, int op, int op2, boolean o16, int imm) {
        switch (op) {
            case 0x0F: return decode0F(in, op2, o16, imm);
            case 0x68: if (o16) return false; in.kind = Kind.PUSH_IMM; in.imm = imm; return true;
            case 0x6A: if (o16) return false; in.kind = Kind.PUSH_IMM; in.imm = (byte) imm; return true;
            case 0x69: in.kind = Kind.IMUL_RM_IMM; in.imm = o16 ? (short) imm : imm; return true;
            case 0x6B: in.kind = Kind.IMUL_RM_IMM; in.imm = (byte) imm; return true;
            case 0x80: case 0x81: case 0x83:
                in.kind = Kind.ALU_RM_IMM;
                in.op = in.reg;
                if (op == 0x80) { in.sz = 1; in.imm = imm; }
                else if (op == 0x81) in.imm = imm;
                else in.imm = (byte) imm & (o16 ? 0xFFFF : -1);
                return true;
            case 0x84: in.sz = 1; in.kind = Kind.TEST_RM_R; return true;
            case 0x85: in.kind = Kind.TEST_RM_R; return true;
            case 0x86: in.sz = 1; in.kind = Kind.XCHG; return true;
            case 0x87: in.kind = Kind.XCHG; return true;
            case 0x88: in.sz = 1; in.kind = Kind.MOV_RM_R; return true;
            case 0x89: in.kind = Kind.MOV_RM_R; return true;
            case 0x8A: in.sz = 1; in.kind = Kind.MOV_R_RM; return true;
            case 0x8B: in.kind = Kind.MOV_R_RM; return true;
            case 0x8D:
                if (o16) return false;
                in.kind = Kind.LEA;
                return in.mem;
            case 0x90: in.kind = Kind.NOP; return true;
            case 0x98: if (o16) return false; in.kind = Kind.CWDE; return true;
            case 0x99: if (o16) return false; in.kind = Kind.CDQ; return true;
            case 0xA8: in.sz = 1; in.kind = Kind.TEST_RM_IMM; in.rm = 0; in.imm = imm; return true;
            case 0xA9: in.kind = Kind.TEST_RM_IMM; in.rm = 0; in.imm = imm; return true;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
                in.kind = Kind.SHIFT;
                if ((op & 1) == 0) in.sz = 1;
                in.op = in.reg;
                in.imm = op < 0xD0 ? imm : op < 0xD2 ? 1 : -1;
                return true;
            case 0xC2: if (o16) return false; in.kind = Kind.RET; in.imm = imm; return true;
            case 0xC3: if (o16) return false; in.kind = Kind.RET; in.imm = 0; return true;
            case 0xC6: case 0xC7:
                in.kind = Kind.MOV_RM_IMM;
                if (op == 0xC6) in.sz = 1;
                if (in.reg != 0) return false;
                in.imm = imm;
                return true;
            case 0xC9: if (o16) return false; in.kind = Kind.LEAVE; return true;
            case 0xE8: if (o16) return false; in.kind = Kind.CALL_REL; in.imm = imm; return true;
            case 0xE9: if (o16) return false; in.kind = Kind.JMP_REL; in.imm = imm; return true;
            case 0xEB: if (o16) return false; in.kind = Kind.JMP_REL; in.imm = (byte) imm; return true;
            case 0xF6: case 0xF7:
                if (op == 0xF6) in.sz = 1;
                if (in.reg < 2) {
                    in.kind = Kind.TEST_RM_IMM;
                    in.imm = imm;
                } else {
                    in.kind = Kind.GRP3;
                    in.op = in.reg;
                }
                return true;
            case 0xFE: case 0xFF:
                if (op == 0xFE) in.sz = 1;
                switch (in.reg) {
                    case 0: case 1: in.kind = Kind.INCDEC_RM; in.op = in.reg; return true;
                    case 2: if (o16 || op == 0xFE) return false; in.kind = Kind.CALL_RM; return true;
                    case 4: if (o16 || op == 0xFE) return false; in.kind = Kind.JMP_RM; return true;
                    case 6: if (o16 || op == 0xFE) return false; in.kind = Kind.PUSH_RM; return true;
                    default: return false;
                }
            default:
                return false;
        }
    }

    private static boolean decode0F(Insn in, int op, boolean o16, int imm) {
        if (op >= 0x80 && op < 0x90) {
            if (o16) return false;
            in.kind = Kind.JCC;
            in.op = op & 15;
            in.imm = imm;
            return true;
        }
        if (op >= 0x40 && op < 0x50) {
            in.kind = Kind.CMOV;
            in.op = op & 15;
            return true;
        }
        if (op >= 0x90 && op < 0xA0) {
            in.kind = Kind.SETCC;
            in.op = op & 15;
            return true;
        }
        switch (op) {
            case 0xAF: in.kind = Kind.IMUL_RM; return true;
            case 0xB6: in.kind = Kind.MOVX; in.op = 0; return true;
            case 0xB7: in.kind = Kind.MOVX; in.op = 1; return true;
            case 0xBE: in.kind = Kind.MOVX; in.op = 2; return true;
            case 0xBF: in.kind = Kind.MOVX; in.op = 3; return true;
            default: return false;
        }
    }
}
