package org.lguest.cpu.diff;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.lguest.cpu.CpuFactory;

/**
 * Runs cases on the oracle (through {@link OracleCpu}) and on the Java
 * processor (through {@link JavaCpuRig}) and compares them. A generator
 * thread makes the cases and streams them to the oracle; the calling thread
 * reads the oracle's outcomes in order, runs each case on the Java side and
 * compares.
 */
final class DifferentialRun {

    /** What a run found. */
    static final class Result {
        long run;
        long compared;
        long mismatches;
        /** mnemonic -> count of mismatching cases. */
        final Map<String, Long> byGroup = new TreeMap<>();
        /** mnemonic -> kinds of difference seen (first word of each difference line) -> count. */
        final Map<String, Map<String, Long>> whatDiffers = new TreeMap<>();
        /** The first mismatches, in full. */
        final List<String> examples = new ArrayList<>();
        /** mnemonic -> first example, for the group summary. */
        final Map<String, String> firstByGroup = new LinkedHashMap<>();
        long millis;
        /** The oracle's name, for the summary line. */
        String oracle;
        /** QemuDifferences id -> {cases masked, Java gave the hardware's answer, not checked}. */
        final Map<String, long[]> masked = new TreeMap<>();

        String maskedSummary() {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, long[]> e : masked.entrySet()) {
                long[] n = e.getValue();
                sb.append(String.format("  %-28s %8d cases: java gave the hardware's answer in %d%s%n", e.getKey(),
                        n[0], n[1], n[2] == 0 ? "" : ", not checked in " + n[2] + " (no hardware answer computed)"));
            }
            return sb.toString();
        }

        String summary() {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, Long> e : byGroup.entrySet()) {
                sb.append(String.format("  %-14s %8d  %s%n", e.getKey(), e.getValue(), whatDiffers.get(e.getKey())));
            }
            return sb.toString();
        }
    }

    private DifferentialRun() {
    }

    static Result run(long seed, long cases, Oracle oracle, Supplier<CpuFactory> factory,
                      Predicate<OpcodeTable.Form> include, java.util.Set<String> avoid, int examples,
                      int examplesPerGroup) throws Exception {
        long t0 = System.nanoTime();
        byte[] pattern = CaseGenerator.patternFor(seed);
        Result result = new Result();
        result.oracle = oracle.name();
        try (OracleCpu host = new OracleCpu(oracle, pattern)) {
            OracleCpu.Header h = host.header();
            CaseGenerator gen = new CaseGenerator(seed, h.userCs(), h.userDs(), include, avoid);
            JavaCpuRig rig = new JavaCpuRig(factory, h, pattern);
            Comparison cmp = new Comparison(pattern);
            boolean qemu = oracle.kind() == Oracle.Kind.QEMU;
            record Queued(DiffCase c, QemuDifferences.Difference notSent) {
            }
            BlockingQueue<Queued> queue = new ArrayBlockingQueue<>(50_000);
            Throwable[] writerFailure = new Throwable[1];
            // diff.lockstep=true: one case at a time, so that an oracle that dies names the case that killed it.
            boolean lockstep = Boolean.getBoolean("diff.lockstep");
            long first = Long.getLong("diff.first", 0);
            java.util.concurrent.Semaphore answered = new java.util.concurrent.Semaphore(0);
            Thread writer = Thread.ofPlatform().name("diff-case-writer").daemon().start(() -> {
                try {
                    for (long i = first; i < first + cases; i++) {
                        DiffCase c = gen.generate(i);
                        QemuDifferences.Difference notSent = qemu ? QemuDifferences.notSent(c, pattern) : null;
                        Queued q = new Queued(c, notSent);
                        if (!queue.offer(q)) {
                            host.flush();
                            queue.put(q);
                        }
                        if (notSent != null) {
                            continue;
                        }
                        host.send(c);
                        if (lockstep) {
                            host.flush();
                            answered.acquire();
                        }
                    }
                    host.finish();
                } catch (Throwable e) {
                    writerFailure[0] = e;
                }
            });
            Map<String, Integer> perGroup = new TreeMap<>();
            for (long i = 0; i < cases; i++) {
                Queued queued = queue.poll(60, TimeUnit.SECONDS);
                if (queued == null) {
                    throw new IOException("case generator stalled", writerFailure[0]);
                }
                DiffCase c = queued.c();
                if (queued.notSent() != null) {
                    result.run++;
                    Outcome jo = rig.run(c);
                    result.compared++;
                    String wrong = checkHardwareAnswer(result, queued.notSent(), c, pattern, null, jo);
                    if (wrong != null) {
                        count(result, perGroup, c, List.of(wrong), null, jo, examples, examplesPerGroup);
                    }
                    continue;
                }
                Outcome ho;
                try {
                    ho = host.receive();
                } catch (IOException e) {
                    if (writerFailure[0] != null) {
                        e.addSuppressed(writerFailure[0]);
                    }
                    throw new IOException(oracle.name() + " failed at " + Comparison.describeCase(c), e);
                }
                result.run++;
                if (lockstep) {
                    answered.release();
                }
                Outcome jo = rig.run(c);
                result.compared++;
                List<String> diffs = cmp.differences(c, ho, jo);
                if (!diffs.isEmpty() && qemu) {
                    List<QemuDifferences.Difference> explained = QemuDifferences.explaining(c, pattern, ho, jo, diffs);
                    if (!explained.isEmpty()) {
                        List<String> wrong = new ArrayList<>();
                        for (QemuDifferences.Difference d : explained) {
                            String w = checkHardwareAnswer(result, d, c, pattern, ho, jo);
                            if (w != null) {
                                wrong.add(w);
                            }
                        }
                        diffs = wrong;
                    }
                }
                if (!diffs.isEmpty()) {
                    count(result, perGroup, c, diffs, ho, jo, examples, examplesPerGroup);
                }
            }
            writer.join(10_000);
            if (writerFailure[0] != null) {
                throw new IOException("case writer failed", writerFailure[0]);
            }
        }
        result.millis = (System.nanoTime() - t0) / 1_000_000;
        return result;
    }

    /** Counts a masked case; returns null when the Java outcome is the hardware's answer, else the difference. */
    private static String checkHardwareAnswer(Result result, QemuDifferences.Difference d, DiffCase c,
                                              byte[] pattern, Outcome ho, Outcome jo) {
        long[] n = result.masked.computeIfAbsent(d.id(), k -> new long[3]);
        n[0]++;
        if (d.hardwareDisagrees() == null) {
            n[2]++;
            return null;
        }
        String wrong = d.hardwareDisagrees().check(c, pattern, ho, jo);
        if (wrong == null) {
            n[1]++;
            return null;
        }
        return "hardware's answer (QemuDifferences." + d.id() + ": " + d.hardwareAnswer() + "): " + wrong;
    }

    private static void count(Result result, Map<String, Integer> perGroup, DiffCase c, List<String> diffs,
                              Outcome ho, Outcome jo, int examples, int examplesPerGroup) {
        result.mismatches++;
        String group = c.form().mnemonic();
        result.byGroup.merge(group, 1L, Long::sum);
        Map<String, Long> kinds = result.whatDiffers.computeIfAbsent(group, k -> new TreeMap<>());
        for (String d : diffs) {
            for (String k : kindsOf(d, ho, jo)) {
                kinds.merge(k, 1L, Long::sum);
            }
        }
        int seen = perGroup.merge(group, 1, Integer::sum);
        if (result.examples.size() < examples && seen <= examplesPerGroup) {
            result.examples.add(Comparison.describeCase(c) + System.lineSeparator() + "    oracle: "
                    + (ho == null ? "not asked" : Comparison.ending(ho)) + System.lineSeparator() + "    java: "
                    + Comparison.ending(jo) + System.lineSeparator() + "    differs: "
                    + String.join(System.lineSeparator() + "             ", diffs));
        }
    }

    /** Short names for the summary: "ending #PF/#BP", "flag OF", "EAX", "memory", "error code 0x6/0x4". */
    private static List<String> kindsOf(String difference, Outcome host, Outcome java) {
        int colon = difference.indexOf(':');
        String k = colon < 0 ? difference : difference.substring(0, colon);
        if (k.startsWith("EFLAGS differ in ")) {
            List<String> flags = new ArrayList<>();
            for (String f : k.substring("EFLAGS differ in ".length()).split(" ")) {
                flags.add("flag " + f);
            }
            return flags;
        }
        if (k.startsWith("memory")) {
            return List.of("memory");
        }
        if (host == null) {
            return List.of(k.startsWith("hardware's answer") ? "hardware's answer" : k);
        }
        if (k.equals("ending")) {
            return List.of("ending " + Outcome.vectorName(host.vector()) + "/"
                    + (java.vector() < 0 ? String.valueOf(java.other()) : Outcome.vectorName(java.vector())));
        }
        if (k.equals("error code")) {
            return List.of(String.format("error code %#x/%#x", host.errorCode(), java.errorCode()));
        }
        return List.of(k);
    }
}
