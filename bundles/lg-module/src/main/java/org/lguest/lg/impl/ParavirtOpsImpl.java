package org.lguest.lg.impl;

import java.util.Objects;

import org.lguest.cpu.Cpu;
import org.lguest.lg.GuestAbi;
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

/**
 * The 2.6.23 hypercall table (hypercalls.c of Linux 2.6.23's lguest), for a
 * guest seen only as a {@link HostGuest}: LGUEST_INIT, the page-table calls,
 * the GDT/IDT/TLS and stack calls, the clock, HALT, CRASH, and the DMA calls,
 * which go to the {@link DmaRouter}. Registered with {@code lguest.abi=2.6.23};
 * {@link Paravirt4} is the 4.x table.
 */
@Component(service = ParavirtOps.class, property = ParavirtOps.ABI + "=2.6.23")
public final class ParavirtOpsImpl implements ParavirtOps {
    private final DmaRouter router;

    @Activate
    public ParavirtOpsImpl(@Reference(name = "dmaRouter") DmaRouter router) {
        this.router = Objects.requireNonNull(router);
    }

    @Override
    public GuestAbi abi() {
        return GuestAbi.LGUEST_2_6_23;
    }

    @Override
    public boolean known(int call) {
        return call >= 0 && call < Hypercalls.COUNT;
    }

    /** do_async_hcalls: run queued calls from the guest's cursor, stopping at a DMA for the Launcher. */
    @Override
    public int drainRing(HostGuest g) {
        GuestMemory memory = g.memory();
        int data = g.lguestData();
        int status = data + LguestData.HCALL_STATUS;
        int n = 0;
        while (n < Hypercalls.RING_SIZE) {
            int i = g.nextHcall();
            if (memory.readU8(status + i) == Hypercalls.RING_SLOT_FREE) {
                return n;
            }
            int e = data + LguestData.HCALLS + i * LguestData.HCALL_ENTRY_SIZE;
            int call = memory.readU32(e), a1 = memory.readU32(e + 4), a2 = memory.readU32(e + 8),
                    a3 = memory.readU32(e + 12);
            n++;
            boolean forLauncher = hypercall(g, call, a1, a2, a3, false);
            if (g.isDead()) {
                return n;
            }
            memory.writeU8(status + i, Hypercalls.RING_SLOT_FREE);
            g.setNextHcall((i + 1) % Hypercalls.RING_SIZE);
            if (forLauncher) {
                return n;
            }
        }
        return n;
    }

    @Override
    public void hypercall(HostGuest g, int call, int a1, int a2, int a3, int a4, boolean sync) {
        try {
            hypercall(g, call, a1, a2, a3, sync);
        } catch (GuestViolationException e) {
            g.kill(e.reason());
        }
    }

    /**
     * Runs one call. {@code sync}: from {@code int $0x1f} (results go to EAX)
     * rather than from the asynchronous ring. Misbehaviour kills the guest
     * (directly or by {@link GuestViolationException}). Returns whether a DMA
     * now waits for the Launcher.
     */
    private boolean hypercall(HostGuest g, int call, int a1, int a2, int a3, boolean sync) {
        GuestMemory mem = g.memory();
        if (g.lguestData() == HostGuest.NO_DATA && call != Hypercalls.LGUEST_INIT) {
            g.kill(Hypercalls.name(call) + " before LHCALL_LGUEST_INIT");
            return false;
        }
        switch (call) {
            case Hypercalls.FLUSH_ASYNC -> {
                // The exit itself drained the ring.
            }
            case Hypercalls.LGUEST_INIT -> init(g, a1);
            case Hypercalls.CRASH -> g.kill("CRASH: " + SharedCalls.crashMessage(mem, a1));
            case Hypercalls.LOAD_GDT -> {
                if (Integer.compareUnsigned(a2, Switcher.GDT_ENTRIES) > 0) {
                    g.kill("too many gdt entries " + Integer.toUnsignedString(a2));
                    return false;
                }
                g.switcher().loadGdt(SharedCalls.words(mem, a1, a2 * 2));
            }
            case Hypercalls.NEW_PGTABLE -> g.pageTables().newPageTable(a1);
            case Hypercalls.FLUSH_TLB -> SharedCalls.flushTlb(g, a1);
            case Hypercalls.LOAD_IDT_ENTRY -> SharedCalls.loadIdtEntry(g, a1, a2, a3);
            case Hypercalls.SET_STACK -> SharedCalls.setStack(g, a1, a2, a3);
            case Hypercalls.TS -> SharedCalls.setTs(g, a1);
            case Hypercalls.SET_CLOCKEVENT -> g.setClockEvent(Integer.toUnsignedLong(a1));
            case Hypercalls.HALT -> g.halt();
            case Hypercalls.GET_WALLCLOCK -> {
                if (sync) {
                    g.cpu().setReg(Cpu.EAX, (int) (System.currentTimeMillis() / 1000));
                }
            }
            case Hypercalls.BIND_DMA -> {
                int r = router.bind(g, a1, a2, a3);
                if (sync) {
                    g.cpu().setReg(Cpu.EAX, r);
                }
            }
            case Hypercalls.SEND_DMA -> {
                if (!router.send(g, a1, a2)) {
                    g.dmaForLauncher(a2, a1);
                    return true;
                }
            }
            case Hypercalls.SET_PTE -> g.pageTables().setPte(a1, a2, a3);
            case Hypercalls.SET_PMD -> g.pageTables().setPmd(a1, a2);
            case Hypercalls.LOAD_TLS -> g.switcher().loadTls(SharedCalls.words(mem, a1, 6));
            default -> g.kill("Bad hypercall " + Integer.toUnsignedString(call));
        }
        return false;
    }

    private static void init(HostGuest g, int addr) {
        if (g.lguestData() != HostGuest.NO_DATA) {
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
        g.setNoInterruptRange(mem.readU32(addr + LguestData.NOIRQ_START), mem.readU32(addr + LguestData.NOIRQ_END));
        g.setLguestData(addr);
        g.pageTables().flushAll();
    }
}
