package org.lguest.launcher.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.lguest.launcher.GuestSpec;
import org.lguest.launcher.LaunchException;
import org.lguest.lg.GuestAbi;
import org.lguest.lg.GuestSetup;
import org.lguest.lg.abi.DevicePage;
import org.lguest.lg.abi.v4.BootParams;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestMemoryBuilder;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.SharedRegion;
import org.lguest.mmu.ShadowPageTables;

/**
 * Guest memory as the 2.6.23 Launcher lays it out (§9.1–§9.3): RAM from 0,
 * the device descriptor page at {@code mem}, each device's pages after it;
 * the kernel's segments at their physical addresses; the boot block at 0
 * with the command line at 4096; the initial page tables at the top of RAM
 * mapping RAM linearly at PAGE_OFFSET (no identity map in 2.6.23).
 */
final class GuestImage {
    /** Least guest RAM: the kernel at 1 MiB, its allocator and the initial page tables. */
    static final long MIN_MEMORY = 16L << 20;
    /** Most guest RAM: lguest's Launcher reached about 2.5 GiB; every frame here is a Java array. A Linux 4.x guest boots with it (and uses 891M as low memory). */
    static final long MAX_MEMORY = 2L << 30;
    /**
     * Most RAM a 2.6.23 guest kernel (the bundled one) boots with: from 768M its device page lands on its
     * demand-paging zone at 0xF0000000, from 1G beyond its 768 MB linear map.
     */
    static final long MAX_MEMORY_2623 = 767L << 20;
    /** The command line lives in page 1 of the boot block. */
    static final int MAX_COMMAND_LINE = 4095;

    static final int BOOT_E820_ENTRIES = 0x1e8;
    static final int BOOT_E820_MAP = 0x2d0;
    static final int BOOT_CMDLINE_PTR = 0x228;
    static final int BOOT_HARDWARE_SUBARCH = 0x23c;
    static final int COMMAND_LINE_ADDRESS = 4096;
    static final int E820_RAM = 1;
    static final int HARDWARE_SUBARCH_LGUEST = 1;
    /** Present, writable, user: the flags of every initial PDE and PTE. */
    static final int PAGE_FLAGS = 0x7;

    /** A device to lay out: its descriptor fields, and the shared region its pages are (or {@code null}). */
    record DeviceLayout(String name, int type, int features, int pages, SharedRegion shared) {
        DeviceLayout(String name, int type, int features, int pages) {
            this(name, type, features, pages, null);
        }
    }

    /** 4.x guests: where the PCI BARs live (guest-physical), far above any RAM a guest can have. */
    static final int IO_WINDOW_BASE = 0xE0000000;
    /** 4.x guests: the I/O window's size, room for every device's BAR. */
    static final int IO_WINDOW_SIZE = 16 << 20;

    final GuestMemory memory;
    final long ramBytes;
    final int pgdir;
    final int devicePageAddress;
    /** Per device in order: the first pfn of its pages (0 when it has none). */
    final int[] devicePfns;
    /** What INITIALIZE says: the ABI, the entry point and PAGE_OFFSET, the I/O window (4.x). */
    final GuestAbi abi;
    final int entry;
    final int pageOffset;

    private GuestImage(GuestMemory memory, long ramBytes, int pgdir, int devicePageAddress, int[] devicePfns, GuestAbi abi,
            int entry, int pageOffset) {
        this.memory = memory;
        this.ramBytes = ramBytes;
        this.pgdir = pgdir;
        this.devicePageAddress = devicePageAddress;
        this.devicePfns = devicePfns;
        this.abi = abi;
        this.entry = entry;
        this.pageOffset = pageOffset;
    }

    /** INITIALIZE's arguments for this image. */
    GuestSetup setup(String name) {
        return abi == GuestAbi.LGUEST_4_X
                ? new GuestSetup(name, memory, abi, pgdir, entry, pageOffset, IO_WINDOW_BASE >>> 12,
                        (IO_WINDOW_BASE + IO_WINDOW_SIZE) >>> 12)
                : GuestSetup.dmaEra(name, memory, pgdir, entry, pageOffset);
    }

    /**
     * A 4.x guest, laid out as the 4.x Launcher does: RAM only (its devices
     * are PCI functions, not pages), {@code boot_params} at 0 with the
     * bzImage's setup header when there is one, the command line at 4096,
     * the kernel at its physical addresses, the initrd page-aligned at the
     * top of RAM; linear paging (no page tables are built).
     */
    static GuestImage buildLinux(Mmu mmu, String kernelName, LinuxKernel kernel, long ramBytes, String commandLine,
            byte[] initrd) throws LaunchException {
        checkMemorySize(ramBytes, MAX_MEMORY, LINUX_4);
        byte[] cmdline = commandLine.getBytes(StandardCharsets.UTF_8);
        if (cmdline.length > BootParams.COMMAND_LINE_MAX) {
            throw new LaunchException("kernel command line too long: " + cmdline.length + " bytes (Linux takes at most "
                    + BootParams.COMMAND_LINE_MAX + ")");
        }
        long initrdAt = initrd == null ? ramBytes : (ramBytes - initrd.length) & ~0xFFFL;
        long needed = kernel.physicalEnd();
        if (needed > initrdAt) {
            throw new LaunchException(String.format("%s needs guest memory up to %s%s, but the guest has %s: give it more (--mem)",
                    kernelName, GuestSpec.formatMemory((needed + 0xFFFFF) & ~0xFFFFFL),
                    initrd == null ? "" : " below its initrd of " + GuestSpec.formatMemory(initrd.length),
                    GuestSpec.formatMemory(ramBytes)));
        }
        GuestMemory memory;
        try {
            GuestMemoryBuilder builder = mmu.newGuestMemory((int) (ramBytes >>> 12));
            checkHeap(ramBytes, builder.top());
            memory = builder.build();
        } catch (OutOfMemoryError e) {
            throw new LaunchException("not enough Java heap for " + GuestSpec.formatMemory(ramBytes)
                    + " of guest memory (raise -Xmx, for bin/lguest through LGUEST_JAVA_OPTS)");
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new LaunchException("cannot lay out guest memory: " + e.getMessage(), e);
        }
        try {
            for (ElfKernel.Segment seg : kernel.segments()) {
                memory.write((int) seg.paddr(), readSegment(kernel, seg));
                if (seg.memSize() > seg.fileSize()) {
                    memory.zero((int) (seg.paddr() + seg.fileSize()), (int) (seg.memSize() - seg.fileSize()));
                }
            }
            ByteBuffer boot = ByteBuffer.allocate(BootParams.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            boot.put(BootParams.SETUP_HEADER, kernel.setupHeader());
            boot.put(BootParams.E820_ENTRIES, (byte) 1);
            boot.putLong(BootParams.E820_MAP, 0);
            boot.putLong(BootParams.E820_MAP + 8, ramBytes);
            boot.putInt(BootParams.E820_MAP + 16, BootParams.E820_RAM);
            boot.putShort(BootParams.VERSION, (short) Math.max(BootParams.PROTOCOL_2_07,
                    Short.toUnsignedInt(boot.getShort(BootParams.VERSION))));
            boot.put(BootParams.TYPE_OF_LOADER, (byte) 0xFF);
            boot.put(BootParams.LOADFLAGS, (byte) (boot.get(BootParams.LOADFLAGS) | BootParams.KEEP_SEGMENTS));
            if (initrd != null) {
                boot.putInt(BootParams.RAMDISK_IMAGE, (int) initrdAt);
                boot.putInt(BootParams.RAMDISK_SIZE, initrd.length);
            }
            boot.putInt(BootParams.CMD_LINE_PTR, BootParams.COMMAND_LINE_ADDRESS);
            boot.putInt(BootParams.KERNEL_ALIGNMENT, (int) LinuxKernel.KERNEL_PHYSICAL);
            boot.putInt(BootParams.HARDWARE_SUBARCH, BootParams.SUBARCH_LGUEST);
            memory.write(0, boot.array());
            memory.write(BootParams.COMMAND_LINE_ADDRESS, cmdline);
            memory.writeU8(BootParams.COMMAND_LINE_ADDRESS + cmdline.length, 0);
            if (initrd != null) {
                memory.write((int) initrdAt, initrd);
            }
            return new GuestImage(memory, ramBytes, ShadowPageTables.LINEAR, 0, new int[0], GuestAbi.LGUEST_4_X,
                    kernel.entry(), kernel.pageOffset());
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    private static byte[] readSegment(LinuxKernel kernel, ElfKernel.Segment seg) {
        return java.util.Arrays.copyOfRange(kernel.image(), seg.fileOffset(), seg.fileOffset() + seg.fileSize());
    }

    /**
     * The one memory rule, with one message: at least {@link #MIN_MEMORY}, at
     * most what the kernel boots with ({@code max}: {@link #MAX_MEMORY} for a
     * Linux 4.x kernel and before the kernel is known, {@link #MAX_MEMORY_2623}
     * for a 2.6.23 guest kernel), whole pages.
     *
     * @param what the kernel as the message names it ("a Linux 4.x kernel")
     */
    static void checkMemorySize(long bytes, long max, String what) throws LaunchException {
        if (bytes < MIN_MEMORY || bytes > max || (bytes & 0xFFF) != 0) {
            throw new LaunchException(String.format("guest memory %s: %s takes %s to %s, in whole 4K pages (--mem)",
                    GuestSpec.formatMemory(bytes), what, GuestSpec.formatMemory(MIN_MEMORY), GuestSpec.formatMemory(max)));
        }
    }

    static final String ANY_GUEST = "a guest", LINUX_4 = "a Linux 4.x kernel", GUEST_2623 = "a 2.6.23 guest kernel";

    /**
     * Checks everything, then builds and fills the memory. On any failure
     * nothing is left allocated.
     */
    static GuestImage build(Mmu mmu, String kernelName, byte[] image, long ramBytes, String commandLine, List<DeviceLayout> devices)
            throws LaunchException {
        checkMemorySize(ramBytes, MAX_MEMORY_2623, GUEST_2623);
        ElfKernel kernel = ElfKernel.parse(kernelName, image);
        byte[] cmdline = commandLine.getBytes(StandardCharsets.UTF_8);
        if (cmdline.length > MAX_COMMAND_LINE) {
            throw new LaunchException("kernel command line too long: " + cmdline.length + " bytes (at most " + MAX_COMMAND_LINE + ")");
        }
        if (devices.size() > DevicePage.MAX_DEVICES) {
            throw new LaunchException(devices.size() + " devices: a guest has at most " + DevicePage.MAX_DEVICES);
        }

        // Initial page tables at the top of RAM: the directory in the last page, the PTE pages below it.
        long pageOffset = Integer.toUnsignedLong(kernel.pageOffset());
        long mappedPages = Math.min(ramBytes, (1L << 32) - pageOffset) >>> 12;
        long ptePages = (mappedPages + 1023) / 1024;
        long pgdir = ramBytes - 4096;
        long linear = pgdir - ptePages * 4096;

        for (ElfKernel.Segment s : kernel.segments()) {
            if (s.end() > ramBytes) {
                throw new LaunchException(String.format("%s: ELF segment at physical 0x%x-0x%x is outside guest memory (%s of RAM)",
                        kernelName, s.paddr(), s.end(), GuestSpec.formatMemory(ramBytes)));
            }
            if (s.end() > linear) {
                throw new LaunchException(String.format("%s: ELF segment at physical 0x%x-0x%x overlaps the initial page tables at 0x%x: give the guest more memory",
                        kernelName, s.paddr(), s.end(), linear));
            }
            if (s.paddr() < COMMAND_LINE_ADDRESS + cmdline.length + 1) {
                throw new LaunchException(String.format("%s: ELF segment at physical 0x%x overlaps the boot block and command line (0-0x%x)",
                        kernelName, s.paddr(), COMMAND_LINE_ADDRESS + cmdline.length + 1));
            }
        }

        GuestMemory memory;
        try {
            GuestMemoryBuilder builder = mmu.newGuestMemory((int) (ramBytes >>> 12));
            int devicePfn = builder.addPages("devices", 1);
            int[] pfns = new int[devices.size()];
            for (int i = 0; i < devices.size(); i++) {
                DeviceLayout d = devices.get(i);
                pfns[i] = d.shared() != null ? builder.addShared(d.name(), d.shared())
                        : d.pages() > 0 ? builder.addPages(d.name(), d.pages()) : 0;
            }
            checkHeap(ramBytes, builder.top());
            memory = builder.build();
            try {
                GuestImage result = new GuestImage(memory, ramBytes, (int) pgdir, devicePfn << 12, pfns,
                        GuestAbi.LGUEST_2_6_23, kernel.entry(), kernel.pageOffset());
                result.load(kernel, image, cmdline, mappedPages, (int) linear, devices);
                return result;
            } catch (RuntimeException e) {
                memory.close();
                throw e;
            }
        } catch (OutOfMemoryError e) {
            throw new LaunchException("not enough Java heap for " + GuestSpec.formatMemory(ramBytes)
                    + " of guest memory (raise -Xmx, for bin/lguest through LGUEST_JAVA_OPTS)");
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new LaunchException("cannot lay out guest memory: " + e.getMessage(), e);
        }
    }

    private static void checkHeap(long ramBytes, int guestPages) throws LaunchException {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        // Each frame is a byte[4096] plus its header; the host pool adds a few percent.
        long need = (long) guestPages * 4112 + (ramBytes >>> 6);
        if (need > free - (32L << 20)) {
            throw new LaunchException(String.format("not enough Java heap for %s of guest memory: %d MiB free of %d MiB (raise -Xmx, for bin/lguest through LGUEST_JAVA_OPTS)",
                    GuestSpec.formatMemory(ramBytes), free >> 20, rt.maxMemory() >> 20));
        }
    }

    private void load(ElfKernel kernel, byte[] image, byte[] cmdline, long mappedPages, int linear, List<DeviceLayout> devices) {
        for (ElfKernel.Segment s : kernel.segments()) {
            memory.write((int) s.paddr(), image, s.fileOffset(), s.fileSize());
            if (s.memSize() > s.fileSize()) {
                memory.zero((int) (s.paddr() + s.fileSize()), (int) (s.memSize() - s.fileSize()));
            }
        }

        // The boot block ("zero page") at 0 and the command line at 4096.
        ByteBuffer boot = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        boot.put(BOOT_E820_ENTRIES, (byte) 1);
        boot.putLong(BOOT_E820_MAP, 0);
        boot.putLong(BOOT_E820_MAP + 8, ramBytes);
        boot.putInt(BOOT_E820_MAP + 16, E820_RAM);
        boot.putInt(BOOT_CMDLINE_PTR, COMMAND_LINE_ADDRESS);
        boot.putInt(BOOT_HARDWARE_SUBARCH, HARDWARE_SUBARCH_LGUEST);
        memory.write(0, boot.array());
        memory.write(COMMAND_LINE_ADDRESS, cmdline);
        memory.writeU8(COMMAND_LINE_ADDRESS + cmdline.length, 0);

        // Linear map: PTE i maps page i; PDE (page_offset >> 22) + j points to PTE page j.
        int ptePages = (int) ((mappedPages + 1023) / 1024);
        ByteBuffer ptes = ByteBuffer.allocate(ptePages * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < mappedPages; i++) {
            ptes.putInt(i * 4, (i << 12) | PAGE_FLAGS);
        }
        memory.write(linear, ptes.array());
        ByteBuffer dir = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        int first = kernel.pageOffset() >>> 22;
        for (int j = 0; j < ptePages; j++) {
            dir.putInt((first + j) * 4, (linear + j * 4096) | PAGE_FLAGS);
        }
        memory.write(pgdir, dir.array());

        // The device descriptor page.
        for (int i = 0; i < devices.size(); i++) {
            DeviceLayout d = devices.get(i);
            int at = devicePageAddress + i * DevicePage.DESCRIPTOR_SIZE;
            memory.writeU16(at + DevicePage.TYPE, d.type());
            memory.writeU16(at + DevicePage.FEATURES, d.features());
            memory.writeU16(at + DevicePage.STATUS, 0);
            memory.writeU16(at + DevicePage.NUM_PAGES, d.pages());
            memory.writeU32(at + DevicePage.PFN, devicePfns[i]);
        }
    }
}
