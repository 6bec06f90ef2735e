package org.lguest.launcher.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.lguest.launcher.LaunchException;
import org.lguest.lg.abi.v4.BootParams;

/**
 * A Linux kernel that speaks the 4.x (virtio-era) lguest ABI, as the 4.x
 * Launcher loads it: either the ELF {@code vmlinux}, whose PT_LOAD segments
 * go to their physical addresses and whose entry point is the physical
 * {@code startup_32}, or a {@code bzImage} (boot protocol 2.07 or later),
 * whose protected-mode payload goes to 1 MiB and decompresses itself.
 *
 * <p>Which ABI a kernel speaks is read from the kernel: a 2.6.23 guest
 * carries the "GenuineLguest" entry marker ({@link ElfKernel}); a 4.x
 * {@code vmlinux} has the {@code lguest_entry} symbol its boot path jumps
 * to when {@code hardware_subarch} is lguest; a {@code bzImage} says
 * "HdrS" with protocol 2.07 or later, the version that brought
 * {@code hardware_subarch} (Linux 2.6.24, the first virtio-era lguest).
 *
 * @param segments    what to load where (physical addresses)
 * @param entry       the physical entry point
 * @param pageOffset  the kernel's PAGE_OFFSET (a bzImage does not say: Linux's default 0xC0000000)
 * @param setupHeader a bzImage's setup header (boot_params from 0x1F1), copied into boot_params; empty for vmlinux
 * @param initSize    the memory the kernel needs from 16 MiB while it starts (vmlinux: its highest segment end - 16 MiB)
 * @param bzImage     whether the image is a bzImage
 * @param image       the file's bytes (the segments' file offsets are into it)
 */
record LinuxKernel(byte[] image, List<ElfKernel.Segment> segments, int entry, int pageOffset, byte[] setupHeader, long initSize,
        boolean bzImage) {
    /**
     * What the Launcher adds to a 4.x guest's command line unless it names a
     * console: the serial port as the console, and IRQ sharing for it.
     *
     * <p>Why not the virtio console: Linux's lguest boot code makes its early
     * console (the {@code emerg_wr} writer) hvc0 with vterm number 0 and the
     * preferred console, while virtio_console numbers its ports' vterms from
     * 1, so the virtio port becomes hvc1 and nothing ever serves hvc0 as a
     * tty: {@code /dev/console} cannot be opened ("Warning: unable to open
     * an initial console") and init runs without stdin, stdout and stderr.
     * {@code console=hvc1} cannot fix it, because the hvc console takes the
     * first "hvc" entry of the console list, which is lguest's hvc0. So the
     * console is COM1 ({@code ttyS0}), as on any PC.
     *
     * <p>Why {@code 8250.share_irqs=1}: a 4.x lguest guest has no interrupt
     * controller; Linux gives an interrupt line a handler only when a PCI
     * device names it. The Launcher gives the virtio console COM1's line, 4,
     * and the serial driver must then share it.
     */
    static final String SERIAL_CONSOLE = "console=ttyS0";
    static final String SHARE_IRQS = "8250.share_irqs=1";

    /**
     * The command line a 4.x guest is given: the user's, with
     * {@link #SERIAL_CONSOLE} appended unless it names a console itself, and
     * {@link #SHARE_IRQS} unless it sets that.
     */
    static String commandLine(String user) {
        String line = user == null ? "" : user.strip();
        boolean console = false;
        boolean share = false;
        for (String word : line.split("\\s+")) {
            console |= word.startsWith("console=");
            share |= word.startsWith("8250.share_irqs=") || word.startsWith("8250_core.share_irqs=");
        }
        StringBuilder sb = new StringBuilder(line);
        if (!console) {
            sb.append(sb.isEmpty() ? "" : " ").append(SERIAL_CONSOLE);
        }
        if (!share) {
            sb.append(sb.isEmpty() ? "" : " ").append(SHARE_IRQS);
        }
        return sb.toString();
    }

    /** Whether {@code commandLine} makes the serial port a console. */
    static boolean serialIsConsole(String commandLine) {
        for (String word : commandLine.strip().split("\\s+")) {
            if (word.startsWith("console=ttyS0") || word.startsWith("console=uart")) {
                return true;
            }
        }
        return false;
    }

    /** Linux's default PAGE_OFFSET for i386 (CONFIG_PAGE_OFFSET with the 3G/1G split). */
    static final int DEFAULT_PAGE_OFFSET = 0xC0000000;
    /** Where a bzImage's protected-mode code goes. */
    static final int BZIMAGE_LOAD_ADDRESS = 0x100000;
    /** Where a non-relocatable 4.x kernel decompresses to and runs (LOAD_PHYSICAL_ADDR). */
    static final long KERNEL_PHYSICAL = 16L << 20;

    private static final byte[] ENTRY_SYMBOL = "lguest_entry".getBytes(StandardCharsets.US_ASCII);

    /** Whether {@code image} is a kernel of this ABI (as opposed to a 2.6.23 one, or no kernel). */
    static boolean isLinux4(byte[] image) {
        return isBzImage(image) || isElf(image) && !contains(image, ElfKernel.MARKER) && hasSymbol(image, ENTRY_SYMBOL);
    }

    static boolean isBzImage(byte[] image) {
        return image.length > 0x260 && le(image).getInt(BootParams.HEADER_MAGIC) == BootParams.HDRS;
    }

    private static boolean isElf(byte[] image) {
        return image.length >= 52 && le(image).getInt(0) == 0x464C457F && image[4] == 1;
    }

    private static ByteBuffer le(byte[] image) {
        return ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    }

    static LinuxKernel parse(String name, byte[] image) throws LaunchException {
        if (isBzImage(image)) {
            return parseBzImage(name, image);
        }
        if (!isElf(image)) {
            throw new LaunchException(name + " is neither an ELF vmlinux nor a bzImage");
        }
        if (!hasSymbol(image, ENTRY_SYMBOL)) {
            throw new LaunchException(name + ": an ELF kernel without the \"GenuineLguest\" marker (2.6.23) or the lguest_entry"
                    + " symbol (Linux 4.x built with CONFIG_LGUEST_GUEST): not an lguest guest. A stripped vmlinux cannot be told"
                    + " apart: boot its bzImage instead");
        }
        return parseVmlinux(name, image);
    }

    private static LinuxKernel parseVmlinux(String name, byte[] image) throws LaunchException {
        ElfKernel.Loadable elf = ElfKernel.loadable(name, image);
        long lowest = elf.segments().stream().mapToLong(ElfKernel.Segment::paddr).min().orElse(0);
        long end = elf.segments().stream().mapToLong(ElfKernel.Segment::end).max().orElse(0);
        int entry = le(image).getInt(24);
        boolean inside = elf.segments().stream().anyMatch(s -> Integer.toUnsignedLong(entry) >= s.paddr() && Integer.toUnsignedLong(entry) < s.end());
        if (!inside) {
            throw new LaunchException(String.format("%s: the entry point 0x%08x is not the physical address of loaded code", name, entry));
        }
        return new LinuxKernel(image, elf.segments(), entry, elf.pageOffset(), new byte[0], end - lowest, false);
    }

    private static LinuxKernel parseBzImage(String name, byte[] image) throws LaunchException {
        ByteBuffer b = le(image);
        int version = Short.toUnsignedInt(b.getShort(BootParams.VERSION));
        if (version < BootParams.PROTOCOL_2_07) {
            throw new LaunchException(String.format("%s: boot protocol %d.%02d; lguest guests need 2.07 or later (hardware_subarch)",
                    name, version >> 8, version & 0xFF));
        }
        int setupSects = Byte.toUnsignedInt(image[BootParams.SETUP_SECTS]);
        if (setupSects == 0) {
            setupSects = 4;
        }
        long payload = (setupSects + 1L) * 512;
        if (payload >= image.length) {
            throw new LaunchException(String.format("%s: %d setup sectors leave no kernel in a file of %d bytes", name, setupSects, image.length));
        }
        int headerEnd = 0x202 + Byte.toUnsignedInt(image[0x201]);
        if (headerEnd > Math.min(payload, BootParams.SIZE)) {
            throw new LaunchException(name + ": the setup header runs past the setup sectors");
        }
        long initSize = Integer.toUnsignedLong(b.getInt(BootParams.INIT_SIZE));
        int size = image.length - (int) payload;
        ElfKernel.Segment s = new ElfKernel.Segment(BZIMAGE_LOAD_ADDRESS, BZIMAGE_LOAD_ADDRESS, (int) payload, size, size);
        return new LinuxKernel(image, List.of(s), BZIMAGE_LOAD_ADDRESS, DEFAULT_PAGE_OFFSET,
                Arrays.copyOfRange(image, BootParams.SETUP_HEADER, headerEnd), initSize, true);
    }

    /** The highest physical address the kernel uses while it starts. */
    long physicalEnd() {
        long loaded = segments.stream().mapToLong(ElfKernel.Segment::end).max().orElse(0);
        return bzImage ? Math.max(loaded, KERNEL_PHYSICAL + initSize) : loaded;
    }

    /** Whether the ELF symbol table names {@code symbol} (read defensively: a broken table just says no). */
    private static boolean hasSymbol(byte[] image, byte[] symbol) {
        try {
            ByteBuffer b = le(image);
            long shoff = Integer.toUnsignedLong(b.getInt(32));
            int shentsize = Short.toUnsignedInt(b.getShort(46));
            int shnum = Short.toUnsignedInt(b.getShort(48));
            if (shentsize != 40 || shoff + (long) shnum * 40 > image.length) {
                return false;
            }
            for (int i = 0; i < shnum; i++) {
                int sh = (int) shoff + 40 * i;
                if (b.getInt(sh + 4) != 2) { // SHT_SYMTAB
                    continue;
                }
                int link = b.getInt(sh + 24);
                if (link < 0 || link >= shnum) {
                    return false;
                }
                int strtab = (int) shoff + 40 * link;
                long strOff = Integer.toUnsignedLong(b.getInt(strtab + 16)), strSize = Integer.toUnsignedLong(b.getInt(strtab + 20));
                long symOff = Integer.toUnsignedLong(b.getInt(sh + 16)), symSize = Integer.toUnsignedLong(b.getInt(sh + 20));
                if (strOff + strSize > image.length || symOff + symSize > image.length) {
                    return false;
                }
                for (long at = symOff; at + 16 <= symOff + symSize; at += 16) {
                    long nameAt = strOff + Integer.toUnsignedLong(b.getInt((int) at));
                    if (nameAt + symbol.length < strOff + strSize && matches(image, (int) nameAt, symbol)) {
                        return true;
                    }
                }
            }
            return false;
        } catch (IndexOutOfBoundsException e) {
            return false;
        }
    }

    private static boolean contains(byte[] image, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= image.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (image[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean matches(byte[] image, int at, byte[] symbol) {
        for (int i = 0; i < symbol.length; i++) {
            if (image[at + i] != symbol[i]) {
                return false;
            }
        }
        return image[at + symbol.length] == 0;
    }
}
