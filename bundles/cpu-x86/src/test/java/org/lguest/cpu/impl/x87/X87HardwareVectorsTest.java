package org.lguest.cpu.impl.x87;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/**
 * Replays vectors recorded on a real x87 (an AMD EPYC, x86-64 user mode) by
 * x87-vectors.c (kept next to the vector file): FNINIT; FLDCW cw; [six FLD1];
 * FLD b; FLD a; [FFREE]; EFLAGS := eflagsIn; the instruction; FNSAVE. The
 * status word, the tag word, the non-empty ST(0)..ST(2), the 10 bytes of the
 * memory operand and ZF/PF/CF must match bit for bit. The transcendental
 * instructions (marked approximate) are not correctly rounded on the
 * hardware: their finite results must agree within 16 units of the last
 * bit, and C1 is not compared (run with -Dx87.strict=true to see the exact
 * differences).
 * Set X87_VECTORS to a file of more vectors to replay those too.
 */
class X87HardwareVectorsTest {
    static final int MEM = 0x200;

    static long hex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }

    /** Null when the vector matches, else a description of the differences. */
    static String replay(String line) {
        String[] f = line.trim().split("\\s+");
        int opc = (int) hex(f[0]);
        int modrm = (int) hex(f[1]);
        int mt = Integer.parseInt(f[2]);
        boolean approx = f[3].equals("1") && !Boolean.getBoolean("x87.strict");
        int setup = Integer.parseInt(f[4]);
        int cw = (int) hex(f[5]);
        int eflIn = (int) hex(f[6]);
        int aSe = (int) hex(f[7]);
        long aSig = hex(f[8]);
        int bSe = (int) hex(f[9]);
        long bSig = hex(f[10]);
        long memLo = hex(f[11]);
        int memHi = (int) hex(f[12]);
        int sw = (int) hex(f[13]);
        int tw = (int) hex(f[14]);
        long outLo = hex(f[21]);
        int outHi = (int) hex(f[22]);
        int eflOut = (int) hex(f[23]);

        X87TestHost host = new X87TestHost();
        X87 fpu = new X87(host);
        host.writeWord(0, 0x100, cw);
        fpu.execute(0xD9, 0x2D, 3, 0x100, true); // FLDCW
        if (setup == 3) {
            for (int i = 0; i < 6; i++) {
                fpu.execute(0xD9, 0xE8, 0, 0, true); // FLD1
            }
        }
        host.put80(0x110, bSe, bSig);
        fpu.execute(0xDB, 0x2D, 3, 0x110, true);
        host.put80(0x120, aSe, aSig);
        fpu.execute(0xDB, 0x2D, 3, 0x120, true);
        if (setup == 1) {
            fpu.execute(0xDD, 0xC1, 0, 0, true); // FFREE ST(1)
        } else if (setup == 2) {
            fpu.execute(0xDD, 0xC0, 0, 0, true); // FFREE ST(0)
        }
        host.eflags = eflIn | 0x202;
        host.putQ(MEM, memLo);
        host.writeWord(0, MEM + 8, memHi);
        fpu.execute(opc, modrm, 3, MEM, true);

        byte[] img = new byte[108];
        fpu.fnsave(img);
        StringBuilder d = new StringBuilder();
        int gotSw = X87.getShort(img, 4), gotTw = X87.getShort(img, 8);
        int swMask = approx ? ~X87.SW_C1 : ~0;
        if ((gotSw & swMask) != (sw & swMask)) {
            d.append(String.format(" sw %04x!=%04x", gotSw, sw));
        }
        if (gotTw != tw) {
            d.append(String.format(" tw %04x!=%04x", gotTw, tw));
        }
        int top = (sw >> 11) & 7;
        for (int k = 0; k < 3; k++) {
            if (((tw >> (2 * ((top + k) & 7))) & 3) == 3) {
                continue;
            }
            int se = (int) hex(f[15 + 2 * k]);
            long sig = hex(f[16 + 2 * k]);
            int gse = X87.getShort(img, 28 + 10 * k + 8);
            long gsig = X87.getLong(img, 28 + 10 * k);
            boolean same = se == gse && sig == gsig;
            if (!same && approx) {
                same = close(se, sig, gse, gsig);
            }
            if (!same) {
                d.append(String.format(" st%d %04x:%016x!=%04x:%016x", k, gse, gsig, se, sig));
            }
        }
        if (host.q(MEM) != outLo || host.readWord(0, MEM + 8) != outHi) {
            d.append(String.format(" mem %04x:%016x!=%04x:%016x", host.readWord(0, MEM + 8), host.q(MEM), outHi, outLo));
        }
        int gotEfl = host.compareFlags >= 0 ? host.compareFlags : eflIn;
        if (gotEfl != eflOut) {
            d.append(String.format(" eflags %02x!=%02x", gotEfl, eflOut));
        }
        return d.isEmpty() ? null : String.format("%02X %02X", opc, modrm) + " [" + line + "]:" + d;
    }

    /** Finite nonzero values of the same sign within 16 units of the 64th significant bit (denormals: of the last bit held). */
    static boolean close(int se, long sig, int gse, long gsig) {
        int c1 = X87Arith.classify(se, sig), c2 = X87Arith.classify(gse, gsig);
        boolean f1 = c1 == X87Arith.NORMAL || c1 == X87Arith.DENORMAL, f2 = c2 == X87Arith.NORMAL || c2 == X87Arith.DENORMAL;
        if (!f1 || !f2 || (se & 0x8000) != (gse & 0x8000)) {
            return false;
        }
        // compare as integers in units of the smaller value's last significand bit
        java.math.BigInteger x = value(se, sig), y = value(gse, gsig);
        int e = Math.min(Math.max(se & 0x7FFF, 1), Math.max(gse & 0x7FFF, 1));
        java.math.BigInteger unit = java.math.BigInteger.ONE.shiftLeft(e - 1);
        return x.subtract(y).abs().compareTo(unit.shiftLeft(4)) <= 0;
    }

    /** |value| * 2^(16383 + 63 - 1): an integer for every finite 80-bit value. */
    static java.math.BigInteger value(int se, long sig) {
        int e = Math.max(se & 0x7FFF, 1);
        return new java.math.BigInteger(Long.toUnsignedString(sig)).shiftLeft(e - 1);
    }

    static List<String> replayAll(BufferedReader in) throws IOException {
        List<String> bad = new ArrayList<>();
        String line;
        int n = 0;
        while ((line = in.readLine()) != null) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            n++;
            String r = replay(line);
            if (r != null) {
                bad.add(r);
            }
        }
        if (n == 0) {
            bad.add("-- [no vectors]:");
        }
        return bad;
    }

    @Test
    void everyRecordedVectorMatchesTheHardware() throws IOException {
        List<String> bad = new ArrayList<>();
        try (InputStream s = X87HardwareVectorsTest.class.getResourceAsStream("x87-vectors.txt")) {
            assertNotNull(s, "x87-vectors.txt resource");
            bad.addAll(replayAll(new BufferedReader(new InputStreamReader(s, StandardCharsets.US_ASCII))));
        }
        String extra = System.getenv("X87_VECTORS");
        if (extra != null) {
            try (BufferedReader r = Files.newBufferedReader(Path.of(extra))) {
                bad.addAll(replayAll(r));
            }
        }
        if (!bad.isEmpty()) {
            StringBuilder sb = new StringBuilder(bad.size() + " vectors differ from the hardware (got!=expected):\n");
            Map<String, List<String>> byOp = new TreeMap<>();
            for (String b : bad) {
                byOp.computeIfAbsent(b.substring(0, b.indexOf(" [")), k -> new ArrayList<>()).add(b);
            }
            byOp.forEach((op, l) -> {
                sb.append(op).append(": ").append(l.size()).append('\n');
                l.stream().limit(4).forEach(x -> sb.append("  ").append(x).append('\n'));
            });
            fail(sb.toString());
        }
    }
}
