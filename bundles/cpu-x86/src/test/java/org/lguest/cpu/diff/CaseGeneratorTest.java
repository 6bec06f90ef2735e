package org.lguest.cpu.diff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The generator is reproducible, covers the table, and keeps every access where both sides agree. */
class CaseGeneratorTest {
    static final int CS = 0x23, DS = 0x2b;

    @Test
    void theSameSeedAndIndexGiveTheSameCase() {
        CaseGenerator a = new CaseGenerator(42, CS, DS, f -> true);
        CaseGenerator b = new CaseGenerator(42, CS, DS, f -> true);
        for (long i = 0; i < 1000; i++) {
            DiffCase x = a.generate(i);
            DiffCase y = b.generate(i);
            assertArrayEquals(x.code(), y.code());
            assertArrayEquals(x.regs(), y.regs());
            assertEquals(x.eflags(), y.eflags());
            assertEquals(x.patches().size(), y.patches().size());
        }
    }

    @Test
    void everyFormOfTheTableIsDrawn() {
        CaseGenerator g = new CaseGenerator(1, CS, DS, f -> true);
        Set<OpcodeTable.Form> seen = new HashSet<>();
        for (long i = 0; i < 200_000; i++) {
            seen.add(g.generate(i).form());
        }
        Set<OpcodeTable.Form> missing = new HashSet<>(OpcodeTable.FORMS);
        missing.removeAll(seen);
        assertTrue(missing.isEmpty(), "never drawn: " + missing);
    }

    @Test
    void instructionsFitTheArchitecturalLengthLimit() {
        CaseGenerator g = new CaseGenerator(3, CS, DS, f -> true);
        for (long i = 0; i < 100_000; i++) {
            DiffCase c = g.generate(i);
            // x87 cases carry their operand loads before the instruction and an FWAIT after it.
            int limit = c.fpu() ? 48 : c.description().startsWith("(over 15 bytes)") ? 17 : 15;
            assertTrue(c.code().length >= 1 && c.code().length <= limit, c.description());
            assertTrue(Layout.safe(c.regs()[4] - 256, 512), "ESP stays by the data area: " + c.description());
        }
    }

    @Test
    void patchesStayInTheDataArea() {
        CaseGenerator g = new CaseGenerator(5, CS, DS, f -> true);
        for (long i = 0; i < 100_000; i++) {
            for (DiffCase.Patch p : g.generate(i).patches()) {
                assertTrue(p.offset() >= 0 && p.offset() + p.bytes().length <= Layout.DATA_SIZE);
            }
        }
    }

    @Test
    void excludedFormsAreNeverDrawn() {
        CaseGenerator g = new CaseGenerator(9, CS, DS, f -> !f.mnemonic().equals("ADD"));
        for (long i = 0; i < 20_000; i++) {
            assertTrue(!g.generate(i).form().mnemonic().equals("ADD"));
        }
    }
}
