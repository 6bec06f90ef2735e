package org.lguest.launcher.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.lguest.launcher.LaunchException;

/**
 * A guest kernel as the 2.6.23 Launcher loads it (§9.2): an i386 ET_EXEC
 * ELF whose PT_LOAD segments go to their physical addresses, all with the
 * same {@code p_vaddr - p_paddr}, which is the guest's PAGE_OFFSET; the
 * entry point is the byte after the "GenuineLguest" marker, as a virtual
 * address. {@code e_entry} is not used.
 *
 * <p>Parsing only: every field is checked against the file before
 * anything is loaded, so a bad image leaves no guest memory behind.
 */
record ElfKernel(List<Segment> segments, int pageOffset, int markerPhysical) {
    static final byte[] MARKER = "GenuineLguest".getBytes(StandardCharsets.US_ASCII);

    /** One PT_LOAD: {@code fileSize} bytes from {@code fileOffset} to physical {@code paddr}, zeroed up to {@code memSize}. */
    record Segment(long paddr, long vaddr, int fileOffset, int fileSize, long memSize) {
        long end() {
            return paddr + memSize;
        }
    }

    private static final int PT_LOAD = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_386 = 3;

    /** The virtual address the guest starts at. */
    int entry() {
        return markerPhysical + MARKER.length + pageOffset;
    }

    /** The end of the highest segment (its physical address). */
    long physicalEnd() {
        return segments.stream().mapToLong(Segment::end).max().orElse(0);
    }

    /** The PT_LOAD segments of an i386 executable and the page offset they agree on. */
    record Loadable(List<Segment> segments, int pageOffset) {
    }

    static ElfKernel parse(String name, byte[] image) throws LaunchException {
        Loadable elf = loadable(name, image);
        int marker = -1;
        for (Segment s : elf.segments()) {
            int at = indexOf(image, s.fileOffset(), s.fileOffset() + s.fileSize(), MARKER);
            if (at >= 0) {
                marker = (int) (s.paddr() + (at - s.fileOffset()));
                break;
            }
        }
        if (marker < 0) {
            throw new LaunchException(name + ": no \"GenuineLguest\" entry marker in the loaded image. Is this image a genuine lguest?");
        }
        return new ElfKernel(elf.segments(), elf.pageOffset(), marker);
    }

    /** Checks the ELF header and program headers of an i386 executable, for either ABI's loader. */
    static Loadable loadable(String name, byte[] image) throws LaunchException {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < 52 || b.getInt(0) != 0x464C457F) {
            throw new LaunchException(name + " is not an ELF file (an lguest guest kernel is an i386 ELF image)");
        }
        if (image[4] != 1 || image[5] != 1) {
            throw new LaunchException(name + " is not a 32-bit little-endian ELF (class " + image[4] + ", data " + image[5] + ")");
        }
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (type != ET_EXEC || machine != EM_386) {
            throw new LaunchException(name + " is not an i386 executable (ELF type " + type + ", machine " + machine + "; expected ET_EXEC, EM_386)");
        }
        long phoff = Integer.toUnsignedLong(b.getInt(28));
        int phentsize = Short.toUnsignedInt(b.getShort(42));
        int phnum = Short.toUnsignedInt(b.getShort(44));
        if (phentsize != 32 || phnum == 0 || phnum > 64 || phoff + (long) phnum * 32 > image.length) {
            throw new LaunchException(name + ": bad ELF program headers (" + phnum + " of " + phentsize + " bytes at " + phoff + ")");
        }
        List<Segment> segments = new ArrayList<>();
        Long offset = null;
        for (int i = 0; i < phnum; i++) {
            int ph = (int) phoff + 32 * i;
            if (b.getInt(ph) != PT_LOAD) {
                continue;
            }
            long fileOffset = Integer.toUnsignedLong(b.getInt(ph + 4));
            long vaddr = Integer.toUnsignedLong(b.getInt(ph + 8));
            long paddr = Integer.toUnsignedLong(b.getInt(ph + 12));
            long fileSize = Integer.toUnsignedLong(b.getInt(ph + 16));
            long memSize = Integer.toUnsignedLong(b.getInt(ph + 20));
            if (fileOffset + fileSize > image.length || fileSize > memSize) {
                throw new LaunchException(String.format("%s: ELF segment %d (file offset 0x%x, %d bytes in the file, %d in memory) is not inside the file",
                        name, i, fileOffset, fileSize, memSize));
            }
            if (paddr + memSize > 1L << 32) {
                throw new LaunchException(String.format("%s: ELF segment %d at physical 0x%x (%d bytes) wraps past 4 GiB", name, i, paddr, memSize));
            }
            long diff = (vaddr - paddr) & 0xFFFF_FFFFL;
            if (offset == null) {
                offset = diff;
            } else if (offset != diff) {
                throw new LaunchException(String.format("%s: ELF segments disagree on the page offset (0x%x and 0x%x): p_vaddr - p_paddr must be the same for all",
                        name, offset, diff));
            }
            if (memSize > 0) {
                segments.add(new Segment(paddr, vaddr, (int) fileOffset, (int) fileSize, memSize));
            }
        }
        if (segments.isEmpty()) {
            throw new LaunchException(name + ": the ELF file has nothing to load (no PT_LOAD segment)");
        }
        int pageOffset = (int) (long) offset;
        if ((pageOffset & 0x3F_FFFF) != 0 || Integer.compareUnsigned(pageOffset, 0xFFC0_0000) >= 0 || pageOffset == 0) {
            throw new LaunchException(String.format("%s: page offset 0x%08x (p_vaddr - p_paddr) is not a 4 MiB aligned address between 4 MiB and 0xFFC00000",
                    name, pageOffset));
        }
        return new Loadable(List.copyOf(segments), pageOffset);
    }

    private static int indexOf(byte[] data, int from, int to, byte[] pattern) {
        outer:
        for (int i = from; i + pattern.length <= to; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
