package org.lguest.switcher.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.lguest.cpu.Cpu;
import org.lguest.cpu.CpuExit;
import org.lguest.cpu.CpuFactory;
import org.lguest.cpu.IoPorts;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.switcher.Switcher;
import org.lguest.switcher.SwitcherExit;
import org.lguest.switcher.SwitcherGuest;

/**
 * One guest's Switcher: three pages in slot 1023 and the processor. The
 * processor's host-region check stands in for the stubs of switcher.S: a
 * vector whose gate leads into the code page returns from {@link Cpu#run}
 * before anything is pushed, with the guest's registers intact, which is
 * what SWITCH_TO_HOST's register save achieves on real hardware.
 */
final class SwitcherGuestImpl implements SwitcherGuest {
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int PTE_RO = ShadowPageTables.PRESENT | ShadowPageTables.ACCESSED;
    private static final int PTE_RW = PTE_RO | ShadowPageTables.RW | ShadowPageTables.DIRTY;
    private static final int GDT_OFF = Switcher.GDT_ADDR - Switcher.STATE_PAGE;
    private static final int TSS_OFF = Switcher.TSS_ADDR - Switcher.STATE_PAGE;
    private static final int IDT_OFF = Switcher.IDT_ADDR - Switcher.STATE_PAGE;
    /** Flat 4 GiB ring-0 code and data (lguest's FULL_EXEC_SEGMENT / FULL_SEGMENT), accessed. */
    private static final int FLAT_LO = 0x0000FFFF, FLAT_CODE_HI = 0x00CF9B00, FLAT_DATA_HI = 0x00CF9300;
    private static final int EFLAGS_IF = 0x200, CR0_TS = 0x8;
    /** PE | ET | WP | PG: ring 1 is supervisor for paging, so WP makes read-only pages read-only to it. */
    private static final int CR0_GUEST = 0x80010011;

    private static final IoPorts NO_PORTS = new IoPorts() {
        @Override
        public int in(int port, int size) {
            return -1;
        }

        @Override
        public void out(int port, int size, int value) {
        }
    };

    private final GuestMemory memory;
    private final ShadowPageTables spt;
    private final Cpu cpu;
    private final int codeFrame, regsFrame, stateFrame, tableFrame;
    private final byte[] state, regs;
    private boolean ts;
    private boolean tablesLoaded;
    private boolean closed;
    private long exits;

    SwitcherGuestImpl(CpuFactory cpus, GuestMemory memory, ShadowPageTables spt) {
        this.memory = memory;
        this.spt = spt;
        if (memory.freeHostFrames() < Switcher.HOST_FRAMES) {
            throw new IllegalStateException("the guest memory's host pool has " + memory.freeHostFrames()
                    + " free frames; the Switcher needs " + Switcher.HOST_FRAMES);
        }
        codeFrame = memory.allocateHostFrame();
        regsFrame = memory.allocateHostFrame();
        stateFrame = memory.allocateHostFrame();
        tableFrame = memory.allocateHostFrame();
        state = memory.frame(stateFrame);
        regs = memory.frame(regsFrame);
        byte[] table = memory.frame(tableFrame);
        U32.set(table, 0, codeFrame << 12 | PTE_RO);
        U32.set(table, 4, regsFrame << 12 | PTE_RW);
        U32.set(table, 8, stateFrame << 12 | PTE_RO);
        // The stubs are never executed (the processor stops at the gate); fill with hlt.
        Arrays.fill(memory.frame(codeFrame), (byte) 0xF4);

        // Host-owned GDT entries.
        gdt(Switcher.GDT_ENTRY_LGUEST_CS, FLAT_LO, FLAT_CODE_HI);
        gdt(Switcher.GDT_ENTRY_LGUEST_DS, FLAT_LO, FLAT_DATA_HI);
        int tss = Switcher.TSS_ADDR;
        gdt(Switcher.GDT_ENTRY_TSS, tss << 16 | 0x67, tss & 0xFF000000 | 0x8900 | (tss >>> 16) & 0xFF);
        // The guest's initial kernel segments: flat, DPL 1, trimmed below the Switcher.
        setGuestEntry(Switcher.GDT_ENTRY_KERNEL_CS, FLAT_LO, FLAT_CODE_HI);
        setGuestEntry(Switcher.GDT_ENTRY_KERNEL_DS, FLAT_LO, FLAT_DATA_HI);
        // TSS: ring-0 stack = end of the register page (where a real trap frame would land),
        // no I/O bitmap (io_bitmap_base = sizeof(tss)), so every in/out at ring 1 or 3 faults.
        U32.set(state, TSS_OFF + 4, Switcher.REGS_PAGE + 0x1000);
        U32.set(state, TSS_OFF + 8, Switcher.LGUEST_DS);
        U32.set(state, TSS_OFF + 0x64, 0x68 << 16);
        for (int v = 0; v < 256; v++) {
            hostStub(v);
        }
        spt.setSwitcherPde(tableFrame << 12 | ShadowPageTables.KERNEL_PDE_FLAGS);

        cpu = cpus.create(memory, NO_PORTS);
        memory.attach(cpu);
        cpu.setCr(3, spt.shadowCr3());
        cpu.setCr(0, CR0_GUEST);
        cpu.setHostRegion(Switcher.CODE_PAGE, Switcher.CODE_PAGE + 0x1000);
        loadTables();
        cpu.setEflags(0x202);
        for (int r = 0; r < 8; r++) {
            cpu.setReg(r, 0);
        }
        if (cpu.loadSegment(Cpu.CS, Switcher.KERNEL_CS) >= 0) {
            throw new IllegalStateException("the initial kernel code segment does not load");
        }
        for (int s : new int[] {Cpu.DS, Cpu.ES, Cpu.SS}) {
            if (cpu.loadSegment(s, Switcher.KERNEL_DS) >= 0) {
                throw new IllegalStateException("the initial kernel data segment does not load");
            }
        }
        cpu.setSegment(Cpu.FS, 0, 0, 0, 0);
        cpu.setSegment(Cpu.GS, 0, 0, 0, 0);
    }

    private void loadTables() {
        cpu.setGdt(Switcher.GDT_ADDR, Switcher.GDT_ENTRIES * 8 - 1);
        cpu.setIdt(Switcher.IDT_ADDR, 256 * 8 - 1);
        cpu.setTaskRegister(Switcher.TSS_SELECTOR, Switcher.TSS_ADDR, 0x67, 0x8B00);
        tablesLoaded = true;
    }

    private void gdt(int index, int lo, int hi) {
        U32.set(state, GDT_OFF + index * 8, lo);
        U32.set(state, GDT_OFF + index * 8 + 4, hi);
    }

    private void idt(int vector, int lo, int hi) {
        U32.set(state, IDT_OFF + vector * 8, lo);
        U32.set(state, IDT_OFF + vector * 8 + 4, hi);
    }

    private void hostStub(int vector) {
        hostStub(vector, vector == 0x1F ? 1 : 0); // only the hypercall may be raised by the guest kernel itself
    }

    private void hostStub(int vector, int dpl) {
        int target = Switcher.CODE_PAGE + vector * 16;
        idt(vector, Switcher.LGUEST_CS << 16 | target & 0xFFFF, target & 0xFFFF0000 | 0x8E00 | dpl << 13);
    }

    private static boolean hostOwned(int index) {
        return index == Switcher.GDT_ENTRY_LGUEST_CS || index == Switcher.GDT_ENTRY_LGUEST_DS
                || index == Switcher.GDT_ENTRY_TSS || index == Switcher.GDT_ENTRY_DOUBLEFAULT_TSS;
    }

    private void setGuestEntry(int index, int lo, int hi) {
        if (hostOwned(index)) {
            return;
        }
        int[] d = Descriptors.fixup(lo, hi);
        gdt(index, d[0], d[1]);
    }

    @Override
    public Cpu cpu() {
        return cpu;
    }

    @Override
    public void loadGdt(int[] words) {
        if (words.length > Switcher.GDT_ENTRIES * 2 || (words.length & 1) != 0) {
            throw new IllegalArgumentException("a GDT of " + words.length / 2 + " entries (at most 32)");
        }
        for (int i = 0; i < words.length / 2; i++) {
            setGuestEntry(i, words[2 * i], words[2 * i + 1]);
        }
    }

    @Override
    public void loadTls(int[] words) {
        if (words.length != Switcher.GDT_ENTRY_TLS_ENTRIES * 2) {
            throw new IllegalArgumentException("TLS is 3 descriptors, not " + words.length / 2.0);
        }
        for (int i = 0; i < Switcher.GDT_ENTRY_TLS_ENTRIES; i++) {
            setGuestEntry(Switcher.GDT_ENTRY_TLS_MIN + i, words[2 * i], words[2 * i + 1]);
        }
    }

    @Override
    public int[] gdtEntry(int index) {
        return new int[] {(int) U32.get(state, GDT_OFF + index * 8), (int) U32.get(state, GDT_OFF + index * 8 + 4)};
    }

    /** copy_traps: which vectors a guest trap gate may take over in the real IDT. */
    static boolean mayBeDirect(int vector) {
        if (vector == 0x80) {
            return true;
        }
        if (vector < 0 || vector >= 32) {
            return false;
        }
        return switch (vector) {
            case 2, 7, 8, 13, 14, 15, 0x1F -> false;
            default -> true;
        };
    }

    @Override
    public boolean setGuestGate(int vector, int lo, int hi) {
        if (vector < 0 || vector > 255) {
            throw new IllegalArgumentException("vector " + vector);
        }
        boolean trapGate = (hi & 0x8000) != 0 && (hi >> 8 & 0x1F) == 0xF;
        if (trapGate && mayBeDirect(vector)) {
            // The selector is always the guest kernel's code segment (ring 1).
            idt(vector, Switcher.KERNEL_CS << 16 | lo & 0xFFFF, hi & 0xFFFFEF00);
            return true;
        }
        // A gate the host keeps takes the guest's DPL, so that e.g. int $0x80 through a guest interrupt
        // gate of DPL 3 reaches the host as vector 0x80 (and is reflected) rather than as a #GP.
        // Never for 7, 13 and 14: raised by software they would look like the host's own traps.
        boolean ownable = vector == 0x80 || vector < 32 && !(vector == 2 || vector == 7 || vector == 8
                || vector == 13 || vector == 14 || vector == 15 || vector == 0x1F);
        if (ownable && (hi & 0x8000) != 0) {
            hostStub(vector, hi >> 13 & 3);
        } else {
            hostStub(vector);
        }
        return false;
    }

    @Override
    public int[] idtEntry(int vector) {
        return new int[] {(int) U32.get(state, IDT_OFF + vector * 8), (int) U32.get(state, IDT_OFF + vector * 8 + 4)};
    }

    @Override
    public boolean isHostVector(int vector) {
        return idtEntry(vector)[0] >>> 16 == Switcher.LGUEST_CS;
    }

    @Override
    public void setKernelStack(int ss1, int esp1) {
        U32.set(state, TSS_OFF + 12, esp1);
        U32.set(state, TSS_OFF + 16, ss1 & 0xFFFF);
    }

    @Override
    public int kernelStackSegment() {
        return (int) U32.get(state, TSS_OFF + 16);
    }

    @Override
    public int kernelStackPointer() {
        return (int) U32.get(state, TSS_OFF + 12);
    }

    @Override
    public void setTaskSwitched(boolean ts) {
        this.ts = ts;
    }

    @Override
    public SwitcherExit run(long budget) {
        if (closed) {
            throw new IllegalStateException("the Switcher state of this guest was released");
        }
        memory.deliverPendingWrites();
        int cr3 = spt.shadowCr3();
        if (cpu.cr(3) != cr3) {
            cpu.setCr(3, cr3);
        }
        if (!tablesLoaded) {
            loadTables();
        }
        int cr0 = cpu.cr(0);
        int want = ts ? cr0 | CR0_TS : cr0 & ~CR0_TS;
        if (want != cr0) {
            cpu.setCr(0, want);
        }
        // The guest's real IF is always on: its interrupt flag is lguest_data.irq_enabled.
        if ((cpu.eflags() & EFLAGS_IF) == 0) {
            cpu.setEflags(cpu.eflags() | EFLAGS_IF);
        }
        CpuExit exit = cpu.run(budget);
        exits++;
        SwitcherExit result = switch (exit.reason()) {
            case HOST_VECTOR -> new SwitcherExit(SwitcherExit.Kind.TRAP, exit.vector(), exit.errorCode(),
                    exit.vector() == SwitcherExit.PAGE_FAULT ? cpu.cr(2) : 0);
            case BUDGET -> new SwitcherExit(SwitcherExit.Kind.SLICE, -1, 0, 0);
            case EXIT_REQUESTED -> new SwitcherExit(SwitcherExit.Kind.INTERRUPTED, -1, 0, 0);
            // HLT is privileged: at ring 1 or 3 it cannot retire. Treat it as the #GP it should have been.
            case HALT -> new SwitcherExit(SwitcherExit.Kind.TRAP, SwitcherExit.GENERAL_PROTECTION, 0, 0);
            case SHUTDOWN -> new SwitcherExit(SwitcherExit.Kind.SHUTDOWN, -1, 0, 0);
        };
        if (result.kind() == SwitcherExit.Kind.TRAP) {
            saveRegs(result);
        }
        return result;
    }

    /** SWITCH_TO_HOST's save: struct lguest_regs at the end of the register page. */
    private void saveRegs(SwitcherExit exit) {
        int[] v = {
            cpu.reg(Cpu.EBX), cpu.reg(Cpu.ECX), cpu.reg(Cpu.EDX), cpu.reg(Cpu.ESI), cpu.reg(Cpu.EDI),
            cpu.reg(Cpu.EBP), cpu.selector(Cpu.GS), cpu.reg(Cpu.EAX), cpu.selector(Cpu.FS),
            cpu.selector(Cpu.DS), cpu.selector(Cpu.ES), exit.trap(), exit.errorCode(),
            cpu.eip(), cpu.selector(Cpu.CS), cpu.eflags(), cpu.reg(Cpu.ESP), cpu.selector(Cpu.SS)
        };
        for (int i = 0; i < v.length; i++) {
            U32.set(regs, Switcher.REGS_OFFSET + 4 * i, v[i]);
        }
    }

    @Override
    public void requestExit() {
        cpu.requestExit();
    }

    @Override
    public long exits() {
        return exits;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            spt.setSwitcherPde(0);
        } catch (IllegalStateException released) {
            // the shadow tables went first: nothing maps the pages any more
        }
        for (int f : new int[] {codeFrame, regsFrame, stateFrame, tableFrame}) {
            memory.freeHostFrame(f);
        }
    }
}
