package org.lguest.cpu.impl.interpret;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.decode.Opcodes;
import org.lguest.cpu.impl.system.SysOps;

/**
 * The integer instruction set: prefix decoding, ModRM/SIB addressing and the
 * execution of one instruction per {@link #step()}. The big opcode switches
 * are split so every method stays below HotSpot's 8000-byte JIT limit.
 */
public abstract class Interp extends SysOps {
    int segOvr, rep;
    public boolean o32, a32, lock;
    public int eaSeg, eaOff;
    public int startEip, startEsp;
    /** the run loop stops its chunk when icount reaches this; HLT etc. set it to 0 */
    public long limit;
    public boolean halted;
    public final int[] dr = new int[8];
    public long tscOffset;
    /**
     * Set by an instruction after which no single-step #DB is taken: INT n/INT3/INTO (delivery clears TF;
     * stepping resumes after the handler's IRET) and MOV SS/POP SS (the trap waits for the next instruction).
     */
    public boolean noStepTrap;

    Interp(PhysicalMemory mem, IoPorts io) {
        super(mem, io);
    }

    public abstract void fpu(int op, int modrm);

    public abstract void fwait();

    public abstract void grp15(int modrm);

    public abstract void cpuid();

    public abstract void rdmsr();

    public abstract void wrmsr();

    // ---------------------------------------------------------------- decode

    final int modrm() {
        int m = fetch8();
        if (m < 0xC0) decodeEA(m);
        return m;
    }

    final void decodeEA(int m) {
        int mod = m >> 6, rm = m & 7;
        int seg = 3, off;
        if (a32) {
            if (rm == 4) {
                int sib = fetch8();
                int base = sib & 7, idx = (sib >> 3) & 7;
                if (base == 5 && mod == 0) off = fetch32();
                else {
                    off = r[base];
                    if (base == 4 || base == 5) seg = 2;
                }
                if (idx != 4) off += r[idx] << (sib >> 6);
            } else if (rm == 5 && mod == 0) {
                off = fetch32();
            } else {
                off = r[rm];
                if (rm == 5) seg = 2;
            }
            if (mod == 1) off += (byte) fetch8();
            else if (mod == 2) off += fetch32();
        } else {
            switch (rm) {
                case 0: off = r[3] + r[6]; break;
                case 1: off = r[3] + r[7]; break;
                case 2: off = r[5] + r[6]; seg = 2; break;
                case 3: off = r[5] + r[7]; seg = 2; break;
                case 4: off = r[6]; break;
                case 5: off = r[7]; break;
                case 6:
                    if (mod == 0) off = fetch16();
                    else { off = r[5]; seg = 2; }
                    break;
                default: off = r[3]; break;
            }
            if (mod == 1) off += (byte) fetch8();
            else if (mod == 2) off += (short) fetch16();
            off &= 0xFFFF;
        }
        eaOff = off;
        eaSeg = segOvr >= 0 ? segOvr : seg;
    }

    final int dataSeg() {
        return segOvr >= 0 ? segOvr : 3;
    }

    final int rmRead(int m, int sz) {
        return m >= 0xC0 ? getReg(m & 7, sz) : readSz(eaSeg, eaOff, sz);
    }

    /** Reads a read-modify-write destination (memory: checked and translated for writing first). */
    final int rmwRead(int m, int sz) {
        return m >= 0xC0 ? getReg(m & 7, sz) : rmwSz(eaSeg, eaOff, sz);
    }

    final void rmWrite(int m, int sz, int v) {
        if (m >= 0xC0) setReg(m & 7, sz, v);
        else writeSz(eaSeg, eaOff, sz, v);
    }

    static int maskOf(int sz) {
        return sz == 4 ? -1 : sz == 2 ? 0xFFFF : 0xFF;
    }

    final int imm(int sz) {
        return sz == 4 ? fetch32() : sz == 2 ? fetch16() : fetch8();
    }

    // ---------------------------------------------------------------- ALU

    final int alu32(int k, int a, int b) {
        lsz = 32;
        switch (k) {
            case 0: lop = L_ADD; la = a; lb = b; return lr = a + b;
            case 1: lop = L_LOGIC; return lr = a | b;
            case 2: { int c = getCF(); lop = L_ADC; la = a; lb = b; laux = c; return lr = a + b + c; }
            case 3: { int c = getCF(); lop = L_SBB; la = a; lb = b; laux = c; return lr = a - b - c; }
            case 4: lop = L_LOGIC; return lr = a & b;
            case 5: case 7: lop = L_SUB; la = a; lb = b; return lr = a - b;
            default: lop = L_LOGIC; return lr = a ^ b;
        }
    }

    public final int alu(int k, int a, int b, int sz) {
        if (sz == 4) return alu32(k, a, b);
        int m = sz == 2 ? 0xFFFF : 0xFF;
        a &= m;
        b &= m;
        int res;
        switch (k) {
            case 0: res = a + b; lop = L_ADD; la = a; lb = b; break;
            case 1: res = a | b; lop = L_LOGIC; break;
            case 2: { int c = getCF(); res = a + b + c; lop = L_ADC; la = a; lb = b; laux = c; break; }
            case 3: { int c = getCF(); res = a - b - c; lop = L_SBB; la = a; lb = b; laux = c; break; }
            case 4: res = a & b; lop = L_LOGIC; break;
            case 5: case 7: res = a - b; lop = L_SUB; la = a; lb = b; break;
            default: res = a ^ b; lop = L_LOGIC; break;
        }
        lsz = sz * 8;
        return lr = res & m;
    }

    final int inc(int a, int sz) {
        int c = getCF();
        int m = maskOf(sz);
        la = a & m;
        lb = 1;
        laux = c;
        lsz = sz * 8;
        lop = L_INC;
        return lr = (a + 1) & m;
    }

    final int dec(int a, int sz) {
        int c = getCF();
        int m = maskOf(sz);
        la = a & m;
        lb = 1;
        laux = c;
        lsz = sz * 8;
        lop = L_DEC;
        return lr = (a - 1) & m;
    }

    static int szp(int v, int sz) {
        int m = maskOf(sz);
        int f = 0;
        if ((v & m) == 0) f |= ZF;
        if ((v & (1 << (sz * 8 - 1))) != 0) f |= SF;
        if ((Integer.bitCount(v & 0xFF) & 1) == 0) f |= PF;
        return f;
    }

    /** Group 2 shifts and rotates; count already read. */
    public final int shift(int k, int a, int cnt, int sz) {
        cnt &= 31;
        int bits = sz * 8, m = maskOf(sz);
        a &= m;
        if (cnt == 0) return a;
        int res;
        switch (k) {
            case 0: { // ROL
                int c = cnt % bits;
                res = c == 0 ? a : ((a << c) | (a >>> (bits - c))) & m;
                int cf = res & 1;
                int of = ((res >>> (bits - 1)) & 1) ^ cf;
                setArith((getFlags() & ~(CF | OF)) | cf | (of != 0 ? OF : 0));
                return res;
            }
            case 1: { // ROR
                int c = cnt % bits;
                res = c == 0 ? a : ((a >>> c) | (a << (bits - c))) & m;
                int cf = (res >>> (bits - 1)) & 1;
                int of = cf ^ ((res >>> (bits - 2)) & 1);
                setArith((getFlags() & ~(CF | OF)) | cf | (of != 0 ? OF : 0));
                return res;
            }
            case 2: { // RCL
                int c = sz == 4 ? cnt : cnt % (bits + 1);
                int cf = getCF();
                res = a;
                for (int i = 0; i < c; i++) {
                    int out = (res >>> (bits - 1)) & 1;
                    res = ((res << 1) | cf) & m;
                    cf = out;
                }
                int of = ((res >>> (bits - 1)) & 1) ^ cf;
                setArith((getFlags() & ~(CF | OF)) | cf | (of != 0 ? OF : 0));
                return res;
            }
            case 3: { // RCR
                int c = sz == 4 ? cnt : cnt % (bits + 1);
                int cf = getCF();
                int of = ((a >>> (bits - 1)) & 1) ^ cf;
                res = a;
                for (int i = 0; i < c; i++) {
                    int out = res & 1;
                    res = ((res >>> 1) | (cf << (bits - 1))) & m;
                    cf = out;
                }
                setArith((getFlags() & ~(CF | OF)) | cf | (of != 0 ? OF : 0));
                return res;
            }
            case 4: case 6: // SHL/SAL
                res = (a << cnt) & m;
                lop = L_SHL;
                break;
            case 5: // SHR
                res = a >>> cnt;
                lop = L_SHR;
                break;
            default: { // SAR
                int sa = sz == 4 ? a : sz == 2 ? (short) a : (byte) a;
                res = (sa >> cnt) & m;
                lop = L_SAR;
                break;
            }
        }
        la = a;
        lb = cnt;
        lsz = bits;
        lr = res;
        return res;
    }

    // ---------------------------------------------------------------- step

    public final void step() {
        startEip = eip;
        startEsp = r[4];
        segOvr = -1;
        rep = 0;
        lock = false;
        boolean d = csD;
        o32 = d;
        a32 = d;
        int a0 = sbase[1] + eip;
        if ((a0 & 0xFFF) > 0xFF0 || (a0 & ~0xFFF) != fetchPage) prefetch();
        int op = fetch8();
        int n = 0;
        while (true) {
            switch (op) {
                case 0x26: segOvr = 0; break;
                case 0x2E: segOvr = 1; break;
                case 0x36: segOvr = 2; break;
                case 0x3E: segOvr = 3; break;
                case 0x64: segOvr = 4; break;
                case 0x65: segOvr = 5; break;
                case 0x66: o32 = !d; break;
                case 0x67: a32 = !d; break;
                case 0xF0: lock = true; break;
                case 0xF2: case 0xF3: rep = op; break;
                default:
                    if (lock) checkLock(op);
                    if (op < 0x80) exec0(op);
                    else exec1(op);
                    return;
            }
            if (++n == 4) prefetch();
            op = fetch8();
        }
    }

    /**
     * Fetches the whole instruction at startEip before it executes (as the processor does): a fetch fault
     * (#PF at the next page, #GP past the CS limit) comes before anything the instruction itself would
     * raise, and a 16th byte raises #GP(0). Used when the instruction may leave the fetch window or has
     * several prefixes; restores EIP. Its length comes from the opcode table ({@link Opcodes#length}),
     * which stops at a 0F-map opcode that does not exist: the processor raises #UD once it has the
     * opcode, fetching nothing more.
     */
    final void prefetch() {
        int save = eip;
        eip = startEip;
        Opcodes.length(countedFetch, csD);
        eip = save;
    }

    /** {@link #fetchCounted} as the opcode table's byte source (made once: prefetch allocates nothing). */
    private final Opcodes.ByteSource countedFetch = this::fetchCounted;

    /** One byte of the instruction at startEip for {@link #prefetch}; a 16th byte is #GP(0). */
    private int fetchCounted() {
        if (eip - startEip >= 15) throw fault(GP, 0);
        return fetch8();
    }

    /**
     * Raises #UD for a LOCK prefix the opcode table does not allow: an opcode that is never lockable
     * before its ModRM byte is fetched, then one whose ModRM.reg does not allow it or whose operand is
     * a register. Restores EIP when the prefix is allowed.
     */
    private void checkLock(int op) {
        int save = eip;
        int entry = op == 0x0F ? Opcodes.twoByte(fetch8()) : Opcodes.oneByte(op);
        if (!Opcodes.lockableAtAll(entry)) throw fault(UD);
        int m = fetch8();
        boolean ok = Opcodes.lockable(entry, (m >> 3) & 7);
        eip = save;
        if (!ok || m >= 0xC0) throw fault(UD);
    }

    final void exec0(int op) {
        int m, sz;
        switch (op) {
            case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38: {
                m = modrm();
                int b = reg8((m >> 3) & 7);
                if (m >= 0xC0) {
                    int res = alu(op >> 3, reg8(m & 7), b, 1);
                    if (op != 0x38) setReg8(m & 7, res);
                } else {
                    int res = alu(op >> 3, op != 0x38 ? rmwSz(eaSeg, eaOff, 1) : read8(eaSeg, eaOff), b, 1);
                    if (op != 0x38) write8(eaSeg, eaOff, res);
                }
                return;
            }
            case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39: {
                m = modrm();
                if (o32) {
                    int b = r[(m >> 3) & 7];
                    if (m >= 0xC0) {
                        int res = alu32(op >> 3, r[m & 7], b);
                        if (op != 0x39) r[m & 7] = res;
                    } else {
                        int res = alu32(op >> 3, op != 0x39 ? rmwSz(eaSeg, eaOff, 4) : read32(eaSeg, eaOff), b);
                        if (op != 0x39) write32(eaSeg, eaOff, res);
                    }
                } else {
                    int b = r[(m >> 3) & 7];
                    if (m >= 0xC0) {
                        int res = alu(op >> 3, r[m & 7], b, 2);
                        if (op != 0x39) setReg16(m & 7, res);
                    } else {
                        int res = alu(op >> 3, op != 0x39 ? rmwSz(eaSeg, eaOff, 2) : read16(eaSeg, eaOff), b, 2);
                        if (op != 0x39) write16(eaSeg, eaOff, res);
                    }
                }
                return;
            }
            case 0x02: case 0x0A: case 0x12: case 0x1A: case 0x22: case 0x2A: case 0x32: case 0x3A: {
                m = modrm();
                int g = (m >> 3) & 7;
                int res = alu(op >> 3, reg8(g), m >= 0xC0 ? reg8(m & 7) : read8(eaSeg, eaOff), 1);
                if (op != 0x3A) setReg8(g, res);
                return;
            }
            case 0x03: case 0x0B: case 0x13: case 0x1B: case 0x23: case 0x2B: case 0x33: case 0x3B: {
                m = modrm();
                int g = (m >> 3) & 7;
                if (o32) {
                    int res = alu32(op >> 3, r[g], m >= 0xC0 ? r[m & 7] : read32(eaSeg, eaOff));
                    if (op != 0x3B) r[g] = res;
                } else {
                    int res = alu(op >> 3, r[g], m >= 0xC0 ? r[m & 7] : read16(eaSeg, eaOff), 2);
                    if (op != 0x3B) setReg16(g, res);
                }
                return;
            }
            case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C: {
                int res = alu(op >> 3, r[0], fetch8(), 1);
                if (op != 0x3C) setReg8(0, res);
                return;
            }
            case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D: {
                if (o32) {
                    int res = alu32(op >> 3, r[0], fetch32());
                    if (op != 0x3D) r[0] = res;
                } else {
                    int res = alu(op >> 3, r[0], fetch16(), 2);
                    if (op != 0x3D) setReg16(0, res);
                }
                return;
            }
            case 0x06: pushSreg(0); return;
            case 0x07: popSreg(0); return;
            case 0x0E: pushSreg(1); return;
            case 0x0F: exec0F(fetch8()); return;
            case 0x16: pushSreg(2); return;
            case 0x17: popSreg(2); noStepTrap = true; return;
            case 0x1E: pushSreg(3); return;
            case 0x1F: popSreg(3); return;
            case 0x27: daa(); return;
            case 0x2F: das(); return;
            case 0x37: aaa(); return;
            case 0x3F: aas(); return;
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
                if (o32) r[op & 7] = inc(r[op & 7], 4);
                else setReg16(op & 7, inc(r[op & 7], 2));
                return;
            case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
                if (o32) r[op & 7] = dec(r[op & 7], 4);
                else setReg16(op & 7, dec(r[op & 7], 2));
                return;
            case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
                if (o32) push32(r[op & 7]);
                else push16(r[op & 7]);
                return;
            case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F:
                if (o32) {
                    int v = pop32();
                    r[op & 7] = v;
                } else {
                    int v = pop16();
                    setReg16(op & 7, v);
                }
                return;
            case 0x60: pusha(); return;
            case 0x61: popa(); return;
            case 0x62: bound(); return;
            case 0x63: arpl(); return;
            case 0x68: push(o32 ? fetch32() : fetch16(), o32); return;
            case 0x69: case 0x6B: {
                m = modrm();
                sz = o32 ? 4 : 2;
                int a = rmRead(m, sz);
                int b = op == 0x69 ? imm(sz) : (byte) fetch8();
                setReg((m >> 3) & 7, sz, imul2(a, b, sz));
                return;
            }
            case 0x6A: push((byte) fetch8(), o32); return;
            case 0x6C: case 0x6D: case 0x6E: case 0x6F: stringIo(op); return;
            default:
                if (op >= 0x70) {
                    int dsp = (byte) fetch8();
                    if (condFast(op & 15)) jumpRel(dsp);
                    return;
                }
                throw fault(UD);
        }
    }

    final void jumpRel(int d) {
        eip += d;
        if (!o32) eip &= 0xFFFF;
    }

    final void exec1(int op) {
        int m, sz;
        switch (op) {
            case 0x80: case 0x82: {
                m = modrm();
                int k = (m >> 3) & 7;
                if (m >= 0xC0) {
                    int res = alu(k, reg8(m & 7), fetch8(), 1);
                    if (k != 7) setReg8(m & 7, res);
                } else {
                    int b = fetch8();
                    int res = alu(k, k != 7 ? rmwSz(eaSeg, eaOff, 1) : read8(eaSeg, eaOff), b, 1);
                    if (k != 7) write8(eaSeg, eaOff, res);
                }
                return;
            }
            case 0x81: case 0x83: {
                m = modrm();
                int k = (m >> 3) & 7;
                if (o32) {
                    if (m >= 0xC0) {
                        int b = op == 0x81 ? fetch32() : (byte) fetch8();
                        int res = alu32(k, r[m & 7], b);
                        if (k != 7) r[m & 7] = res;
                    } else {
                        int b = op == 0x81 ? fetch32() : (byte) fetch8();
                        int res = alu32(k, k != 7 ? rmwSz(eaSeg, eaOff, 4) : read32(eaSeg, eaOff), b);
                        if (k != 7) write32(eaSeg, eaOff, res);
                    }
                } else {
                    int b = op == 0x81 ? fetch16() : (byte) fetch8();
                    int res = alu(k, k != 7 ? rmwRead(m, 2) : rmRead(m, 2), b, 2);
                    if (k != 7) rmWrite(m, 2, res);
                }
                return;
            }
            case 0x84: case 0x85: {
                sz = op == 0x84 ? 1 : o32 ? 4 : 2;
                m = modrm();
                alu(4, rmRead(m, sz), getReg((m >> 3) & 7, sz), sz);
                return;
            }
            case 0x86: case 0x87: {
                sz = op == 0x86 ? 1 : o32 ? 4 : 2;
                m = modrm();
                int g = (m >> 3) & 7;
                int a = rmwRead(m, sz);
                rmWrite(m, sz, getReg(g, sz));
                setReg(g, sz, a);
                return;
            }
            case 0x88: m = modrm(); if (m >= 0xC0) setReg8(m & 7, reg8((m >> 3) & 7)); else write8(eaSeg, eaOff, reg8((m >> 3) & 7)); return;
            case 0x89:
                m = modrm();
                if (o32) {
                    if (m >= 0xC0) r[m & 7] = r[(m >> 3) & 7];
                    else write32(eaSeg, eaOff, r[(m >> 3) & 7]);
                } else rmWrite(m, 2, r[(m >> 3) & 7]);
                return;
            case 0x8A: m = modrm(); setReg8((m >> 3) & 7, m >= 0xC0 ? reg8(m & 7) : read8(eaSeg, eaOff)); return;
            case 0x8B:
                m = modrm();
                if (o32) r[(m >> 3) & 7] = m >= 0xC0 ? r[m & 7] : read32(eaSeg, eaOff);
                else setReg16((m >> 3) & 7, rmRead(m, 2));
                return;
            case 0x8C: {
                m = modrm();
                int s = (m >> 3) & 7;
                if (s > 5) throw fault(UD);
                if (m >= 0xC0) setReg(m & 7, o32 ? 4 : 2, sel[s]);
                else write16(eaSeg, eaOff, sel[s]);
                return;
            }
            case 0x8D:
                m = fetch8();
                if (m >= 0xC0) throw fault(UD);
                decodeEA(m);
                setReg((m >> 3) & 7, o32 ? 4 : 2, eaOff);
                return;
            case 0x8E: {
                m = modrm();
                int s = (m >> 3) & 7;
                if (s > 5 || s == 1) throw fault(UD);
                loadSeg(s, rmRead(m, 2));
                if (s == 2) noStepTrap = true;
                return;
            }
            case 0x8F: {
                m = fetch8();
                if (((m >> 3) & 7) != 0) throw fault(UD);
                sz = o32 ? 4 : 2;
                int v = sz == 4 ? read32(2, sp()) : read16(2, sp());
                setSp(r[4] + sz);
                if (m >= 0xC0) setReg(m & 7, sz, v);
                else {
                    decodeEA(m);
                    writeSz(eaSeg, eaOff, sz, v);
                }
                return;
            }
            case 0x90:
                return;
            case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
                sz = o32 ? 4 : 2;
                int t = getReg(0, sz);
                setReg(0, sz, getReg(op & 7, sz));
                setReg(op & 7, sz, t);
                return;
            }
            case 0x98: if (o32) r[0] = (short) r[0]; else setReg16(0, (byte) r[0]); return;
            case 0x99: if (o32) r[2] = r[0] >> 31; else setReg16(2, ((short) r[0]) >> 15); return;
            case 0x9A: {
                int off = o32 ? fetch32() : fetch16();
                int s = fetch16();
                farTransfer(s, off, o32, true, eip);
                return;
            }
            case 0x9B: fwait(); return;
            case 0x9C: push(getFlags() & ~(RF | VM), o32); return;
            case 0x9D: {
                int v = o32 ? read32(2, sp()) : read16(2, sp());
                popFlagsAt(v, o32, cpl);
                setSp(r[4] + (o32 ? 4 : 2));
                limit = 0;
                return;
            }
            case 0x9E: setArith((getFlags() & ~(SF | ZF | AF | PF | CF)) | (reg8(4) & (SF | ZF | AF | PF | CF))); return;
            case 0x9F: setReg8(4, (getFlags() & 0xD7) | 2); return;
            case 0xA0: case 0xA1: case 0xA2: case 0xA3: {
                int off = a32 ? fetch32() : fetch16();
                sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
                if (op < 0xA2) setReg(0, sz, readSz(dataSeg(), off, sz));
                else writeSz(dataSeg(), off, sz, getReg(0, sz));
                return;
            }
            case 0xA4: case 0xA5: case 0xA6: case 0xA7: case 0xAA: case 0xAB: case 0xAC: case 0xAD: case 0xAE: case 0xAF:
                string(op);
                return;
            case 0xA8: alu(4, r[0], fetch8(), 1); return;
            case 0xA9: sz = o32 ? 4 : 2; alu(4, r[0], imm(sz), sz); return;
            case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7:
                setReg8(op & 7, fetch8());
                return;
            case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
                if (o32) r[op & 7] = fetch32();
                else setReg16(op & 7, fetch16());
                return;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
                sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
                m = modrm();
                int cnt = op < 0xD0 ? fetch8() : op < 0xD2 ? 1 : r[1] & 0xFF;
                int a = rmwRead(m, sz);
                int res = shift((m >> 3) & 7, a, cnt, sz);
                if ((cnt & 31) != 0) rmWrite(m, sz, res);
                return;
            }
            case 0xC2: case 0xC3: {
                int imm = op == 0xC2 ? fetch16() : 0;
                int t = o32 ? read32(2, sp()) : read16(2, sp());
                setSp(r[4] + (o32 ? 4 : 2) + imm);
                eip = t;
                return;
            }
            case 0xC4: case 0xC5: loadFar(op == 0xC4 ? 0 : 3); return;
            case 0xC6: case 0xC7: {
                sz = op == 0xC6 ? 1 : o32 ? 4 : 2;
                m = modrm();
                if (((m >> 3) & 7) != 0) throw fault(UD);
                rmWrite(m, sz, imm(sz));
                return;
            }
            case 0xC8: enter(); return;
            case 0xC9: {
                int bp = ssB ? r[5] : r[5] & 0xFFFF;
                int v = o32 ? read32(2, bp) : read16(2, bp);
                setSp(bp + (o32 ? 4 : 2));
                setReg(5, o32 ? 4 : 2, v);
                return;
            }
            case 0xCA: farReturn(o32, fetch16()); return;
            case 0xCB: farReturn(o32, 0); return;
            case 0xCC: softInt(3); return;
            case 0xCD: softInt(fetch8()); return;
            case 0xCE: if (getOF()) softInt(4); return;
            case 0xCF: iret(o32); limit = 0; return;
            case 0xD4: {
                int b = fetch8();
                if (b == 0) throw fault(DE);
                int al = r[0] & 0xFF;
                setReg16(0, ((al / b) << 8) | (al % b));
                setLogic8(al % b);
                return;
            }
            case 0xD5: {
                int b = fetch8();
                int al = (r[0] + ((r[0] >> 8) & 0xFF) * b) & 0xFF;
                setReg16(0, al);
                setLogic8(al);
                return;
            }
            case 0xD6: setReg8(0, getCF() != 0 ? 0xFF : 0); return;
            case 0xD7: {
                int off = (a32 ? r[3] : r[3] & 0xFFFF) + (r[0] & 0xFF);
                if (!a32) off &= 0xFFFF;
                setReg8(0, read8(dataSeg(), off));
                return;
            }
            case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
                fpu(op, modrm());
                return;
            case 0xE0: case 0xE1: case 0xE2: case 0xE3: {
                int d = (byte) fetch8();
                int c;
                if (op == 0xE3) c = a32 ? r[1] : r[1] & 0xFFFF;
                else if (a32) c = --r[1];
                else {
                    c = (r[1] - 1) & 0xFFFF;
                    setReg16(1, c);
                }
                boolean t = op == 0xE3 ? c == 0 : c != 0 && (op == 0xE2 || (op == 0xE1) == getZF());
                if (t) jumpRel(d);
                return;
            }
            case 0xE4: case 0xE5: case 0xEC: case 0xED: {
                int port = op < 0xE8 ? fetch8() : r[2] & 0xFFFF;
                sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
                checkIo(port, sz);
                setReg(0, sz, io.in(port, sz));
                return;
            }
            case 0xE6: case 0xE7: case 0xEE: case 0xEF: {
                int port = op < 0xE8 ? fetch8() : r[2] & 0xFFFF;
                sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
                checkIo(port, sz);
                io.out(port, sz, getReg(0, sz));
                return;
            }
            case 0xE8: {
                int d = o32 ? fetch32() : (short) fetch16();
                push(eip, o32);
                jumpRel(d);
                return;
            }
            case 0xE9: jumpRel(o32 ? fetch32() : (short) fetch16()); return;
            case 0xEA: {
                int off = o32 ? fetch32() : fetch16();
                int s = fetch16();
                farTransfer(s, off, o32, false, eip);
                return;
            }
            case 0xEB: jumpRel((byte) fetch8()); return;
            case 0xF1: deliver(DB, 0, false, false); if (hostExit) limit = 0; return;
            case 0xF4:
                if (cpl != 0) throw fault(GP, 0);
                halted = true;
                limit = 0;
                return;
            case 0xF5: setFlag(CF, getCF() == 0); return;
            case 0xF6: case 0xF7: grp3(op == 0xF6 ? 1 : o32 ? 4 : 2); return;
            case 0xF8: setFlag(CF, false); return;
            case 0xF9: setFlag(CF, true); return;
            case 0xFA: case 0xFB:
                if (cpl > ((flags >> 12) & 3)) throw fault(GP, 0);
                flags = op == 0xFA ? flags & ~IF : flags | IF;
                return;
            case 0xFC: flags &= ~DF; return;
            case 0xFD: flags |= DF; return;
            case 0xFE: {
                m = modrm();
                int k = (m >> 3) & 7;
                if (k > 1) throw fault(UD);
                int a = rmwRead(m, 1);
                rmWrite(m, 1, k == 0 ? inc(a, 1) : dec(a, 1));
                return;
            }
            case 0xFF: grp5(); return;
            default: throw fault(UD);
        }
    }

    final void softInt(int v) {
        deliver(v, 0, false, true);
        noStepTrap = true;
        if (hostExit) limit = 0;
    }

    final void setLogic8(int v) {
        lop = L_LOGIC;
        lsz = 8;
        lr = v & 0xFF;
    }

    final void grp3(int sz) {
        int m = modrm();
        int k = (m >> 3) & 7;
        switch (k) {
            case 0: case 1: {
                int a = rmRead(m, sz);
                alu(4, a, imm(sz), sz);
                return;
            }
            case 2: rmWrite(m, sz, ~rmwRead(m, sz)); return;
            case 3: {
                int a = rmwRead(m, sz);
                rmWrite(m, sz, alu(5, 0, a, sz));
                return;
            }
            case 4: case 5: mul(k == 5, rmRead(m, sz), sz); return;
            default: div(k == 7, rmRead(m, sz), sz); return;
        }
    }

    final void mul(boolean signed, int b, int sz) {
        boolean over;
        int lo;
        if (sz == 4) {
            long p = signed ? (long) r[0] * b : (r[0] & 0xFFFFFFFFL) * (b & 0xFFFFFFFFL);
            r[0] = (int) p;
            r[2] = (int) (p >>> 32);
            over = signed ? p != (int) p : (p >>> 32) != 0;
            lo = (int) p;
        } else if (sz == 2) {
            int p = signed ? (short) r[0] * (short) b : (r[0] & 0xFFFF) * (b & 0xFFFF);
            setReg16(0, p);
            setReg16(2, p >>> 16);
            over = signed ? p != (short) p : (p >>> 16) != 0;
            lo = p;
        } else {
            int p = signed ? (byte) r[0] * (byte) b : (r[0] & 0xFF) * (b & 0xFF);
            setReg16(0, p);
            over = signed ? p != (byte) p : (p >>> 8) != 0;
            lo = p;
        }
        setArith(szp(lo, sz) | (over ? CF | OF : 0));
    }

    final int imul2(int a, int b, int sz) {
        int res;
        boolean over;
        if (sz == 4) {
            long p = (long) a * b;
            res = (int) p;
            over = p != res;
        } else {
            int p = (short) a * (short) b;
            res = p & 0xFFFF;
            over = p != (short) p;
        }
        setArith(szp(res, sz) | (over ? CF | OF : 0));
        return res;
    }

    final void div(boolean signed, int b, int sz) {
        if ((b & maskOf(sz)) == 0) throw fault(DE);
        if (sz == 4) {
            long n = ((long) r[2] << 32) | (r[0] & 0xFFFFFFFFL);
            if (signed) {
                if (n == Long.MIN_VALUE && b == -1) throw fault(DE);
                long q = n / b, rem = n % b;
                if (q != (int) q) throw fault(DE);
                r[0] = (int) q;
                r[2] = (int) rem;
            } else {
                long d = b & 0xFFFFFFFFL;
                long q = Long.divideUnsigned(n, d), rem = Long.remainderUnsigned(n, d);
                if ((q >>> 32) != 0) throw fault(DE);
                r[0] = (int) q;
                r[2] = (int) rem;
            }
        } else if (sz == 2) {
            int n = (r[2] << 16) | (r[0] & 0xFFFF);
            if (signed) {
                int d = (short) b;
                int q = n / d, rem = n % d;
                if (q != (short) q) throw fault(DE);
                setReg16(0, q);
                setReg16(2, rem);
            } else {
                long nn = n & 0xFFFFFFFFL, d = b & 0xFFFF;
                long q = nn / d, rem = nn % d;
                if (q > 0xFFFF) throw fault(DE);
                setReg16(0, (int) q);
                setReg16(2, (int) rem);
            }
        } else {
            int n = r[0] & 0xFFFF;
            if (signed) {
                int d = (byte) b;
                int q = (short) n / d, rem = (short) n % d;
                if (q != (byte) q) throw fault(DE);
                setReg16(0, ((rem & 0xFF) << 8) | (q & 0xFF));
            } else {
                int d = b & 0xFF;
                int q = n / d, rem = n % d;
                if (q > 0xFF) throw fault(DE);
                setReg16(0, (rem << 8) | q);
            }
        }
    }

    final void grp5() {
        int m = modrm();
        int k = (m >> 3) & 7;
        int sz = o32 ? 4 : 2;
        switch (k) {
            case 0: rmWrite(m, sz, inc(rmwRead(m, sz), sz)); return;
            case 1: rmWrite(m, sz, dec(rmwRead(m, sz), sz)); return;
            case 2: {
                int t = rmRead(m, sz);
                push(eip, o32);
                eip = t;
                return;
            }
            case 3: case 5: {
                if (m >= 0xC0) throw fault(UD);
                int off = readSz(eaSeg, eaOff, sz);
                int s = read16(eaSeg, eaOff + sz);
                farTransfer(s, off, o32, k == 3, eip);
                return;
            }
            case 4: eip = rmRead(m, sz); return;
            case 6: push(rmRead(m, sz), o32); return;
            default: throw fault(UD);
        }
    }

    final void pushSreg(int s) {
        if (o32) {
            int sp = r[4] - 4;
            if (!ssB) sp &= 0xFFFF;
            alignCheck(lin(2, sp, 4, 2), 4); // a doubleword push, though only the word is written
            write16(2, sp, sel[s]);
            setSp(sp);
        } else push16(sel[s]);
    }

    final void popSreg(int s) {
        int v = o32 ? read32(2, sp()) : read16(2, sp());
        loadSeg(s, v & 0xFFFF);
        setSp(r[4] + (o32 ? 4 : 2));
    }

    final void pusha() {
        int t = r[4];
        for (int i = 0; i < 8; i++) push(i == 4 ? t : r[i], o32);
    }

    final void popa() {
        int sz = o32 ? 4 : 2;
        int s = sp();
        int[] v = new int[8];
        for (int i = 7; i >= 0; i--) {
            v[i] = readSz(2, ssB ? s : s & 0xFFFF, sz);
            s += sz;
        }
        for (int i = 0; i < 8; i++) if (i != 4) setReg(i, sz, v[i]);
        setSp(r[4] + 8 * sz);
    }

    final void bound() {
        int m = fetch8();
        if (m >= 0xC0) throw fault(UD);
        decodeEA(m);
        int g = (m >> 3) & 7;
        if (o32) {
            int lo = read32(eaSeg, eaOff), hi = read32(eaSeg, eaOff + 4);
            if (r[g] < lo || r[g] > hi) throw fault(BR);
        } else {
            int lo = (short) read16(eaSeg, eaOff), hi = (short) read16(eaSeg, eaOff + 2);
            int v = (short) r[g];
            if (v < lo || v > hi) throw fault(BR);
        }
    }

    final void arpl() {
        int m = modrm();
        int d = rmRead(m, 2);
        int s = r[(m >> 3) & 7];
        if ((d & 3) < (s & 3)) {
            rmWrite(m, 2, (d & ~3) | (s & 3));
            setFlag(ZF, true);
        } else setFlag(ZF, false);
    }

    final void loadFar(int s) {
        int m = fetch8();
        if (m >= 0xC0) throw fault(UD);
        decodeEA(m);
        int sz = o32 ? 4 : 2;
        int off = readSz(eaSeg, eaOff, sz);
        int selv = read16(eaSeg, eaOff + sz);
        loadSeg(s, selv);
        setReg((m >> 3) & 7, sz, off);
    }

    final void enter() {
        int size = fetch16();
        int level = fetch8() & 31;
        int sz = o32 ? 4 : 2;
        push(r[5], o32);
        int frame = r[4];
        int bp = r[5];
        for (int i = 1; i < level; i++) {
            bp -= sz;
            push(readSz(2, ssB ? bp : bp & 0xFFFF, sz), o32);
        }
        if (level > 0) push(frame, o32);
        // check the new stack top is writable before committing
        int nsp = r[4] - size;
        if (!ssB) nsp &= 0xFFFF;
        if (size > 0) {
            int a = lin(2, nsp, 1, 2);
            alignCheck(a, sz);
            probeWrite(a, 1);
        }
        if (ssB) r[5] = frame;
        else setReg16(5, frame);
        setSp(nsp);
    }

    // ---------------------------------------------------------------- BCD

    final void daa() {
        int f = getFlags();
        int al = r[0] & 0xFF, old = al;
        boolean cf = (f & CF) != 0, af;
        if ((al & 0xF) > 9 || (f & AF) != 0) {
            al += 6;
            cf = cf || al > 0xFF;
            af = true;
        } else af = false;
        if (old > 0x99 || (f & CF) != 0) {
            al += 0x60;
            cf = true;
        } else cf = false;
        al &= 0xFF;
        setReg8(0, al);
        setArith(szp(al, 1) | (cf ? CF : 0) | (af ? AF : 0));
    }

    final void das() {
        int f = getFlags();
        int al = r[0] & 0xFF, old = al;
        boolean cf = false, af;
        if ((al & 0xF) > 9 || (f & AF) != 0) {
            cf = (f & CF) != 0 || al < 6;
            al -= 6;
            af = true;
        } else af = false;
        if (old > 0x99 || (f & CF) != 0) {
            al -= 0x60;
            cf = true;
        }
        al &= 0xFF;
        setReg8(0, al);
        setArith(szp(al, 1) | (cf ? CF : 0) | (af ? AF : 0));
    }

    final void aaa() {
        int f = getFlags();
        boolean adj = (r[0] & 0xF) > 9 || (f & AF) != 0;
        if (adj) setReg16(0, r[0] + 0x106);
        setReg8(0, r[0] & 0xF);
        setArith((f & (SF | ZF | PF)) | (adj ? CF | AF : 0));
    }

    final void aas() {
        int f = getFlags();
        boolean adj = (r[0] & 0xF) > 9 || (f & AF) != 0;
        if (adj) {
            setReg16(0, r[0] - 6);
            setReg8(4, reg8(4) - 1);
        }
        setReg8(0, r[0] & 0xF);
        setArith((f & (SF | ZF | PF)) | (adj ? CF | AF : 0));
    }

    // ---------------------------------------------------------------- strings

    final int si() {
        return a32 ? r[6] : r[6] & 0xFFFF;
    }

    final int di() {
        return a32 ? r[7] : r[7] & 0xFFFF;
    }

    final void advance(int reg, int d) {
        if (a32) r[reg] += d;
        else setReg16(reg, r[reg] + d);
    }

    static final int REP_CHUNK = 4096;

    final void string(int op) {
        int sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
        int d = (flags & DF) != 0 ? -sz : sz;
        int src = dataSeg();
        if (rep == 0) {
            stringOnce(op, sz, d, src);
            return;
        }
        int n = 0;
        boolean cmp = op == 0xA6 || op == 0xA7 || op == 0xAE || op == 0xAF;
        while (true) {
            int c = a32 ? r[1] : r[1] & 0xFFFF;
            if (c == 0) return;
            if (a32 && c > 1 && d == sz) {
                // REP STOSD and REP MOVSB/MOVSD forward: a page at a time as one array operation
                int k = op == 0xAB && sz == 4 ? fastStos(c) : (op == 0xA4 || op == 0xA5) && sz != 2 ? fastMovs(c, sz, src) : 0;
                if (k > 0) {
                    n += k;
                    if (n >= REP_CHUNK && r[1] != 0) {
                        eip = startEip;
                        return;
                    }
                    continue;
                }
            }
            stringOnce(op, sz, d, src);
            if (a32) r[1]--;
            else setReg16(1, c - 1);
            if (cmp && (getZF() != (rep == 0xF3))) return;
            if (++n >= REP_CHUNK) {
                if ((a32 ? r[1] : r[1] & 0xFFFF) != 0) eip = startEip;
                return;
            }
        }
    }

    /** REP STOSD within one page: stores directly; returns the stores done (0: take the slow path). */
    private int fastStos(int c) {
        int off = r[7];
        int a = sbase[0] + off;
        int room = (0x1000 - (a & 0xFFF)) >>> 2;
        if ((a & 3) != 0 || room == 0) return 0;
        int k = Integer.compareUnsigned(c, room) < 0 ? c : room;
        if (k < 2) return 0;
        int i = ((a >>> 12) & TLB_MASK) | tlbUser;
        if (wTag[i] != a >>> 12) return 0;
        lin(0, off, 4 * k, 2);
        byte[] f = wPage[i];
        int v = r[0];
        for (int j = 0, o = a & 0xFFF; j < k; j++, o += 4) I32.set(f, o, v);
        r[7] += 4 * k;
        r[1] -= k;
        return k;
    }

    /**
     * REP MOVSB/MOVSD forward within one source page and one destination
     * page, both in the TLB (the destination in the write TLB, so not a page
     * holding decoded code), the whole run inside both segments, dwords
     * aligned, and no overlap in one frame: one array copy. Returns the
     * elements moved, or 0 for the element-by-element path (which takes
     * every fault at the element where the hardware takes it).
     */
    private int fastMovs(int c, int sz, int src) {
        int soff = r[6], doff = r[7];
        int sa = sbase[src] + soff, da = sbase[0] + doff;
        if (sz == 4 && ((sa | da) & 3) != 0) return 0;
        int room = Math.min(0x1000 - (sa & 0xFFF), 0x1000 - (da & 0xFFF)) / sz;
        int k = Integer.compareUnsigned(c, room) < 0 ? c : room;
        if (k < 2) return 0;
        int bytes = k * sz;
        int si = ((sa >>> 12) & TLB_MASK) | tlbUser, di = ((da >>> 12) & TLB_MASK) | tlbUser;
        if (rTag[si] != sa >>> 12 || wTag[di] != da >>> 12) return 0;
        if (!linFits(src, soff, bytes, 1) || !linFits(0, doff, bytes, 2)) return 0;
        byte[] from = rPage[si], to = wPage[di];
        int so = sa & 0xFFF, dst = da & 0xFFF;
        if (from == to && so < dst + bytes && dst < so + bytes) return 0;
        System.arraycopy(from, so, to, dst, bytes);
        r[6] += bytes;
        r[7] += bytes;
        r[1] -= k;
        return k;
    }

    final void stringOnce(int op, int sz, int d, int src) {
        switch (op) {
            case 0xA4: case 0xA5: {
                int v = readSz(src, si(), sz);
                writeSz(0, di(), sz, v);
                advance(6, d);
                advance(7, d);
                return;
            }
            case 0xA6: case 0xA7: {
                int a = readSz(src, si(), sz), b = readSz(0, di(), sz);
                alu(7, a, b, sz);
                advance(6, d);
                advance(7, d);
                return;
            }
            case 0xAA: case 0xAB:
                writeSz(0, di(), sz, r[0]);
                advance(7, d);
                return;
            case 0xAC: case 0xAD:
                setReg(0, sz, readSz(src, si(), sz));
                advance(6, d);
                return;
            default: {
                int b = readSz(0, di(), sz);
                alu(7, r[0], b, sz);
                advance(7, d);
            }
        }
    }

    final void stringIo(int op) {
        int sz = (op & 1) == 0 ? 1 : o32 ? 4 : 2;
        int d = (flags & DF) != 0 ? -sz : sz;
        int port = r[2] & 0xFFFF;
        checkIo(port, sz);
        int n = 0;
        while (true) {
            if (rep != 0 && (a32 ? r[1] : r[1] & 0xFFFF) == 0) return;
            if (op < 0x6E) {
                lin(0, di(), sz, 2);
                writeSz(0, di(), sz, io.in(port, sz));
                advance(7, d);
            } else {
                io.out(port, sz, readSz(dataSeg(), si(), sz));
                advance(6, d);
            }
            if (rep == 0) return;
            if (a32) r[1]--;
            else setReg16(1, r[1] - 1);
            if (++n >= REP_CHUNK) {
                if ((a32 ? r[1] : r[1] & 0xFFFF) != 0) eip = startEip;
                return;
            }
        }
    }

    // ---------------------------------------------------------------- 0F xx

    final void exec0F(int op) {
        if (op >= 0x80 && op < 0x90) {
            int dsp = o32 ? fetch32() : (short) fetch16();
            if (condFast(op & 15)) jumpRel(dsp);
            return;
        }
        int m, sz;
        switch (op) {
            case 0x00: grp6(); return;
            case 0x01: grp7(); return;
            case 0x02: case 0x03: larLsl(op == 0x02); return;
            case 0x06: needCpl0(); cr0 &= ~8; return;
            case 0x34: case 0x35:
                // SYSENTER/SYSEXIT: #GP(0) when IA32_SYSENTER_CS is 0, which it always is here (the MSR is not
                // implemented: WRMSR 0x174 is #GP), and SYSEXIT at CPL > 0 is #GP(0) anyway (a family-6 model-8 part)
                throw fault(GP, 0);
            case 0x08: case 0x09: needCpl0(); return;
            case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
                modrm(); // hint NOPs
                return;
            case 0x20: case 0x22: movCr(op == 0x22); return;
            case 0x21: case 0x23: movDr(op == 0x23); return;
            case 0x30: wrmsr(); return;
            case 0x31:
                if ((cr4 & 4) != 0 && cpl != 0) throw fault(GP, 0);
                { long t = icount + tscOffset; r[0] = (int) t; r[2] = (int) (t >>> 32); }
                return;
            case 0x32: rdmsr(); return;
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
            case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: {
                m = modrm();
                sz = o32 ? 4 : 2;
                int v = rmRead(m, sz);
                if (condFast(op & 15)) setReg((m >> 3) & 7, sz, v);
                return;
            }
            case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
            case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F:
                m = modrm();
                rmWrite(m, 1, condFast(op & 15) ? 1 : 0);
                return;
            case 0xA0: pushSreg(4); return;
            case 0xA1: popSreg(4); return;
            case 0xA2: cpuid(); return;
            case 0xA3: case 0xAB: case 0xB3: case 0xBB: bitOp(op); return;
            case 0xA4: case 0xA5: case 0xAC: case 0xAD: shiftDouble(op); return;
            case 0xA8: pushSreg(5); return;
            case 0xA9: popSreg(5); return;
            case 0xAE: grp15(modrm()); return;
            case 0xAF: {
                m = modrm();
                sz = o32 ? 4 : 2;
                int g = (m >> 3) & 7;
                setReg(g, sz, imul2(getReg(g, sz), rmRead(m, sz), sz));
                return;
            }
            case 0xB0: case 0xB1: {
                sz = op == 0xB0 ? 1 : o32 ? 4 : 2;
                m = modrm();
                int dst = rmwRead(m, sz);
                alu(7, r[0], dst, sz);
                if (getZF()) rmWrite(m, sz, getReg((m >> 3) & 7, sz));
                else {
                    if (m < 0xC0) writeSz(eaSeg, eaOff, sz, dst);
                    setReg(0, sz, dst);
                }
                return;
            }
            case 0xB2: loadFar(2); return;
            case 0xB4: loadFar(4); return;
            case 0xB5: loadFar(5); return;
            case 0xB6: case 0xB7: case 0xBE: case 0xBF: {
                m = modrm();
                int v;
                if ((op & 1) == 0) {
                    v = rmRead(m, 1);
                    if (op == 0xBE) v = (byte) v;
                } else {
                    v = rmRead(m, 2);
                    if (op == 0xBF) v = (short) v;
                }
                setReg((m >> 3) & 7, o32 ? 4 : 2, v);
                return;
            }
            case 0xBA: bitOpImm(); return;
            case 0xBC: case 0xBD: {
                m = modrm();
                sz = o32 ? 4 : 2;
                int v = rmRead(m, sz) & maskOf(sz);
                if (v == 0) setFlag(ZF, true);
                else {
                    setReg((m >> 3) & 7, sz, op == 0xBC ? Integer.numberOfTrailingZeros(v) : 31 - Integer.numberOfLeadingZeros(v));
                    setFlag(ZF, false);
                }
                return;
            }
            case 0xC0: case 0xC1: {
                sz = op == 0xC0 ? 1 : o32 ? 4 : 2;
                m = modrm();
                int g = (m >> 3) & 7;
                int dst = rmwRead(m, sz);
                int sum = alu(0, dst, getReg(g, sz), sz);
                rmWrite(m, sz, sum);
                setReg(g, sz, dst);
                if (m >= 0xC0 && (m & 7) == g) setReg(g, sz, sum);
                return;
            }
            case 0xC7: {
                m = fetch8();
                if (((m >> 3) & 7) != 1 || m >= 0xC0) throw fault(UD);
                decodeEA(m);
                int la = lin(eaSeg, eaOff, 8, 2);
                alignCheck(la, 8);
                probeWrite(la, 8);
                int lo = read32(eaSeg, eaOff), hi = read32(eaSeg, eaOff + 4);
                if (lo == r[0] && hi == r[2]) {
                    write32(eaSeg, eaOff, r[3]);
                    write32(eaSeg, eaOff + 4, r[1]);
                    setFlag(ZF, true);
                } else {
                    write32(eaSeg, eaOff, lo);
                    write32(eaSeg, eaOff + 4, hi);
                    r[0] = lo;
                    r[2] = hi;
                    setFlag(ZF, false);
                }
                return;
            }
            case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF:
                if (o32) r[op & 7] = Integer.reverseBytes(r[op & 7]);
                else setReg16(op & 7, 0);
                return;
            default:
                throw fault(UD);
        }
    }

    public final void needCpl0() {
        if (cpl != 0) throw fault(GP, 0);
    }

    final void bitOp(int op) {
        int m = modrm();
        int sz = o32 ? 4 : 2;
        int bitoff = getReg((m >> 3) & 7, sz);
        int k = op == 0xA3 ? 0 : op == 0xAB ? 1 : op == 0xB3 ? 2 : 3;
        if (m >= 0xC0) {
            int v = getReg(m & 7, sz);
            int nv = bitApply(k, v, bitoff & (sz * 8 - 1));
            if (k != 0) setReg(m & 7, sz, nv);
            return;
        }
        int b = sz == 4 ? bitoff : (short) bitoff;
        int off = eaOff + (b >> (sz == 4 ? 5 : 4)) * sz;
        if (!a32) off &= 0xFFFF;
        int v = k != 0 ? rmwSz(eaSeg, off, sz) : readSz(eaSeg, off, sz);
        int nv = bitApply(k, v, b & (sz * 8 - 1));
        if (k != 0) writeSz(eaSeg, off, sz, nv);
    }

    final int bitApply(int k, int v, int bit) {
        int mask = 1 << bit;
        setFlag(CF, (v & mask) != 0);
        switch (k) {
            case 1: return v | mask;
            case 2: return v & ~mask;
            case 3: return v ^ mask;
            default: return v;
        }
    }

    final void bitOpImm() {
        int m = modrm();
        int k = (m >> 3) & 7;
        if (k < 4) throw fault(UD);
        int sz = o32 ? 4 : 2;
        int bit = fetch8() & (sz * 8 - 1);
        int v = k != 4 ? rmwRead(m, sz) : rmRead(m, sz);
        int nv = bitApply(k - 4, v, bit);
        if (k != 4) rmWrite(m, sz, nv);
    }

    final void shiftDouble(int op) {
        int m = modrm();
        int sz = o32 ? 4 : 2;
        int cnt = ((op & 1) == 0 ? fetch8() : r[1]) & 31;
        int a = rmwRead(m, sz);
        if (cnt == 0) return;
        int b = getReg((m >> 3) & 7, sz);
        int bits = sz * 8;
        int res, cf;
        boolean left = op < 0xA8;
        if (sz == 4) {
            if (left) {
                res = (a << cnt) | (b >>> (32 - cnt));
                cf = (a >>> (32 - cnt)) & 1;
            } else {
                res = (a >>> cnt) | (b << (32 - cnt));
                cf = (a >>> (cnt - 1)) & 1;
            }
        } else {
            long wide = left ? ((long) (a & 0xFFFF) << 32) | ((long) (b & 0xFFFF) << 16) | (a & 0xFFFF)
                    : ((long) (a & 0xFFFF)) | ((long) (b & 0xFFFF) << 16) | ((long) (a & 0xFFFF) << 32);
            if (left) {
                long s = wide << cnt;
                res = (int) (s >>> 32) & 0xFFFF;
                cf = (int) (s >>> 48) & 1;
            } else {
                long s = wide >>> cnt;
                res = (int) s & 0xFFFF;
                cf = (int) (wide >>> (cnt - 1)) & 1;
            }
        }
        int of = ((res ^ a) >>> (bits - 1)) & 1;
        setArith(szp(res, sz) | cf | (of != 0 ? OF : 0));
        rmWrite(m, sz, res);
    }

    // ---------------------------------------------------------------- system instructions

    final void movCr(boolean toCr) {
        int m = fetch8();
        int n = (m >> 3) & 7;
        int g = m & 7;
        if (n == 1 || n > 4) throw fault(UD); // before the privilege check, as the processor does
        needCpl0();
        if (toCr) writeCr(n, r[g]);
        else r[g] = n == 0 ? cr0 : n == 2 ? cr2 : n == 3 ? cr3 : cr4;
    }

    final void writeCr(int n, int v) {
        switch (n) {
            case 0: {
                if (v < 0 && (v & 1) == 0) throw fault(GP, 0);
                if ((v & 0x40000000) == 0 && (v & 0x20000000) != 0) throw fault(GP, 0);
                int old = cr0;
                cr0 = v | 0x10;
                if (((old ^ cr0) & 0x80010001) != 0) flushTlbAll();
                updateAc();
                limit = 0;
                return;
            }
            case 2: cr2 = v; return;
            case 3: cr3 = v; flushTlbNonGlobal(); return;
            case 4: {
                if ((v & ~(0x4 | 0x8 | 0x10 | 0x80 | 0x100 | 0x200 | 0x400)) != 0) throw fault(GP, 0);
                int old = cr4;
                cr4 = v;
                if (((old ^ v) & 0xB0) != 0) flushTlbAll();
                return;
            }
            default: throw fault(UD);
        }
    }

    final void movDr(boolean toDr) {
        int m = fetch8();
        needCpl0();
        int n = (m >> 3) & 7;
        if (n == 4 || n == 5) n += 2;
        if (toDr) dr[n] = r[m & 7];
        else r[m & 7] = n == 6 ? dr[6] | 0xFFFF0FF0 : n == 7 ? dr[7] | 0x400 : dr[n];
    }

    final void grp6() {
        int m = modrm();
        int k = (m >> 3) & 7;
        switch (k) {
            case 0: case 1: {
                int v = k == 0 ? ldtSel : trSel;
                if (m >= 0xC0) setReg(m & 7, o32 ? 4 : 2, v);
                else write16(eaSeg, eaOff, v);
                return;
            }
            case 2: { // LLDT
                needCpl0();
                int s = rmRead(m, 2);
                if ((s & 0xFFFC) == 0) {
                    ldtSel = 0;
                    ldtBase = 0;
                    ldtLimit = 0;
                    return;
                }
                if ((s & 4) != 0) throw fault(GP, s & 0xFFFC);
                if (!readDesc(s)) throw fault(GP, s & 0xFFFC);
                if ((dHi & 0x1F00) != 0x0200) throw fault(GP, s & 0xFFFC);
                if ((dHi & 0x8000) == 0) throw fault(NP, s & 0xFFFC);
                ldtSel = s;
                ldtBase = descBase(dLo, dHi);
                ldtLimit = descLimit(dLo, dHi);
                return;
            }
            case 3: { // LTR
                needCpl0();
                int s = rmRead(m, 2);
                if ((s & 0xFFFC) == 0) throw fault(GP, 0);
                if ((s & 4) != 0) throw fault(GP, s & 0xFFFC);
                if (!readDesc(s)) throw fault(GP, s & 0xFFFC);
                int t = (dHi >> 8) & 0x1F;
                if (t != 0x09 && t != 0x01) throw fault(GP, s & 0xFFFC);
                if ((dHi & 0x8000) == 0) throw fault(NP, s & 0xFFFC);
                dHi |= 0x200;
                sysWrite8(gdtBase + (s & 0xFFF8) + 5, dHi >>> 8);
                trSel = s;
                trBase = descBase(dLo, dHi);
                trLimit = descLimit(dLo, dHi);
                trAcc = descAccess(dHi);
                return;
            }
            case 4: case 5: { // VERR / VERW
                int s = rmRead(m, 2);
                boolean ok = false;
                if ((s & 0xFFFC) != 0 && readDesc(s) && (dHi & 0x1000) != 0) {
                    int dpl = (dHi >> 13) & 3;
                    boolean code = (dHi & 0x800) != 0;
                    boolean conforming = code && (dHi & 0x400) != 0;
                    boolean priv = conforming || (dpl >= cpl && dpl >= (s & 3));
                    if (k == 4) ok = priv && (!code || (dHi & 0x200) != 0);
                    else ok = priv && !code && (dHi & 0x200) != 0;
                }
                setFlag(ZF, ok);
                return;
            }
            default: throw fault(UD);
        }
    }

    final void grp7() {
        int m = modrm();
        int k = (m >> 3) & 7;
        switch (k) {
            case 0: case 1: {
                if (m >= 0xC0) throw fault(UD);
                int lim = k == 0 ? gdtLimit : idtLimit, base = k == 0 ? gdtBase : idtBase;
                lin(eaSeg, eaOff, 6, 2);
                write16(eaSeg, eaOff, lim);
                write32(eaSeg, eaOff + 2, o32 ? base : base & 0xFFFFFF);
                return;
            }
            case 2: case 3: {
                if (m >= 0xC0) throw fault(UD);
                needCpl0();
                int lim = read16(eaSeg, eaOff);
                int base = read32(eaSeg, eaOff + 2);
                if (!o32) base &= 0xFFFFFF;
                if (k == 2) { gdtBase = base; gdtLimit = lim; }
                else { idtBase = base; idtLimit = lim; }
                return;
            }
            case 4:
                if (m >= 0xC0) setReg(m & 7, o32 ? 4 : 2, cr0);
                else write16(eaSeg, eaOff, cr0);
                return;
            case 6: {
                needCpl0();
                int v = rmRead(m, 2);
                writeCr(0, (cr0 & ~0xE) | (v & 0xF) | (cr0 & 1));
                return;
            }
            case 7:
                if (m >= 0xC0) throw fault(UD);
                needCpl0();
                flushTlbPage(sbase[eaSeg] + eaOff);
                return;
            default: throw fault(UD);
        }
    }

    final void larLsl(boolean lar) {
        int m = modrm();
        int s = rmRead(m, 2);
        boolean ok = false;
        int v = 0;
        if ((s & 0xFFFC) != 0 && readDesc(s)) {
            int dpl = (dHi >> 13) & 3;
            boolean valid;
            if ((dHi & 0x1000) != 0) {
                boolean conforming = (dHi & 0xC00) == 0xC00;
                valid = conforming || (dpl >= cpl && dpl >= (s & 3));
            } else {
                int t = (dHi >> 8) & 0xF;
                boolean typeOk = lar ? (t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 9 || t == 0xB || t == 0xC)
                        : (t == 1 || t == 2 || t == 3 || t == 9 || t == 0xB);
                valid = typeOk && dpl >= cpl && dpl >= (s & 3);
            }
            if (valid) {
                ok = true;
                v = lar ? dHi & 0x00FFFF00 : descLimit(dLo, dHi);
            }
        }
        if (ok) setReg((m >> 3) & 7, o32 ? 4 : 2, lar && !o32 ? v & 0xFF00 : v);
        setFlag(ZF, ok);
    }
}
