package org.lguest.cpu.bare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Boots the shared bench kernel (built here from ../shared/bench) through
 * {@link BareMachine} and compares its checksum with the bench README's.
 */
class BenchKernelTest {
    static final String SCALE0_TOTAL = "BENCH total 0x9a41ccef";
    static Path kernel;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Path module = Path.of("").toAbsolutePath();
        Path src = Stream.of(module.resolve("../../../shared/bench"), Path.of("/work/shared/bench"))
                .map(Path::normalize).filter(p -> Files.isRegularFile(p.resolve("build.sh"))).findFirst().orElse(null);
        assumeTrue(src != null, "bench sources not found beside the repository (../shared/bench)");
        Path dst = module.resolve("target/bench");
        Files.createDirectories(dst);
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) Files.copy(p, dst.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (Files.isDirectory(src.resolve("tools"))) {
            Files.createDirectories(dst.resolve("tools"));
            try (Stream<Path> s = Files.list(src.resolve("tools"))) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.copy(p, dst.resolve("tools").resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Process p = new ProcessBuilder("sh", "build.sh").directory(dst.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        kernel = dst.resolve("out/bench-kernel.elf");
        assertTrue(Files.isRegularFile(kernel), "bench kernel did not build:\n" + log);
    }

    private static String boot(String cmdline, int[] status) throws IOException {
        BareMachine m = new BareMachine(128);
        m.load(kernel, cmdline);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        status[0] = m.run(out, 2_000_000_000L);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void benchKernelAtScaleZeroPrintsTheReferenceChecksum() throws IOException {
        int[] status = new int[1];
        String out = boot("scale=0", status);
        assertTrue(out.contains(SCALE0_TOTAL), "serial output lacks '" + SCALE0_TOTAL + "':\n" + out);
        assertEquals(1, status[0], "isa-debug-exit with 0 gives status 1");
    }

    @Test
    void benchKernelWithPagingPrintsTheReferenceChecksum() throws IOException {
        int[] status = new int[1];
        String out = boot("scale=0 paging", status);
        assertTrue(out.contains("BENCH paging on"), "paging was not enabled:\n" + out);
        assertTrue(out.contains(SCALE0_TOTAL), "serial output lacks '" + SCALE0_TOTAL + "':\n" + out);
    }
}
