package org.lguest.lg.impl;

import java.nio.charset.StandardCharsets;

import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.host.HostGuest;
import org.lguest.mmu.GuestMemory;
import org.lguest.switcher.Switcher;

/**
 * The hypercalls both ABIs have, done the same way (the hypercall halves of
 * interrupts_and_traps.c and segments.c, and the message reader of CRASH and
 * SHUTDOWN), on a guest seen only as a {@link HostGuest}.
 */
final class SharedCalls {
    /** Longest CRASH or SHUTDOWN message read. */
    static final int CRASH_MESSAGE_MAX = 128;

    private SharedCalls() {
    }

    static int[] words(GuestMemory mem, int addr, int n) {
        byte[] raw = mem.read(addr, n * 4);
        int[] w = new int[n];
        for (int i = 0; i < n; i++) {
            w[i] = raw[4 * i] & 0xFF | (raw[4 * i + 1] & 0xFF) << 8 | (raw[4 * i + 2] & 0xFF) << 16
                    | (raw[4 * i + 3] & 0xFF) << 24;
        }
        return w;
    }

    static void flushTlb(HostGuest g, int all) {
        if (all != 0) {
            g.pageTables().flushAll();
        } else {
            g.pageTables().flushUser();
        }
    }

    static void setStack(HostGuest g, int ss, int esp, int pages) {
        if ((ss & 3) != 1) {
            g.kill(String.format("bad stack segment 0x%x (the kernel stack must have RPL 1)", ss));
            return;
        }
        if (Integer.compareUnsigned(pages, Hypercalls.MAX_STACK_PAGES) > 0) {
            g.kill("bad stack pages " + Integer.toUnsignedString(pages) + " (at most 2)");
            return;
        }
        g.pageTables().pinStack(esp, pages);
        g.switcher().setKernelStack(ss, esp);
    }

    static void setTs(HostGuest g, int ts) {
        g.setTaskSwitched(ts != 0);
    }

    /** The NUL-terminated message at {@code addr}, at most {@link #CRASH_MESSAGE_MAX} bytes (CRASH, 4.x SHUTDOWN). */
    static String crashMessage(GuestMemory mem, int addr) {
        if (!mem.isValid(addr, 1)) {
            return String.format("(message at bad address 0x%08x)", addr);
        }
        long room = mem.limitBytes() - Integer.toUnsignedLong(addr);
        int n = (int) Math.min(CRASH_MESSAGE_MAX, room);
        byte[] raw = mem.read(addr, n);
        int len = 0;
        while (len < n && raw[len] != 0) {
            len++;
        }
        return new String(raw, 0, len, StandardCharsets.ISO_8859_1);
    }

    /** load_guest_idt_entry: validate and keep the gate; the Switcher decides whether it is direct. */
    static void loadIdtEntry(HostGuest g, int vector, int lo, int hi) {
        if (vector == Hypercalls.TRAP_ENTRY && (hi & 0x8000) != 0) {
            // No guest has a reason to: Linux never sets gate 0x1f. 2.6.23 ignored it silently.
            g.kill("attempt to take over the hypercall vector 0x1f");
            return;
        }
        if (vector == 2 || vector == 8 || vector == 15 || vector == Hypercalls.TRAP_ENTRY) {
            return; // never the guest's, but Linux loads 2, 8 (a task gate) and 15 at boot: ignored, as 2.6.23
        }
        if (GuestState.gateIndex(vector) < 0) {
            return;
        }
        if ((hi & 0x8000) == 0) {
            lo = 0;
            hi = 0;
        } else {
            int type = hi >> 8 & 0x1F;
            if (type != 0xE && type != 0xF) {
                g.kill(String.format("bad IDT type %d for vector %d", type, vector));
                return;
            }
            lo = Switcher.KERNEL_CS << 16 | lo & 0xFFFF;
            hi &= 0xFFFFEF00;
        }
        g.setGuestGate(vector, lo, hi);
    }
}
