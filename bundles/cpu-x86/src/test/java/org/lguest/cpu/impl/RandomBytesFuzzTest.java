package org.lguest.cpu.impl;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.EnumSet;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.CpuExit;

/**
 * Random byte streams, run at ring 3 and at ring 0 (with and without paging),
 * end only in guest-visible outcomes: host exits for exceptions, HLT, budget or
 * shutdown. Never a Java exception, never a run past the budget.
 */
class RandomBytesFuzzTest {
    static final int ROUNDS = 5000;
    static final long BUDGET = 3000;

    private void fuzz(long seed, boolean user, boolean paging) {
        Random rnd = new Random(seed);
        TestMachine m = new TestMachine(1);
        if (paging) m.identityPaging(0x7);
        m.hostVectors();
        byte[] junk = new byte[256];
        for (int round = 0; round < ROUNDS; round++) {
            rnd.nextBytes(junk);
            for (int i = 0; i < junk.length; i++) m.poke8(TestMachine.CODE + i, junk[i]);
            // random data too, so memory operands see varied values
            for (int i = 0; i < 64; i++) m.poke8(0x7000 + i, rnd.nextInt(256));
            m.setupProtected();
            if (paging) m.identityPaging(0x7);
            m.hostVectors();
            if (user) m.toUser();
            for (int r = 0; r < 8; r++) if (r != 4) m.cpu.setReg(r, rnd.nextBoolean() ? 0x7000 + rnd.nextInt(64) : rnd.nextInt());
            m.cpu.setEflags(2);
            m.cpu.setEip(TestMachine.CODE);
            long before = m.cpu.instructionsRetired();
            CpuExit x;
            try {
                x = m.cpu.run(BUDGET);
            } catch (RuntimeException | Error e) {
                StringBuilder hex = new StringBuilder();
                for (int i = 0; i < 32; i++) hex.append(String.format("%02x ", junk[i] & 0xFF));
                throw new AssertionError("seed " + seed + " round " + round + " (user=" + user + ", paging=" + paging
                        + ") threw a Java exception; code starts " + hex, e);
            }
            long ran = m.cpu.instructionsRetired() - before;
            assertTrue(ran <= BUDGET, "ran " + ran + " instructions on a budget of " + BUDGET);
            if (!EnumSet.of(CpuExit.Reason.HOST_VECTOR, CpuExit.Reason.HALT, CpuExit.Reason.BUDGET, CpuExit.Reason.SHUTDOWN)
                    .contains(x.reason())) fail("unexpected exit " + x);
        }
    }

    @Test
    void randomCodeAtRingThreeEndsInGuestOutcomesOnly() {
        fuzz(1, true, false);
    }

    @Test
    void randomCodeAtRingZeroEndsInGuestOutcomesOnly() {
        fuzz(2, false, false);
    }

    @Test
    void randomCodeWithPagingEndsInGuestOutcomesOnly() {
        fuzz(3, true, true);
        fuzz(4, false, true);
    }
}
