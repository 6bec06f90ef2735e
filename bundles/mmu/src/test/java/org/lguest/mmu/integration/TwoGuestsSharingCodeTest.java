package org.lguest.mmu.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lguest.mmu.integration.MiniSwitcher.TEST_DONE;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.SharedRegion;
import org.lguest.mmu.impl.MmuComponent;

/**
 * Two guests, each with its own CPU, holding one shared page at guest frame
 * 1024, mapped by both at 0xC0400000. A store by one guest's CPU into it is
 * seen by no host code, yet the other guest must not go on running code it
 * decoded (or compiled) from that page before.
 */
class TwoGuestsSharingCodeTest {
    static final int PAGE_OFFSET = 0xC0000000, SHARED_VA = 0xC0400000;
    static final int PGDIR = 0x100000, KERNEL_PT = 0x101000, SHARED_PT = 0x102000, DATA = 0x2000;

    final Mmu mmu = new MmuComponent();
    final SharedRegion shared = mmu.newSharedRegion("shared", 1);

    /** One guest: memory, shadow tables, CPU and Switcher, with the shared page after its 4 MiB of RAM. */
    private MiniSwitcher guest() {
        var layout = mmu.newGuestMemory(1024);
        int sharedPfn = layout.addShared("shared", shared);
        GuestMemory memory = layout.hostFrames(64).build();
        memory.writeU32(PGDIR + (PAGE_OFFSET >>> 22) * 4, KERNEL_PT | 0x7);
        memory.writeU32(PGDIR + (SHARED_VA >>> 22) * 4, SHARED_PT | 0x7);
        for (int n = 0; n < 1024; n++) {
            memory.writeU32(KERNEL_PT + n * 4, n << 12 | 0x7);
        }
        memory.writeU32(SHARED_PT, sharedPfn << 12 | 0x7);
        ShadowPageTables spt = mmu.newShadowPageTables(memory, PGDIR, PAGE_OFFSET);
        Cpu cpu = new CpuFactoryImpl().create(memory, new IoPorts() {
            @Override
            public int in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, int value) {
            }
        });
        return new MiniSwitcher(memory, spt, cpu);
    }

    @Test
    void storeByOneGuestsCpuIntoSharedCodeIsRunByTheOther() {
        MiniSwitcher a = guest();
        MiniSwitcher b = guest();
        b.memory.writeU32(DATA, 7);

        // B runs a hot loop (compiled by its CPU) from the shared page: mov ecx, n; l: mov ebx, [d]; dec ecx; jnz l
        Asm loop = new Asm().movEcx(10_000);
        int load = loop.size();
        loop.loadEbx(PAGE_OFFSET + DATA).decEcx().jnzTo(load).movEax(TEST_DONE).interrupt(0x1F);
        loop.jmpTo(0);
        b.memory.write(1024 << 12, loop.bytes());
        b.cpu.setEip(SHARED_VA);
        assertEquals(TEST_DONE, b.run().hypercall());
        assertEquals(7, b.cpu.reg(Cpu.EBX));

        // A's CPU rewrites "mov ebx, [d]" (8B 1D d) as "mov edi, [d]" (8B 3D d) with an ordinary store.
        byte[] patched = new Asm().loadEdi(PAGE_OFFSET + DATA).bytes();
        int dword = patched[0] & 0xFF | (patched[1] & 0xFF) << 8 | (patched[2] & 0xFF) << 16 | (patched[3] & 0xFF) << 24;
        a.memory.write(0x1000, new Asm().store(SHARED_VA + load, dword).movEax(TEST_DONE).interrupt(0x1F).bytes());
        a.cpu.setEip(PAGE_OFFSET + 0x1000);
        assertEquals(TEST_DONE, a.run().hypercall());

        b.cpu.setReg(Cpu.EDI, 0);
        assertEquals(TEST_DONE, b.run().hypercall());
        assertEquals(7, b.cpu.reg(Cpu.EDI), "B must run the code A's CPU wrote, not what it compiled before");
    }
}
