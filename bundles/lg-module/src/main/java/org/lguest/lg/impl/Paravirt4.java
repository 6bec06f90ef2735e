package org.lguest.lg.impl;

import org.lguest.lg.abi.Hypercalls;
import org.lguest.lg.abi.v4.Hypercalls4;
import org.lguest.lg.abi.v4.LguestData4;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.GuestViolationException;
import org.lguest.switcher.Switcher;

/**
 * The 4.x hypercall table (hypercalls.c of Linux 4.x's lguest): what a
 * virtio-era guest asks of the host. It differs from 2.6.23's where the
 * guest changed: SHUTDOWN replaces CRASH, the GDT comes one entry at a time
 * (LOAD_GDT_ENTRY), page-directory entries are reported with SET_PGD, and
 * there is no DMA. INIT reads more of {@code lguest_data} (the one
 * {@code noirq_iret} address, the kernel's page offset, its system call
 * vector) and writes the time.
 *
 * <p>Misbehaviour kills the guest ({@link LgGuest#kill} or
 * {@link GuestViolationException}); nothing here returns a value.
 */
final class Paravirt4 {
    /** GDT slots the host owns: LGUEST_CS, LGUEST_DS, the TSS, the double-fault TSS. */
    private static boolean hostOwnedGdtEntry(int index) {
        return index == Switcher.GDT_ENTRY_LGUEST_CS || index == Switcher.GDT_ENTRY_LGUEST_DS
                || index == Switcher.GDT_ENTRY_TSS || index == Switcher.GDT_ENTRY_DOUBLEFAULT_TSS;
    }

    private Paravirt4() {
    }

    static void execute(LgGuest g, int call, int a1, int a2, int a3, int a4) {
        GuestMemory mem = g.memory();
        if (g.lguestData == LgGuest.NO_DATA && call != Hypercalls4.LGUEST_INIT) {
            g.kill(Hypercalls4.name(call) + " before LHCALL_LGUEST_INIT");
            return;
        }
        switch (call) {
            case Hypercalls4.FLUSH_ASYNC, Hypercalls4.SEND_INTERRUPTS -> {
                // The ring was drained before this call; interrupts are looked at before the guest runs again.
            }
            case Hypercalls4.LGUEST_INIT -> init(g, a1);
            case Hypercalls4.SHUTDOWN -> {
                String message = ParavirtOpsImpl.crashMessage(mem, a1).strip();
                if (a2 == Hypercalls4.SHUTDOWN_RESTART) {
                    g.kill("SHUTDOWN (restart): " + message);
                } else {
                    g.kill("SHUTDOWN: " + message);
                }
            }
            case Hypercalls4.NEW_PGTABLE -> g.spt.newPageTable(a1);
            case Hypercalls4.FLUSH_TLB -> ParavirtOpsImpl.flushTlb(g, a1);
            case Hypercalls4.LOAD_IDT_ENTRY -> {
                if (a1 != Hypercalls.TRAP_ENTRY) { // 4.x guests write every vector; the hypercall's is ignored
                    ParavirtOpsImpl.loadIdtEntry(g, a1, a2, a3);
                }
            }
            case Hypercalls4.SET_STACK -> ParavirtOpsImpl.setStack(g, a1, a2, a3);
            case Hypercalls4.TS -> ParavirtOpsImpl.setTs(g, a1);
            case Hypercalls4.SET_CLOCKEVENT -> g.setClockEvent(Integer.toUnsignedLong(a1));
            case Hypercalls4.HALT -> g.setHalted();
            case Hypercalls4.SET_PTE -> g.spt.setPte(a1, a2, a3);
            case Hypercalls4.SET_PGD -> g.spt.setPmd(a1, a2);
            case Hypercalls4.LOAD_TLS -> g.sw.loadTls(ParavirtOpsImpl.words(mem, a1, 6));
            case Hypercalls4.LOAD_GDT_ENTRY -> loadGdtEntry(g, a1, a2, a3);
            default -> g.kill("Bad hypercall " + Integer.toUnsignedString(call)
                    + (call == Hypercalls4.SET_PMD ? " (SET_PMD is for PAE guests)" : ""));
        }
    }

    private static void init(LgGuest g, int addr) {
        if (g.lguestData != LgGuest.NO_DATA) {
            g.kill("LHCALL_LGUEST_INIT a second time");
            return;
        }
        GuestMemory mem = g.memory();
        if (!mem.isValid(addr, LguestData4.SIZE)) {
            g.kill(String.format("bad lguest_data address 0x%08x (guest memory ends at 0x%x)", addr, mem.limitBytes()));
            return;
        }
        int kernelAddress = mem.readU32(addr + LguestData4.KERNEL_ADDRESS);
        if (kernelAddress != g.spt.pageOffset()) {
            g.kill(String.format("lguest_data.kernel_address 0x%08x is not the page offset 0x%08x the Launcher loaded the kernel for",
                    kernelAddress, g.spt.pageOffset()));
            return;
        }
        int syscallVec = mem.readU32(addr + LguestData4.SYSCALL_VEC);
        if (syscallVec != Hypercalls.SYSCALL_VECTOR) {
            g.kill(String.format("lguest_data.syscall_vec 0x%x: this host delivers system calls on 0x80 only", syscallVec));
            return;
        }
        mem.writeU32(addr + LguestData4.RESERVE_MEM, org.lguest.lg.abi.LguestData.SWITCHER_RESERVE);
        mem.writeU32(addr + LguestData4.TSC_KHZ, 0);
        g.noirqIret = mem.readU32(addr + LguestData4.NOIRQ_IRET);
        g.lguestData = addr;
        g.writeTime();
        g.spt.flushAll();
    }

    /** LOAD_GDT_ENTRY: one descriptor; the host's own slots are left alone, as lguest does. */
    private static void loadGdtEntry(LgGuest g, int index, int lo, int hi) {
        if (Integer.compareUnsigned(index, Switcher.GDT_ENTRIES) >= 0) {
            g.kill("too many gdt entries " + Integer.toUnsignedString(index));
            return;
        }
        if (hostOwnedGdtEntry(index)) {
            return;
        }
        g.gdt[2 * index] = lo;
        g.gdt[2 * index + 1] = hi;
        g.sw.loadGdt(g.gdt);
    }
}
