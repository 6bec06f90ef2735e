package org.lguest.mmu.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lguest.mmu.ShadowPageTables.ACCESSED;
import static org.lguest.mmu.ShadowPageTables.DIRTY;
import static org.lguest.mmu.ShadowPageTables.PRESENT;
import static org.lguest.mmu.ShadowPageTables.RW;
import static org.lguest.mmu.ShadowPageTables.USER;
import static org.lguest.mmu.integration.MiniSwitcher.LHCALL_NEW_PGTABLE;
import static org.lguest.mmu.integration.MiniSwitcher.LHCALL_SET_STACK;
import static org.lguest.mmu.integration.MiniSwitcher.LHCALL_SET_PTE;
import static org.lguest.mmu.integration.MiniSwitcher.TEST_DONE;

import org.junit.jupiter.api.Test;
import org.lguest.cpu.Cpu;
import org.lguest.cpu.IoPorts;
import org.lguest.cpu.impl.CpuFactoryImpl;
import org.lguest.mmu.GuestMemory;
import org.lguest.mmu.Mmu;
import org.lguest.mmu.ShadowPageTables;
import org.lguest.mmu.impl.MmuComponent;

/**
 * Guest code on the real emulated CPU, whose only page tables are the shadow
 * ones. The guest is laid out as the 2.6.23 Launcher would: 4 MiB of RAM
 * mapped at PAGE_OFFSET 0xC0000000 by a page directory at 0x100000 and one
 * page table at 0x101000, entries flagged 0x7; kernel code at 0xC0001000.
 */
class GuestCodeThroughShadowTablesTest {
    static final int PAGE_OFFSET = 0xC0000000;
    static final int PGDIR = 0x100000, KERNEL_PT = 0x101000;
    static final int USER_PGDIR = 0x102000, USER_PT = 0x103000;
    static final int CODE = 0x1000, DATA = 0x2000, OTHER = 0x3000;

    final Mmu mmu = new MmuComponent();
    GuestMemory memory;
    ShadowPageTables spt;
    Cpu cpu;
    MiniSwitcher switcher;

    static int kva(int phys) {
        return PAGE_OFFSET + phys;
    }

    private void boot(int hostFrames, int kernelAliases) {
        memory = mmu.newGuestMemory(1024).hostFrames(hostFrames).build();
        // The same 4 MiB of RAM at PAGE_OFFSET and, for alias k, at PAGE_OFFSET + k * 4 MiB.
        for (int k = 0; k < kernelAliases; k++) {
            memory.writeU32(PGDIR + ((kva(0) >>> 22) + k) * 4, KERNEL_PT | 0x7);
        }
        for (int n = 0; n < 1024; n++) {
            memory.writeU32(KERNEL_PT + n * 4, n << 12 | 0x7);
        }
        spt = mmu.newShadowPageTables(memory, PGDIR, PAGE_OFFSET);
        IoPorts ports = new IoPorts() {
            @Override
            public int in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, int value) {
            }
        };
        cpu = new CpuFactoryImpl().create(memory, ports);
        switcher = new MiniSwitcher(memory, spt, cpu);
    }

    private void kernelCode(Asm code) {
        memory.write(CODE, code.bytes());
        cpu.setEip(kva(CODE));
    }

    private int guestPte(int vaddr) {
        return memory.readU32(KERNEL_PT + ((vaddr >>> 12) & 0x3FF) * 4);
    }

    @Test
    void kernelCodeRunsWithAccessedAndDirtyBitsEmulatedInTheGuestTables() {
        boot(64, 1);
        memory.writeU32(DATA, 0xCAFEBABE);
        kernelCode(new Asm()
                .loadEcx(kva(DATA))
                .store(kva(DATA + 4), 0x12345678)
                .loadEbx(kva(DATA + 4))
                .movEax(TEST_DONE).interrupt(0x1F));

        MiniSwitcher.Exit exit = switcher.run();

        assertEquals(TEST_DONE, exit.hypercall());
        assertEquals(0xCAFEBABE, cpu.reg(Cpu.ECX), "read through the shadow tables");
        assertEquals(0x12345678, cpu.reg(Cpu.EBX));
        assertEquals(0x12345678, memory.readU32(DATA + 4), "the store reached guest frame 2");
        assertEquals(3, switcher.pageFaultsHandled,
                "one fault each: code fetch, data read (maps read-only), first write (sets DIRTY)");
        assertEquals(PRESENT | RW | USER | ACCESSED | DIRTY, guestPte(kva(DATA)) & 0xFFF, "data page: accessed and dirty");
        assertEquals(PRESENT | RW | USER | ACCESSED, guestPte(kva(CODE)) & 0xFFF, "code page: accessed, never written");
    }

    @Test
    void setPteRetargetsAMappingTheCpuAlreadyCached() {
        boot(64, 1);
        memory.writeU32(DATA, 0x11111111);
        memory.writeU32(OTHER, 0x22222222);
        int newPte = OTHER | PRESENT | RW | ACCESSED | DIRTY;
        kernelCode(new Asm()
                .loadEsi(kva(DATA))                                       // the CPU caches 0xC0002000 -> frame 2
                .store(kva(KERNEL_PT + (kva(DATA) >>> 12 & 0x3FF) * 4), newPte) // the guest edits its own table
                .hypercall(LHCALL_SET_PTE, PGDIR, kva(DATA), newPte)      // ... and tells the host
                .loadEdi(kva(DATA))
                .movEax(TEST_DONE).interrupt(0x1F));

        switcher.run();

        assertEquals(0x11111111, cpu.reg(Cpu.ESI));
        assertEquals(0x22222222, cpu.reg(Cpu.EDI), "after SET_PTE the CPU must not use its stale translation");
    }

    @Test
    void guestEditOfItsTableWithoutSetPteIsNotSeenBecauseTheCpuWalksTheShadow() {
        boot(64, 1);
        memory.writeU32(DATA, 0x11111111);
        memory.writeU32(OTHER, 0x22222222);
        kernelCode(new Asm()
                .loadEsi(kva(DATA))
                .store(kva(KERNEL_PT + (kva(DATA) >>> 12 & 0x3FF) * 4), OTHER | PRESENT | RW | ACCESSED | DIRTY)
                .loadEdi(kva(DATA))
                .movEax(TEST_DONE).interrupt(0x1F));

        switcher.run();

        assertEquals(0x11111111, cpu.reg(Cpu.EDI), "the paravirt contract: table edits reach the host by hypercall");
    }

    @Test
    void userProcessRunsInItsOwnDirectoryAndItsForbiddenAccessesAreReflected() {
        boot(64, 1);
        // The process's directory shares the kernel page table and maps 0x08000000 (rw) and 0x08001000 (ro).
        memory.writeU32(USER_PGDIR + (kva(0) >>> 22) * 4, KERNEL_PT | 0x7);
        memory.writeU32(USER_PGDIR + (0x08000000 >>> 22) * 4, USER_PT | 0x7);
        memory.writeU32(USER_PT, 0x5000 | PRESENT | RW | USER);
        memory.writeU32(USER_PT + 4, 0x6000 | PRESENT | USER);
        memory.writeU32(KERNEL_PT + 2 * 4, DATA | PRESENT | RW); // a supervisor-only kernel data page
        memory.writeU32(0x6000, 0xABCD);
        memory.write(0x5000, new Asm()
                .loadEbx(0x08001000)         // reading its read-only page: fine
                .store(0x08001000, 1)        // writing it: the guest's own fault
                .bytes());
        kernelCode(new Asm().hypercall(LHCALL_NEW_PGTABLE, USER_PGDIR, 0, 0).movEax(TEST_DONE).interrupt(0x1F));

        assertEquals(TEST_DONE, switcher.run().hypercall());
        assertEquals(USER_PGDIR, spt.guestCr3());
        switcher.userMode();
        cpu.setEip(0x08000000);
        MiniSwitcher.Exit exit = switcher.run();

        assertEquals(0xABCD, cpu.reg(Cpu.EBX));
        assertTrue(exit.reflectedPageFault(), "a write to a read-only user page goes back to the guest kernel");
        assertEquals(0x08001000, exit.cr2());
        assertEquals(0xABCD, memory.readU32(0x6000), "the read-only page was not written");
        assertFalse((memory.readU32(USER_PT + 4) & DIRTY) != 0, "a refused write must not mark the page dirty");

        memory.write(0x5000, new Asm().loadEbx(kva(DATA)).bytes());
        cpu.setEip(0x08000000);
        exit = switcher.run();
        assertTrue(exit.reflectedPageFault(), "user code reading a supervisor page goes back to the guest kernel");
        assertEquals(kva(DATA), exit.cr2());
    }

    @Test
    void guestCarriesOnWhenTheHostFramePoolRunsDryMidRun() {
        // 7 frames: 3 for the Switcher, 4 for shadows: room for the directory and 3 page tables only.
        boot(7, 16);
        for (int k = 0; k < 16; k++) {
            memory.writeU32(DATA + k * 4, k + 1);
        }
        Asm code = new Asm().movEsi0();
        for (int k = 0; k < 16; k++) {
            code.addEsi(kva(DATA + k * 4) + k * 0x400000); // sixteen 4 MiB aliases of RAM
        }
        kernelCode(code.movEax(TEST_DONE).interrupt(0x1F));

        assertEquals(TEST_DONE, switcher.run().hypercall());

        assertEquals(136, cpu.reg(Cpu.ESI), "1 + 2 + ... + 16, read through sixteen page tables");
        assertTrue(spt.reclaims() > 0, "four frames cannot hold sixteen page tables at once");
        assertTrue(spt.framesInUse() <= 4);
    }

    @Test
    void hostPatchOfGuestCodeIsExecuted() {
        boot(64, 1);
        memory.writeU32(DATA, 7);
        Asm code = new Asm().loadEbx(kva(DATA)).movEax(TEST_DONE).interrupt(0x1F);
        code.jmpTo(0);
        kernelCode(code);
        assertEquals(TEST_DONE, switcher.run().hypercall());
        assertEquals(7, cpu.reg(Cpu.EBX));

        cpu.setReg(Cpu.ECX, 0);
        memory.write(CODE, new Asm().loadEcx(kva(DATA)).bytes()); // mov ebx,[d] -> mov ecx,[d], as the host would patch
        assertEquals(TEST_DONE, switcher.run().hypercall());
        assertEquals(7, cpu.reg(Cpu.ECX), "the CPU must drop what it decoded from the patched page");
    }

    /** A process at 0x08000000 (frame 5) whose code is {@code int $0x80}, with a direct trap gate to 0xC0001800. */
    private void systemCallSetUp() {
        memory.writeU32(PGDIR + (0x08000000 >>> 22) * 4, USER_PT | 0x7);
        memory.writeU32(USER_PT, 0x5000 | PRESENT | RW | USER);
        memory.write(0x5000, new Asm().interrupt(0x80).bytes());
        memory.write(0x1800, new Asm().movEax(TEST_DONE).interrupt(0x1F).bytes()); // the guest's syscall handler
        switcher.directTrap(0x80, kva(0x1800), 3);
    }

    private void runSystemCallFromUserMode() {
        switcher.userMode();
        cpu.setReg(Cpu.ESP, 0x08000F00);
        cpu.setEip(0x08000000);
        switcher.faultAddresses.clear();
        assertEquals(TEST_DONE, switcher.run().hypercall(), "the handler ran");
    }

    @Test
    void systemCallFromUserModeLandsOnThePinnedStackWithoutAFault() {
        boot(64, 1);
        systemCallSetUp();
        int stackTop = kva(0x20000); // stack pages: frames 0x1F and 0x1E
        kernelCode(new Asm().hypercall(LHCALL_SET_STACK, 0x69, stackTop, 2).movEax(TEST_DONE).interrupt(0x1F));
        assertEquals(TEST_DONE, switcher.run().hypercall());

        runSystemCallFromUserMode();

        assertTrue(switcher.faultAddresses.stream().noneMatch(a -> a >>> 12 == (stackTop - 1) >>> 12),
                "the pinned stack must not fault: " + hex(switcher.faultAddresses));
        assertEquals(stackTop - 20, cpu.reg(Cpu.ESP), "the CPU pushed eip, cs, eflags, esp, ss on the ring-1 stack");
        assertEquals(0x08000002, memory.readU32(0x20000 - 20), "return address: after int $0x80");
        assertEquals(0x73, memory.readU32(0x20000 - 16), "user CS");
        assertEquals(0x08000F00, memory.readU32(0x20000 - 8), "user ESP");
        assertEquals(0x7B, memory.readU32(0x20000 - 4), "user SS");
    }

    @Test
    void withoutPinningTheSameSystemCallFaultsOnTheKernelStack() {
        boot(64, 1);
        systemCallSetUp();
        int stackTop = kva(0x20000);
        switcher.setTssStack(0x69, stackTop); // the stack set behind the shadow tables' back: not pinned

        runSystemCallFromUserMode();

        assertTrue(switcher.faultAddresses.stream().anyMatch(a -> a >>> 12 == (stackTop - 1) >>> 12),
                "the trap should have faulted pushing its frame: " + hex(switcher.faultAddresses));
    }

    private static java.util.List<String> hex(java.util.List<Integer> addresses) {
        return addresses.stream().map(a -> String.format("0x%08x", a)).toList();
    }

    /**
     * 10000 loads of [DATA] in a loop (hot enough for the CPU to compile), then
     * "done"; a jump back to the start makes the next run repeat it.
     */
    private Asm hotLoadLoop() {
        Asm code = new Asm().movEcx(10_000);
        int loop = code.size();
        code.loadEbx(kva(DATA)).decEcx().jnzTo(loop).movEax(TEST_DONE).interrupt(0x1F);
        code.jmpTo(0);
        return code;
    }

    @Test
    void hotCompiledCodeFollowsASetPteRetarget() {
        boot(64, 1);
        memory.writeU32(DATA, 0x11111111);
        memory.writeU32(OTHER, 0x22222222);
        kernelCode(hotLoadLoop());
        assertEquals(TEST_DONE, switcher.run().hypercall());
        assertEquals(0x11111111, cpu.reg(Cpu.EBX));

        // What the SET_PTE hypercall handler does when the guest remaps DATA's page.
        int newPte = OTHER | PRESENT | RW | ACCESSED | DIRTY;
        memory.writeU32(KERNEL_PT + (kva(DATA) >>> 12 & 0x3FF) * 4, newPte);
        spt.setPte(PGDIR, kva(DATA), newPte);
        assertEquals(TEST_DONE, switcher.run().hypercall());

        assertEquals(0x22222222, cpu.reg(Cpu.EBX), "compiled code must not keep the old translation");
    }

    @Test
    void hotCompiledCodeIsReplacedWhenTheHostPatchesIt() {
        boot(64, 1);
        memory.writeU32(DATA, 7);
        kernelCode(hotLoadLoop());
        assertEquals(TEST_DONE, switcher.run().hypercall());
        assertEquals(7, cpu.reg(Cpu.EBX));

        int load = 5; // after mov ecx, imm32
        memory.write(CODE + load, new Asm().loadEdi(kva(DATA)).bytes()); // mov ebx,[d] -> mov edi,[d]
        cpu.setReg(Cpu.EDI, 0);
        assertEquals(TEST_DONE, switcher.run().hypercall());

        assertEquals(7, cpu.reg(Cpu.EDI), "the compiled loop must be dropped and the patched code run");
    }
}
