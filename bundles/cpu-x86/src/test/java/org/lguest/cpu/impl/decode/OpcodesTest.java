package org.lguest.cpu.impl.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The opcode table against the hand-written rules it replaced: the
 * interpreter's prefetch (which bytes have a ModRM byte and which immediate,
 * written as conditions on the opcode), its list of the 0F opcodes that
 * exist, and its LOCK check. The old rules are copied here verbatim as the
 * reference, so the table is shown to say the same for every opcode byte.
 */
class OpcodesTest {
    static final int SAMPLES = 64;
    static final int[][] PREFIXES = {{}, {0x66}, {0x67}, {0x66, 0x67}, {0xF3, 0x2E}, {0x26, 0x64, 0x65, 0xF0}};

    @Test
    void lengthOfEveryOneByteOpcodeMatchesTheOldPrefetchRules() {
        SplittableRandom random = new SplittableRandom(0x0BC0DE);
        for (int op = 0; op < 256; op++) {
            if (Opcodes.isPrefix(op) || op == 0x0F) continue;
            for (int[] prefixes : PREFIXES) {
                for (int k = 0; k < SAMPLES; k++) {
                    for (boolean d : new boolean[] {true, false}) {
                        byte[] code = instruction(random, prefixes, op);
                        assertEquals(oldPrefetchLength(code, d), tableLength(code, d), () -> describe(code, d));
                    }
                }
            }
        }
    }

    @Test
    void lengthOfEveryTwoByteOpcodeMatchesTheOldPrefetchRules() {
        SplittableRandom random = new SplittableRandom(0x0F0F);
        for (int op2 = 0; op2 < 256; op2++) {
            for (int[] prefixes : PREFIXES) {
                for (int k = 0; k < SAMPLES; k++) {
                    for (boolean d : new boolean[] {true, false}) {
                        byte[] code = instruction(random, prefixes, 0x0F, op2);
                        assertEquals(oldPrefetchLength(code, d), tableLength(code, d), () -> describe(code, d));
                    }
                }
            }
        }
    }

    @Test
    void theTwoByteOpcodesThatExistAreTheOldList() {
        for (int op2 = 0; op2 < 256; op2++) {
            assertEquals(oldDefined0F(op2), Opcodes.defined(Opcodes.twoByte(op2)), "0F " + Integer.toHexString(op2));
        }
    }

    @Test
    void everyOneByteOpcodeButThePrefixesExists() {
        for (int op = 0; op < 256; op++) {
            assertEquals(!oldIsPrefix(op), Opcodes.defined(Opcodes.oneByte(op)), Integer.toHexString(op));
            assertEquals(oldIsPrefix(op), Opcodes.isPrefix(op), Integer.toHexString(op));
        }
    }

    @Test
    void opcodesNeverLockableAreTheOldOnes() {
        for (int op = 0; op < 256; op++) {
            assertEquals(oldEverLockable(op), Opcodes.lockableAtAll(Opcodes.oneByte(op)), Integer.toHexString(op));
        }
        for (int op2 = 0; op2 < 256; op2++) {
            assertEquals(oldEverLockable0F(op2), Opcodes.lockableAtAll(Opcodes.twoByte(op2)), "0F " + Integer.toHexString(op2));
        }
    }

    @Test
    void lockabilityByModrmRegIsTheOldRule() {
        for (int reg = 0; reg < 8; reg++) {
            for (int op = 0; op < 256; op++) {
                if (!oldEverLockable(op)) continue;
                assertEquals(oldLockable(op, reg), Opcodes.lockable(Opcodes.oneByte(op), reg), Integer.toHexString(op) + " /" + reg);
            }
            for (int op2 = 0; op2 < 256; op2++) {
                if (!oldEverLockable0F(op2)) continue;
                assertEquals(oldLockable0F(op2, reg), Opcodes.lockable(Opcodes.twoByte(op2), reg), "0F " + Integer.toHexString(op2) + " /" + reg);
            }
        }
    }

    @Test
    void anUndefinedTwoByteOpcodeStopsTheWalkAfterItsOpcode() {
        byte[] code = {0x66, 0x0F, (byte) 0xFF, (byte) 0x80, 0, 0, 0, 0};
        assertEquals(-3, tableLength(code, true));
    }

    @Test
    void moveToAControlRegisterHasNoDisplacementWhateverItsModBits() {
        byte[] code = {0x0F, 0x22, (byte) 0x84, 0x11, 0x22, 0x33, 0x44, 0x55};
        assertTrue(Opcodes.modIgnored(Opcodes.twoByte(0x22)));
        assertFalse(Opcodes.modIgnored(Opcodes.twoByte(0x24)));
        assertEquals(3, tableLength(code, true));
    }

    @Test
    void groupThreeHasAnImmediateOnlyForTest() {
        assertEquals(4, Opcodes.immediateBytes(Opcodes.oneByte(0xF7), true, true, 0));
        assertEquals(2, Opcodes.immediateBytes(Opcodes.oneByte(0xF7), false, true, 1));
        assertEquals(0, Opcodes.immediateBytes(Opcodes.oneByte(0xF7), true, true, 2));
        assertEquals(1, Opcodes.immediateBytes(Opcodes.oneByte(0xF6), true, true, 1));
        assertEquals(0, Opcodes.immediateBytes(Opcodes.oneByte(0xF6), true, true, 6));
    }

    // ---------------------------------------------------------------- helpers

    /** Prefixes, the opcode bytes given, then 16 random bytes (ModRM, SIB, displacement, immediate). */
    static byte[] instruction(SplittableRandom random, int[] prefixes, int... opcode) {
        byte[] code = new byte[prefixes.length + opcode.length + 16];
        int i = 0;
        for (int p : prefixes) code[i++] = (byte) p;
        for (int o : opcode) code[i++] = (byte) o;
        while (i < code.length) code[i++] = (byte) random.nextInt(256);
        return code;
    }

    static int tableLength(byte[] code, boolean d) {
        int[] pos = {0};
        return Opcodes.length(() -> code[pos[0]++] & 0xFF, d);
    }

    static String describe(byte[] code, boolean d) {
        return (d ? "32-bit code: " : "16-bit code: ") + HexFormat.ofDelimiter(" ").formatHex(code);
    }

    // ---------------------------------------------------------------- the old rules (Interp before the table)

    static boolean oldIsPrefix(int op) {
        return op == 0x26 || op == 0x2E || op == 0x36 || op == 0x3E || op == 0x64 || op == 0x65 || op == 0x66 || op == 0x67
                || op == 0xF0 || op == 0xF2 || op == 0xF3;
    }

    /** The old Interp.prefetch as a walk over a byte array: the bytes it fetched, negated when it stopped at an undefined 0F opcode. */
    static int oldPrefetchLength(byte[] b, boolean csD) {
        int eip = 0;
        boolean o = csD, ad = csD;
        int op;
        while (true) {
            op = b[eip++] & 0xFF;
            if (op == 0x66) o = !csD;
            else if (op == 0x67) ad = !csD;
            else if (!(op == 0x26 || op == 0x2E || op == 0x36 || op == 0x3E || op == 0x64 || op == 0x65
                    || op == 0xF0 || op == 0xF2 || op == 0xF3)) break;
        }
        int z = o ? 4 : 2, imm;
        boolean modrm;
        int reg = -1, op2 = -1;
        if (op == 0x0F) {
            op2 = b[eip++] & 0xFF;
            if (!oldDefined0F(op2)) return -eip;
            modrm = !(op2 == 0x06 || op2 == 0x08 || op2 == 0x09 || (op2 >= 0x30 && op2 <= 0x35)
                    || (op2 >= 0x80 && op2 <= 0x8F) || (op2 >= 0xA0 && op2 <= 0xA2) || op2 == 0xA8 || op2 == 0xA9
                    || op2 >= 0xC8);
            imm = (op2 >= 0x80 && op2 <= 0x8F) ? z : op2 == 0xA4 || op2 == 0xAC || op2 == 0xBA ? 1 : 0;
        } else {
            modrm = (op < 0x40 && (op & 7) < 4) || op == 0x62 || op == 0x63 || op == 0x69 || op == 0x6B
                    || (op >= 0x80 && op <= 0x8F) || op == 0xC0 || op == 0xC1 || (op >= 0xC4 && op <= 0xC7)
                    || (op >= 0xD0 && op <= 0xD3) || (op >= 0xD8 && op <= 0xDF) || op == 0xF6 || op == 0xF7
                    || op == 0xFE || op == 0xFF;
            if (op < 0x40) imm = (op & 7) == 4 ? 1 : (op & 7) == 5 ? z : 0;
            else if (op == 0x68 || op == 0x69 || op == 0x81 || op == 0xA9 || op == 0xC7 || op == 0xE8 || op == 0xE9
                    || (op >= 0xB8 && op <= 0xBF)) imm = z;
            else if (op == 0x6A || op == 0x6B || (op >= 0x70 && op <= 0x7F) || op == 0x80 || op == 0x82 || op == 0x83
                    || op == 0xA8 || (op >= 0xB0 && op <= 0xB7) || op == 0xC0 || op == 0xC1 || op == 0xC6 || op == 0xCD
                    || op == 0xD4 || op == 0xD5 || (op >= 0xE0 && op <= 0xE7) || op == 0xEB) imm = 1;
            else if (op == 0x9A || op == 0xEA) imm = z + 2;
            else if (op >= 0xA0 && op <= 0xA3) imm = ad ? 4 : 2;
            else if (op == 0xC2 || op == 0xCA) imm = 2;
            else if (op == 0xC8) imm = 3;
            else imm = 0;
        }
        if (modrm) {
            int m = b[eip++] & 0xFF;
            int mod = m >> 6, rm = m & 7;
            reg = (m >> 3) & 7;
            if (mod != 3 && !(op == 0x0F && op2 >= 0x20 && op2 <= 0x23)) {
                if (ad) {
                    int base = rm;
                    if (rm == 4) base = b[eip++] & 7;
                    if (mod == 1) eip++;
                    else if (mod == 2 || (mod == 0 && base == 5)) eip += 4;
                } else {
                    if (mod == 1) eip++;
                    else if (mod == 2 || (mod == 0 && rm == 6)) eip += 2;
                }
            }
        }
        if ((op == 0xF6 || op == 0xF7) && reg < 2) imm = op == 0xF6 ? 1 : z;
        return eip + imm;
    }

    static boolean oldDefined0F(int op2) {
        return op2 <= 0x03 || op2 == 0x06 || op2 == 0x08 || op2 == 0x09 || (op2 >= 0x18 && op2 <= 0x23)
                || (op2 >= 0x30 && op2 <= 0x32) || op2 == 0x34 || op2 == 0x35 || (op2 >= 0x40 && op2 <= 0x4F) || (op2 >= 0x80 && op2 <= 0xA5)
                || op2 == 0xA8 || op2 == 0xA9 || (op2 >= 0xAB && op2 <= 0xB7) || (op2 >= 0xBA && op2 <= 0xC1)
                || op2 >= 0xC7 && op2 <= 0xCF;
    }

    static boolean oldEverLockable0F(int op2) {
        return op2 == 0xAB || op2 == 0xB3 || op2 == 0xBB || op2 == 0xB0 || op2 == 0xB1 || op2 == 0xC0 || op2 == 0xC1
                || op2 == 0xBA || op2 == 0xC7;
    }

    static boolean oldLockable0F(int op2, int reg) {
        return op2 == 0xAB || op2 == 0xB3 || op2 == 0xBB || op2 == 0xB0 || op2 == 0xB1 || op2 == 0xC0 || op2 == 0xC1
                || (op2 == 0xBA && reg >= 5) || (op2 == 0xC7 && reg == 1);
    }

    static boolean oldEverLockable(int op) {
        return (op < 0x38 && (op & 6) == 0) || (op & 0xFC) == 0x80 || op == 0x86 || op == 0x87 || op == 0xF6
                || op == 0xF7 || op == 0xFE || op == 0xFF;
    }

    static boolean oldLockable(int op, int reg) {
        return (op < 0x38 && (op & 6) == 0) || ((op & 0xFC) == 0x80 && reg != 7) || op == 0x86 || op == 0x87
                || ((op == 0xF6 || op == 0xF7) && (reg == 2 || reg == 3)) || ((op == 0xFE || op == 0xFF) && reg < 2);
    }
}
