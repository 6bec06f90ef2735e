package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * State images recorded on a real x87 (x87-images.c): random 108-byte images
 * loaded with FRSTOR, and random 512-byte images loaded with FXRSTOR, then
 * stored with FNSAVE. The stored image must match the hardware's byte for
 * byte: reserved bits, tags recomputed from the contents, ES/B recomputed
 * from the flags and masks, pointers and registers as loaded.
 */
class X87HardwareImagesTest {
    static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xFF));
        }
        return sb.toString();
    }

    @Test
    void frstorAndFxrstorFollowedByFnsaveReproduceTheHardwareImage() throws IOException {
        List<String> bad = new ArrayList<>();
        int n = 0;
        try (InputStream s = getClass().getResourceAsStream("x87-images.txt")) {
            assertNotNull(s, "x87-images.txt resource");
            BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.US_ASCII));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                n++;
                String[] f = line.split(" ");
                byte[] in = hex(f[1]), expected = hex(f[2]);
                X87TestHost host = new X87TestHost();
                X87 fpu = new X87(host);
                if (f[0].equals("R")) {
                    fpu.frstor(in);
                } else {
                    System.arraycopy(in, 0, host.mem, 0x1000, in.length);
                    fpu.fxrstor(3, 0x1000);
                }
                byte[] got = new byte[108];
                fpu.fnsave(got);
                if (!hex(got).equals(hex(expected))) {
                    bad.add(f[0] + " " + f[1] + "\n   got      " + hex(got) + "\n   expected " + hex(expected));
                }
            }
        }
        assertEquals(200, n, "image count");
        assertTrue(bad.isEmpty(), bad.size() + " images differ:\n" + String.join("\n", bad.subList(0, Math.min(5, bad.size()))));
    }
}
