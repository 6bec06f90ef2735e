package org.lguest.launcher.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.lguest.launcher.LaunchException;
import org.lguest.launcher.testing.RealHost;
import org.lguest.launcher.testing.TrackingMmu;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.abi.v4.BootParams;
import org.lguest.mmu.ShadowPageTables;

/**
 * Which ABI a kernel speaks is read from the kernel, and a 4.x kernel is
 * laid out as the 4.x Launcher does: the unmodified Linux 4.9 of the shared
 * test data ({@code ../shared/linux}, or the system property
 * {@code lguest.linux.dir}), its vmlinux and its bzImage.
 */
class LinuxKernelTest {
    static final Path LINUX = Path.of(System.getProperty("lguest.linux.dir", "../../../shared/linux"));

    static byte[] read(String name) throws IOException {
        Path p = LINUX.resolve(name);
        assumeTrue(Files.isRegularFile(p), "no Linux test data at " + p.toAbsolutePath());
        return Files.readAllBytes(p);
    }

    @Test
    void vmlinuxWithTheLguestEntrySymbolIsAVirtioEraKernel() throws Exception {
        byte[] image = read("vmlinux");
        assertTrue(LinuxKernel.isLinux4(image));
        LinuxKernel k = LinuxKernel.parse("vmlinux", image);
        assertFalse(k.bzImage());
        assertEquals(0x01000000, k.entry(), "startup_32's physical address");
        assertEquals(0xC0000000, k.pageOffset());
        assertEquals(0x01000000L, k.segments().get(0).paddr());
    }

    @Test
    void bzImageOfProtocol207OrLaterIsAVirtioEraKernel() throws Exception {
        byte[] image = read("bzImage");
        assertTrue(LinuxKernel.isLinux4(image));
        LinuxKernel k = LinuxKernel.parse("bzImage", image);
        assertTrue(k.bzImage());
        assertEquals(0x100000, k.entry());
        assertEquals(0x3DA000L, k.initSize(), "init_size from the setup header (see ../shared/linux/README.md)");
        assertEquals((30 + 1) * 512, k.segments().get(0).fileOffset());
    }

    @Test
    void theBundledDmaEraGuestIsNotAVirtioEraKernel() throws Exception {
        assertFalse(LinuxKernel.isLinux4(Files.readAllBytes(RealHost.GUEST_KERNEL)));
    }

    @Test
    void anElfWithoutEitherMarkIsRefusedSayingWhy() throws Exception {
        byte[] image = read("vmlinux");
        byte[] renamed = image.clone();
        byte[] symbol = "lguest_entry\0".getBytes();
        for (int i = 0; i + symbol.length < renamed.length; i++) {
            if (Arrays.equals(renamed, i, i + symbol.length, symbol, 0, symbol.length)) {
                renamed[i] = 'x';
            }
        }
        assertFalse(LinuxKernel.isLinux4(renamed));
        LaunchException e = assertThrows(LaunchException.class, () -> LinuxKernel.parse("k", renamed));
        assertTrue(e.getMessage().contains("not an lguest guest"), e.getMessage());
    }

    @Test
    void anOldBootProtocolIsRefused() throws Exception {
        byte[] image = read("bzImage").clone();
        image[BootParams.VERSION] = 0x06;
        LaunchException e = assertThrows(LaunchException.class, () -> LinuxKernel.parse("old", image));
        assertTrue(e.getMessage().contains("boot protocol 2.06"), e.getMessage());
    }

    @Test
    void bootParamsCarryTheLguestSubarchCommandLineAndInitrdAtTheTopOfRam() throws Exception {
        byte[] initrd = new byte[10_000];
        initrd[0] = 0x1F;
        TrackingMmu mmu = new TrackingMmu();
        GuestImage g = GuestImage.buildLinux(mmu, "bzImage", LinuxKernel.parse("bzImage", read("bzImage")), 32L << 20,
                "console=hvc0 autotest", initrd);
        try {
            var m = g.memory;
            assertEquals(GuestAbi.LGUEST_4_X, g.abi);
            assertEquals(ShadowPageTables.LINEAR, g.pgdir);
            assertEquals(BootParams.SUBARCH_LGUEST, m.readU32(BootParams.HARDWARE_SUBARCH));
            assertEquals(0x20D, m.readU16(BootParams.VERSION), "the bzImage's own protocol version stays");
            assertEquals(BootParams.KEEP_SEGMENTS, m.readU8(BootParams.LOADFLAGS) & BootParams.KEEP_SEGMENTS);
            assertEquals(0x3DA000, m.readU32(BootParams.INIT_SIZE), "the setup header is copied");
            assertEquals(1, m.readU8(BootParams.E820_ENTRIES));
            assertEquals(32 << 20, m.readU32(BootParams.E820_MAP + 8));
            int at = m.readU32(BootParams.RAMDISK_IMAGE);
            assertEquals(((32 << 20) - 10_000) & ~0xFFF, at);
            assertEquals(10_000, m.readU32(BootParams.RAMDISK_SIZE));
            assertEquals(0x1F, m.readU8(at));
            assertArrayEquals("console=hvc0 autotest\0".getBytes(), m.read(m.readU32(BootParams.CMD_LINE_PTR), 22));
        } finally {
            g.memory.close();
        }
    }

    @Test
    void tooLittleMemoryForKernelAndInitrdIsRefusedWithTheSizeNeeded() throws Exception {
        TrackingMmu mmu = new TrackingMmu();
        LinuxKernel vmlinux = LinuxKernel.parse("vmlinux", read("vmlinux"));
        LaunchException e = assertThrows(LaunchException.class, () -> GuestImage.buildLinux(mmu, "vmlinux",
                vmlinux, 16L << 20, "", null));
        assertTrue(e.getMessage().contains("give it more"), e.getMessage());
        assertTrue(mmu.allClosed());
    }

    @Test
    void theCommandLineNamesTheSerialConsoleUnlessTheUserNamedOne() {
        assertEquals("console=ttyS0 8250.share_irqs=1", LinuxKernel.commandLine(""));
        assertEquals("autotest console=ttyS0 8250.share_irqs=1", LinuxKernel.commandLine(" autotest "));
        assertEquals("console=hvc0 autotest 8250.share_irqs=1", LinuxKernel.commandLine("console=hvc0 autotest"),
                "a console the user names is left alone");
        assertEquals("xconsole=1 8250.share_irqs=0 console=ttyS0", LinuxKernel.commandLine("xconsole=1 8250.share_irqs=0"),
                "only a console= word counts; the user's share_irqs stays");
        assertTrue(LinuxKernel.serialIsConsole("autotest console=ttyS0,115200"));
        assertFalse(LinuxKernel.serialIsConsole("console=hvc0"));
    }
}
