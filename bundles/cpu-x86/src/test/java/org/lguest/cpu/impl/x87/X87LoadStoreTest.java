package org.lguest.cpu.impl.x87;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class X87LoadStoreTest {
    final X87TestHost host = new X87TestHost();
    final X87 fpu = new X87(host);
    static final int DS = 3;

    void exec(int op, int modrm, int off) {
        fpu.execute(op, modrm, DS, off, true);
    }

    @Test
    void resetGivesFninitState() {
        assertEquals(0x037F, fpu.controlWord());
        assertEquals(0, fpu.statusWord());
        assertEquals(0xFFFF, fpu.tagWord());
        assertFalse(fpu.hasPendingException());
    }

    @Test
    void fnstcwAndFldcwRoundTrip() {
        host.writeWord(0, 0x100, 0x0C7F);
        exec(0xD9, 0x2D, 0x100); // FLDCW [0x100]  (/5)
        exec(0xD9, 0x3D, 0x102); // FNSTCW [0x102] (/7)
        assertEquals(0x0C7F, host.readWord(0, 0x102));
    }

    @Test
    void fnstswAxReportsTop() {
        exec(0xD9, 0xE8, 0); // FLD1
        exec(0xDF, 0xE0, 0); // FNSTSW AX
        assertEquals(0x3800, host.ax, "TOP=7 after one push");
    }

    @Test
    void fldFstpM32RoundTrips() {
        int[] vals = {0, 0x80000000, 0x3F800000, 0x7F800000, 0xFF800000, 0x00000001, 0x007FFFFF, 0x7F7FFFFF, 0x7FC00001, 0x40490FDB};
        for (int v : vals) {
            host.writeDword(0, 0x100, v);
            exec(0xD9, 0x05, 0x100); // FLD m32
            exec(0xD9, 0x1D, 0x104); // FSTP m32
            assertEquals(v, host.readDword(0, 0x104), "m32 " + Integer.toHexString(v));
        }
    }

    @Test
    void fldFstpM64RoundTrips() {
        long[] vals = {0, Long.MIN_VALUE, 0x3FF0000000000000L, 0x7FF0000000000000L, 1L, 0x000FFFFFFFFFFFFFL,
            0x7FEFFFFFFFFFFFFFL, 0x7FF8000000000123L, 0x400921FB54442D18L};
        for (long v : vals) {
            host.putQ(0x100, v);
            exec(0xDD, 0x05, 0x100);
            exec(0xDD, 0x1D, 0x108);
            assertEquals(v, host.q(0x108), "m64 " + Long.toHexString(v));
        }
    }

    @Test
    void fldFstpM80RoundTripsEveryPattern() {
        int[] ses = {0, 0x8000, 0x3FFF, 0x7FFF, 0xFFFF, 0x0001, 0x4000, 0x1234};
        long[] sigs = {0, 1, Long.MIN_VALUE, 0x4000000000000000L, 0xC000000000000000L, 0x8000000000000001L, -1L, 0x123456789ABCDEFL};
        for (int se : ses) {
            for (long sig : sigs) {
                host.put80(0x100, se, sig);
                exec(0xDB, 0x2D, 0x100); // FLD m80
                exec(0xDB, 0x3D, 0x110); // FSTP m80
                assertEquals(sig, host.q(0x110), "significand of " + Integer.toHexString(se) + ":" + Long.toHexString(sig));
                assertEquals(se, host.readWord(0, 0x118), "sign/exponent of " + Integer.toHexString(se) + ":" + Long.toHexString(sig));
            }
        }
        assertEquals(0, fpu.statusWord() & 0x7F, "m80 loads and stores raise nothing");
    }

    @Test
    void fildFistpM64RoundTripsBoundaryIntegers() {
        long[] vals = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, (1L << 53) + 1, -(1L << 53) - 1, (1L << 63) - 2,
            Long.MIN_VALUE + 1, 0x123456789ABCDEF0L, 0xFEDCBA9876543210L};
        for (long v : vals) {
            host.putQ(0x100, v);
            exec(0xDF, 0x2D, 0x100); // FILD m64
            exec(0xDF, 0x3D, 0x108); // FISTP m64
            assertEquals(v, host.q(0x108), "m64int " + v);
        }
        assertEquals(0, fpu.statusWord() & 0x3F, "no exception from exact integer round trips");
    }
}
