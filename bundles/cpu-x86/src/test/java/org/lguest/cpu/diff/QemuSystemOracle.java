package org.lguest.cpu.diff;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * qemu-system-i386 as the oracle: it boots the oracle kernel
 * (src/test/native/oracle/), which runs each case at ring 3 on qemu's
 * emulated processor and takes its ending through the IDT.
 *
 * <p>The guest's RAM is a file (qemu's {@code memory-backend-file} with
 * {@code share=on}) that this class maps too, so cases and outcomes travel
 * through two byte rings in guest RAM at {@link #RING_PHYS}, without a
 * device or an exit: this class writes the input ring and reads the output
 * ring, the kernel the other way round. The layout of the control page is
 * oracle.c's ({@code C_*}).
 */
final class QemuSystemOracle implements Oracle {
    static final long RAM = 128L << 20;
    static final long RING_PHYS = 0x0400_0000L;
    static final int RING_MAGIC = 0x4c43524f;
    private static final long C_MAGIC = 0, C_IN_SIZE = 4, C_OUT_SIZE = 8, C_IN_HEAD = 64, C_IN_TAIL = 128,
            C_OUT_HEAD = 192, C_OUT_TAIL = 256, C_EXIT = 320;
    /** No progress for this long while waiting on the kernel means it is stuck. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(120);
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final String version;
    private final Path ramFile;
    private final Path log;
    private final Process process;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ctl;
    private final MemorySegment inRing;
    private final MemorySegment outRing;
    private final OutputStream cases = new RingOut();
    private final InputStream outcomes = new RingIn();
    private boolean closed;

    QemuSystemOracle(String qemu, Path kernel) throws IOException {
        if (!Files.isRegularFile(kernel)) {
            throw new IOException("oracle kernel " + kernel.toAbsolutePath()
                    + " not built: run src/test/native/build.sh target/native (mvn runs it in process-test-classes)");
        }
        version = qemuVersion(qemu);
        Path dir = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        ramFile = Files.createTempFile(dir, "lguest-diff-oracle-", ".ram");
        log = Files.createTempFile("lguest-diff-oracle-", ".log");
        MemorySegment ram;
        try (FileChannel ch = FileChannel.open(ramFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(1), RAM - 1);
            ram = ch.map(FileChannel.MapMode.READ_WRITE, 0, RAM, arena);
        }
        ctl = ram.asSlice(RING_PHYS, 4096);
        INT.setVolatile(ctl, C_MAGIC, 0);
        List<String> cmd = List.of(qemu, "-machine", "pc,memory-backend=ram", "-object",
                "memory-backend-file,id=ram,size=" + (RAM >> 20) + "M,mem-path=" + ramFile + ",share=on",
                "-m", (RAM >> 20) + "M", "-cpu", "qemu32", "-accel", "tcg,tb-size=64", "-kernel", kernel.toString(),
                "-display", "none", "-nodefaults", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while ((int) INT.getAcquire(ctl, C_MAGIC) != RING_MAGIC) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String f = failure();
                close();
                throw new IOException("the oracle kernel did not come up under " + qemu + ": " + f);
            }
            LockSupport.parkNanos(1_000_000);
        }
        int inSize = (int) INT.getAcquire(ctl, C_IN_SIZE);
        int outSize = (int) INT.getAcquire(ctl, C_OUT_SIZE);
        inRing = ram.asSlice(RING_PHYS + 4096, inSize);
        outRing = ram.asSlice(RING_PHYS + 4096 + inSize, outSize);
    }

    private static String qemuVersion(String qemu) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(qemu, "--version").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("this host cannot run i386 programs and " + qemu + " cannot be started ("
                    + e.getMessage() + "): install qemu-system-x86 (build.sh does)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
        String first = out.lines().findFirst().orElse("");
        int at = first.indexOf("version ");
        return at < 0 ? first.strip() : first.substring(at + 8).split("[ (]")[0];
    }

    @Override
    public Kind kind() {
        return Kind.QEMU;
    }

    @Override
    public String name() {
        return "qemu-system-i386 " + version;
    }

    @Override
    public OutputStream cases() {
        return cases;
    }

    @Override
    public InputStream outcomes() {
        return outcomes;
    }

    @Override
    public String failure() {
        StringBuilder sb = new StringBuilder();
        try {
            if (process.waitFor(5, TimeUnit.SECONDS)) {
                sb.append("qemu exited ").append(process.exitValue());
            } else {
                sb.append("qemu still running");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            String said = Files.readString(log).strip();
            if (!said.isEmpty()) {
                sb.append("; it said: ").append(said.length() > 2000 ? said.substring(said.length() - 2000) : said);
            }
        } catch (IOException e) {
            sb.append("; its log ").append(log).append(" is unreadable");
        }
        return sb.toString();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroy();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            arena.close();
            Files.deleteIfExists(ramFile);
            Files.deleteIfExists(log);
        }
    }

    /** Waits a little for the kernel; throws when it died or made no progress for STALL_NANOS. */
    private void pause(long waitingSince, int spins) throws IOException {
        if (spins < 64) {
            Thread.onSpinWait();
            return;
        }
        if ((spins & 255) == 0) {
            if (!process.isAlive() || (int) INT.getAcquire(ctl, C_EXIT) == 2) {
                throw new IOException("the oracle kernel stopped: " + failure());
            }
            if (System.nanoTime() - waitingSince > STALL_NANOS) {
                throw new IOException("the oracle kernel made no progress for "
                        + TimeUnit.NANOSECONDS.toSeconds(STALL_NANOS) + " s");
            }
        }
        LockSupport.parkNanos(20_000);
        if (Thread.interrupted()) {
            throw new InterruptedIOException();
        }
    }

    /** The input ring, written here and read by the kernel. */
    private final class RingOut extends OutputStream {
        private final byte[] one = new byte[1];

        @Override
        public void write(int b) throws IOException {
            one[0] = (byte) b;
            write(one, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            long size = inRing.byteSize();
            while (len > 0) {
                int head = (int) INT.getAcquire(ctl, C_IN_HEAD);
                long since = System.nanoTime();
                int room;
                for (int spins = 0; (room = (int) (size - (head - (int) INT.getAcquire(ctl, C_IN_TAIL)))) == 0;
                     spins++) {
                    pause(since, spins);
                }
                long pos = Integer.toUnsignedLong(head) & (size - 1);
                int k = (int) Math.min(Math.min(len, room), size - pos);
                MemorySegment.copy(b, off, inRing, ValueLayout.JAVA_BYTE, pos, k);
                INT.setRelease(ctl, C_IN_HEAD, head + k);
                off += k;
                len -= k;
            }
        }
    }

    /** The output ring, written by the kernel and read here. */
    private final class RingIn extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            long size = outRing.byteSize();
            int tail = (int) INT.getAcquire(ctl, C_OUT_TAIL);
            int head;
            long since = System.nanoTime();
            for (int spins = 0; (head = (int) INT.getAcquire(ctl, C_OUT_HEAD)) == tail; spins++) {
                if ((int) INT.getAcquire(ctl, C_EXIT) == 1) {
                    return -1;
                }
                pause(since, spins);
            }
            long pos = Integer.toUnsignedLong(tail) & (size - 1);
            int k = (int) Math.min(Math.min(len, head - tail), size - pos);
            MemorySegment.copy(outRing, ValueLayout.JAVA_BYTE, pos, b, off, k);
            INT.setRelease(ctl, C_OUT_TAIL, tail + k);
            return k;
        }
    }
}
