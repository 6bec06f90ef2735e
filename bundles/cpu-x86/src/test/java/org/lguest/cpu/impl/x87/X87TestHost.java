package org.lguest.cpu.impl.x87;

/** A flat byte-array FpuHost for the x87 tests: every segment has base 0. */
final class X87TestHost implements FpuHost {
    final byte[] mem = new byte[0x10000];
    int ax = -1;
    int eflags = 0x2;
    int compareFlags = -1;
    int eip = 0x1234;
    int cs = 0x0023;
    int[] selectors = {0x2B, 0x23, 0x2B, 0x2B, 0x00, 0x33};
    /** Offsets at or above this fault on write (checkWritable and writes). */
    int writeLimit = Integer.MAX_VALUE;

    static final class Fault extends RuntimeException {
        Fault(String m) {
            super(m);
        }
    }

    private void checkW(int offset, int len) {
        if (offset < 0 || offset + len > writeLimit) {
            throw new Fault("write fault at " + Integer.toHexString(offset));
        }
    }

    @Override
    public int readByte(int seg, int offset) {
        return mem[offset] & 0xFF;
    }

    @Override
    public int readWord(int seg, int offset) {
        return readByte(seg, offset) | readByte(seg, offset + 1) << 8;
    }

    @Override
    public int readDword(int seg, int offset) {
        return readWord(seg, offset) | readWord(seg, offset + 2) << 16;
    }

    @Override
    public void writeByte(int seg, int offset, int value) {
        checkW(offset, 1);
        mem[offset] = (byte) value;
    }

    @Override
    public void writeWord(int seg, int offset, int value) {
        checkW(offset, 2);
        mem[offset] = (byte) value;
        mem[offset + 1] = (byte) (value >>> 8);
    }

    @Override
    public void writeDword(int seg, int offset, int value) {
        checkW(offset, 4);
        writeWord(seg, offset, value);
        writeWord(seg, offset + 2, value >>> 16);
    }

    @Override
    public void checkWritable(int seg, int offset, int length) {
        checkW(offset, length);
    }

    @Override
    public void setAx(int value) {
        ax = value & 0xFFFF;
    }

    @Override
    public int eflags() {
        return eflags;
    }

    @Override
    public void setCompareFlags(int zpc) {
        compareFlags = zpc;
    }

    @Override
    public int instructionEip() {
        return eip;
    }

    @Override
    public int codeSelector() {
        return cs;
    }

    @Override
    public int selector(int seg) {
        return selectors[seg];
    }

    long q(int off) {
        return (readDword(0, off) & 0xFFFFFFFFL) | ((long) readDword(0, off + 4) << 32);
    }

    void putQ(int off, long v) {
        writeDword(0, off, (int) v);
        writeDword(0, off + 4, (int) (v >>> 32));
    }

    void put80(int off, int se, long sig) {
        putQ(off, sig);
        writeWord(0, off + 8, se);
    }
}
