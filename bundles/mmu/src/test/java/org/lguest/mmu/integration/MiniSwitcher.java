package org.lguest.mmu.integration;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;

/**
 * The least of a Switcher that lets guest code run through the shadow page
 * tables on the real CPU: three host frames mapped in slot 1023 (a code page
 * that is the host region, and a read-only page holding the GDT and an IDT
 * whose every gate leads into the host region), a ring-1 guest, and the run
 * loop of lg-module reduced to page faults and hypercalls.
 */
final class MiniSwitcher {
    static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final int SWITCHER = ShadowPageTables.SWITCHER_ADDR;
    static final int GDT = SWITCHER + 0x1000, IDT = SWITCHER + 0x1800;
    static final int HYPERCALL = 0x1F;
    static final int TSS = SWITCHER + 0x1400;
    static final int LHCALL_NEW_PGTABLE = 4, LHCALL_FLUSH_TLB = 5, LHCALL_SET_STACK = 7, LHCALL_SET_PTE = 14,
            LHCALL_SET_PMD = 15;
    /** Not an lguest call: the test guest's way of saying "done, look at me". */
    static final int TEST_DONE = 99;

    /** Why {@link #run()} came back to the test. */
    record Exit(boolean reflectedPageFault, int hypercall, int cr2) {
    }

    final GuestMemory memory;
    final ShadowPageTables spt;
    final Cpu cpu;
    int pageFaultsHandled;
    /** CR2 of every page fault the host handled, in order. */
    final java.util.List<Integer> faultAddresses = new java.util.ArrayList<>();
    private final int roFrame;

    MiniSwitcher(GuestMemory memory, ShadowPageTables spt, Cpu cpu) {
        this.memory = memory;
        this.spt = spt;
        this.cpu = cpu;
        int code = memory.allocateHostFrame();
        int ro = memory.allocateHostFrame();
        this.roFrame = ro;
        int table = memory.allocateHostFrame();
        put(table, 0, code << 12 | ShadowPageTables.PRESENT | ShadowPageTables.ACCESSED);
        put(table, 1, ro << 12 | ShadowPageTables.PRESENT | ShadowPageTables.ACCESSED);
        // GDT: 1 = host code (DPL 0), 12/13 = guest kernel code/data (DPL 1), 14/15 = user (DPL 3).
        gdt(ro, 1, 0x0000FFFF, 0x00CF9B00);
        gdt(ro, 12, 0x0000FFFF, 0x00CFBB00);
        gdt(ro, 13, 0x0000FFFF, 0x00CFB300);
        gdt(ro, 14, 0x0000FFFF, 0x00CFFB00);
        gdt(ro, 15, 0x0000FFFF, 0x00CFF300);
        for (int v = 0; v < 256; v++) {
            int target = SWITCHER + v * 16;
            int dpl = v == HYPERCALL ? 1 : 0;
            put(ro, (0x800 >> 2) + 2 * v, 0x08 << 16 | target & 0xFFFF);
            put(ro, (0x800 >> 2) + 2 * v + 1, target & 0xFFFF0000 | 0x8E00 | dpl << 13);
        }
        spt.setSwitcherPde(table << 12 | ShadowPageTables.KERNEL_PDE_FLAGS);

        memory.attach(cpu);
        cpu.setGdt(GDT, 32 * 8 - 1);
        cpu.setIdt(IDT, 256 * 8 - 1);
        cpu.setHostRegion(SWITCHER, SWITCHER + 0x1000);
        cpu.setTaskRegister(16 << 3, TSS, 0x67, 0x8900); // the guest TSS: only esp1/ss1 matter
        cpu.setCr(3, spt.shadowCr3());
        cpu.setCr(0, 0x80010011); // PG | WP | ET | PE
        kernelMode();
    }

    /** A guest trap gate installed in the real IDT (lguest's direct traps, e.g. the system call). */
    void directTrap(int vector, int handler, int dpl) {
        put(roFrame, (0x800 >> 2) + 2 * vector, 0x61 << 16 | handler & 0xFFFF);
        put(roFrame, (0x800 >> 2) + 2 * vector + 1, handler & 0xFFFF0000 | 0x8F00 | dpl << 13);
    }

    /** The ring-1 stack a trap from ring 3 switches to (the guest TSS's esp1/ss1). */
    void setTssStack(int ss1, int esp1) {
        put(roFrame, (0x400 >> 2) + 3, esp1);
        put(roFrame, (0x400 >> 2) + 4, ss1);
    }

    private void gdt(int frame, int index, int lo, int hi) {
        put(frame, index * 2, lo);
        put(frame, index * 2 + 1, hi);
    }

    private void put(int frame, int wordIndex, int value) {
        U32.set(memory.frame(frame), wordIndex * 4, value);
    }

    /** Ring 1 with lguest's kernel selectors, as after LHREQ_INITIALIZE. */
    void kernelMode() {
        cpu.setSegment(Cpu.CS, 0x61, 0, -1, 0x00CFBB00);
        for (int s : new int[] {Cpu.DS, Cpu.ES, Cpu.SS, Cpu.FS, Cpu.GS}) {
            cpu.setSegment(s, 0x69, 0, -1, 0x00CFB300);
        }
    }

    /** Ring 3, as the Switcher's iret into a user process would leave it. */
    void userMode() {
        cpu.setSegment(Cpu.CS, 0x73, 0, -1, 0x00CFFB00);
        for (int s : new int[] {Cpu.DS, Cpu.ES, Cpu.SS, Cpu.FS, Cpu.GS}) {
            cpu.setSegment(s, 0x7B, 0, -1, 0x00CFF300);
        }
    }

    /**
     * Runs the guest, handling page faults with the shadow tables and the
     * page-table hypercalls, until a page fault belongs to the guest or the
     * guest makes another hypercall.
     */
    Exit run() {
        for (int slices = 0; slices < 10_000; slices++) {
            memory.deliverPendingWrites();
            if (cpu.cr(3) != spt.shadowCr3()) {
                cpu.setCr(3, spt.shadowCr3());
            }
            CpuExit exit = cpu.run(1_000_000);
            if (exit.reason() != CpuExit.Reason.HOST_VECTOR) {
                throw new AssertionError("guest stopped with " + exit + String.format(" at eip 0x%08x", cpu.eip()));
            }
            if (exit.vector() == 14) {
                int cr2 = cpu.cr(2);
                if (!spt.demandPage(cr2, exit.errorCode())) {
                    return new Exit(true, -1, cr2);
                }
                pageFaultsHandled++;
                faultAddresses.add(cr2);
                continue;
            }
            if (exit.vector() != HYPERCALL) {
                throw new AssertionError(String.format("unexpected trap %d (error 0x%x) at eip 0x%08x",
                        exit.vector(), exit.errorCode(), cpu.eip()));
            }
            int call = cpu.reg(Cpu.EAX);
            int a1 = cpu.reg(Cpu.EDX), a2 = cpu.reg(Cpu.EBX), a3 = cpu.reg(Cpu.ECX);
            switch (call) {
                case LHCALL_NEW_PGTABLE -> spt.newPageTable(a1);
                case LHCALL_FLUSH_TLB -> {
                    if (a1 != 0) {
                        spt.flushAll();
                    } else {
                        spt.flushUser();
                    }
                }
                case LHCALL_SET_STACK -> {
                    setTssStack(a1, a2);
                    spt.pinStack(a2, a3);
                }
                case LHCALL_SET_PTE -> spt.setPte(a1, a2, a3);
                case LHCALL_SET_PMD -> spt.setPmd(a1, a2);
                default -> {
                    return new Exit(false, call, 0);
                }
            }
        }
        throw new AssertionError("guest did not come back in 10000 slices");
    }
}
