package org.lguest.cpu.impl.interpret;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.decode.Insn;
import org.lguest.cpu.impl.decode.Kind;
import org.lguest.cpu.impl.decode.PreDecoder;

/**
 * The fast path: instructions pre-decoded once per code page (keyed by the
 * frame, so it works with and without paging) by the {@link PreDecoder},
 * and executed from their {@link Insn} records. Only the common forms are
 * pre-decoded; anything else (and every instruction in a 16-bit code
 * segment, or crossing a page) is a GENERIC record that runs through
 * {@link #step()}.
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

    /**
     * A running region of {@code length} instructions whose budget ran out
     * at a back edge asks for more ({@code retired}: what it retired so
     * far): the new budget, or {@code retired} when it must leave (the
     * caller's budget is near, or an exit was requested). So a long loop
     * leaves only when the run loop has something to do, not every chunk.
     */
    public abstract int extendBudget(int retired, int length);

    /**
     * A region whose count of retired instructions reached {@link #BANK_AT}
     * moves it into the processor's own count (and takes it off its budget):
     * a region's count is an int, and a long run through nested calls would
     * otherwise wrap it or have to leave (unwinding every call) to keep it
     * small.
     */
    public abstract void bank(int retired);

    /** The count at which a region banks what it retired (after a nested call or at a back edge). */
    public static final int BANK_AT = 1 << 28;

    // ---------------------------------------------------------------- guest calls between regions

    /** What {@link #callFunction} did: the callee was not run (the caller goes on as before), or it ran. */
    public static final int CALL_NOT_MADE = 0, CALL_RETURNED = 1, CALL_LEFT = 2;
    /** No call is expected to return: what a region entered from the run loop compares its returns with. */
    public static final int NO_RETURN = 1;
    /** set by {@link #callFunction}: CALL_NOT_MADE, CALL_RETURNED or CALL_LEFT */
    public int callResult;
    /** the return address the function being entered is expected to return to (read once, on entry) */
    public int fnReturn = NO_RETURN;
    /** set by a region whose {@code ret} went to the address it was called to return to */
    public boolean fnReturned;
    /** a fault is on its way out of nested regions: the innermost one has written the processor's state */
    public boolean unwinding;

    /**
     * A region's direct or indirect {@code call} (return address already
     * pushed, registers and flags written to the processor): runs the region
     * of the function at {@code target} as a nested JVM call, when there is
     * one (compiling it once the call is hot), the nesting is shallow enough
     * and budget is left. {@code ret} is where the call returns, {@code count}
     * what the caller retired so far, {@code budget} its budget and
     * {@code length} its length (what it may run after the callee returns
     * before it looks at its budget again). Returns
     * the caller's count plus what the callee retired, and says in
     * {@link #callResult} whether the callee returned to {@code ret}
     * (registers, flags and EIP in the processor; the caller reloads them and
     * goes on), left for the run loop (the caller returns at once) or was not
     * run (the caller goes on to the target itself).
     */
    public abstract int callFunction(int target, int ret, int count, int budget, int length);

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

    private final PreDecoder preDecoder = new PreDecoder();

    /** Decodes the instruction at offset off of page p (32-bit code segment): see {@link PreDecoder}. */
    public final Insn decodeAt(byte[] p, int off) {
        return preDecoder.decodeAt(p, off);
    }
}
