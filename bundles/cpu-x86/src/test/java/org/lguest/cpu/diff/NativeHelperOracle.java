package org.lguest.cpu.diff;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The host processor as the oracle: the native helper (a static i386 Linux
 * program, src/test/native/helper.c) runs each case at ring 3 and reports
 * the signal that ended it. Cases go to its standard input, outcomes come
 * from its standard output.
 */
final class NativeHelperOracle implements Oracle {
    private final Process process;

    NativeHelperOracle(Path helper) throws IOException {
        if (!Files.isExecutable(helper)) {
            throw new IOException("native helper " + helper.toAbsolutePath()
                    + " not built: run src/test/native/build.sh target/native (mvn runs it in process-test-classes)");
        }
        process = new ProcessBuilder(helper.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Override
    public Kind kind() {
        return Kind.HOST;
    }

    @Override
    public String name() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return "host processor (" + line.substring(line.indexOf(':') + 1).strip() + ")";
                }
            }
        } catch (IOException e) {
            // the name is only for the report
        }
        return "host processor";
    }

    @Override
    public OutputStream cases() {
        return process.getOutputStream();
    }

    @Override
    public InputStream outcomes() {
        return process.getInputStream();
    }

    @Override
    public String failure() {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? "native helper exited " + process.exitValue()
                    : "native helper still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
