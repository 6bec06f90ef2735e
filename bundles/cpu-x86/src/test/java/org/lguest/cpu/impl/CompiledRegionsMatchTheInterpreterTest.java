package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;

/**
 * Random loops of the instructions the region compiler knows, run hot (so
 * that they are compiled after the first iterations) and run interpreted:
 * registers, flags, memory and the retired count must come out the same.
 * A failing seed prints the program's bytes, one instruction per line.
 */
class CompiledRegionsMatchTheInterpreterTest {
    static final int PROGRAMS = 400, ITERATIONS = 60;
    static final int DATA = 0x30000, COUNTER = 0x31000, HELPER = TestMachine.CODE + 0x800;
    /** registers the programs change freely: EAX, ECX, EDX, EBX, EBP (ESI and EDI point at the data, ESP at the stack) */
    static final int[] FREE = {0, 1, 2, 3, 5};

    @Test
    void randomHotLoopsLeaveTheSameStateCompiledAsInterpreted() throws Exception {
        long seed = Long.getLong("lguest.regions.seed", 0x5EED_C0DEL);
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int p = 0; p < PROGRAMS; p++) {
            long s = seeds.nextLong();
            List<int[]> program = program(new SplittableRandom(s));
            String compiled = run(program, s, true), interpreted = run(program, s, false);
            assertEquals(interpreted, compiled, "program " + p + " (lguest.regions.seed=" + seed + ", program seed " + s
                    + ") differs when compiled:\n" + listing(program));
        }
    }

    @Test
    void regionsTooLongForOneJvmMethodAreCutAndRunTheSame() throws Exception {
        // 150 memory instructions make more bytecode than HotSpot compiles in one method
        SplittableRandom seeds = new SplittableRandom(0xB16L);
        for (int p = 0; p < 12; p++) {
            long s = seeds.nextLong();
            SplittableRandom r = new SplittableRandom(s);
            List<int[]> program = new ArrayList<>();
            for (int i = 0; i < 150; i++) program.add(memory(r));
            String compiled = run(program, s, true), interpreted = run(program, s, false);
            assertEquals(interpreted, compiled, "long program " + p + " (seed " + s + ") differs when compiled:\n" + listing(program));
        }
    }

    @Test
    void aSwitchThroughAJumpTableRunsTheSameOnceItsTargetsAreCompiledIn() throws Exception {
        // top: mov eax,ebx; and eax,3; jmp [TABLE+eax*4]; four cases, each jumping to next:
        // next: add ebx,7; dec dword [COUNTER]; jnz top; hlt  -- 3000 times: the region is compiled again with the
        // cases once the jump has left it often enough (X86Cpu.RECOMPILE_EXITS)
        int table = DATA + 0x300, c = TestMachine.CODE;
        int[] code = {0x89, 0xD8, 0x83, 0xE0, 0x03, 0xFF, 0x24, 0x85, table & 0xFF, (table >> 8) & 0xFF, (table >> 16) & 0xFF, 0,
                0x83, 0xC1, 0x01, 0xEB, 15,
                0x83, 0xC2, 0x05, 0xEB, 10,
                0x31, 0xD1, 0x90, 0xEB, 5,
                0x83, 0xE9, 0x02, 0xEB, 0,
                0x83, 0xC3, 0x07,
                0xFF, 0x0D, COUNTER & 0xFF, (COUNTER >> 8) & 0xFF, (COUNTER >> 16) & 0xFF, 0,
                0x0F, 0x85, (-47) & 0xFF, 0xFF, 0xFF, 0xFF, 0xF4};
        String[] results = new String[2];
        for (int compile = 0; compile < 2; compile++) {
            TestMachine m = new TestMachine(4);
            java.lang.reflect.Field f = X86Cpu.class.getDeclaredField("blocksEnabled");
            f.setAccessible(true);
            f.set(m.cpu, compile == 1);
            m.hostVectors();
            for (int k = 0; k < 4; k++) m.poke32(table + 4 * k, c + new int[] {12, 17, 22, 27}[k]);
            m.poke32(COUNTER, 3000);
            m.code(code);
            m.cpu.setReg(Cpu.EBX, 1);
            CpuExit x = m.cpu.run(1_000_000);
            results[compile] = x.reason() + " eip=" + Integer.toHexString(m.cpu.eip()) + " ecx=" + m.cpu.reg(Cpu.ECX) + " edx="
                    + m.cpu.reg(Cpu.EDX) + " ebx=" + m.cpu.reg(Cpu.EBX) + " fl=" + Integer.toHexString(m.cpu.eflags())
                    + " retired=" + m.cpu.instructionsRetired();
        }
        assertEquals(results[0], results[1], "the jump-table loop compiled differs from the interpreter's");
        org.junit.jupiter.api.Assertions.assertTrue(results[0].startsWith("HALT"), results[0]);
    }

    private static void addRel32(List<Integer> code, int rel) {
        for (int k = 0; k < 4; k++) code.add((rel >> (8 * k)) & 0xFF);
    }

    private static String listing(List<int[]> program) {
        StringBuilder b = new StringBuilder();
        for (int[] insn : program) {
            for (int x : insn) b.append(String.format("%02x ", x & 0xFF));
            b.append('\n');
        }
        return b.toString();
    }

    private static String run(List<int[]> program, long seed, boolean compile) throws Exception {
        TestMachine m = new TestMachine(4);
        java.lang.reflect.Field f = X86Cpu.class.getDeclaredField("blocksEnabled");
        f.setAccessible(true);
        f.set(m.cpu, compile);
        m.hostVectors();
        SplittableRandom r = new SplittableRandom(seed ^ 0x1234);
        for (int a = DATA; a < DATA + 0x200; a += 4) m.poke32(a, r.nextInt());
        m.poke32(COUNTER, ITERATIONS);
        // HELPER: add eax,ebx; xor edx,ecx; ret
        m.bytes(HELPER, 0x01, 0xD8, 0x31, 0xCA, 0xC3);
        List<Integer> code = new ArrayList<>();
        if (program.size() < 100) {
            for (int[] insn : program) for (int x : insn) code.add(x);
            int loopLen = code.size();
            // dec dword [COUNTER]; jnz top (rel32); hlt
            int[] tail = {0xFF, 0x0D, COUNTER & 0xFF, (COUNTER >> 8) & 0xFF, (COUNTER >> 16) & 0xFF, 0, 0x0F, 0x85};
            for (int x : tail) code.add(x);
            addRel32(code, -(loopLen + tail.length + 4));
            code.add(0xF4);
        } else {
            // the loop is entered in its middle, so that the region's entry is not its first instruction:
            // jmp L2; L1: first half; dec dword [COUNTER]; jz END; L2: second half; jmp L1; END: hlt
            List<Integer> first = new ArrayList<>(), second = new ArrayList<>();
            for (int i = 0; i < program.size(); i++) for (int x : program.get(i)) (i < program.size() / 2 ? first : second).add(x);
            int[] count = {0xFF, 0x0D, COUNTER & 0xFF, (COUNTER >> 8) & 0xFF, (COUNTER >> 16) & 0xFF, 0};
            code.add(0xE9);
            addRel32(code, first.size() + count.length + 6);
            code.addAll(first);
            for (int x : count) code.add(x);
            code.add(0x0F);
            code.add(0x84);
            addRel32(code, second.size() + 5);
            code.addAll(second);
            code.add(0xE9);
            addRel32(code, -(second.size() + 5 + 6 + count.length + first.size()));
            code.add(0xF4);
        }
        m.code(code.stream().mapToInt(Integer::intValue).toArray());
        for (int reg : FREE) m.cpu.setReg(reg, r.nextInt());
        m.cpu.setReg(Cpu.ESI, DATA);
        m.cpu.setReg(Cpu.EDI, DATA + 0x100);
        m.cpu.setEflags(0x2 | (r.nextInt() & 0x8D5));
        CpuExit x = m.cpu.run(1_000_000);
        StringBuilder s = new StringBuilder(x.reason() + " v" + x.vector() + " eip=" + Integer.toHexString(m.cpu.eip()));
        for (int reg = 0; reg < 8; reg++) s.append(" r").append(reg).append('=').append(Integer.toHexString(m.cpu.reg(reg)));
        s.append(" fl=").append(Integer.toHexString(m.cpu.eflags())).append(" retired=").append(m.cpu.instructionsRetired());
        for (int a = DATA; a < DATA + 0x200; a += 4) s.append(a % 64 == 0 ? "\n" : " ").append(Integer.toHexString(m.peek32(a)));
        s.append("\nstack");
        for (int a = 0x8000 - 32; a < 0x8000; a += 4) s.append(' ').append(Integer.toHexString(m.peek32(a)));
        return s.toString();
    }

    // ------------------------------------------------------------ the generator

    static List<int[]> program(SplittableRandom r) {
        return program(r, 4 + r.nextInt(24));
    }

    static List<int[]> program(SplittableRandom r, int n) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int choice = r.nextInt(30);
            if (choice == 0) {
                // a conditional branch over the next instruction
                int[] next = simple(r);
                out.add(new int[] {0x70 | r.nextInt(16), next.length});
                out.add(next);
            } else if (choice == 1) {
                // push / pop pair
                out.add(new int[] {0x50 | free(r)});
                out.add(simple(r));
                out.add(new int[] {0x58 | free(r)});
            } else if (choice == 2) {
                out.add(new int[] {0x6A, r.nextInt(256)});
                out.add(new int[] {0x58 | free(r)});
            } else if (choice == 3) {
                out.add(new int[] {0xE8, 0, 0, 0, 0}); // rel32 to HELPER, patched below
            } else {
                out.add(simple(r));
            }
        }
        // patch the calls' displacements now that offsets are known
        int off = 0;
        for (int[] insn : out) {
            if (insn[0] == 0xE8 && insn.length == 5) {
                int rel = HELPER - (TestMachine.CODE + off + 5);
                for (int k = 0; k < 4; k++) insn[1 + k] = (rel >> (8 * k)) & 0xFF;
            }
            off += insn.length;
        }
        return out;
    }

    private static int free(SplittableRandom r) {
        return FREE[r.nextInt(FREE.length)];
    }

    /** One instruction with a memory operand. */
    static int[] memory(SplittableRandom r) {
        while (true) {
            int[] insn = simple(r);
            if (insn.length < 3) continue;
            int modrm = insn[0] == 0x0F || insn[0] == 0x66 ? insn[2] : insn[1];
            if ((modrm & 0xC0) == 0x40) return insn;
        }
    }

    /** One instruction without control flow that keeps ESI, EDI and ESP. */
    static int[] simple(SplittableRandom r) {
        int d = free(r), s = free(r), op = r.nextInt(8), b8 = r.nextInt(8);
        int mem = 0x46 | (0 << 3); // [esi+disp8], reg field filled in per form
        int disp = r.nextInt(32) * 4 + (r.nextInt(4) == 0 ? r.nextInt(4) : 0);
        int bdisp = r.nextInt(200);
        switch (r.nextInt(48)) {
            case 0: return new int[] {(op << 3) | 1, 0xC0 | (s << 3) | d};                 // op r32, r32
            case 1: return new int[] {0x83, 0xC0 | (op << 3) | d, r.nextInt(256)};        // op r32, imm8
            case 2: return new int[] {0x81, 0xC0 | (op << 3) | d, r.nextInt(256), r.nextInt(256), r.nextInt(256), r.nextInt(256)};
            case 3: return new int[] {(op << 3), 0xC0 | (r.nextInt(8) << 3) | b8};       // op r8, r8
            case 4: return new int[] {0x66, (op << 3) | 1, 0xC0 | (s << 3) | d};          // op r16, r16
            case 5: return new int[] {(op << 3) | 1, mem | (s << 3), disp};               // op [esi+d], r32
            case 6: return new int[] {(op << 3) | 3, mem | (d << 3), disp};               // op r32, [esi+d]
            case 7: return new int[] {0x83, mem | (op << 3), disp, r.nextInt(256)};       // op [esi+d], imm8
            case 8: return new int[] {(op << 3), 0x47 | (b8 << 3), bdisp};                // op [edi+d], r8
            case 9: return new int[] {0x85, 0xC0 | (s << 3) | d};                         // test r32, r32
            case 10: return new int[] {0xF7, 0xC0 | d, r.nextInt(256), r.nextInt(256), 0, r.nextInt(2) * 0x80};
            case 11: return new int[] {0x89, 0xC0 | (s << 3) | d};                        // mov r32, r32
            case 12: return new int[] {0xB8 | d, r.nextInt(256), r.nextInt(256), r.nextInt(256), r.nextInt(256)};
            case 13: return new int[] {0xB0 | b8, r.nextInt(256)};                        // mov r8, imm8
            case 14: return new int[] {0x89, mem | (s << 3), disp};                       // mov [esi+d], r32
            case 15: return new int[] {0x8B, mem | (d << 3), disp};                       // mov r32, [esi+d]
            case 16: return new int[] {0x88, 0x47 | (b8 << 3), bdisp};                    // mov [edi+d], r8
            case 17: return new int[] {0xC7, mem, disp, r.nextInt(256), 0, 0, r.nextInt(256)};
            case 18: return new int[] {0x8D, 0x44 | (d << 3), (r.nextInt(4) << 6) | (s << 3) | 6, r.nextInt(256)}; // lea d,[esi+s*k+d8]
            case 19: return new int[] {0x40 | d};                                         // inc r32
            case 20: return new int[] {0x48 | d};                                         // dec r32
            case 21: return new int[] {0xFF, mem | (r.nextInt(2) << 3), disp};            // inc/dec [esi+d]
            case 22: return new int[] {0xC1, 0xC0 | (new int[] {4, 5, 7, 0, 1}[r.nextInt(5)] << 3) | d, r.nextInt(40)};
            case 23: return new int[] {0xD3, 0xC0 | (new int[] {4, 5, 7, 0, 1}[r.nextInt(5)] << 3) | d}; // shift by CL
            case 24: return new int[] {0x0F, 0xAF, 0xC0 | (d << 3) | s};                  // imul r32, r32
            case 25: return new int[] {0x6B, 0xC0 | (d << 3) | s, r.nextInt(256)};        // imul r32, r32, imm8
            case 26: return new int[] {0xF7, 0xC0 | ((2 + r.nextInt(3)) << 3) | d};      // not / neg / mul
            case 27: return new int[] {0x0F, 0xB6 | (r.nextInt(2) << 3), 0xC0 | (d << 3) | b8};          // movzx/movsx r32, r8
            case 28: return new int[] {0x0F, 0xB7 | (r.nextInt(2) << 3), 0xC0 | (d << 3) | s};           // movzx/movsx r32, r16
            case 29: return new int[] {0x0F, 0xB6 | (r.nextInt(4) == 0 ? 1 : 0) | (r.nextInt(2) << 3), 0x47 | (d << 3), bdisp};
            case 30: return new int[] {0x0F, 0x40 | r.nextInt(16), 0xC0 | (d << 3) | s};  // cmovcc
            case 31: return new int[] {0x0F, 0x90 | r.nextInt(16), 0xC0 | b8};            // setcc r8
            case 32: return new int[] {r.nextBoolean() ? 0x99 : 0x98};                    // cdq / cwde
            case 33: return new int[] {0x87, 0xC0 | (s << 3) | d};                        // xchg
            case 34: return new int[] {0x90};
            case 35: return new int[] {0x39, 0xC0 | (s << 3) | d};                        // cmp r32, r32 (then often a jcc)
            case 36: return new int[] {0x3C, r.nextInt(256)};                             // cmp al, imm8
            case 37: return new int[] {0xA8, r.nextInt(256)};                             // test al, imm8
            case 38: return new int[] {0x66, 0xC7, 0xC0 | d, r.nextInt(256), r.nextInt(256)}; // mov r16, imm16
            // forms the compiler hands to the interpreter
            case 40: return new int[] {0xC1, mem | (new int[] {4, 5, 7, 0, 1}[r.nextInt(5)] << 3), disp, r.nextInt(40)}; // shift [esi+d]
            case 41: return new int[] {0x0F, 0x90 | r.nextInt(16), 0x47, bdisp};        // setcc [edi+d]
            case 42: return new int[] {0x87, mem | (s << 3), disp};                       // xchg [esi+d], r32
            case 43: return new int[] {0x66, 0xFF, mem | (r.nextInt(2) << 3), disp};      // inc/dec word [esi+d]
            case 44: return new int[] {0xF7, mem | ((2 + r.nextInt(3)) << 3), disp};      // not / neg / mul [esi+d]
            case 45: return new int[] {0x80, 0x47 | (op << 3), bdisp, r.nextInt(256)};   // op byte [edi+d], imm8
            case 46: return new int[] {0xF6, 0x47, bdisp, r.nextInt(256)};              // test byte [edi+d], imm8
            case 47: return new int[] {0x66, 0x85, 0xC0 | (s << 3) | d};                // test r16, r16
            default: return new int[] {0x66, 0x83, mem | (op << 3), disp, r.nextInt(256)};   // op word [esi+d], imm8
        }
    }
}
