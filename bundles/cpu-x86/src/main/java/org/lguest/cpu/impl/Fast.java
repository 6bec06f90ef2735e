package org.lguest.cpu.impl;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;

/**
 * The fast path: instructions pre-decoded once per code page (keyed by the
 * frame, so it works with and without paging) and executed from their
 * {@link Insn} records. Only the common forms are pre-decoded; anything else
 * (and every instruction in a 16-bit code segment, or crossing a page) is a
 * GENERIC record that runs through {@link #step()}.
 */
abstract class Fast extends Interp {
    static final int K_GENERIC = 0, K_ALU_RM_R = 1, K_ALU_R_RM = 2, K_ALU_RM_IMM = 3, K_TEST_RM_R = 4, K_TEST_RM_IMM = 5,
            K_MOV_RM_R = 6, K_MOV_R_RM = 7, K_MOV_R_IMM = 8, K_MOV_RM_IMM = 9, K_LEA = 10, K_INC_R = 11, K_DEC_R = 12,
            K_INCDEC_RM = 13, K_PUSH_R = 14, K_POP_R = 15, K_PUSH_IMM = 16, K_PUSH_RM = 17, K_CALL_REL = 18, K_RET = 19,
            K_JMP_REL = 20, K_JCC = 21, K_CALL_RM = 22, K_JMP_RM = 23, K_MOVX = 24, K_SHIFT = 25, K_IMUL_RM = 26,
            K_IMUL_RM_IMM = 27, K_GRP3 = 28, K_CMOV = 29, K_SETCC = 30, K_CDQ = 31, K_CWDE = 32, K_XCHG = 33, K_LEAVE = 34,
            K_NOP = 35;
    /** specialised 32-bit register forms: reg-reg and reg-imm ALU (base + ALU op), moves, shifts by immediate */
    static final int K_RR = 40, K_RI = 48, K_MOV_RR32 = 56, K_LOAD32 = 57, K_STORE32 = 58, K_SHL_RI = 59, K_SHR_RI = 60,
            K_SAR_RI = 61;

    Fast(PhysicalMemory mem, IoPorts io) {
        super(mem, io);
    }

    /** Executes one instruction, from its decoded record when possible. */
    final void stepFast() {
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
        if (in.kind == K_GENERIC) {
            step();
            return;
        }
        startEip = eip;
        startEsp = r[4];
        eip += in.len;
        exec(in);
    }

    // ---------------------------------------------------------------- handlers for compiled blocks

    /** index in the running block of the instruction that may fault next (instructions before it retired) */
    int bpos;
    /** Set by a region leaving through an indirect jump, call or return: the index of that instruction in it, else -1. */
    int exitSite = -1;
    boolean inBlock;

    final void hRR(int k, int d, int s) {
        switch (k) {
            case 0: { int a = r[d], b = r[s]; lop = L_ADD; lsz = 32; la = a; lb = b; r[d] = lr = a + b; return; }
            case 1: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] | r[s]; return;
            case 4: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] & r[s]; return;
            case 5: { int a = r[d], b = r[s]; lop = L_SUB; lsz = 32; la = a; lb = b; r[d] = lr = a - b; return; }
            case 6: lop = L_LOGIC; lsz = 32; r[d] = lr = r[d] ^ r[s]; return;
            case 7: { int a = r[d], b = r[s]; lop = L_SUB; lsz = 32; la = a; lb = b; lr = a - b; return; }
            default: r[d] = alu32(k, r[d], r[s]);
        }
    }

    final void hRI(int k, int d, int b) {
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

    /** reg-reg ALU whose flags are dead (overwritten before anything can read them): the result only */
    final void hRRnf(int k, int d, int s) {
        switch (k) {
            case 0: r[d] += r[s]; return;
            case 1: r[d] |= r[s]; return;
            case 4: r[d] &= r[s]; return;
            case 5: r[d] -= r[s]; return;
            case 6: r[d] ^= r[s]; return;
            case 7: return;
            default: r[d] = alu32(k, r[d], r[s]);
        }
    }

    final void hRInf(int k, int d, int b) {
        switch (k) {
            case 0: r[d] += b; return;
            case 1: r[d] |= b; return;
            case 4: r[d] &= b; return;
            case 5: r[d] -= b; return;
            case 6: r[d] ^= b; return;
            case 7: return;
            default: r[d] = alu32(k, r[d], b);
        }
    }

    final void hShiftRInf(int k, int d, int c) {
        if (k == K_SHL_RI) r[d] <<= c;
        else if (k == K_SHR_RI) r[d] >>>= c;
        else r[d] >>= c;
    }

    final void hMovRR(int d, int s) {
        r[d] = r[s];
    }

    final void hMovRI(int d, int v) {
        r[d] = v;
    }

    final void hJcc(int cc, int disp) {
        boolean t;
        switch (cc) {
            case 2: t = cB(); break;
            case 3: t = !cB(); break;
            case 4: t = cZ(); break;
            case 5: t = !cZ(); break;
            case 6: t = cBE(); break;
            case 7: t = !cBE(); break;
            case 8: t = cS(); break;
            case 9: t = !cS(); break;
            case 0xC: t = cL(); break;
            case 0xD: t = !cL(); break;
            case 0xE: t = cLE(); break;
            case 0xF: t = !cLE(); break;
            default: t = cond(cc); break;
        }
        if (t) eip += disp;
    }

    /** Jcc for a compiled loop's back edge: jumps and reports whether it did. */
    final boolean hJccT(int cc, int disp) {
        int e = eip;
        hJcc(cc, disp);
        return eip != e || disp == 0;
    }

    final boolean cZ() {
        return lop == L_EAGER ? (flags & ZF) != 0 : lr == 0;
    }

    final boolean cS() {
        return lop == L_EAGER ? (flags & SF) != 0 : (lr & signBit()) != 0;
    }

    final boolean cB() {
        return lop == L_SUB && lsz == 32 ? Integer.compareUnsigned(la, lb) < 0 : getCF() != 0;
    }

    final boolean cBE() {
        return lop == L_SUB && lsz == 32 ? Integer.compareUnsigned(la, lb) <= 0 : cond(6);
    }

    final boolean cL() {
        if (lsz == 32) {
            if (lop == L_SUB) return la < lb;
            if (lop == L_LOGIC) return lr < 0;
        }
        return cond(0xC);
    }

    final boolean cLE() {
        if (lsz == 32) {
            if (lop == L_SUB) return la <= lb;
            if (lop == L_LOGIC) return lr <= 0;
        }
        return cond(0xE);
    }

    final void hJmp(int disp) {
        eip += disp;
    }

    final void hCall(int disp) {
        push32(eip);
        eip += disp;
    }

    final void hRet(int imm) {
        int t = read32(2, sp());
        setSp(r[4] + 4 + imm);
        eip = t;
    }

    final void hPush(int n) {
        push32(r[n]);
    }

    final void hPop(int n) {
        int v = pop32();
        r[n] = v;
    }

    final void hInc(int n) {
        r[n] = inc(r[n], 4);
    }

    final void hDec(int n) {
        r[n] = dec(r[n], 4);
    }

    final void hShiftRI(int k, int d, int c) {
        int a = r[d];
        lsz = 32;
        la = a;
        lb = c;
        if (k == K_SHL_RI) { lop = L_SHL; r[d] = lr = a << c; }
        else if (k == K_SHR_RI) { lop = L_SHR; r[d] = lr = a >>> c; }
        else { lop = L_SAR; r[d] = lr = a >> c; }
    }

    // constant-operand forms for memory operands: (seg, base, index, scale, disp) fold after inlining

    final int eaC(int base, int index, int scale, int disp) {
        int a = disp;
        if (base >= 0) a += r[base];
        if (index >= 0) a += r[index] << scale;
        return a;
    }

    final void hLoad32C(int reg, int seg, int base, int index, int scale, int disp) {
        r[reg] = read32(seg, eaC(base, index, scale, disp));
    }

    final void hStore32C(int reg, int seg, int base, int index, int scale, int disp) {
        write32(seg, eaC(base, index, scale, disp), r[reg]);
    }

    final void hLeaC(int reg, int base, int index, int scale, int disp) {
        r[reg] = eaC(base, index, scale, disp);
    }

    /** mem op= reg */
    final void hAluMR(int k, int sz, int reg, int seg, int base, int index, int scale, int disp) {
        int off = eaC(base, index, scale, disp);
        int res = alu(k, k != 7 ? rmwSz(seg, off, sz) : readSz(seg, off, sz), getReg(reg, sz), sz);
        if (k != 7) writeSz(seg, off, sz, res);
    }

    /** reg op= mem */
    final void hAluRM(int k, int sz, int reg, int seg, int base, int index, int scale, int disp) {
        int res = alu(k, getReg(reg, sz), readSz(seg, eaC(base, index, scale, disp), sz), sz);
        if (k != 7) setReg(reg, sz, res);
    }

    /** mem op= imm */
    final void hAluMI(int k, int sz, int imm, int seg, int base, int index, int scale, int disp) {
        int off = eaC(base, index, scale, disp);
        int res = alu(k, k != 7 ? rmwSz(seg, off, sz) : readSz(seg, off, sz), imm, sz);
        if (k != 7) writeSz(seg, off, sz, res);
    }

    final void hMovMI(int sz, int imm, int seg, int base, int index, int scale, int disp) {
        writeSz(seg, eaC(base, index, scale, disp), sz, imm);
    }

    final void hMovMR(int sz, int reg, int seg, int base, int index, int scale, int disp) {
        writeSz(seg, eaC(base, index, scale, disp), sz, getReg(reg, sz));
    }

    final void hMovRM(int sz, int reg, int seg, int base, int index, int scale, int disp) {
        setReg(reg, sz, readSz(seg, eaC(base, index, scale, disp), sz));
    }

    final void hMovxM(int op, int sz, int reg, int seg, int base, int index, int scale, int disp) {
        int off = eaC(base, index, scale, disp);
        int v;
        switch (op) {
            case 0: v = read8(seg, off); break;
            case 1: v = read16(seg, off); break;
            case 2: v = (byte) read8(seg, off); break;
            default: v = (short) read16(seg, off); break;
        }
        setReg(reg, sz, v);
    }

    final void hMovxR(int op, int sz, int reg, int rm) {
        int v;
        switch (op) {
            case 0: v = reg8(rm); break;
            case 1: v = r[rm] & 0xFFFF; break;
            case 2: v = (byte) reg8(rm); break;
            default: v = (short) r[rm]; break;
        }
        setReg(reg, sz, v);
    }

    final void hTestRI(int sz, int rm, int imm) {
        alu(4, getReg(rm, sz), imm, sz);
    }

    final void hTestRR(int sz, int rm, int reg) {
        alu(4, getReg(rm, sz), getReg(reg, sz), sz);
    }

    final void hShiftR(int k, int sz, int rm, int cnt) {
        if (cnt < 0) cnt = r[1] & 0xFF;
        int res = shift(k, getReg(rm, sz), cnt, sz);
        if ((cnt & 31) != 0) setReg(rm, sz, res);
    }

    final void hImulRI(int sz, int reg, int rm, int imm) {
        setReg(reg, sz, imul2(getReg(rm, sz), imm, sz));
    }

    final void hJmpM(int seg, int base, int index, int scale, int disp) {
        eip = read32(seg, eaC(base, index, scale, disp));
    }

    final void hCallM(int seg, int base, int index, int scale, int disp) {
        int t = read32(seg, eaC(base, index, scale, disp));
        push32(eip);
        eip = t;
    }

    final void hJmpR(int rm) {
        eip = r[rm];
    }

    final void hCallR(int rm) {
        int t = r[rm];
        push32(eip);
        eip = t;
    }

    final void hPushI(int v) {
        push32(v);
    }

    final void hImulRR(int sz, int reg, int rm) {
        setReg(reg, sz, imul2(getReg(reg, sz), getReg(rm, sz), sz));
    }

    final void hCmovRR(int cc, int sz, int reg, int rm) {
        if (condFast(cc)) setReg(reg, sz, getReg(rm, sz));
    }

    final void hSetccR(int cc, int rm) {
        setReg8(rm, condFast(cc) ? 1 : 0);
    }

    final void hGrp3R(int k, int sz, int rm) {
        int v = getReg(rm, sz);
        switch (k) {
            case 2: setReg(rm, sz, ~v); return;
            case 3: setReg(rm, sz, alu(5, 0, v, sz)); return;
            case 4: case 5: mul(k == 5, v, sz); return;
            default: div(k == 7, v, sz);
        }
    }

    final void hLoad32(Insn in) {
        r[in.reg] = read32(in.seg, ea(in));
    }

    final void hStore32(Insn in) {
        write32(in.seg, ea(in), r[in.reg]);
    }

    final void hLea(Insn in) {
        r[in.reg] = ea(in);
    }

    final int ea(Insn in) {
        int a = in.disp;
        if (in.base >= 0) a += r[in.base];
        if (in.index >= 0) a += r[in.index] << in.scale;
        return a;
    }

    final void exec(Insn in) {
        int sz = in.sz;
        switch (in.kind) {
            case K_RR: { int a = r[in.rm], b = r[in.reg]; lop = L_ADD; lsz = 32; la = a; lb = b; r[in.rm] = lr = a + b; return; }
            case K_RR + 1: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] | r[in.reg]; return; }
            case K_RR + 2: case K_RR + 3: r[in.rm] = alu32(in.kind - K_RR, r[in.rm], r[in.reg]); return;
            case K_RR + 4: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] & r[in.reg]; return; }
            case K_RR + 5: { int a = r[in.rm], b = r[in.reg]; lop = L_SUB; lsz = 32; la = a; lb = b; r[in.rm] = lr = a - b; return; }
            case K_RR + 6: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] ^ r[in.reg]; return; }
            case K_RR + 7: { int a = r[in.rm], b = r[in.reg]; lop = L_SUB; lsz = 32; la = a; lb = b; lr = a - b; return; }
            case K_RI: { int a = r[in.rm], b = in.imm; lop = L_ADD; lsz = 32; la = a; lb = b; r[in.rm] = lr = a + b; return; }
            case K_RI + 1: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] | in.imm; return; }
            case K_RI + 2: case K_RI + 3: r[in.rm] = alu32(in.kind - K_RI, r[in.rm], in.imm); return;
            case K_RI + 4: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] & in.imm; return; }
            case K_RI + 5: { int a = r[in.rm], b = in.imm; lop = L_SUB; lsz = 32; la = a; lb = b; r[in.rm] = lr = a - b; return; }
            case K_RI + 6: { lop = L_LOGIC; lsz = 32; r[in.rm] = lr = r[in.rm] ^ in.imm; return; }
            case K_RI + 7: { int a = r[in.rm], b = in.imm; lop = L_SUB; lsz = 32; la = a; lb = b; lr = a - b; return; }
            case K_MOV_RR32: r[in.rm] = r[in.reg]; return;
            case K_LOAD32: r[in.reg] = read32(in.seg, ea(in)); return;
            case K_STORE32: write32(in.seg, ea(in), r[in.reg]); return;
            case K_SHL_RI: { int a = r[in.rm]; lop = L_SHL; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a << in.imm; return; }
            case K_SHR_RI: { int a = r[in.rm]; lop = L_SHR; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a >>> in.imm; return; }
            case K_SAR_RI: { int a = r[in.rm]; lop = L_SAR; lsz = 32; la = a; lb = in.imm; r[in.rm] = lr = a >> in.imm; return; }
            case K_ALU_RM_R: {
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
            case K_ALU_R_RM: {
                int b = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                int res = alu(in.op, getReg(in.reg, sz), b, sz);
                if (in.op != 7) setReg(in.reg, sz, res);
                return;
            }
            case K_ALU_RM_IMM: {
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
            case K_TEST_RM_R:
                alu(4, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz), getReg(in.reg, sz), sz);
                return;
            case K_TEST_RM_IMM:
                alu(4, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz), in.imm, sz);
                return;
            case K_MOV_RM_R:
                if (in.mem) writeSz(in.seg, ea(in), sz, getReg(in.reg, sz));
                else setReg(in.rm, sz, getReg(in.reg, sz));
                return;
            case K_MOV_R_RM:
                if (sz == 4) r[in.reg] = in.mem ? read32(in.seg, ea(in)) : r[in.rm];
                else setReg(in.reg, sz, in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz));
                return;
            case K_MOV_R_IMM:
                setReg(in.rm, sz, in.imm);
                return;
            case K_MOV_RM_IMM:
                if (in.mem) writeSz(in.seg, ea(in), sz, in.imm);
                else setReg(in.rm, sz, in.imm);
                return;
            case K_LEA:
                r[in.reg] = ea(in);
                return;
            case K_INC_R:
                if (sz == 4) r[in.rm] = inc(r[in.rm], 4);
                else setReg16(in.rm, inc(r[in.rm], 2));
                return;
            case K_DEC_R:
                if (sz == 4) r[in.rm] = dec(r[in.rm], 4);
                else setReg16(in.rm, dec(r[in.rm], 2));
                return;
            case K_INCDEC_RM: {
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
            case K_PUSH_R: push32(r[in.rm]); return;
            case K_POP_R: { int v = pop32(); r[in.rm] = v; return; }
            case K_PUSH_IMM: push32(in.imm); return;
            case K_PUSH_RM: push32(in.mem ? read32(in.seg, ea(in)) : r[in.rm]); return;
            case K_CALL_REL: push32(eip); eip += in.imm; return;
            case K_RET: {
                int t = read32(2, sp());
                setSp(r[4] + 4 + in.imm);
                eip = t;
                return;
            }
            case K_JMP_REL: eip += in.imm; return;
            case K_JCC: if (condFast(in.op)) eip += in.imm; return;
            case K_CALL_RM: {
                int t = in.mem ? read32(in.seg, ea(in)) : r[in.rm];
                push32(eip);
                eip = t;
                return;
            }
            case K_JMP_RM: eip = in.mem ? read32(in.seg, ea(in)) : r[in.rm]; return;
            default: exec2(in);
        }
    }

    private void exec2(Insn in) {
        int sz = in.sz;
        switch (in.kind) {
            case K_MOVX: {
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
            case K_SHIFT: {
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
            case K_IMUL_RM: {
                int b = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                setReg(in.reg, sz, imul2(getReg(in.reg, sz), b, sz));
                return;
            }
            case K_IMUL_RM_IMM: {
                int a = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                setReg(in.reg, sz, imul2(a, in.imm, sz));
                return;
            }
            case K_GRP3: {
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
            case K_CMOV: {
                int v = in.mem ? readSz(in.seg, ea(in), sz) : getReg(in.rm, sz);
                if (condFast(in.op)) setReg(in.reg, sz, v);
                return;
            }
            case K_SETCC: {
                int v = condFast(in.op) ? 1 : 0;
                if (in.mem) write8(in.seg, ea(in), v);
                else setReg8(in.rm, v);
                return;
            }
            case K_CDQ: r[2] = r[0] >> 31; return;
            case K_CWDE: r[0] = (short) r[0]; return;
            case K_XCHG: {
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
            case K_LEAVE: {
                int bp = ssB ? r[5] : r[5] & 0xFFFF;
                int v = read32(2, bp);
                setSp(bp + 4);
                r[5] = v;
                return;
            }
            case K_NOP: return;
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
    final Insn decodeAt(byte[] p, int off) {
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
                case 0: in.kind = K_ALU_RM_R; in.sz = 1; modrmInto(in, seg); break;
                case 1: in.kind = K_ALU_RM_R; modrmInto(in, seg); break;
                case 2: in.kind = K_ALU_R_RM; in.sz = 1; modrmInto(in, seg); break;
                case 3: in.kind = K_ALU_R_RM; modrmInto(in, seg); break;
                case 4: in.kind = K_ALU_RM_IMM; in.sz = 1; in.rm = 0; in.imm = db(); break;
                default: in.kind = K_ALU_RM_IMM; in.rm = 0; in.imm = o16 ? db() | db() << 8 : dd(); break;
            }
        } else if (op >= 0x40 && op < 0x60) {
            in.rm = op & 7;
            if (op < 0x48) in.kind = K_INC_R;
            else if (op < 0x50) in.kind = K_DEC_R;
            else if (o16) return Insn.GENERIC;
            else in.kind = op < 0x58 ? K_PUSH_R : K_POP_R;
        } else if (op >= 0x70 && op < 0x80) {
            in.kind = K_JCC;
            in.op = op & 15;
            in.imm = (byte) db();
            if (o16) return Insn.GENERIC;
        } else if (op >= 0xB0 && op < 0xC0) {
            in.kind = K_MOV_R_IMM;
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
            case K_ALU_RM_R: if (!in.mem) in.kind = K_RR + in.op; break;
            case K_ALU_RM_IMM: if (!in.mem) in.kind = K_RI + in.op; break;
            case K_ALU_R_RM:
                if (!in.mem) { // op r32, r/m32 with a register source: same as the RM_R form with operands swapped
                    int t = in.rm; in.rm = in.reg; in.reg = t; in.kind = K_RR + in.op;
                }
                break;
            case K_MOV_RM_R: in.kind = in.mem ? K_STORE32 : K_MOV_RR32; break;
            case K_MOV_R_RM:
                if (in.mem) in.kind = K_LOAD32;
                else { int t = in.rm; in.rm = in.reg; in.reg = t; in.kind = K_MOV_RR32; }
                break;
            case K_SHIFT:
                if (!in.mem && in.imm > 0 && (in.imm & 31) != 0 && (in.op == 4 || in.op == 5 || in.op == 6 || in.op == 7)) {
                    in.imm &= 31;
                    in.kind = in.op == 5 ? K_SHR_RI : in.op == 7 ? K_SAR_RI : K_SHL_RI;
                }
                break;
            default: break;
        }
    }

    private boolean decodeRest(Insn in, int op, int seg, boolean o16) {
        int sz = in.sz;
        switch (op) {
            case 0x0F: return decode0F(in, db(), seg, o16);
            case 0x68: if (o16) return false; in.kind = K_PUSH_IMM; in.imm = dd(); return true;
            case 0x6A: if (o16) return false; in.kind = K_PUSH_IMM; in.imm = (byte) db(); return true;
            case 0x69: in.kind = K_IMUL_RM_IMM; modrmInto(in, seg); in.imm = o16 ? (short) (db() | db() << 8) : dd(); return true;
            case 0x6B: in.kind = K_IMUL_RM_IMM; modrmInto(in, seg); in.imm = (byte) db(); return true;
            case 0x80: case 0x81: case 0x83:
                in.kind = K_ALU_RM_IMM;
                modrmInto(in, seg);
                in.op = in.reg;
                if (op == 0x80) { in.sz = 1; in.imm = db(); }
                else if (op == 0x81) in.imm = o16 ? db() | db() << 8 : dd();
                else in.imm = (byte) db() & (o16 ? 0xFFFF : -1);
                return true;
            case 0x84: in.sz = 1; in.kind = K_TEST_RM_R; modrmInto(in, seg); return true;
            case 0x85: in.kind = K_TEST_RM_R; modrmInto(in, seg); return true;
            case 0x86: in.sz = 1; in.kind = K_XCHG; modrmInto(in, seg); return true;
            case 0x87: in.kind = K_XCHG; modrmInto(in, seg); return true;
            case 0x88: in.sz = 1; in.kind = K_MOV_RM_R; modrmInto(in, seg); return true;
            case 0x89: in.kind = K_MOV_RM_R; modrmInto(in, seg); return true;
            case 0x8A: in.sz = 1; in.kind = K_MOV_R_RM; modrmInto(in, seg); return true;
            case 0x8B: in.kind = K_MOV_R_RM; modrmInto(in, seg); return true;
            case 0x8D:
                if (o16) return false;
                in.kind = K_LEA;
                modrmInto(in, seg);
                return in.mem;
            case 0x90: in.kind = K_NOP; return true;
            case 0x98: if (o16) return false; in.kind = K_CWDE; return true;
            case 0x99: if (o16) return false; in.kind = K_CDQ; return true;
            case 0xA8: in.sz = 1; in.kind = K_TEST_RM_IMM; in.rm = 0; in.imm = db(); return true;
            case 0xA9: in.kind = K_TEST_RM_IMM; in.rm = 0; in.imm = o16 ? db() | db() << 8 : dd(); return true;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
                in.kind = K_SHIFT;
                if ((op & 1) == 0) in.sz = 1;
                modrmInto(in, seg);
                in.op = in.reg;
                in.imm = op < 0xD0 ? db() : op < 0xD2 ? 1 : -1;
                return true;
            case 0xC2: if (o16) return false; in.kind = K_RET; in.imm = db() | db() << 8; return true;
            case 0xC3: if (o16) return false; in.kind = K_RET; in.imm = 0; return true;
            case 0xC6: case 0xC7:
                in.kind = K_MOV_RM_IMM;
                if (op == 0xC6) in.sz = 1;
                modrmInto(in, seg);
                if (in.reg != 0) return false;
                in.imm = in.sz == 1 ? db() : in.sz == 2 ? db() | db() << 8 : dd();
                return true;
            case 0xC9: if (o16) return false; in.kind = K_LEAVE; return true;
            case 0xE8: if (o16) return false; in.kind = K_CALL_REL; in.imm = dd(); return true;
            case 0xE9: if (o16) return false; in.kind = K_JMP_REL; in.imm = dd(); return true;
            case 0xEB: if (o16) return false; in.kind = K_JMP_REL; in.imm = (byte) db(); return true;
            case 0xF6: case 0xF7:
                if (op == 0xF6) in.sz = 1;
                modrmInto(in, seg);
                if (in.reg < 2) {
                    in.kind = K_TEST_RM_IMM;
                    in.imm = in.sz == 1 ? db() : in.sz == 2 ? db() | db() << 8 : dd();
                } else {
                    in.kind = K_GRP3;
                    in.op = in.reg;
                }
                return true;
            case 0xFE: case 0xFF:
                if (op == 0xFE) in.sz = 1;
                modrmInto(in, seg);
                switch (in.reg) {
                    case 0: case 1: in.kind = K_INCDEC_RM; in.op = in.reg; return true;
                    case 2: if (o16 || op == 0xFE) return false; in.kind = K_CALL_RM; return true;
                    case 4: if (o16 || op == 0xFE) return false; in.kind = K_JMP_RM; return true;
                    case 6: if (o16 || op == 0xFE) return false; in.kind = K_PUSH_RM; return true;
                    default: return false;
                }
            default:
                return false;
        }
    }

    private boolean decode0F(Insn in, int op, int seg, boolean o16) {
        if (op >= 0x80 && op < 0x90) {
            if (o16) return false;
            in.kind = K_JCC;
            in.op = op & 15;
            in.imm = dd();
            return true;
        }
        if (op >= 0x40 && op < 0x50) {
            in.kind = K_CMOV;
            in.op = op & 15;
            modrmInto(in, seg);
            return true;
        }
        if (op >= 0x90 && op < 0xA0) {
            in.kind = K_SETCC;
            in.op = op & 15;
            modrmInto(in, seg);
            return true;
        }
        switch (op) {
            case 0xAF: in.kind = K_IMUL_RM; modrmInto(in, seg); return true;
            case 0xB6: in.kind = K_MOVX; in.op = 0; modrmInto(in, seg); return true;
            case 0xB7: in.kind = K_MOVX; in.op = 1; modrmInto(in, seg); return true;
            case 0xBE: in.kind = K_MOVX; in.op = 2; modrmInto(in, seg); return true;
            case 0xBF: in.kind = K_MOVX; in.op = 3; modrmInto(in, seg); return true;
            default: return false;
        }
    }
}
