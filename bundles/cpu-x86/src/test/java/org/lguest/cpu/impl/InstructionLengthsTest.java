package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.impl.decode.Opcodes;

/**
 * The opcode table's instruction lengths against what the interpreter
 * consumes: every opcode of the one-byte and 0F maps, with and without the
 * operand- and address-size prefixes, followed by random ModRM, SIB,
 * displacement and immediate bytes, is stepped once by the interpreter in a
 * flat 32-bit protected-mode machine. Where it completes without a fault and
 * is not a control transfer, EIP must have advanced by the table's length.
 * Registers point into RAM so that most memory operands are reachable.
 */
class InstructionLengthsTest {
    static final int SAMPLES = 12;
    static final int[][] PREFIXES = {{}, {0x66}, {0x67}, {0x66, 0x67}};

    @Test
    void theInterpreterAdvancesEipByTheTableLengthForOneByteOpcodes() {
        SplittableRandom random = new SplittableRandom(0x1E4674);
        int checked = 0;
        for (int op = 0; op < 256; op++) {
            if (Opcodes.isPrefix(op) || op == 0x0F || transfersControl(op, -1)) continue;
            checked += checkOpcode(random, new int[] {op});
        }
        assertTrue(checked > 2000, "instructions that completed: " + checked);
    }

    @Test
    void theInterpreterAdvancesEipByTheTableLengthForTwoByteOpcodes() {
        SplittableRandom random = new SplittableRandom(0x0F4674);
        int checked = 0;
        for (int op2 = 0; op2 < 256; op2++) {
            if (!Opcodes.defined(Opcodes.twoByte(op2)) || transfersControl(0x0F, op2)) continue;
            checked += checkOpcode(random, new int[] {0x0F, op2});
        }
        assertTrue(checked > 1000, "instructions that completed: " + checked);
    }

    /** Steps samples of the opcode; returns how many completed (and so were checked). */
    private static int checkOpcode(SplittableRandom random, int[] opcode) {
        TestMachine m = new TestMachine(1);
        int checked = 0;
        for (int[] prefixes : PREFIXES) {
            for (int k = 0; k < SAMPLES; k++) {
                byte[] code = new byte[prefixes.length + opcode.length + 16];
                int i = 0;
                for (int p : prefixes) code[i++] = (byte) p;
                for (int o : opcode) code[i++] = (byte) o;
                while (i < code.length) code[i++] = (byte) random.nextInt(256);
                if (opcode[0] == 0xFF && transfersControl(0xFF, (code[i - 16] >> 3) & 7)) continue;
                int[] pos = {0};
                int length = Opcodes.length(() -> code[pos[0]++] & 0xFF, true);
                reset(m, random);
                for (int b = 0; b < code.length; b++) m.poke8(TestMachine.CODE + b, code[b] & 0xFF);
                m.cpu.setEip(TestMachine.CODE);
                try {
                    m.cpu.step();
                } catch (Fault f) {
                    continue;
                }
                assertEquals(TestMachine.CODE + length, m.cpu.eip(),
                        () -> "EIP after " + HexFormat.ofDelimiter(" ").formatHex(code));
                checked++;
            }
        }
        return checked;
    }

    /** Back to the flat ring-0 machine, with registers pointing at RAM below 1 MiB. */
    private static void reset(TestMachine m, SplittableRandom random) {
        m.cpu.setCr(0, 0x11);
        m.cpu.setCr(3, 0);
        m.cpu.setCr(4, 0);
        m.setupProtected();
        m.cpu.setEflags(2);
        for (int r = 0; r < 8; r++) {
            if (r != Cpu.ESP) m.cpu.setReg(r, 0x20000 + random.nextInt(0x40000));
        }
        m.cpu.setReg(Cpu.ECX, 3 + random.nextInt(30));
    }

    /**
     * Opcodes after which EIP is not the next instruction even when they
     * complete: jumps, calls, returns, software interrupts, loops, SYSENTER
     * and SYSEXIT, and group 5's indirect calls and jumps (reg 2..5).
     */
    static boolean transfersControl(int op, int second) {
        if (op == 0x0F) return (second >= 0x80 && second <= 0x8F) || second == 0x34 || second == 0x35;
        if (op == 0xFF) return second >= 2 && second <= 5;
        return (op >= 0x70 && op <= 0x7F) || op == 0x9A || op == 0xC2 || op == 0xC3 || (op >= 0xCA && op <= 0xCF)
                || (op >= 0xE0 && op <= 0xE3) || (op >= 0xE8 && op <= 0xEB) || op == 0xF1;
    }
}
