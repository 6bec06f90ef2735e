package org.lguest.cpu.impl.system;

import org.lguest.cpu.IoPorts;
import org.lguest.cpu.PhysicalMemory;
import org.lguest.cpu.impl.CpuState;
import org.lguest.cpu.impl.Fault;

/**
 * Protected-mode system architecture: descriptors, segment loads, the stack,
 * far transfers through call gates, IRET, exception and interrupt delivery
 * with the TSS stack switch, I/O permission.
 */
public abstract class SysOps extends CpuState {
    public int dLo, dHi; // last descriptor read

    // host region
    public int hostStart, hostEnd;
    public boolean hostExit;
    public int hostVector, hostError;
    public boolean hostHasError;

    public SysOps(PhysicalMemory mem, IoPorts io) {
        super(mem, io);
    }

    // ---------------------------------------------------------------- stack

    public final int sp() {
        return ssB ? r[4] : r[4] & 0xFFFF;
    }

    public final void setSp(int v) {
        if (ssB) r[4] = v;
        else setReg16(4, v);
    }

    public final void push32(int v) {
        int sp = r[4] - 4;
        if (!ssB) sp &= 0xFFFF;
        write32(2, sp, v);
        setSp(sp);
    }

    public final void push16(int v) {
        int sp = r[4] - 2;
        if (!ssB) sp &= 0xFFFF;
        write16(2, sp, v);
        setSp(sp);
    }

    public final void push(int v, boolean o32) {
        if (o32) push32(v);
        else push16(v);
    }

    public final int pop32() {
        int v = read32(2, sp());
        setSp(r[4] + 4);
        return v;
    }

    public final int pop16() {
        int v = read16(2, sp());
        setSp(r[4] + 2);
        return v;
    }

    final int pop(boolean o32) {
        return o32 ? pop32() : pop16();
    }

    // ---------------------------------------------------------------- descriptors

    /** Reads the descriptor of selector into dLo/dHi; false if beyond the table limit. */
    public final boolean readDesc(int selector) {
        int base, limit;
        if ((selector & 4) != 0) {
            if ((ldtSel & 0xFFFC) == 0) return false;
            base = ldtBase;
            limit = ldtLimit;
        } else {
            base = gdtBase;
            limit = gdtLimit;
        }
        int idx = selector & 0xFFF8;
        if (Integer.compareUnsigned(idx + 7, limit) > 0) return false;
        dLo = sysRead32(base + idx);
        dHi = sysRead32(base + idx + 4);
        return true;
    }

    public static int descBase(int lo, int hi) {
        return (lo >>> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000);
    }

    public static int descLimit(int lo, int hi) {
        int l = (lo & 0xFFFF) | (hi & 0xF0000);
        return (hi & 0x800000) != 0 ? (l << 12) | 0xFFF : l;
    }

    public static int descAccess(int hi) {
        return hi & 0x00FFFF00;
    }

    public final void setAccessed(int selector) {
        if ((dHi & 0x100) != 0) return;
        int base = (selector & 4) != 0 ? ldtBase : gdtBase;
        dHi |= 0x100;
        sysWrite8(base + (selector & 0xFFF8) + 5, dHi >>> 8);
    }

    /** MOV/POP to DS, ES, FS, GS. */
    final void loadDataSeg(int s, int selector) {
        selector &= 0xFFFF;
        if ((selector & 0xFFFC) == 0) {
            cacheSegment(s, selector, 0, 0, 0);
            return;
        }
        int err = selector & 0xFFFC;
        if (!readDesc(selector)) throw fault(GP, err);
        int hi = dHi;
        int type = (hi >> 8) & 0x1F; // S + type
        if ((type & 0x10) == 0 || (type & 0x0A) == 0x08) throw fault(GP, err); // system, or execute-only code
        int dpl = (hi >> 13) & 3;
        boolean conformingCode = (type & 0x0C) == 0x0C;
        if (!conformingCode && (dpl < cpl || dpl < (selector & 3))) throw fault(GP, err);
        if ((hi & 0x8000) == 0) throw fault(NP, err);
        setAccessed(selector);
        cacheSegment(s, selector, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
    }

    final void loadSS(int selector) {
        selector &= 0xFFFF;
        if ((selector & 0xFFFC) == 0) throw fault(GP, 0);
        int err = selector & 0xFFFC;
        if ((selector & 3) != cpl) throw fault(GP, err);
        if (!readDesc(selector)) throw fault(GP, err);
        int type = (dHi >> 8) & 0x1F;
        if ((type & 0x1A) != 0x12 || ((dHi >> 13) & 3) != cpl) throw fault(GP, err);
        if ((dHi & 0x8000) == 0) throw fault(SS_V, err);
        setAccessed(selector);
        cacheSegment(2, selector, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
    }

    public final void loadSeg(int s, int selector) {
        if (s == 2) loadSS(selector);
        else loadDataSeg(s, selector);
    }

    /** Sets CS (and CPL) from the descriptor in dLo/dHi. */
    public final void setCS(int selector, int newCpl) {
        setCpl(newCpl);
        cacheSegment(1, (selector & 0xFFFC) | newCpl, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
    }

    /** After a return to an outer level: data segments the new CPL may not use become null. */
    final void nullInaccessible() {
        for (int s : new int[] {0, 3, 4, 5}) {
            int a = sacc[s];
            int type = (a >> 8) & 0x1F;
            boolean dataOrNc = (type & 0x18) == 0x10 || (type & 0x1C) == 0x18;
            if (sperm[s] != 0 && dataOrNc && ((a >> 13) & 3) < cpl) cacheSegment(s, 0, 0, 0, 0);
        }
    }

    /** Checks a code-segment descriptor in dLo/dHi as a target of a direct far JMP/CALL; returns the new CPL. */
    public final int checkDirectCode(int selector) {
        int err = selector & 0xFFFC;
        int dpl = (dHi >> 13) & 3;
        if ((dHi & 0x1800) != 0x1800) throw fault(GP, err);
        if ((dHi & 0x400) != 0) { // conforming
            if (dpl > cpl) throw fault(GP, err);
        } else if ((selector & 3) > cpl || dpl != cpl) throw fault(GP, err);
        if ((dHi & 0x8000) == 0) throw fault(NP, err);
        return cpl;
    }

    /** Far JMP (call == false) or far CALL. */
    public final void farTransfer(int selector, int offset, boolean o32, boolean call, int retEip) {
        selector &= 0xFFFF;
        if ((selector & 0xFFFC) == 0) throw fault(GP, 0);
        int err = selector & 0xFFFC;
        if (!readDesc(selector)) throw fault(GP, err);
        if ((dHi & 0x1000) != 0) {
            checkDirectCode(selector);
            int lim = descLimit(dLo, dHi);
            if (!o32) offset &= 0xFFFF;
            if (Integer.compareUnsigned(offset, lim) > 0) throw fault(GP, 0);
            if (call) {
                int oldCs = sel[1];
                // push then commit
                int sp = r[4];
                push(oldCs, o32);
                try {
                    push(retEip, o32);
                } catch (Fault f) {
                    r[4] = sp;
                    throw f;
                }
            }
            setAccessed(selector);
            setCS(selector, cpl);
            eip = offset;
            return;
        }
        int type = (dHi >> 8) & 0xF;
        int gdpl = (dHi >> 13) & 3;
        if (type == 4 || type == 0xC) {
            if (gdpl < cpl || gdpl < (selector & 3)) throw fault(GP, err);
            if ((dHi & 0x8000) == 0) throw fault(NP, err);
            boolean g32 = type == 0xC;
            int target = dLo >>> 16;
            int toff = (dLo & 0xFFFF) | (g32 ? dHi & 0xFFFF0000 : 0);
            int params = dHi & 0x1F;
            if ((target & 0xFFFC) == 0) throw fault(GP, 0);
            int terr = target & 0xFFFC;
            if (!readDesc(target)) throw fault(GP, terr);
            int dpl = (dHi >> 13) & 3;
            if ((dHi & 0x1800) != 0x1800 || dpl > cpl) throw fault(GP, terr);
            boolean conforming = (dHi & 0x400) != 0;
            if (!call && !conforming && dpl != cpl) throw fault(GP, terr);
            if ((dHi & 0x8000) == 0) throw fault(NP, terr);
            int lim = descLimit(dLo, dHi);
            if (Integer.compareUnsigned(toff, lim) > 0) throw fault(GP, 0);
            int cLo = dLo, cHi = dHi;
            if (call && !conforming && dpl < cpl) {
                callGateInner(target, toff, dpl, g32, params, retEip, cLo, cHi);
                return;
            }
            if (call) {
                int sp = r[4];
                try {
                    push(sel[1], g32);
                    push(retEip, g32);
                } catch (Fault f) {
                    r[4] = sp;
                    throw f;
                }
            }
            dLo = cLo;
            dHi = cHi;
            setAccessed(target);
            setCS(target, cpl);
            eip = toff;
            return;
        }
        // task gates and TSS descriptors: task switching is not implemented
        throw fault(GP, err);
    }

    private void callGateInner(int target, int toff, int dpl, boolean g32, int params, int retEip, int cLo, int cHi) {
        int[] st = readTssStack(dpl, false);
        int nss = st[0], nesp = st[1];
        int nLo = dLo, nHi = dHi; // new SS descriptor
        int oldSs = sel[2], oldEsp = r[4], oldCpl = cpl;
        boolean oldB = ssB;
        int n = g32 ? 4 : 2;
        // copy parameters from the old stack
        int[] copy = new int[params];
        for (int i = 0; i < params; i++) {
            int off = (oldB ? oldEsp : oldEsp & 0xFFFF) + i * n;
            if (!oldB) off &= 0xFFFF;
            copy[i] = g32 ? read32(2, off) : read16(2, off);
        }
        int[] saveSel = sel.clone(), saveBase = sbase.clone(), saveLim = slimit.clone(), saveAcc = sacc.clone();
        try {
            setCpl(dpl);
            cacheSegment(2, nss, descBase(nLo, nHi), descLimit(nLo, nHi), descAccess(nHi));
            r[4] = nesp;
            push(oldSs, g32);
            push(oldEsp, g32);
            for (int i = params - 1; i >= 0; i--) push(copy[i], g32);
            push(saveSel[1], g32);
            push(retEip, g32);
        } catch (Fault f) {
            setCpl(oldCpl);
            cacheSegment(2, saveSel[2], saveBase[2], saveLim[2], saveAcc[2]);
            r[4] = oldEsp;
            throw f;
        }
        dLo = cLo;
        dHi = cHi;
        setAccessed(target);
        setCS(target, dpl);
        eip = toff;
    }

    /**
     * Reads SS:ESP for privilege level dpl from the TSS and checks the new SS
     * (its descriptor is left in dLo/dHi). Returns {ss, esp}.
     */
    final int[] readTssStack(int dpl, boolean ext) {
        int e = ext ? 1 : 0;
        int type = (trAcc >> 8) & 0xF;
        int ss, esp;
        if (type == 9 || type == 0xB) {
            int off = 4 + dpl * 8;
            if (Integer.compareUnsigned(off + 5, trLimit) > 0) throw fault(TS, (trSel & 0xFFFC) | e);
            esp = sysRead32(trBase + off);
            ss = sysRead16(trBase + off + 4);
        } else if (type == 1 || type == 3) {
            int off = 2 + dpl * 4;
            if (Integer.compareUnsigned(off + 3, trLimit) > 0) throw fault(TS, (trSel & 0xFFFC) | e);
            esp = sysRead16(trBase + off);
            ss = sysRead16(trBase + off + 2);
        } else {
            throw fault(TS, (trSel & 0xFFFC) | e);
        }
        int err = (ss & 0xFFFC) | e;
        if ((ss & 0xFFFC) == 0) throw fault(TS, e);
        if ((ss & 3) != dpl) throw fault(TS, err);
        if (!readDesc(ss)) throw fault(TS, err);
        if ((dHi & 0x1A00) != 0x1200 || ((dHi >> 13) & 3) != dpl) throw fault(TS, err);
        if ((dHi & 0x8000) == 0) throw fault(SS_V, err);
        setAccessed(ss);
        return new int[] {ss, esp};
    }

    /** Far RET (and RET imm). */
    public final void farReturn(boolean o32, int imm) {
        int n = o32 ? 4 : 2;
        int s = sp();
        int neip = o32 ? read32(2, s) : read16(2, s);
        int ncs = (o32 ? read32(2, ssB ? s + 4 : (s + 4) & 0xFFFF) : read16(2, ssB ? s + 2 : (s + 2) & 0xFFFF)) & 0xFFFF;
        if (tlbUser == TLB_AC && (ncs & 3) != cpl) {
            // a return to another privilege level (by RPL): the host processor reads the outer SS:ESP (past
            // the imm16 bytes) before it checks the CS selector, so a misaligned slot is #AC even when the
            // selector is null or its RPL is below CPL (seen in the differential tests)
            int o = s + 2 * n + imm;
            alignCheck(sbase[2] + (ssB ? o : o & 0xFFFF), n);
        }
        if ((ncs & 0xFFFC) == 0) throw fault(GP, 0);
        int err = ncs & 0xFFFC;
        int rpl = ncs & 3;
        if (rpl < cpl) throw fault(GP, err);
        if (!readDesc(ncs)) throw fault(GP, err);
        int dpl = (dHi >> 13) & 3;
        if ((dHi & 0x1800) != 0x1800) throw fault(GP, err);
        if ((dHi & 0x400) != 0 ? dpl > rpl : dpl != rpl) throw fault(GP, err);
        if ((dHi & 0x8000) == 0) throw fault(NP, err);
        if (!o32) neip &= 0xFFFF;
        if (Integer.compareUnsigned(neip, descLimit(dLo, dHi)) > 0) throw fault(GP, 0);
        int cLo = dLo, cHi = dHi;
        if (rpl == cpl) {
            setSp(r[4] + 2 * n + imm);
            setAccessed(ncs);
            setCS(ncs, cpl);
            eip = neip;
            return;
        }
        int s2 = s + 2 * n + imm;
        if (!ssB) s2 &= 0xFFFF;
        int nesp = o32 ? read32(2, s2) : read16(2, s2);
        int nss = (o32 ? read32(2, s2 + 4) : read16(2, s2 + 2)) & 0xFFFF;
        checkOuterSS(nss, rpl);
        int sLo = dLo, sHi = dHi;
        dLo = cLo;
        dHi = cHi;
        setAccessed(ncs);
        setCS(ncs, rpl);
        cacheSegment(2, nss, descBase(sLo, sHi), descLimit(sLo, sHi), descAccess(sHi));
        setAccessedRaw(nss, sHi);
        if (ssB) r[4] = nesp + imm;
        else setReg16(4, nesp + imm);
        eip = neip;
        nullInaccessible();
    }

    private void setAccessedRaw(int selector, int hi) {
        dHi = hi;
        setAccessed(selector);
    }

    private void checkOuterSS(int nss, int rpl) {
        if ((nss & 0xFFFC) == 0) throw fault(GP, 0);
        int err = nss & 0xFFFC;
        if ((nss & 3) != rpl) throw fault(GP, err);
        if (!readDesc(nss)) throw fault(GP, err);
        if ((dHi & 0x1A00) != 0x1200 || ((dHi >> 13) & 3) != rpl) throw fault(GP, err);
        if ((dHi & 0x8000) == 0) throw fault(SS_V, err);
    }

    /** IRET in protected mode. */
    public final void iret(boolean o32) {
        // nested task return: no task switching; the #TS names the back-link selector read from the current TSS
        if ((flags & NT) != 0) throw fault(TS, sysRead16(trBase) & 0xFFFC);
        int n = o32 ? 4 : 2;
        int s = sp();
        int neip = o32 ? read32(2, s) : read16(2, s);
        int ncs = (o32 ? read32(2, ssB ? s + 4 : (s + 4) & 0xFFFF) : read16(2, ssB ? s + 2 : (s + 2) & 0xFFFF)) & 0xFFFF;
        int nfl = o32 ? read32(2, ssB ? s + 8 : (s + 8) & 0xFFFF) : read16(2, ssB ? s + 4 : (s + 4) & 0xFFFF);
        if (o32 && (nfl & VM) != 0 && cpl == 0) throw fault(GP, 0); // virtual-8086 mode is not implemented
        if ((ncs & 0xFFFC) == 0) throw fault(GP, 0);
        int err = ncs & 0xFFFC;
        int rpl = ncs & 3;
        if (rpl < cpl) throw fault(GP, err);
        if (!readDesc(ncs)) throw fault(GP, err);
        int dpl = (dHi >> 13) & 3;
        if ((dHi & 0x1800) != 0x1800) throw fault(GP, err);
        if ((dHi & 0x400) != 0 ? dpl > rpl : dpl != rpl) throw fault(GP, err);
        if ((dHi & 0x8000) == 0) throw fault(NP, err);
        if (!o32) neip &= 0xFFFF;
        if (Integer.compareUnsigned(neip, descLimit(dLo, dHi)) > 0) throw fault(GP, 0);
        int cLo = dLo, cHi = dHi;
        int oldCpl = cpl;
        if (rpl == cpl) {
            setSp(r[4] + 3 * n);
            setAccessed(ncs);
            setCS(ncs, cpl);
            eip = neip;
            popFlagsAt(nfl, o32, oldCpl);
            return;
        }
        int s2 = s + 3 * n;
        if (!ssB) s2 &= 0xFFFF;
        int nesp = o32 ? read32(2, s2) : read16(2, s2);
        int nss = (o32 ? read32(2, s2 + 4) : read16(2, s2 + 2)) & 0xFFFF;
        checkOuterSS(nss, rpl);
        int sLo = dLo, sHi = dHi;
        dLo = cLo;
        dHi = cHi;
        setAccessed(ncs);
        setCS(ncs, rpl);
        eip = neip;
        cacheSegment(2, nss, descBase(sLo, sHi), descLimit(sLo, sHi), descAccess(sHi));
        setAccessedRaw(nss, sHi);
        if (o32) r[4] = nesp;
        else setReg16(4, nesp);
        popFlagsAt(nfl, o32, oldCpl);
        nullInaccessible();
    }

    /** POPF/IRET flag update rules at privilege oldCpl. */
    public final void popFlagsAt(int v, boolean o32, int oldCpl) {
        int mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
        if (o32) mask |= RF | AC | ID;
        int iopl = (flags >> 12) & 3;
        if (oldCpl == 0) mask |= IOPL;
        if (oldCpl <= iopl) mask |= IF;
        writeFlags(v, mask);
    }

    // ---------------------------------------------------------------- exceptions

    public static boolean contributory(int v) {
        return v == 0 || (v >= 10 && v <= 13);
    }

    /**
     * Delivers vector through the IDT. soft: INT n / INT3 / INTO (gate DPL checked);
     * ext: the EXT bit for error codes of faults raised during delivery.
     * Sets hostExit instead when the gate leads into the host region.
     */
    public final void deliver(int vector, int error, boolean hasError, boolean soft) {
        int e = soft ? 0 : 1;
        int gidx = vector * 8;
        int gerr = gidx | 2 | e;
        if (Integer.compareUnsigned(gidx + 7, idtLimit) > 0) throw fault(GP, gerr);
        int lo = sysRead32(idtBase + gidx), hi = sysRead32(idtBase + gidx + 4);
        int type = (hi >> 8) & 0x1F;
        if (type != 0x0E && type != 0x0F && type != 0x06 && type != 0x07) {
            throw fault(GP, gerr); // task gates (5) are not implemented; anything else is invalid
        }
        if (soft && ((hi >> 13) & 3) < cpl) throw fault(GP, gidx | 2);
        if ((hi & 0x8000) == 0) throw fault(NP, gerr);
        boolean g32 = (type & 8) != 0;
        int target = lo >>> 16;
        int toff = (lo & 0xFFFF) | (g32 ? hi & 0xFFFF0000 : 0);
        if ((target & 0xFFFC) == 0) throw fault(GP, e);
        int terr = (target & 0xFFFC) | e;
        if (!readDesc(target)) throw fault(GP, terr);
        int dpl = (dHi >> 13) & 3;
        if ((dHi & 0x1800) != 0x1800 || dpl > cpl) throw fault(GP, terr);
        if ((dHi & 0x8000) == 0) throw fault(NP, terr);
        int tlin = descBase(dLo, dHi) + toff;
        if (hostStart != hostEnd && Integer.compareUnsigned(tlin - hostStart, hostEnd - hostStart) < 0) {
            hostExit = true;
            hostVector = vector;
            hostError = error;
            hostHasError = hasError;
            return;
        }
        if (Integer.compareUnsigned(toff, descLimit(dLo, dHi)) > 0) throw fault(GP, e);
        int cLo = dLo, cHi = dHi;
        boolean conforming = (cHi & 0x400) != 0;
        int oldFlags = getFlags();
        int oldCs = sel[1], oldEip = eip, oldCpl = cpl, oldEsp = r[4], oldSs = sel[2];
        int[] saveSs = {sel[2], sbase[2], slimit[2], sacc[2]};
        if (!conforming && dpl < cpl) {
            int[] st = readTssStack(dpl, !soft);
            int nLo = dLo, nHi = dHi;
            try {
                setCpl(dpl);
                cacheSegment(2, st[0], descBase(nLo, nHi), descLimit(nLo, nHi), descAccess(nHi));
                r[4] = st[1];
                push(oldSs, g32);
                push(oldEsp, g32);
                push(oldFlags, g32);
                push(oldCs, g32);
                push(oldEip, g32);
                if (hasError) push(error, g32);
            } catch (Fault f) {
                setCpl(oldCpl);
                cacheSegment(2, saveSs[0], saveSs[1], saveSs[2], saveSs[3]);
                r[4] = oldEsp;
                throw f;
            }
        } else {
            try {
                push(oldFlags, g32);
                push(oldCs, g32);
                push(oldEip, g32);
                if (hasError) push(error, g32);
            } catch (Fault f) {
                r[4] = oldEsp;
                throw f;
            }
            dpl = cpl;
        }
        dLo = cLo;
        dHi = cHi;
        setAccessed(target);
        setCS(target, dpl);
        eip = toff;
        int f = oldFlags & ~(TF | NT | RF | VM);
        if ((type & 1) == 0) f &= ~IF;
        flags = f;
        lop = L_EAGER;
        updateAc();
    }

    // ---------------------------------------------------------------- I/O permission

    public final void checkIo(int port, int size) {
        int iopl = (flags >> 12) & 3;
        if (cpl <= iopl) return;
        int type = (trAcc >> 8) & 0xF;
        if ((type != 9 && type != 0xB) || Integer.compareUnsigned(trLimit, 0x67) < 0) throw fault(GP, 0);
        int base = sysRead16(trBase + 0x66);
        int off = base + (port >>> 3);
        if (Integer.compareUnsigned(off + 1, trLimit) > 0) throw fault(GP, 0);
        int bits = sysRead16(trBase + off);
        int mask = ((1 << size) - 1) << (port & 7);
        if ((bits & mask) != 0) throw fault(GP, 0);
    }
}
