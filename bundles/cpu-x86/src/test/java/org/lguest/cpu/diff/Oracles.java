package org.lguest.cpu.diff;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The one place that decides which {@link Oracle} the differential tests
 * use. In the order of preference:
 * <ol>
 * <li>the host processor itself, where this machine executes i386 programs
 * ({@code target/native/host-runs-i386} says "yes", written by
 * src/test/native/build.sh after it tried one);</li>
 * <li>otherwise qemu-system-i386 running the oracle kernel, whose
 * differences from the hardware are listed, once each, in
 * {@link QemuDifferences}.</li>
 * </ol>
 * {@code -Ddiff.oracle=host|qemu} forces one (and fails clearly where it
 * cannot run); {@code -Ddiff.qemu=PATH} names the qemu-system-i386 binary.
 */
final class Oracles {
    static final Path NATIVE = Path.of("target/native");

    private Oracles() {
    }

    static Oracle.Kind chosen() throws IOException {
        String forced = System.getProperty("diff.oracle", "auto").toLowerCase(Locale.ROOT);
        return switch (forced) {
            case "host" -> {
                String why = hostCannotRunI386();
                if (why != null) {
                    throw new IOException("diff.oracle=host, but " + why);
                }
                yield Oracle.Kind.HOST;
            }
            case "qemu" -> Oracle.Kind.QEMU;
            case "auto" -> hostCannotRunI386() == null ? Oracle.Kind.HOST : Oracle.Kind.QEMU;
            default -> throw new IOException("diff.oracle must be host, qemu or auto, not " + forced);
        };
    }

    /** Starts the chosen oracle. */
    static Oracle start() throws IOException {
        return switch (chosen()) {
            case HOST -> new NativeHelperOracle(Path.of(System.getProperty("diff.helper",
                    NATIVE.resolve("diff-helper").toString())));
            case QEMU -> new QemuSystemOracle(System.getProperty("diff.qemu", "qemu-system-i386"),
                    NATIVE.resolve("oracle-kernel.elf"));
        };
    }

    /** Null when the host runs i386 programs, else why not. */
    static String hostCannotRunI386() throws IOException {
        Path verdict = NATIVE.resolve("host-runs-i386");
        if (!Files.exists(verdict)) {
            throw new IOException(verdict.toAbsolutePath() + " is missing: src/test/native/build.sh writes it "
                    + "(mvn runs it in process-test-classes)");
        }
        String v = Files.readString(verdict).strip();
        return v.equals("yes") ? null : "this host cannot run i386 programs (" + v + ")";
    }
}
