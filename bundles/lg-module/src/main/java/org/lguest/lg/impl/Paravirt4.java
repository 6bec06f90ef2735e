package org.lguest.lg.impl;

import org.lguest.lg.GuestAbi;
import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.LguestData;
import org.lguest.lg.abi.v4.Hypercalls4;
import org.lguest.lg.abi.v4.LguestData4;
import org.lguest.lg.host.HostGuest;
import org.lguest.lg.host.ParavirtOps;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.switcher.Switcher;
import org.osgi.service.component.annotations.Component;

/**
 * The 4.x hypercall table (hypercalls.c of Linux 4.x's lguest): what a
 * virtio-era guest asks of the host, for a guest seen only as a
 * {@link HostGuest}. It differs from 2.6.23's where the guest changed:
 * SHUTDOWN replaces CRASH, the GDT comes one entry at a time
 * (LOAD_GDT_ENTRY), page-directory entries are reported with SET_PGD, and
 * there is no DMA. INIT reads more of {@code lguest_data} (the one
 * {@code noirq_iret} address, the kernel's page offset, its system call
 * vector) and writes the time. Registered with {@code lguest.abi=4.x}.
 *
 * <p>Misbehaviour kills the guest ({@link HostGuest#kill} or
 * {@link GuestViolationException}); nothing here returns a value.
 */
@Component(service = ParavirtOps.class, property = ParavirtOps.ABI + "=4.x")
public final class Paravirt4 implements ParavirtOps {
    /** GDT slots the host owns: LGUEST_CS, LGUEST_DS, the TSS, the double-fault TSS. */
    private static boolean hostOwnedGdtEntry(int index) {
        return index == Switcher.GDT_ENTRY_LGUEST_CS || index == Switcher.GDT_ENTRY_LGUEST_DS
                || index == Switcher.GDT_ENTRY_TSS || index == Switcher.GDT_ENTRY_DOUBLEFAULT_TSS;
    }

    @Override
    public GuestAbi abi() {
        return GuestAbi.LGUEST_4_X;
    }

    @Override
    public boolean known(int call) {
        return switch (call) {
            case Hypercalls4.FLUSH_ASYNC, Hypercalls4.LGUEST_INIT, Hypercalls4.SHUTDOWN, Hypercalls4.NEW_PGTABLE,
                    Hypercalls4.FLUSH_TLB, Hypercalls4.LOAD_IDT_ENTRY, Hypercalls4.SET_STACK, Hypercalls4.TS,
                    Hypercalls4.SET_CLOCKEVENT, Hypercalls4.HALT, Hypercalls4.SET_PTE, Hypercalls4.SET_PGD,
                    Hypercalls4.LOAD_TLS, Hypercalls4.LOAD_GDT_ENTRY, Hypercalls4.SEND_INTERRUPTS -> true;
            default -> false;
        };
    }

    /** The 4.x ring: five words per call (eax, ebx, ecx, edx, esi) at other offsets. */
    @Override
    public int drainRing(HostGuest g) {
        GuestMemory memory = g.memory();
        int data = g.lguestData();
        int status = data + LguestData4.HCALL_STATUS;
        int n = 0;
        while (n < Hypercalls4.RING_SIZE) {
            int i = g.nextHcall();
            if (memory.readU8(status + i) == Hypercalls4.RING_SLOT_FREE) {
                return n;
            }
            int e = data + LguestData4.HCALLS + i * LguestData4.HCALL_ENTRY_SIZE;
            n++;
            hypercall(g, memory.readU32(e), memory.readU32(e + 4), memory.readU32(e + 8), memory.readU32(e + 12),
                    memory.readU32(e + 16), false);
            if (g.isDead()) {
                return n;
            }
            memory.writeU8(status + i, Hypercalls4.RING_SLOT_FREE);
            g.setNextHcall((i + 1) % Hypercalls4.RING_SIZE);
        }
        return n;
    }

    @Override
    public void hypercall(HostGuest g, int call, int a1, int a2, int a3, int a4, boolean sync) {
        try {
            execute(g, call, a1, a2, a3);
        } catch (GuestViolationException e) {
            g.kill(e.reason());
        }
    }

    private static void execute(HostGuest g, int call, int a1, int a2, int a3) {
        GuestMemory mem = g.memory();
        if (g.lguestData() == HostGuest.NO_DATA && call != Hypercalls4.LGUEST_INIT) {
            g.kill(Hypercalls4.name(call) + " before LHCALL_LGUEST_INIT");
            return;
        }
        switch (call) {
            case Hypercalls4.FLUSH_ASYNC, Hypercalls4.SEND_INTERRUPTS -> {
                // The ring was drained before this call; interrupts are looked at before the guest runs again.
            }
            case Hypercalls4.LGUEST_INIT -> init(g, a1);
            case Hypercalls4.SHUTDOWN -> {
                String message = SharedCalls.crashMessage(mem, a1).strip();
                if (a2 == Hypercalls4.SHUTDOWN_RESTART) {
                    g.kill("SHUTDOWN (restart): " + message);
                } else {
                    g.kill("SHUTDOWN: " + message);
                }
            }
            case Hypercalls4.NEW_PGTABLE -> g.pageTables().newPageTable(a1);
            case Hypercalls4.FLUSH_TLB -> SharedCalls.flushTlb(g, a1);
            case Hypercalls4.LOAD_IDT_ENTRY -> {
                if (a1 != Hypercalls.TRAP_ENTRY) { // 4.x guests write every vector; the hypercall's is ignored
                    SharedCalls.loadIdtEntry(g, a1, a2, a3);
                }
            }
            case Hypercalls4.SET_STACK -> SharedCalls.setStack(g, a1, a2, a3);
            case Hypercalls4.TS -> SharedCalls.setTs(g, a1);
            case Hypercalls4.SET_CLOCKEVENT -> g.setClockEvent(Integer.toUnsignedLong(a1));
            case Hypercalls4.HALT -> g.halt();
            case Hypercalls4.SET_PTE -> g.pageTables().setPte(a1, a2, a3);
            case Hypercalls4.SET_PGD -> g.pageTables().setPmd(a1, a2);
            case Hypercalls4.LOAD_TLS -> g.switcher().loadTls(SharedCalls.words(mem, a1, 6));
            case Hypercalls4.LOAD_GDT_ENTRY -> loadGdtEntry(g, a1, a2, a3);
            default -> g.kill("Bad hypercall " + Integer.toUnsignedString(call)
                    + (call == Hypercalls4.SET_PMD ? " (SET_PMD is for PAE guests)" : ""));
        }
    }

    private static void init(HostGuest g, int addr) {
        if (g.lguestData() != HostGuest.NO_DATA) {
            g.kill("LHCALL_LGUEST_INIT a second time");
            return;
        }
        GuestMemory mem = g.memory();
        if (!mem.isValid(addr, LguestData4.SIZE)) {
            g.kill(String.format("bad lguest_data address 0x%08x (guest memory ends at 0x%x)", addr, mem.limitBytes()));
            return;
        }
        int kernelAddress = mem.readU32(addr + LguestData4.KERNEL_ADDRESS);
        int pageOffset = g.pageTables().pageOffset();
        if (kernelAddress != pageOffset) {
            g.kill(String.format("lguest_data.kernel_address 0x%08x is not the page offset 0x%08x the Launcher loaded the kernel for",
                    kernelAddress, pageOffset));
            return;
        }
        int syscallVec = mem.readU32(addr + LguestData4.SYSCALL_VEC);
        if (syscallVec != Hypercalls.SYSCALL_VECTOR) {
            g.kill(String.format("lguest_data.syscall_vec 0x%x: this host delivers system calls on 0x80 only", syscallVec));
            return;
        }
        mem.writeU32(addr + LguestData4.RESERVE_MEM, LguestData.SWITCHER_RESERVE);
        mem.writeU32(addr + LguestData4.TSC_KHZ, 0);
        g.setNoInterruptIret(mem.readU32(addr + LguestData4.NOIRQ_IRET));
        g.setLguestData(addr);
        LguestData4.writeTime(mem, addr, java.time.Instant.now());
        g.pageTables().flushAll();
    }

    /** LOAD_GDT_ENTRY: one descriptor; the host's own slots are left alone, as lguest does. */
    private static void loadGdtEntry(HostGuest g, int index, int lo, int hi) {
        if (Integer.compareUnsigned(index, Switcher.GDT_ENTRIES) >= 0) {
            g.kill("too many gdt entries " + Integer.toUnsignedString(index));
            return;
        }
        if (hostOwnedGdtEntry(index)) {
            return;
        }
        g.setGdtEntry(index, lo, hi);
    }
}
