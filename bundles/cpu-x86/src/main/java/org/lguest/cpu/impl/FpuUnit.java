package org.lguest.cpu.impl;

/**
 * The core's handle on the x87 unit. Until the X87 class is merged this is a
 * processor without a floating-point unit: ESC opcodes raise #NM and CPUID
 * does not advertise FPU or FXSR.
 */
final class FpuUnit {
    private FpuUnit() {
    }

    static FpuUnit create(FpuHost host) {
        return new FpuUnit();
    }

    boolean present() {
        return false;
    }

    boolean hasFxsr() {
        return false;
    }

    void reset() {
    }

    void execute(int op, int modrm, int seg, int offset, boolean op32) {
    }

    boolean hasPendingException() {
        return false;
    }

    void fxsave(int seg, int offset) {
    }

    void fxrstor(int seg, int offset) {
    }

    /** The FNINIT state in FNSAVE layout. */
    void fnsave(byte[] into108) {
        java.util.Arrays.fill(into108, 0, 108, (byte) 0);
        into108[0] = 0x7F;
        into108[1] = 0x03;
        into108[8] = (byte) 0xFF;
        into108[9] = (byte) 0xFF;
    }

    void frstor(byte[] from108) {
    }
}
