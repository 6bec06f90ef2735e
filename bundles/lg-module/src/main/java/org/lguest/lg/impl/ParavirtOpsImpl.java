package org.lguest.lg.impl;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

import org.lguest.cpu.Cpu;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.lg.host.DmaRouter;
import org.lguest.lg.host.HostGuest;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.switcher.Switcher;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** hypercalls.c and the hypercall halves of interrupts_and_traps.c and segments.c. */
@Component(service = ParavirtOps.class)
public final class ParavirtOpsImpl implements ParavirtOps {
    /** Longest CRASH message read. */
    static final int CRASH_MESSAGE_MAX = 128;

    private final DmaRouter router;

    @Activate
    public ParavirtOpsImpl(@Reference(name = "dmaRouter") DmaRouter router) {
        this.router = Objects.requireNonNull(router);
    }

    @Override
    public boolean known(int call) {
        return call >= 0 && call < Hypercalls.COUNT;
    }

    @Override
    public void hypercall(HostGuest guest, int call, int arg1, int arg2, int arg3) {
        if (!(guest instanceof LgGuest g)) {
            throw new IllegalArgumentException("not a guest of this lguest module: " + guest);
        }
        try {
            execute(g, call, arg1, arg2, arg3, true);
        } catch (GuestViolationException e) {
            g.kill(e.reason());
        }
    }

    /**
     * Runs one call. {@code sync}: from {@code int $0x1f} (results go to EAX)
     * rather than from the asynchronous ring. Misbehaviour kills the guest
     * (directly or by {@link GuestViolationException}).
     */
    void execute(LgGuest g, int call, int a1, int a2, int a3, boolean sync) {
        GuestMemory mem = g.memory();
        if (g.lguestData == LgGuest.NO_DATA && call != Hypercalls.LGUEST_INIT) {
            g.kill(Hypercalls.name(call) + " before LHCALL_LGUEST_INIT");
            return;
        }
        switch (call) {
            case Hypercalls.FLUSH_ASYNC -> {
                // The exit itself drained the ring.
            }
            case Hypercalls.LGUEST_INIT -> init(g, a1);
            case Hypercalls.CRASH -> g.kill("CRASH: " + crashMessage(mem, a1));
            case Hypercalls.LOAD_GDT -> {
                if (Integer.compareUnsigned(a2, Switcher.GDT_ENTRIES) > 0) {
                    g.kill("too many gdt entries " + Integer.toUnsignedString(a2));
                    return;
                }
                g.sw.loadGdt(words(mem, a1, a2 * 2));
            }
            case Hypercalls.NEW_PGTABLE -> g.spt.newPageTable(a1);
            case Hypercalls.FLUSH_TLB -> flushTlb(g, a1);
            case Hypercalls.LOAD_IDT_ENTRY -> loadIdtEntry(g, a1, a2, a3);
            case Hypercalls.SET_STACK -> setStack(g, a1, a2, a3);
            case Hypercalls.TS -> setTs(g, a1);
            case Hypercalls.SET_CLOCKEVENT -> g.setClockEvent(Integer.toUnsignedLong(a1));
            case Hypercalls.HALT -> g.setHalted();
            case Hypercalls.GET_WALLCLOCK -> {
                if (sync) {
                    g.cpu.setReg(Cpu.EAX, (int) (System.currentTimeMillis() / 1000));
                }
            }
            case Hypercalls.BIND_DMA -> {
                int r = router.bind(g, a1, a2, a3);
                if (sync) {
                    g.cpu.setReg(Cpu.EAX, r);
                }
            }
            case Hypercalls.SEND_DMA -> {
                if (!router.send(g, a1, a2)) {
                    g.setPendingDma(a2, a1);
                }
            }
            case Hypercalls.SET_PTE -> g.spt.setPte(a1, a2, a3);
            case Hypercalls.SET_PMD -> g.spt.setPmd(a1, a2);
            case Hypercalls.LOAD_TLS -> g.sw.loadTls(words(mem, a1, 6));
            default -> g.kill("Bad hypercall " + Integer.toUnsignedString(call));
        }
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

    private static void init(LgGuest g, int addr) {
        if (g.lguestData != LgGuest.NO_DATA) {
            g.kill("LHCALL_LGUEST_INIT a second time");
            return;
        }
        GuestMemory mem = g.memory();
        if (!mem.isValid(addr, LguestData.SIZE)) {
            g.kill(String.format("bad lguest_data address 0x%08x (guest memory ends at 0x%x)", addr, mem.limitBytes()));
            return;
        }
        mem.writeU32(addr + LguestData.RESERVE_MEM, LguestData.SWITCHER_RESERVE);
        mem.writeU16(addr + LguestData.GUESTID, g.id());
        mem.writeU32(addr + LguestData.TSC_KHZ, 0);
        g.noirqStart = mem.readU32(addr + LguestData.NOIRQ_START);
        g.noirqEnd = mem.readU32(addr + LguestData.NOIRQ_END);
        g.lguestData = addr;
        g.spt.flushAll();
    }

    // The calls both ABIs share (the 4.x table, Paravirt4, uses them too).

    static void flushTlb(LgGuest g, int all) {
        if (all != 0) {
            g.spt.flushAll();
        } else {
            g.spt.flushUser();
        }
    }

    static void setStack(LgGuest g, int ss, int esp, int pages) {
        if ((ss & 3) != 1) {
            g.kill(String.format("bad stack segment 0x%x (the kernel stack must have RPL 1)", ss));
            return;
        }
        if (Integer.compareUnsigned(pages, Hypercalls.MAX_STACK_PAGES) > 0) {
            g.kill("bad stack pages " + Integer.toUnsignedString(pages) + " (at most 2)");
            return;
        }
        g.spt.pinStack(esp, pages);
        g.sw.setKernelStack(ss, esp);
    }

    static void setTs(LgGuest g, int ts) {
        g.ts = ts != 0;
        g.sw.setTaskSwitched(g.ts);
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
    static void loadIdtEntry(LgGuest g, int vector, int lo, int hi) {
        if (vector == Hypercalls.TRAP_ENTRY && (hi & 0x8000) != 0) {
            // No guest has a reason to: Linux never sets gate 0x1f. 2.6.23 ignored it silently.
            g.kill("attempt to take over the hypercall vector 0x1f");
            return;
        }
        if (vector == 2 || vector == 8 || vector == 15 || vector == Hypercalls.TRAP_ENTRY) {
            return; // never the guest's, but Linux loads 2, 8 (a task gate) and 15 at boot: ignored, as 2.6.23
        }
        int i = LgGuest.gateIndex(vector);
        if (i < 0) {
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
        g.idtLo[i] = lo;
        g.idtHi[i] = hi;
        g.sw.setGuestGate(vector, lo, hi);
    }
}
