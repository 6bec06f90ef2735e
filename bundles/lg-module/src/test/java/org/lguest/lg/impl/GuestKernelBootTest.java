package org.lguest.lg.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lguest.lg.RunResult;
import org.lguest.lg.abi.DmaSections;
import org.lguest.lg.abi.LguestDma;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;

/**
 * The guest branch's kernel (guest/, built in the test phase) booted through
 * the whole host module: ELF by physical address, boot block, initial page
 * tables and console device laid out the 2.6.23 Launcher's way (a minimal
 * stand-in for the Launcher bundle, test code only), then read() in a loop
 * serving console output, until the kernel powers off.
 */
class GuestKernelBootTest {
    static final int GUEST_MEM = 32 << 20;
    final Harness h = new Harness();

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** Loads the ELF's PT_LOAD segments at their physical addresses; returns {entry, pageOffset}. */
    static int[] loadElf(GuestMemory m, byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x464C457F, b.getInt(0), "an ELF image");
        int phoff = b.getInt(28), phnum = b.getShort(44) & 0xFFFF;
        int offset = 0, start = Integer.MAX_VALUE, end = 0;
        for (int i = 0; i < phnum; i++) {
            int ph = phoff + 32 * i;
            if (b.getInt(ph) != 1) {
                continue;
            }
            int off = b.getInt(ph + 4), vaddr = b.getInt(ph + 8), paddr = b.getInt(ph + 12), filesz = b.getInt(ph + 16);
            offset = vaddr - paddr;
            m.write(paddr, elf, off, filesz);
            start = Math.min(start, paddr);
            end = Math.max(end, paddr + filesz);
        }
        byte[] marker = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);
        byte[] image = m.read(start, end - start);
        outer:
        for (int i = 0; i + marker.length <= image.length; i++) {
            for (int k = 0; k < marker.length; k++) {
                if (image[i + k] != marker[k]) {
                    continue outer;
                }
            }
            return new int[] {start + i + marker.length + offset, offset};
        }
        throw new AssertionError("no GenuineLguest marker in the kernel image");
    }

    record Boot(RunResult end, String console, LgGuest guest) {
    }

    @Test
    void theGuestKernelBootsOnTheLguestPathAndPowersOff() throws Exception {
        Boot b = boot("poweroff");
        assertEquals(new RunResult.Dead("CRASH: Power down"), b.end(), "the kernel should power off; console:\n" + b.console());
        assertTrue(b.console().contains("lguest-guest: booting lguest"), "booted the lguest path; console:\n" + b.console());
        assertTrue(b.console().contains("kernel at ring 1"), "console:\n" + b.console());
        assertTrue(b.console().contains("lguest-guest: boot complete"), "console:\n" + b.console());
        assertTrue(b.guest().info().hypercalls() > 61, "more than its 61 LOAD_IDT_ENTRY calls: " + b.guest().info());
    }

    @Test
    void theGuestKernelPassesItsSelftests() throws Exception {
        Boot b = boot("selftest poweroff");
        String out = b.console();
        assertEquals(new RunResult.Dead("CRASH: Power down"), b.end(), "the kernel should power off; console:\n" + out);
        assertFalse(out.contains("FAIL"), "every selftest passes; console:\n" + out);
        assertTrue(out.matches("(?s).*selftest: \\d+ passed, 0 failed.*"), "the selftest summary; console:\n" + out);
    }

    private Boot boot(String cmdline) throws Exception {
        String path = System.getProperty("lguest.guest.kernel", "target/guest/lguest-guest.elf");
        assumeTrue(Files.isRegularFile(Path.of(path)), "guest kernel not built at " + path);
        GuestMemoryBuilder builder = h.mmu.newGuestMemory(GUEST_MEM >>> 12);
        int devices = builder.addPages("devices", 1) << 12;
        GuestMemory m = builder.build();
        int[] loaded = loadElf(m, Files.readAllBytes(Path.of(path)));
        int entry = loaded[0], pageOffset = loaded[1];

        // Boot block at 0: one E820 entry, the command line at 4096, hardware_subarch 1 (lguest).
        m.writeU8(0x1E8, 1);
        m.writeU32(0x2D0 + 8, GUEST_MEM);
        m.writeU32(0x2D0 + 16, 1);
        m.writeU32(0x228, 4096);
        m.write(4096, (cmdline + "\0").getBytes(StandardCharsets.US_ASCII));
        m.writeU32(0x23C, 1);
        m.writeU16(devices, 1); // device 0: the console (IRQ 1)
        // Initial page tables just below the top of RAM: RAM at pageOffset, flags 0x7.
        int pgdir = GUEST_MEM - 4096, tables = GUEST_MEM >>> 22;
        for (int i = 0; i < tables; i++) {
            int pt = pgdir - 4096 * tables + 4096 * i;
            for (int v = 0; v < 1024; v++) {
                m.writeU32(pt + 4 * v, (i << 22) + (v << 12) | 7);
            }
            m.writeU32(pgdir + 4 * ((pageOffset >>> 22) + i), pt | 7);
        }

        LgGuest g = (LgGuest) h.control.open();
        g.initialize("kernel", m, pgdir, entry, pageOffset);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(120_000);
                g.breakOn();
            } catch (InterruptedException e) {
                // finished in time
            }
        });
        watchdog.setDaemon(true);
        watchdog.start();
        StringBuilder console = new StringBuilder();
        RunResult r;
        while (true) {
            r = g.run();
            if (r instanceof RunResult.Dma(int dma, int key)) {
                int used = 0;
                if (key == LguestDma.CONSOLE_KEY) {
                    for (java.nio.ByteBuffer b : DmaSections.read(m, dma).views(m)) {
                        used += b.remaining();
                        console.append(StandardCharsets.ISO_8859_1.decode(b));
                    }
                }
                m.writeU32(dma + LguestDma.USED_LEN, used);
                continue;
            }
            break;
        }
        watchdog.interrupt();
        return new Boot(r, console.toString(), g);
    }
}
