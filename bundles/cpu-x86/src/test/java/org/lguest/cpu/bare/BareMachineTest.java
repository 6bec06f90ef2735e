package org.lguest.cpu.bare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bare machine's boot protocol and exits, with tiny multiboot ELF images made here. */
class BareMachineTest {
    @TempDir
    Path dir;

    /** A multiboot ELF32 whose single PT_LOAD puts the header and then code at 1 MiB; entry is the code. */
    private Path kernel(int... code) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(96 + 12 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        b.putShort((short) 2).putShort((short) 3).putInt(1).putInt(0x10000C).putInt(52).putInt(0).putInt(0);
        b.putShort((short) 52).putShort((short) 32).putShort((short) 1).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(96).putInt(0x100000).putInt(0x100000).putInt(12 + code.length).putInt(12 + code.length).putInt(5).putInt(4);
        b.position(96);
        b.putInt(0x1BADB002).putInt(3).putInt(-(0x1BADB002 + 3));
        for (int c : code) b.put((byte) c);
        Path p = dir.resolve("k.elf");
        Files.write(p, b.array());
        return p;
    }

    private static int boot(Path k, ByteArrayOutputStream out) throws IOException {
        BareMachine m = new BareMachine(8);
        m.load(k, "");
        return m.run(out, 1_000_000);
    }

    @Test
    void serialOutputAndDebugExitStatus() throws IOException {
        // mov dx,0x3f8; mov al,'A'; out dx,al; mov al,0x11; out 0xf4,al; hlt
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = boot(kernel(0x66, 0xBA, 0xF8, 0x03, 0xB0, 'A', 0xEE, 0xB0, 0x11, 0xE6, 0xF4, 0xF4), out);
        assertEquals("A", out.toString());
        assertEquals((0x11 << 1) | 1, status, "isa-debug-exit: (v << 1) | 1");
    }

    @Test
    void bootsWithTheMultibootMagicInEaxAndTheInfoStructureInEbx() throws IOException {
        // out 0xf4,al (AL = low byte of 0x2BADB002); then ebx's low byte
        assertEquals((0x02 << 1) | 1, boot(kernel(0xE6, 0xF4, 0xF4), new ByteArrayOutputStream()));
        // mov eax,[ebx+4] (mem_lower); out 0xf4,al -> 639 & 0xFF
        assertEquals(((639 & 0xFF) << 1) | 1, boot(kernel(0x8B, 0x43, 0x04, 0xE6, 0xF4, 0xF4), new ByteArrayOutputStream()));
    }

    @Test
    void tripleFaultEndsTheRunWithItsOwnStatus() throws IOException {
        assertEquals(BareMachine.TRIPLE_FAULT, boot(kernel(0x0F, 0x0B), new ByteArrayOutputStream()));
    }

    @Test
    void haltWithNothingToWakeTheMachineEndsTheRun() throws IOException {
        assertEquals(BareMachine.HALTED, boot(kernel(0xFA, 0xF4), new ByteArrayOutputStream()));
    }

    @Test
    void runningOutOfBudgetIsReported() throws IOException {
        assertEquals(BareMachine.BUDGET_EXHAUSTED, boot(kernel(0xEB, 0xFE), new ByteArrayOutputStream()));
    }

    /** Runs BareMachine.main in a JVM of its own; returns {exit status, stderr}. */
    private static Object[] runMain(String... args) throws IOException, InterruptedException {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), BareMachine.class.getName()));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return new Object[] {p.waitFor(), err};
    }

    @Test
    void aMissingKernelIsOneLineAndStatus2() throws Exception {
        Path k = dir.resolve("nope.elf");
        Object[] r = runMain(k.toString());
        assertEquals("lguest bare: " + k + ": no such file" + System.lineSeparator(), r[1]);
        assertEquals(BareMachine.LOAD_FAILED, r[0]);
    }

    @Test
    void aNonElfKernelIsOneLineAndStatus2() throws Exception {
        Path k = dir.resolve("text");
        Files.writeString(k, "not a kernel\n");
        Object[] r = runMain("--mem", "8", k.toString());
        assertEquals("lguest bare: " + k + ": not an ELF32 file" + System.lineSeparator(), r[1]);
        assertEquals(2, r[0]);
    }

    @Test
    void aTruncatedElfIsReportedWithoutAStackTrace() throws IOException {
        Path k = kernel(0xF4);
        byte[] img = Files.readAllBytes(k);
        ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN).putInt(28, 0x7FFFFF00); // phoff far past the end
        Files.write(k, img);
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> new BareMachine(8).load(k, ""));
        String line = BareMachine.loadFailure(k, e);
        org.junit.jupiter.api.Assertions.assertTrue(line.startsWith("lguest bare: " + k + ": "), line);
        org.junit.jupiter.api.Assertions.assertFalse(line.contains("\n"), line);
    }
}
