package org.lguest.cpu.impl.x87;

/** The core's handle on the x87 unit ({@link X87}): present, with FXSAVE/FXRSTOR. */
public final class FpuUnit {
    private final X87 x87;

    private FpuUnit(FpuHost host) {
        x87 = new X87(host);
    }

    public static FpuUnit create(FpuHost host) {
        return new FpuUnit(host);
    }

    public boolean present() {
        return true;
    }

    public boolean hasFxsr() {
        return true;
    }

    public void reset() {
        x87.reset();
    }

    public static boolean isDefined(int op, int modrm) {
        return X87.isDefined(op, modrm);
    }

    public static boolean isWaiting(int op, int modrm) {
        return X87.isWaiting(op, modrm);
    }

    public void execute(int op, int modrm, int seg, int offset, boolean op32) {
        x87.execute(op, modrm, seg, offset, op32);
    }

    public boolean hasPendingException() {
        return x87.hasPendingException();
    }

    public void fxsave(int seg, int offset) {
        x87.fxsave(seg, offset);
    }

    public void fxrstor(int seg, int offset) {
        x87.fxrstor(seg, offset);
    }

    public void fnsave(byte[] into108) {
        x87.fnsave(into108);
    }

    public void frstor(byte[] from108) {
        x87.frstor(from108);
    }

    X87 unit() {
        return x87;
    }
}
