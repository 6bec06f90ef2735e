package org.lguest.lg.abi;

/**
 * Layout of {@code struct lguest_dma}: a scatter-gather list of up to 16
 * guest-physical sections (100 bytes). A zero length ends the list early.
 */
public final class LguestDma {
    /** u32: bytes placed (0 means the buffer is free). */
    public static final int USED_LEN = 0;
    /** u32[16]: section addresses. */
    public static final int ADDR = 4;
    /** u16[16]: section lengths. */
    public static final int LEN = 68;
    public static final int SIZE = 100;
    public static final int MAX_SECTIONS = 16;
    /** Bindings a guest may hold. */
    public static final int MAX_BINDINGS = 32;
    /** A section for an inter-guest copy is at most one page and does not cross one. */
    public static final int MAX_SECTION_LENGTH = 4096;
    /** The console's key. */
    public static final int CONSOLE_KEY = 0;

    private LguestDma() {
    }
}
