package org.lguest.cpu.bare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * Boots each system-test kernel (src/test/kernels, built into target/kernels
 * by the test phase) on the bare machine and compares its serial output, line
 * by line, with src/test/kernels/expected/NAME.txt, recorded once from
 * qemu-system-i386 (or, for the kernels in expected/HANDWRITTEN, written from
 * the Intel SDM). One dynamic test per kernel.
 *
 * <p>src/test/kernels/known-gaps.txt lists what the Java CPU is already known
 * to get wrong: a whole kernel ("NAME reason": it still runs, its differences
 * are printed, it is reported as skipped) or one check of a kernel
 * ("NAME:CHECK reason", CHECK being the text before the first ": " of an
 * output line: that line may differ, every other line must match). A gap that
 * starts passing fails the test until its line is removed, so the list only
 * shrinks.
 *
 * <p>Each run is capped at {@link #MAX_INSTRUCTIONS} and must end with the
 * kernel's write to the exit port; a triple fault, a halt, an exhausted budget
 * or an exception from the CPU is reported with the output so far.
 */
class SystemKernelsTest {

    private static final Path BASE = Path.of(System.getProperty("basedir", "."));
    private static final Path KERNELS = BASE.resolve("target/kernels");
    private static final Path SOURCES = BASE.resolve("src/test/kernels");
    private static final Path EXPECTED = SOURCES.resolve("expected");
    private static final Path KNOWN_GAPS = SOURCES.resolve("known-gaps.txt");

    /** Memory for each run; the kernels touch less than 16 MiB. */
    private static final int MEM_MIB = 32;
    /** Instruction cap per kernel, so that a CPU bug cannot hang the build (each kernel needs about 150k). */
    private static final long MAX_INSTRUCTIONS = 50_000_000L;
    /** What a kernel's final write of 0 to port 0xF4 makes run() return: (0 << 1) | 1. */
    private static final int DONE_STATUS = 1;

    @TestFactory
    Stream<DynamicTest> kernels() throws IOException {
        Map<String, String> gaps = knownGaps();
        if (!gaps.isEmpty()) {
            System.out.println("SystemKernelsTest: known gaps (" + gaps.size() + ", from src/test/kernels/known-gaps.txt):");
            gaps.forEach((k, why) -> System.out.println("  " + k + ": " + why));
        }
        List<Path> elfs = kernelFiles();
        assertTrue(!elfs.isEmpty(), "no kernels in " + KERNELS + " (did src/test/kernels/build.sh run?)");
        return elfs.stream().map(elf -> {
            String name = nameOf(elf);
            Map<String, String> lineGaps = new TreeMap<>();
            gaps.forEach((k, why) -> {
                if (k.startsWith(name + ":")) lineGaps.put(k.substring(name.length() + 1), why);
            });
            return DynamicTest.dynamicTest(name, () -> runKernel(name, elf, gaps.get(name), lineGaps));
        });
    }

    /** Every built kernel has an expected file, and every expected file a kernel. */
    @Test
    void everyKernelHasExpectedOutput() throws IOException {
        TreeSet<String> built = new TreeSet<>();
        for (Path p : kernelFiles()) built.add(nameOf(p));
        TreeSet<String> expected = new TreeSet<>();
        try (Stream<Path> s = Files.list(EXPECTED)) {
            s.filter(p -> p.getFileName().toString().endsWith(".txt"))
                    .forEach(p -> expected.add(p.getFileName().toString().replaceFirst("\\.txt$", "")));
        }
        assertEquals(expected, built, "kernels built vs expected/*.txt");
        for (String name : expected) {
            List<String> lines = readLines(EXPECTED.resolve(name + ".txt"));
            assertTrue(lines.size() > 2 && lines.get(0).equals("KERNEL " + name) && lines.getLast().equals("DONE"),
                    "expected/" + name + ".txt must run from 'KERNEL " + name + "' to 'DONE'");
            TreeSet<String> keys = new TreeSet<>();
            for (String line : lines) {
                assertTrue(keys.add(checkOf(line)), "expected/" + name + ".txt: check name repeated: " + checkOf(line));
            }
        }
    }

    /** The known-gap and hand-written lists name real kernels (and checks) and give a reason. */
    @Test
    void listsNameRealKernels() throws IOException {
        TreeSet<String> built = new TreeSet<>();
        for (Path p : kernelFiles()) built.add(nameOf(p));
        for (Path list : List.of(KNOWN_GAPS, EXPECTED.resolve("HANDWRITTEN"))) {
            for (Map.Entry<String, String> e : readList(list).entrySet()) {
                String key = e.getKey();
                int colon = key.indexOf(':');
                String kernel = colon < 0 ? key : key.substring(0, colon);
                assertTrue(built.contains(kernel), list.getFileName() + " names unknown kernel " + kernel);
                if (colon >= 0) {
                    String check = key.substring(colon + 1);
                    assertTrue(readLines(EXPECTED.resolve(kernel + ".txt")).stream()
                            .anyMatch(l -> checkOf(l).equals(check)),
                            list.getFileName() + " names unknown check " + key);
                }
                assertTrue(!e.getValue().isBlank(), list.getFileName() + ": no reason given for " + key);
            }
        }
    }

    private static void runKernel(String name, Path elf, String kernelGap, Map<String, String> lineGaps)
            throws Exception {
        List<String> want = readLines(EXPECTED.resolve(name + ".txt"));
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        BareMachine m = new BareMachine(MEM_MIB);
        m.load(elf, name);
        int status;
        try {
            status = m.run(serial, MAX_INSTRUCTIONS);
        } catch (RuntimeException | Error e) {
            // the CPU itself blew up: report it with the output so far, as a mismatch
            status = Integer.MIN_VALUE;
            serial.write(("\n<BareMachine threw " + e + ">\n").getBytes(StandardCharsets.ISO_8859_1));
            e.printStackTrace(System.out);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        List<String> got = splitLines(serial.toString(StandardCharsets.ISO_8859_1));
        Comparison c = compare(name, want, got, lineGaps.keySet());
        String diff = c.report();
        if (diff == null && status != DONE_STATUS) {
            diff = "kernel " + name + ": output matches but the run ended with " + describe(status)
                    + " instead of the exit port write (status " + DONE_STATUS + ")\n";
        } else if (diff != null) {
            diff += "  run ended with " + describe(status) + "\n";
        }
        System.out.printf("SystemKernelsTest: %s: %s (%s, %d ms, %d instructions, %d/%d lines)%n", name,
                diff != null ? "MISMATCH" : c.tolerated.isEmpty() ? "ok" : "ok except known gaps " + c.tolerated.keySet(),
                describe(status), ms, m.cpu().instructionsRetired(), got.size(), want.size());
        c.tolerated.forEach((check, wg) -> System.out.println("  known gap " + name + ":" + check + " ("
                + lineGaps.get(check) + ")\n    want: " + wg[0] + "\n    got:  " + wg[1]));
        if (kernelGap != null) {
            if (diff == null) {
                fail(name + " now matches its expected output: remove it from src/test/kernels/known-gaps.txt");
            }
            System.out.println(diff);
            throw new TestAbortedException("known gap (" + kernelGap + "):\n" + diff);
        }
        if (diff != null) {
            System.out.println(diff);
            fail(diff);
        }
        TreeSet<String> fixed = new TreeSet<>(lineGaps.keySet());
        fixed.removeAll(c.tolerated.keySet());
        if (!fixed.isEmpty()) {
            fail(name + ": known gaps now pass, remove them from src/test/kernels/known-gaps.txt: " + fixed);
        }
    }

    /** The part of an output line before its first ": " names the check. */
    static String checkOf(String line) {
        int i = line.indexOf(": ");
        return i < 0 ? line : line.substring(0, i);
    }

    /** Differences between want and got; lines of gapped checks that differ are set aside. */
    record Comparison(String name, int wantLines, List<String[]> real, int firstReal, Map<String, String[]> tolerated) {
        /** Null when nothing but known gaps differs; otherwise the first differing lines and a count. */
        String report() {
            if (real.isEmpty()) return null;
            StringBuilder sb = new StringBuilder();
            sb.append("kernel ").append(name).append(": ").append(real.size()).append(" of ").append(wantLines)
                    .append(" expected lines differ; first at line ").append(firstReal + 1).append('\n');
            for (String[] d : real.subList(0, Math.min(6, real.size()))) {
                sb.append("  line ").append(d[0]).append('\n');
                sb.append("    want: ").append(d[1]).append('\n');
                sb.append("    got:  ").append(d[2]).append('\n');
            }
            return sb.toString();
        }
    }

    static Comparison compare(String name, List<String> want, List<String> got, java.util.Set<String> gapped) {
        int n = Math.max(want.size(), got.size());
        List<String[]> real = new ArrayList<>();
        Map<String, String[]> tolerated = new TreeMap<>();
        int first = -1;
        for (int i = 0; i < n; i++) {
            String w = i < want.size() ? want.get(i) : null;
            String g = i < got.size() ? got.get(i) : null;
            if (w != null && w.equals(g)) continue;
            if (w != null && g != null && gapped.contains(checkOf(w)) && checkOf(w).equals(checkOf(g))) {
                tolerated.put(checkOf(w), new String[] {w, g});
                continue;
            }
            if (first < 0) first = i;
            real.add(new String[] {Integer.toString(i + 1), w == null ? "<end of output>" : w,
                    g == null ? "<end of output>" : g});
        }
        return new Comparison(name, want.size(), real, first, tolerated);
    }

    private static String describe(int status) {
        return switch (status) {
            case BareMachine.BUDGET_EXHAUSTED -> "instruction budget exhausted (" + MAX_INSTRUCTIONS + ")";
            case BareMachine.TRIPLE_FAULT -> "triple fault";
            case BareMachine.HALTED -> "HLT with interrupts off";
            case Integer.MIN_VALUE -> "an exception thrown by BareMachine";
            default -> "exit status " + status;
        };
    }

    private static List<Path> kernelFiles() throws IOException {
        if (!Files.isDirectory(KERNELS)) return List.of();
        try (Stream<Path> s = Files.list(KERNELS)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".elf")).sorted().toList();
        }
    }

    private static String nameOf(Path elf) {
        return elf.getFileName().toString().replaceFirst("\\.elf$", "");
    }

    private static List<String> readLines(Path p) throws IOException {
        return splitLines(Files.readString(p, StandardCharsets.ISO_8859_1));
    }

    private static List<String> splitLines(String s) {
        List<String> out = new ArrayList<>();
        for (String line : s.replace("\r", "").split("\n", -1)) out.add(line);
        if (!out.isEmpty() && out.getLast().isEmpty()) out.removeLast();
        return out;
    }

    private static Map<String, String> knownGaps() throws IOException {
        return readList(KNOWN_GAPS);
    }

    /** "NAME reason" lines; '#' comments and blank lines skipped. */
    private static Map<String, String> readList(Path p) throws IOException {
        Map<String, String> m = new TreeMap<>();
        if (!Files.exists(p)) return m;
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int sp = line.indexOf(' ');
            m.put(sp < 0 ? line : line.substring(0, sp), sp < 0 ? "" : line.substring(sp + 1).strip());
        }
        return m;
    }

}
