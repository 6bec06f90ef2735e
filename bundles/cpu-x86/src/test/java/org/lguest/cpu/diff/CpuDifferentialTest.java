package org.lguest.cpu.diff;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.impl.CpuFactoryImpl;

/**
 * The Java processor executes every instruction the way the host processor
 * does: same registers, same flags (less those the architecture leaves
 * undefined), same memory, same faults with the same error codes and CR2.
 *
 * <p>System properties: {@code diff.cases} (default {@value #DEFAULT_CASES}),
 * {@code diff.seed} (default 1), {@code diff.includeKnownGaps} (default false:
 * the groups in {@link KnownCpuGaps} are not generated), {@code diff.examples}
 * (mismatches printed in full, default 40), {@code diff.helper} (the native
 * helper, default target/native/diff-helper).
 */
class CpuDifferentialTest {
    static final long DEFAULT_CASES = 1_000_000;

    @Test
    void theJavaCpuAgreesWithTheHostProcessorInstructionByInstruction() throws Exception {
        long cases = Long.getLong("diff.cases", DEFAULT_CASES);
        long seed = Long.getLong("diff.seed", 1);
        boolean all = Boolean.getBoolean("diff.includeKnownGaps");
        int examples = Integer.getInteger("diff.examples", 40);
        Predicate<OpcodeTable.Form> include = all ? f -> true : f -> !KnownCpuGaps.excluded(f);

        DifferentialRun.Result r;
        try (Oracle oracle = Oracles.start()) {
            r = DifferentialRun.run(seed, cases, oracle, CpuFactoryImpl::new, include,
                    all ? java.util.Set.of() : KnownCpuGaps.features(), examples, 3);
        }

        StringBuilder report = new StringBuilder();
        report.append(String.format("diff: %d cases run, %d compared, %d mismatches (oracle: %s, seed %d, %.1f s)%n",
                r.run, r.compared, r.mismatches, r.oracle, seed, r.millis / 1000.0));
        if (all) {
            report.append("excluded: none (diff.includeKnownGaps=true)").append(System.lineSeparator());
        } else {
            report.append(String.format("excluded: %d groups: %s%n", KnownCpuGaps.GAPS.size(),
                    String.join(", ", KnownCpuGaps.GAPS.keySet())));
        }
        if (!r.masked.isEmpty()) {
            report.append("masked where QEMU differs from the hardware (QemuDifferences; java checked against the "
                    + "hardware's answer instead):").append(System.lineSeparator()).append(r.maskedSummary());
        }
        if (r.mismatches > 0) {
            report.append("mismatches by instruction (count, what differs):").append(System.lineSeparator());
            report.append(r.summary());
            report.append("first mismatches:").append(System.lineSeparator());
            for (String e : r.examples) {
                report.append(e).append(System.lineSeparator());
            }
        }
        System.out.print(report);
        System.out.flush();
        if (r.mismatches > 0) {
            fail(r.mismatches + " of " + r.compared + " cases differ; by instruction (host/java):"
                    + System.lineSeparator() + r.summary());
        }
    }
}
