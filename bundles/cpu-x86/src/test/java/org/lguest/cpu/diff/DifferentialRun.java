package org.lguest.cpu.diff;

import java.io.IOException;
import java.nio.file.Path;
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
 * Runs cases on the host (through {@link HostCpu}) and on the Java processor
 * (through {@link JavaCpuRig}) and compares them. A generator thread makes
 * the cases and streams them to the helper; the calling thread reads the
 * host's outcomes in order, runs each case on the Java side and compares.
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

    static Result run(long seed, long cases, Path helper, Supplier<CpuFactory> factory,
                      Predicate<OpcodeTable.Form> include, java.util.Set<String> avoid, int examples,
                      int examplesPerGroup) throws Exception {
        long t0 = System.nanoTime();
        byte[] pattern = CaseGenerator.patternFor(seed);
        Result result = new Result();
        try (HostCpu host = new HostCpu(helper, pattern)) {
            HostCpu.Header h = host.header();
            CaseGenerator gen = new CaseGenerator(seed, h.userCs(), h.userDs(), include, avoid);
            JavaCpuRig rig = new JavaCpuRig(factory, h, pattern);
            Comparison cmp = new Comparison(pattern);
            BlockingQueue<DiffCase> queue = new ArrayBlockingQueue<>(50_000);
            Throwable[] writerFailure = new Throwable[1];
            Thread writer = Thread.ofPlatform().name("diff-case-writer").daemon().start(() -> {
                try {
                    for (long i = 0; i < cases; i++) {
                        DiffCase c = gen.generate(i);
                        if (!queue.offer(c)) {
                            host.flush();
                            queue.put(c);
                        }
                        host.send(c);
                    }
                    host.finish();
                } catch (Throwable e) {
                    writerFailure[0] = e;
                }
            });
            Map<String, Integer> perGroup = new TreeMap<>();
            for (long i = 0; i < cases; i++) {
                DiffCase c = queue.poll(60, TimeUnit.SECONDS);
                if (c == null) {
                    throw new IOException("case generator stalled", writerFailure[0]);
                }
                Outcome ho;
                try {
                    ho = host.receive();
                } catch (IOException e) {
                    if (writerFailure[0] != null) {
                        e.addSuppressed(writerFailure[0]);
                    }
                    throw new IOException("host helper failed at " + Comparison.describeCase(c), e);
                }
                result.run++;
                Outcome jo = rig.run(c);
                result.compared++;
                List<String> diffs = cmp.differences(c, ho, jo);
                if (!diffs.isEmpty()) {
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
                        result.examples.add(Comparison.describeCase(c) + System.lineSeparator() + "    host: "
                                + Comparison.ending(ho) + System.lineSeparator() + "    java: " + Comparison.ending(jo)
                                + System.lineSeparator() + "    differs: " + String.join(System.lineSeparator()
                                + "             ", diffs));
                    }
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
