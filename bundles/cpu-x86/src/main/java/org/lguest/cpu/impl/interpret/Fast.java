package org.lguest.cpu.impl.interpret;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.decode.Kind;

/**
 * The fast path: instructions pre-decoded once per code page (keyed by the
 * frame, so it works with and without paging) and executed from their
 * {@link Insn} records. Only the common forms are pre-decoded; anything else
 * (and every instruction in a 16-bit code segment, or crossing a page) is a
 * GENERIC record that runs through {@link #step()}.
 */
public abstract class Fast extends Interp {
    public Fast(PhysicalMemory mem, IoPorts io) {
        super(mem, io);
    }

    /** Executes one instruction, from its decoded record when possible. */
    public final void stepFast() {
        int a = sbase[1] + eip;
        if ((a & ~0xFFF) != fetchPage || !csD) {
            step();
            return;
        }
        Insn in = fetchCode[a & 0xFFF];
        if (in == null) {
            in = decodeAt(fetchBuf, a & 0xFFF);
            fetchCode[a & 0xFFF] = in;
        }
        if (in.kind == Kind.GENERIC) {
            step();
            return;
        }
        startEip = eip;
        startEsp = r[4];
        eip += in.len;
        exec(in);
    }

    // ---------------------------------------------------------------- state a running region reports

    /** instructions a faulting region retired before the faulting one */
    public int bpos;
    /** a compiled region is running (its fault handler has set bpos) */
    public boolean inBlock;
    /** Set by a region leaving through an indirect jump, call or return: the index of that instruction in it, else -1. */
    public int exitSite = -1;

    final int ea(Insn in) {
        int a = in.disp;
        if (in.base >= 0) a += r[in.base];
        if (in.index >= 0) a += r[in.index] << in.scale;
        return a;
    }

    /** A 32-bit ALU operation (0..7: ADD OR ADC SBB AND SUB XOR CMP) on register d and b, with its lazy flags. */
    private void aluInto(int k, int d, int b) {
        switch (k) {
            case 0: { int a = r[d]; lop = L_ADD; lsz = 32; la = a; lb = b; r[d] = lr = a + b; return; }
            case 1: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] | b; return;
            case 4: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] & b; return;
            case 5: { int a = r[d]; lop = L_SUB; lsz = 32; la = a; lb = b; r[d] = lr = a - b; return; }
            case 6: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] ^ b; return;
            case 7: { int a = r[d]; lop = L_SUB; lsz = 32; la = a; lb = b; lr = a - b; return; }
            default: r[d] = alu32(k, r[d], b);
        }
    }

    public final void exec(Insn in) {
        int sz = in.sz;
        switch (in.kind) {
            case RR: aluInto(in.op, in.rm, r[in.reg]); return;
            case RI: aluInto(in.op, in.rm, in.imm); return;
            case MOV_RR32: r[in.rm] = r[in.reg]; return;
            case LOAD32: r[in.reg] = read32(in.seg, ea(in)); return;
            case STORE32: write32(in.seg, ea(in), r[in.reg]); return;
            case SHL_RI: { int a = r[in.rm]; lop = L_SHL; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a << in.imm; return; }
            case SHR_RI: { int a = r[in.rm]; lop = L_SHR; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a >>> in.imm; return; }
            case SAR_RI: { int a = r[in.rm]; lop = L_SAR; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a >> in.imm; return; }
            case ALU_RM_R: {
                int k = in.op;
                if (!in.mem) {
                    int res = alu(k, getReg(in.rm, sz), getReg(in.reg, sz), sz);
                    if (k != 7) setReg(in.rm, sz, res);
                } else {
                    int off = ea(in);
                    int res = alu(k, k != 7 ? rmwSz(in.seg, off, sz) : readSz(in.seg, off, sz), getReg(in.reg, sz), sz);
                    if (k != 7) writeSz(in.seg, off, sz, res);
                }
                return;
            }
            case ALU_R_RM: {
                int b = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                int res = alu(in.op, getReg(in.reg, sz), b, sz);
                if (in.op != 7) setReg(in.reg, sz, res);
                return;
            }
            case ALU_RM_IMM: {
                int k = in.op;
                if (!in.mem) {
                    int res = alu(k, getReg(in.rm, sz), in.imm, sz);
                    if (k != 7) setReg(in.rm, sz, res);
                } else {
                    int off = ea(in);
                    int res = alu(k, k != 7 ? rmwSz(in.seg, off, sz) : readSz(in.seg, off, sz), in.imm, sz);
                    if (k != 7) writeSz(in.seg, off, sz, res);
                }
                return;
            }
            case TEST_RM_R:
                alu(4, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz), getReg(in.reg, sz), sz);
                return;
            case TEST_RM_IMM:
                alu(4, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz), in.imm, sz);
                return;
            case MOV_RM_R:
                if (in.mem) writeSz(in.seg, ea(in), sz, getReg(in.reg, sz));
                else setReg(in.rm, sz, getReg(in.reg, sz));
                return;
            case MOV_R_RM:
                if (sz == 4) r[in.reg] = in.mem ? read32(in.seg, ea(in)) : r[in.rm];
                else setReg(in.reg, sz, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz));
                return;
            case MOV_R_IMM:
                setReg(in.rm, sz, in.imm);
                return;
            case MOV_RM_IMM:
                if (in.mem) writeSz(in.seg, ea(in), sz, in.imm);
                else setReg(in.rm, sz, in.imm);
                return;
            case LEA:
                r[in.reg] = ea(in);
                return;
            case INC_R:
                if (sz == 4) r[in.rm] = inc(r[in.rm], 4);
                else setReg16(in.rm, inc(r[in.rm], 2));
                return;
            case DEC_R:
                if (sz == 4) r[in.rm] = dec(r[in.rm], 4);
                else setReg16(in.rm, dec(r[in.rm], 2));
                return;
            case INCDEC_RM: {
                if (!in.mem) {
                    int v = getReg(in.rm, sz);
                    setReg(in.rm, sz, in.op == 0 ? inc(v, sz) : dec(v, sz));
                } else {
                    int off = ea(in);
                    int v = rmwSz(in.seg, off, sz);
                    writeSz(in.seg, off, sz, in.op == 0 ? inc(v, sz) : dec(v, sz));
                }
                return;
            }
            case PUSH_R: push32(r[in.rm]); return;
            case POP_R: { int v = pop32(); r[in.rm] = v; return; }
            case PUSH_IMM: push32(in.imm); return;
            case PUSH_RM: push32(in.mem ? read32(in.seg, ea(in)) : r[in.rm]); return;
            case CALL_REL: push32(eip); eip += in.imm; return;
            case RET: {
                int t = read32(2, sp());
                setSp(r[4] + 4 + in.imm);
                eip = t;
                return;
            }
            case JMP_REL: eip += in.imm; return;
            case JCC: if (condFast(in.op)) eip += in.imm; return;
            case CALL_RM: {
                int t = in.mem ? read32(in.seg, ea(in)) : r[in.rm];
                push32(eip);
                eip = t;
                return;
            }
            case JMP_RM: eip = in.mem ? read32(in.seg, ea(in)) : r[in.rm]; return;
            default: exec2(in);
        }
    }

    private void exec2(Insn in) {
        int sz = in.sz;
        switch (in.kind) {
            case MOVX: {
                int v;
                switch (in.op) {
                    case 0: v = in.mem ? read8(in.seg, ea(in)) : reg8(in.rm); break;
                    case 1: v = in.mem ? read16(in.seg, ea(in)) : r[in.rm] & 0xFFFF; break;
                    case 2: v = (byte) (in.mem ? read8(in.seg, ea(in)) : reg8(in.rm)); break;
                    default: v = (short) (in.mem ? read16(in.seg, ea(in)) : r[in.rm]); break;
                }
                setReg(in.reg, sz, v);
                return;
            }
            case SHIFT: {
                int cnt = in.imm >= 0 ? in.imm : r[1] & 0xFF;
                if (!in.mem) {
                    int res = shift(in.op, getReg(in.rm, sz), cnt, sz);
                    if ((cnt & 31) != 0) setReg(in.rm, sz, res);
                } else {
                    int off = ea(in);
                    int res = shift(in.op, rmwSz(in.seg, off, sz), cnt, sz);
                    if ((cnt & 31) != 0) writeSz(in.seg, off, sz, res);
                }
                return;
            }
            case IMUL_RM: {
                int b = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                setReg(in.reg, sz, imul2(getReg(in.reg, sz), b, sz));
                return;
            }
            case IMUL_RM_IMM: {
                int a = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                setReg(in.reg, sz, imul2(a, in.imm, sz));
                return;
            }
            case GRP3: {
                int k = in.op;
                int off = in.mem ? ea(in) : 0;
                int v = !in.mem ? getReg(in.rm, sz) : k == 2 || k == 3 ? rmwSz(in.seg, off, sz) : readSz(in.seg, off, sz);
                int res;
                switch (k) {
                    case 2: res = ~v; break;
                    case 3: res = alu(5, 0, v, sz); break;
                    case 4: case 5: mul(k == 5, v, sz); return;
                    default: div(k == 7, v, sz); return;
                }
                if (in.mem) writeSz(in.seg, off, sz, res);
                else setReg(in.rm, sz, res);
                return;
            }
            case CMOV: {
                int v = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                if (condFast(in.op)) setReg(in.reg, sz, v);
                return;
            }
            case SETCC: {
                int v = condFast(in.op) ? 1 : 0;
                if (in.mem) write8(in.seg, ea(in), v);
                else setReg8(in.rm, v);
                return;
            }
            case CDQ: r[2] = r[0] >> 31; return;
            case CWDE: r[0] = (short) r[0]; return;
            case XCHG: {
                if (in.mem) {
                    int off = ea(in);
                    int a = rmwSz(in.seg, off, sz);
                    writeSz(in.seg, off, sz, getReg(in.reg, sz));
                    setReg(in.reg, sz, a);
                } else {
                    int a = getReg(in.rm, sz);
                    setReg(in.rm, sz, getReg(in.reg, sz));
                    setReg(in.reg, sz, a);
                }
                return;
            }
            case LEAVE: {
                int bp = ssB ? r[5] : r[5] & 0xFFFF;
                int v = read32(2, bp);
                setSp(bp + 4);
                r[5] = v;
                return;
            }
            case NOP: return;
            default: throw new IllegalStateException("decoded kind " + in.kind);
        }
    }

    // ---------------------------------------------------------------- decoder

    private byte[] dp;
    private int dpos;

    private int db() {
        return dpos < 0x1000 ? dp[dpos++] & 0xFF : (dpos++ & 0) ;
    }

    private int dd() {
        return db() | db() << 8 | db() << 16 | db() << 24;
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
            if (base == 5 && mod == 0) in.disp = dd();
            else {
                in.base = base;
                if (base == 4 || base == 5) def = 2;
            }
            if (idx != 4) {
                in.index = idx;
                in.scale = sib >> 6;
            }
        } else if (rm == 5 && mod == 0) {
            in.disp = dd();
        } else {
            in.base = rm;
            if (rm == 5) def = 2;
        }
        if (mod == 1) in.disp += (byte) db();
        else if (mod == 2) in.disp += dd();
        in.seg = seg >= 0 ? seg : def;
    }

    /** Decodes the instruction at offset off of page p (32-bit code segment). */
    public final Insn decodeAt(byte[] p, int off) {
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
        Insn in = new Insn();
        int sz = o16 ? 2 : 4;
        in.sz = sz;
        if (op < 0x40 && (op & 7) < 6) {
            in.op = op >> 3;
            switch (op & 7) {
                case 0: in.kind = Kind.ALU_RM_R; in.sz = 1; modrmInto(in, seg); break;
                case 1: in.kind = Kind.ALU_RM_R; modrmInto(in, seg); break;
                case 2: in.kind = Kind.ALU_R_RM; in.sz = 1; modrmInto(in, seg); break;
                case 3: in.kind = Kind.ALU_R_RM; modrmInto(in, seg); break;
                case 4: in.kind = Kind.ALU_RM_IMM; in.sz = 1; in.rm = 0; in.imm = db(); break;
                default: in.kind = Kind.ALU_RM_IMM; in.rm = 0; in.imm = o16 ? db() | db() << 8 : dd(); break;
            }
        } else if (op >= 0x40 && op < 0x60) {
            in.rm = op & 7;
            if (op < 0x48) in.kind = Kind.INC_R;
            else if (op < 0x50) in.kind = Kind.DEC_R;
            else if (o16) return Insn.GENERIC;
            else in.kind = op < 0x58 ? Kind.PUSH_R : Kind.POP_R;
        } else if (op >= 0x70 && op < 0x80) {
            in.kind = Kind.JCC;
            in.op = op & 15;
            in.imm = (byte) db();
            if (o16) return Insn.GENERIC;
        } else if (op >= 0xB0 && op < 0xC0) {
            in.kind = Kind.MOV_R_IMM;
            in.rm = op & 7;
            if (op < 0xB8) {
                in.sz = 1;
                in.imm = db();
            } else in.imm = o16 ? db() | db() << 8 : dd();
        } else {
            if (!decodeRest(in, op, seg, o16)) return Insn.GENERIC;
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

    private boolean decodeRest(Insn in, int op, int seg, boolean o16) {
        int sz = in.sz;
        switch (op) {
            case 0x0F: return decode0F(in, db(), seg, o16);
            case 0x68: if (o16) return false; in.kind = Kind.PUSH_IMM; in.imm = dd(); return true;
            case 0x6A: if (o16) return false; in.kind = Kind.PUSH_IMM; in.imm = (byte) db(); return true;
            case 0x69: in.kind = Kind.IMUL_RM_IMM; modrmInto(in, seg); in.imm = o16 ? (short) (db() | db() << 8) : dd(); return true;
            case 0x6B: in.kind = Kind.IMUL_RM_IMM; modrmInto(in, seg); in.imm = (byte) db(); return true;
            case 0x80: case 0x81: case 0x83:
                in.kind = Kind.ALU_RM_IMM;
                modrmInto(in, seg);
                in.op = in.reg;
                if (op == 0x80) { in.sz = 1; in.imm = db(); }
                else if (op == 0x81) in.imm = o16 ? db() | db() << 8 : dd();
                else in.imm = (byte) db() & (o16 ? 0xFFFF : -1);
                return true;
            case 0x84: in.sz = 1; in.kind = Kind.TEST_RM_R; modrmInto(in, seg); return true;
            case 0x85: in.kind = Kind.TEST_RM_R; modrmInto(in, seg); return true;
            case 0x86: in.sz = 1; in.kind = Kind.XCHG; modrmInto(in, seg); return true;
            case 0x87: in.kind = Kind.XCHG; modrmInto(in, seg); return true;
            case 0x88: in.sz = 1; in.kind = Kind.MOV_RM_R; modrmInto(in, seg); return true;
            case 0x89: in.kind = Kind.MOV_RM_R; modrmInto(in, seg); return true;
            case 0x8A: in.sz = 1; in.kind = Kind.MOV_R_RM; modrmInto(in, seg); return true;
            case 0x8B: in.kind = Kind.MOV_R_RM; modrmInto(in, seg); return true;
            case 0x8D:
                if (o16) return false;
                in.kind = Kind.LEA;
                modrmInto(in, seg);
                return in.mem;
            case 0x90: in.kind = Kind.NOP; return true;
            case 0x98: if (o16) return false; in.kind = Kind.CWDE; return true;
            case 0x99: if (o16) return false; in.kind = Kind.CDQ; return true;
            case 0xA8: in.sz = 1; in.kind = Kind.TEST_RM_IMM; in.rm = 0; in.imm = db(); return true;
            case 0xA9: in.kind = Kind.TEST_RM_IMM; in.rm = 0; in.imm = o16 ? db() | db() << 8 : dd(); return true;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
                in.kind = Kind.SHIFT;
                if ((op & 1) == 0) in.sz = 1;
                modrmInto(in, seg);
                in.op = in.reg;
                in.imm = op < 0xD0 ? db() : op < 0xD2 ? 1 : -1;
                return true;
            case 0xC2: if (o16) return false; in.kind = Kind.RET; in.imm = db() | db() << 8; return true;
            case 0xC3: if (o16) return false; in.kind = Kind.RET; in.imm = 0; return true;
            case 0xC6: case 0xC7:
                in.kind = Kind.MOV_RM_IMM;
                if (op == 0xC6) in.sz = 1;
                modrmInto(in, seg);
                if (in.reg != 0) return false;
                in.imm = in.sz == 1 ? db() : in.sz == 2 ? db() | db() << 8 : dd();
                return true;
            case 0xC9: if (o16) return false; in.kind = Kind.LEAVE; return true;
            case 0xE8: if (o16) return false; in.kind = Kind.CALL_REL; in.imm = dd(); return true;
            case 0xE9: if (o16) return false; in.kind = Kind.JMP_REL; in.imm = dd(); return true;
            case 0xEB: if (o16) return false; in.kind = Kind.JMP_REL; in.imm = (byte) db(); return true;
            case 0xF6: case 0xF7:
                if (op == 0xF6) in.sz = 1;
                modrmInto(in, seg);
                if (in.reg < 2) {
                    in.kind = Kind.TEST_RM_IMM;
                    in.imm = in.sz == 1 ? db() : in.sz == 2 ? db() | db() << 8 : dd();
                } else {
                    in.kind = Kind.GRP3;
                    in.op = in.reg;
                }
                return true;
            case 0xFE: case 0xFF:
                if (op == 0xFE) in.sz = 1;
                modrmInto(in, seg);
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

    private boolean decode0F(Insn in, int op, int seg, boolean o16) {
        if (op >= 0x80 && op < 0x90) {
            if (o16) return false;
            in.kind = Kind.JCC;
            in.op = op & 15;
            in.imm = dd();
            return true;
        }
        if (op >= 0x40 && op < 0x50) {
            in.kind = Kind.CMOV;
            in.op = op & 15;
            modrmInto(in, seg);
            return true;
        }
        if (op >= 0x90 && op < 0xA0) {
            in.kind = Kind.SETCC;
            in.op = op & 15;
            modrmInto(in, seg);
            return true;
        }
        switch (op) {
            case 0xAF: in.kind = Kind.IMUL_RM; modrmInto(in, seg); return true;
            case 0xB6: in.kind = Kind.MOVX; in.op = 0; modrmInto(in, seg); return true;
            case 0xB7: in.kind = Kind.MOVX; in.op = 1; modrmInto(in, seg); return true;
            case 0xBE: in.kind = Kind.MOVX; in.op = 2; modrmInto(in, seg); return true;
            case 0xBF: in.kind = Kind.MOVX; in.op = 3; modrmInto(in, seg); return true;
            default: return false;
        }
    }
}
