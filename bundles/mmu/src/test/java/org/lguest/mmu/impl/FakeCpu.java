package org.lguest.mmu.impl;

import java.util.ArrayList;
import java.util.List;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * A processor that only remembers what the MMU told it: TLB invalidations,
 * flushes and host writes. CR3 is whatever the test loads.
 */
final class FakeCpu implements Cpu {
    record Write(long address, int length) {
    }

    final List<Integer> invalidated = new ArrayList<>();
    final List<Write> written = new ArrayList<>();
    int flushes;
    int mapChanges;
    private final int[] cr = new int[5];

    void forget() {
        invalidated.clear();
        written.clear();
        flushes = 0;
    }

    @Override public int reg(int r) { return 0; }
    @Override public void setReg(int r, int value) { }
    @Override public int eip() { return 0; }
    @Override public void setEip(int eip) { }
    @Override public int eflags() { return 2; }
    @Override public void setEflags(int eflags) { }
    @Override public int cr(int n) { return cr[n]; }
    @Override public void setCr(int n, int value) { cr[n] = value; }
    @Override public int gdtBase() { return 0; }
    @Override public int gdtLimit() { return 0; }
    @Override public void setGdt(int base, int limit) { }
    @Override public int idtBase() { return 0; }
    @Override public int idtLimit() { return 0; }
    @Override public void setIdt(int base, int limit) { }
    @Override public int selector(int seg) { return 0; }
    @Override public int segmentBase(int seg) { return 0; }
    @Override public int segmentLimit(int seg) { return 0; }
    @Override public int segmentAccess(int seg) { return 0; }
    @Override public void setSegment(int seg, int selector, int base, int limit, int access) { }
    @Override public int loadSegment(int seg, int selector) { return -1; }
    @Override public void setTaskRegister(int selector, int base, int limit, int access) { }
    @Override public int taskRegisterSelector() { return 0; }
    @Override public void setLdt(int selector, int base, int limit) { }
    @Override public int cpl() { return 1; }
    @Override public void setHostRegion(int start, int end) { }
    @Override public CpuExit run(long budget) { return CpuExit.of(CpuExit.Reason.BUDGET); }
    @Override public void requestExit() { }
    @Override public long instructionsRetired() { return 0; }
    @Override public void flushTlb() { flushes++; }
    @Override public void invalidatePage(int linear) { invalidated.add(linear); }
    @Override public void physicalWritten(long address, int length) { written.add(new Write(address, length)); }
    @Override public void physicalMapChanged() { mapChanges++; }
    @Override public void saveFpu(byte[] into108) { }
    @Override public void restoreFpu(byte[] from108) { }
}
