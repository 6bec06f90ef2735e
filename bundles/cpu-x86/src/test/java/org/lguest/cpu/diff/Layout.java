package org.lguest.cpu.diff;

/** The addresses both sides map: one code page and a two-page data area, at the same linear addresses. */
final class Layout {
    static final int CODE = 0x1000_0000;
    static final int CODE_SIZE = 0x1000;
    static final int DATA = 0x2000_0000;
    static final int DATA_SIZE = 0x2000;
    /** Where the instruction normally starts in the code page (branches of +-128 stay in the page). */
    static final int CODE_OFFSET = 0x800;
    static final byte INT3 = (byte) 0xcc;

    /**
     * Whether every byte of [address, address+size) is in memory both sides
     * agree on: the code page, the data area, or a range that neither maps
     * (the host program's own text, heap, stack and the kernel's mappings are
     * elsewhere: below 0x08000000 nothing is mapped, and the static helper's
     * mappings start at 0x08048000; above 0xC0000000 the host has its stack
     * and vDSO, the Java side its system tables).
     */
    static boolean safe(int address, int size) {
        long a = address & 0xffffffffL;
        long end = a + Math.max(size, 1);
        if (end > 0x1_0000_0000L) {
            return false;
        }
        return end <= 0x0800_0000L || (a >= 0x0ff0_0000L && end <= 0xc000_0000L);
    }

    static boolean inData(int address, int size) {
        long a = (address & 0xffffffffL) - DATA;
        return a >= 0 && a + size <= DATA_SIZE;
    }

    static boolean inCode(int address) {
        long a = (address & 0xffffffffL) - CODE;
        return a >= 0 && a < CODE_SIZE;
    }

    private Layout() {
    }
}
