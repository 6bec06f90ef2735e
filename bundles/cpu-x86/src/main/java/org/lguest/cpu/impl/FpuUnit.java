package org.lguest.cpu.impl;

/** The core's handle on the x87 unit ({@link X87}): present, with FXSAVE/FXRSTOR. */
final class FpuUnit {
    private final X87 x87;

    private FpuUnit(FpuHost host) {
        x87 = new X87(host);
    }

    static FpuUnit create(FpuHost host) {
        return new FpuUnit(host);
    }

    boolean present() {
        return true;
    }

    boolean hasFxsr() {
        return true;
    }

    void reset() {
        x87.reset();
    }

    static boolean isDefined(int op, int modrm) {
        return X87.isDefined(op, modrm);
    }

    static boolean isWaiting(int op, int modrm) {
        return X87.isWaiting(op, modrm);
    }

    void execute(int op, int modrm, int seg, int offset, boolean op32) {
        x87.execute(op, modrm, seg, offset, op32);
    }

    boolean hasPendingException() {
        return x87.hasPendingException();
    }

    void fxsave(int seg, int offset) {
        x87.fxsave(seg, offset);
    }

    void fxrstor(int seg, int offset) {
        x87.fxrstor(seg, offset);
    }

    void fnsave(byte[] into108) {
        x87.fnsave(into108);
    }

    void frstor(byte[] from108) {
        x87.frstor(from108);
    }

    X87 unit() {
        return x87;
    }
}
