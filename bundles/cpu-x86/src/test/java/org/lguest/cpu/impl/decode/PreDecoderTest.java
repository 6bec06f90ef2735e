package org.lguest.cpu.impl.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The pre-decoder against the opcode table: every record it makes (every
 * opcode of both maps, behind the prefixes it accepts, with random ModRM,
 * SIB, displacement and immediate bytes) is as long as the table says.
 */
class PreDecoderTest {
    static final int SAMPLES = 64;
    static final int[][] PREFIXES = {{}, {0x66}, {0x2E}, {0x64, 0x66}};

    @Test
    void everyRecordIsAsLongAsTheTableSays() {
        SplittableRandom random = new SplittableRandom(0xDEC0DE);
        PreDecoder decoder = new PreDecoder();
        int records = 0;
        for (int map = 0; map < 2; map++) {
            for (int op = 0; op < 256; op++) {
                for (int[] prefixes : PREFIXES) {
                    for (int k = 0; k < SAMPLES; k++) {
                        byte[] page = new byte[4096];
                        random.nextBytes(page);
                        int i = 0;
                        for (int p : prefixes) page[i++] = (byte) p;
                        if (map == 1) page[i++] = 0x0F;
                        page[i] = (byte) op;
                        Insn in = decoder.decodeAt(page, 0);
                        if (in.kind == Kind.GENERIC) continue;
                        records++;
                        int[] pos = {0};
                        assertEquals(Opcodes.length(() -> page[pos[0]++] & 0xFF, true), in.len,
                                () -> in.kind + ": " + HexFormat.ofDelimiter(" ").formatHex(page, 0, 20));
                    }
                }
            }
        }
        assertTrue(records > 20000, "records made: " + records);
    }

    @Test
    void anInstructionRunningPastThePageIsGeneric() {
        byte[] page = new byte[4096];
        page[4093] = (byte) 0xB8; // mov eax, imm32: five bytes from 4093
        assertSame(Insn.GENERIC, new PreDecoder().decodeAt(page, 4093));
    }

    @Test
    void anAddressSizePrefixIsLeftToTheInterpreter() {
        byte[] page = new byte[4096];
        page[0] = 0x67;
        page[1] = (byte) 0x8B;
        page[2] = 0x07; // mov eax, [bx]
        assertSame(Insn.GENERIC, new PreDecoder().decodeAt(page, 0));
    }
}
