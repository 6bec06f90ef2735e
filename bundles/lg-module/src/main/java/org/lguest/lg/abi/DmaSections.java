package org.lguest.lg.abi;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;

/**
 * One {@code struct lguest_dma} read out of a guest and checked: the one
 * reader of that layout, used by the DmaRouter (guest to guest), by the
 * Launcher (guest to device and back) and by tests.
 *
 * <p>A guest writes these lists and the host follows them, so every field
 * is hostile until checked here. The rules, each a kill with a reason
 * starting "bad DMA entry: " when broken:
 * <ul>
 * <li>the 100-byte lguest_dma itself lies in guest memory;</li>
 * <li>at most {@link LguestDma#MAX_SECTIONS} sections; the first zero length
 * ends the list;</li>
 * <li>a section is at most one page and does not cross a page boundary
 * (so no host copy ever spans two guest frames);</li>
 * <li>each section lies in guest memory;</li>
 * <li>no two sections overlap (one guest byte is never both the end of one
 * section and the start of another, whichever way data flows).</li>
 * </ul>
 * The list is read once: a guest that rewrites it afterwards changes
 * nothing that was checked.
 */
public final class DmaSections {
    private final int at;
    private final int[] address;
    private final int[] length;
    private final int total;

    private DmaSections(int at, int[] address, int[] length, int total) {
        this.at = at;
        this.address = address;
        this.length = length;
        this.total = total;
    }

    /** Reads and checks the lguest_dma at guest-physical {@code at}. */
    public static DmaSections read(GuestMemory memory, int at) {
        if (!memory.isValid(at, LguestDma.SIZE)) {
            throw new GuestViolationException(
                    String.format("bad DMA entry: the lguest_dma at 0x%08x reaches outside guest memory", at));
        }
        byte[] raw = memory.read(at, LguestDma.SIZE);
        int[] addr = new int[LguestDma.MAX_SECTIONS];
        int[] len = new int[LguestDma.MAX_SECTIONS];
        int n = 0;
        int total = 0;
        for (; n < LguestDma.MAX_SECTIONS; n++) {
            int l = u16(raw, LguestDma.LEN + 2 * n);
            if (l == 0) {
                break;
            }
            int a = u32(raw, LguestDma.ADDR + 4 * n);
            String why = null;
            if (l > LguestDma.MAX_SECTION_LENGTH) {
                why = "longer than a page";
            } else if ((a & 0xFFF) + l > 4096) {
                why = "crosses a page boundary";
            } else if (!memory.isValid(a, l)) {
                why = "reaches outside guest memory";
            } else {
                for (int k = 0; k < n; k++) {
                    if (Integer.compareUnsigned(a, addr[k] + len[k]) < 0
                            && Integer.compareUnsigned(addr[k], a + l) < 0) {
                        why = "overlaps section " + k;
                        break;
                    }
                }
            }
            if (why != null) {
                throw new GuestViolationException(String.format(
                        "bad DMA entry: section %d of the lguest_dma at 0x%08x is 0x%08x+%d: %s", n, at, a, l, why));
            }
            addr[n] = a;
            len[n] = l;
            total += l;
        }
        return new DmaSections(at, Arrays.copyOf(addr, n), Arrays.copyOf(len, n), total);
    }

    /** Guest-physical address of the lguest_dma. */
    public int at() {
        return at;
    }

    public int count() {
        return address.length;
    }

    public int address(int i) {
        return address[i];
    }

    public int length(int i) {
        return length[i];
    }

    /** Bytes in all sections. */
    public int totalLength() {
        return total;
    }

    /**
     * The sections as read-only views of guest memory, one buffer each
     * (positioned at the section's start): no copy. Each section lies in one
     * frame (checked when this was read), so a view is a slice of that
     * frame's array. They show what the guest has there at the moment of
     * reading: use them while the guest waits for the answer.
     */
    public ByteBuffer[] views(GuestMemory memory) {
        ByteBuffer[] out = new ByteBuffer[address.length];
        for (int i = 0; i < address.length; i++) {
            memory.check(address[i], length[i]);
            byte[] frame = memory.frame(address[i] >>> 12);
            out[i] = ByteBuffer.wrap(frame, address[i] & 0xFFF, length[i]).slice().asReadOnlyBuffer();
        }
        return out;
    }

    /**
     * Fills the sections in order from {@code data} (its position advances by
     * what was placed; the rest stays the caller's). Returns the bytes placed.
     */
    public int copyIn(GuestMemory memory, ByteBuffer data) {
        int placed = 0;
        for (int i = 0; i < address.length && data.hasRemaining(); i++) {
            int n = Math.min(length[i], data.remaining());
            memory.write(address[i], data.slice(data.position(), n));
            data.position(data.position() + n);
            placed += n;
        }
        return placed;
    }

    /**
     * Copies from the sections of {@code from} (in {@code fromMemory}) into
     * those of {@code to} (in {@code toMemory}) until either runs out, as
     * one guest's send lands in another's bound buffer. Returns the bytes copied.
     */
    public static int copy(GuestMemory fromMemory, DmaSections from, GuestMemory toMemory, DmaSections to) {
        return copy(fromMemory, from, toMemory, to, new byte[LguestDma.MAX_SECTION_LENGTH]);
    }

    /**
     * {@link #copy(GuestMemory, DmaSections, GuestMemory, DmaSections)} through
     * the caller's buffer ({@code buf.length} at least a section's most,
     * {@link LguestDma#MAX_SECTION_LENGTH}), so that a router copying frame
     * after frame allocates nothing.
     */
    public static int copy(GuestMemory fromMemory, DmaSections from, GuestMemory toMemory, DmaSections to, byte[] buf) {
        if (buf.length < LguestDma.MAX_SECTION_LENGTH) {
            throw new IllegalArgumentException("a copy buffer of " + buf.length + " bytes");
        }
        int si = 0, so = 0, di = 0, dof = 0, copied = 0;
        while (si < from.count() && di < to.count()) {
            int n = Math.min(from.length[si] - so, to.length[di] - dof);
            fromMemory.read(from.address[si] + so, buf, 0, n);
            toMemory.write(to.address[di] + dof, buf, 0, n);
            copied += n;
            so += n;
            dof += n;
            if (so == from.length[si]) {
                si++;
                so = 0;
            }
            if (dof == to.length[di]) {
                di++;
                dof = 0;
            }
        }
        return copied;
    }

    private static int u16(byte[] b, int off) {
        return b[off] & 0xFF | (b[off + 1] & 0xFF) << 8;
    }

    private static int u32(byte[] b, int off) {
        return u16(b, off) | u16(b, off + 2) << 16;
    }
}
