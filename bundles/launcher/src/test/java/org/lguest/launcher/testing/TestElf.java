package org.lguest.launcher.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds small i386 ELF executables for the Launcher's loader tests. */
public final class TestElf {
    /** One PT_LOAD: {@code contents} at physical {@code paddr}, virtual {@code paddr + offset}, {@code memSize} in memory. */
    public record Segment(int paddr, int vaddrOffset, byte[] contents, int memSize) {
    }

    public static byte[] kernel(boolean withMarker) {
        byte[] code = new byte[256];
        if (withMarker) {
            byte[] marker = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(marker, 0, code, 16, marker.length);
        }
        code[29] = (byte) 0xF4; // hlt after the marker
        return build(2, 3, new Segment(0x100000, 0xC0000000, code, 0x2000));
    }

    public static byte[] build(int type, int machine, Segment... segments) {
        int phoff = 52;
        int dataStart = 0x1000;
        int size = dataStart;
        for (Segment s : segments) {
            size += (s.contents().length + 0xFFF) & ~0xFFF;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464C457F);
        b.put(4, (byte) 1).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) type).putShort(18, (short) machine).putInt(20, 1);
        b.putInt(24, segments.length == 0 ? 0 : segments[0].paddr());
        b.putInt(28, phoff);
        b.putShort(40, (short) 52).putShort(42, (short) 32).putShort(44, (short) segments.length);
        int at = dataStart;
        for (int i = 0; i < segments.length; i++) {
            Segment s = segments[i];
            int ph = phoff + 32 * i;
            b.putInt(ph, 1).putInt(ph + 4, at).putInt(ph + 8, s.paddr() + s.vaddrOffset()).putInt(ph + 12, s.paddr())
                    .putInt(ph + 16, s.contents().length).putInt(ph + 20, s.memSize()).putInt(ph + 24, 7).putInt(ph + 28, 0x1000);
            b.put(at, s.contents());
            at += (s.contents().length + 0xFFF) & ~0xFFF;
        }
        return b.array();
    }

    private TestElf() {
    }
}
