/* paging.c - two-level 32-bit paging: page faults, A/D bits, CR0.WP, PSE.
 *
 * Why: lguest's shadow page tables and the guest's own page faults depend
 * on the MMU raising #PF with exactly the right error code (P, W/R, U/S)
 * and CR2, and on the processor writing the accessed/dirty bits itself.
 * Linear 0x40000000.. is mapped through a test page table onto frames in
 * the kernel image; each line prints the fault (or "ok") and what was read.
 *  - #PF error codes for every P/W/U combination, from ring 0, 1 and 3:
 *    not-present read/write, user access to a supervisor page, user write
 *    to a read-only page, PDE-level U/W restrictions, a not-present PDE;
 *    ring 1 is supervisor (lguest's guest kernel can touch U=0 pages);
 *  - CR2 for an access that straddles into a not-present page, and for an
 *    instruction fetch from a not-present / supervisor page or straddling
 *    into a not-present one (EIP = the instruction, CR2 = the page);
 *  - accessed and dirty bits written into the PTE by a read and by a write,
 *    accessed into the PDE;
 *  - CR0.WP: supervisor writes to read-only pages allowed when clear,
 *    #PF(3) when set;
 *  - 4 MiB pages with CR4.PSE (same memory through both mappings, A/D set in
 *    the PDE, U/S enforced) and the PS bit ignored when CR4.PSE is clear;
 *  - INVLPG and a CR3 reload make a changed non-global PTE take effect.
 */
#include "sys.h"

static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static u8 frames[4][4096] __attribute__((aligned(4096)));
u32 r3[8];

#define TESTVA 0x40000000u
#define PTE(i) pt_test[i]
#define FR(i) ((u32)frames[i])

static void pf(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) puts("ok");
    else show_entry(0);
    putch('\n');
}

/* the IRET to an outer ring nulls DS (it held a DPL-0 selector): reload it
 * with the flat DPL-3 data segment before probing */
#define R3(code) ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds", code, "int $0x80"
#define R1(code) ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds", \
    code, "int $0x80"

void kmain(void)
{
    puts("KERNEL paging\n");
    paging_build();
    pgdir[TESTVA >> 22] = (u32)pt_test | 7;
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4096; j += 4) *(u32 *)&frames[i][j] = 0xf0000000u + i * 0x1000 + j;
    }
    PTE(0) = 0;                            /* 40000000 not present */
    PTE(1) = FR(1) | 0x3;                  /* 40001000 supervisor rw */
    PTE(2) = FR(2) | 0x5;                  /* 40002000 user read-only */
    PTE(3) = FR(3) | 0x7;                  /* 40003000 user rw */
    paging_on();

    /* not present */
    TRY("", "movl 0x40000010, %%eax", "");
    pf("np-read-r0");
    TRY("", "movl %%eax, 0x40000010", "");
    pf("np-write-r0");
    TRYX(R3("movl 0x40000010, %%eax"));
    pf("np-read-r3");
    TRYX(R3("movl %%eax, 0x40000010"));
    pf("np-write-r3");
    TRYX(R1("movl 0x40000010, %%eax"));
    pf("np-read-r1");
    TRY("", "movl 0x40800010, %%eax", "");
    pf("pde-not-present-read-r0");
    TRYX(R3("movl %%eax, 0x40800010"));
    pf("pde-not-present-write-r3");

    /* supervisor page */
    TRY("", "movl 0x40001010, %%eax", "");
    pf("sup-read-r0");
    TRY("", "movl %%eax, 0x40001010", "");
    pf("sup-write-r0");
    TRYX(R3("movl 0x40001010, %%eax"));
    pf("sup-read-r3");
    TRYX(R3("movl %%eax, 0x40001010"));
    pf("sup-write-r3");
    TRYX(R1("movl 0x40001010, %%eax"));
    pf("sup-read-r1");
    TRYX(R1("movl %%eax, 0x40001010"));
    pf("sup-write-r1");

    /* user read-only page */
    TRYX(R3("movl 0x40002010, %%eax"));
    pf("ro-read-r3");
    TRYX(R3("movl %%eax, 0x40002010"));
    pf("ro-write-r3");
    TRY("movl $0x77777777, %%eax", "movl %%eax, 0x40002010", "movl 0x40002010, %%eax\n\tmovl %%eax, r3");
    pf("ro-write-r0-wp0");
    kprintf("ro-write-r0-wp0-stored: %8x\n", r3[0]);
    TRYX(R1("movl %%eax, 0x40002014"));
    pf("ro-write-r1-wp0");
    write_cr0(read_cr0() | 0x10000u);
    TRY("", "movl %%eax, 0x40002018", "");
    pf("ro-write-r0-wp1");
    TRYX(R1("movl %%eax, 0x40002018"));
    pf("ro-write-r1-wp1");
    TRY("", "movl %%eax, 0x40003018", "");
    pf("rw-write-r0-wp1");
    write_cr0(read_cr0() & ~0x10000u);

    /* user rw page: everything allowed */
    TRYX(R3("movl %%eax, 0x40003010"));
    pf("rw-write-r3");

    /* restrictions at the PDE level combine with the PTE's */
    pgdir[TESTVA >> 22] = (u32)pt_test | 3;          /* PDE supervisor */
    write_cr3((u32)pgdir);
    TRYX(R3("movl 0x40003010, %%eax"));
    pf("pde-sup-pte-user-read-r3");
    pgdir[TESTVA >> 22] = (u32)pt_test | 5;          /* PDE read-only user */
    write_cr3((u32)pgdir);
    TRYX(R3("movl %%eax, 0x40003010"));
    pf("pde-ro-pte-rw-write-r3");
    TRYX(R3("movl 0x40003010, %%eax"));
    pf("pde-ro-pte-rw-read-r3");
    pgdir[TESTVA >> 22] = (u32)pt_test | 7;
    write_cr3((u32)pgdir);

    /* CR2 for page-crossing accesses and instruction fetches */
    TRY("", "movl %%eax, 0x40003ffe", "");           /* 40003000 rw, 40004000 not present */
    pf("straddle-into-np-write");
    TRY("", "movl 0x40003ffd, %%eax", "");
    pf("straddle-into-np-read");
    TRY("movl $0x40000000, %%eax", "call *%%eax", "");
    kprintf("fetch-np-r0: %s err=%4x cr2=%8x eip=%8x\n", vecname(T_log[0].vec), T_log[0].raw[0], T_log[0].cr2,
            T_log[0].raw[1]);
    frames[1][0] = 0xc3;                              /* ret */
    TRY("movl $0x40001000, %%esi\n\t" ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds", "call *%%esi", "");
    kprintf("fetch-sup-r3: %s err=%4x cr2=%8x eip=%8x\n", vecname(T_log[0].vec), T_log[0].raw[0], T_log[0].cr2,
            T_log[0].raw[1]);
    TRY("movl $0x40001000, %%eax", "call *%%eax", "");
    pf("fetch-sup-r0");
    frames[3][4093] = 0xb8;                           /* movl $imm32, %eax: 3 bytes here, 2 on the */
    frames[3][4094] = 0x11;                           /* not-present page 40004000 */
    frames[3][4095] = 0x22;
    TRY("movl $0x40003ffd, %%eax", "call *%%eax", "");
    kprintf("fetch-straddling-into-np: %s err=%4x cr2=%8x eip=%8x\n", vecname(T_log[0].vec), T_log[0].raw[0],
            T_log[0].cr2, T_log[0].raw[1]);

    /* accessed and dirty bits */
    PTE(3) = FR(3) | 0x7;
    pgdir[TESTVA >> 22] = (u32)pt_test | 7;
    write_cr3((u32)pgdir);
    kprintf("ad-initial: pte=%2x pde=%2x\n", PTE(3) & 0x60, pgdir[TESTVA >> 22] & 0x20);
    __asm__ volatile("movl 0x40003020, %%eax" : : : "eax", "memory");
    kprintf("ad-after-read: pte=%2x pde=%2x\n", PTE(3) & 0x60, pgdir[TESTVA >> 22] & 0x20);
    __asm__ volatile("movl %%eax, 0x40003020" : : : "eax", "memory");
    kprintf("ad-after-write: pte=%2x pde=%2x\n", PTE(3) & 0x60, pgdir[TESTVA >> 22] & 0x60);   /* no D in a PDE of a page table */
    PTE(3) = FR(3) | 0x7;
    write_cr3((u32)pgdir);
    __asm__ volatile("movl %%eax, 0x40003024" : : : "eax", "memory");
    kprintf("ad-write-first: pte=%2x\n", PTE(3) & 0x60);
    PTE(2) = FR(2) | 0x5;
    write_cr3((u32)pgdir);
    TRYX(R3("movl 0x40002000, %%eax"));
    kprintf("ad-read-r3-ro: pte=%2x\n", PTE(2) & 0x60);

    /* INVLPG and CR3 reload make a changed PTE visible */
    PTE(3) = FR(3) | 0x7;
    write_cr3((u32)pgdir);
    {
        u32 a, b, c;
        a = *(volatile u32 *)0x40003100;
        PTE(3) = FR(2) | 0x7;
        invlpg(0x40003000);
        b = *(volatile u32 *)0x40003100;
        PTE(3) = FR(1) | 0x7;
        write_cr3((u32)pgdir);
        c = *(volatile u32 *)0x40003100;
        kprintf("remap: before=%8x after-invlpg=%8x after-cr3=%8x\n", a, b, c);
        PTE(3) = 0;
        invlpg(0x40003000);
        TRY("", "movl 0x40003100, %%eax", "");
        pf("unmapped-after-invlpg");
        PTE(3) = FR(3) | 0x7;
        invlpg(0x40003000);
    }

    /* 4 MiB pages */
    {
        volatile u32 *phys = (volatile u32 *)0x00400000;      /* identity mapped (PDE 1) */
        volatile u32 *pde = &pgdir[0x40400000u >> 22];
        for (int i = 0; i < 1024; i++) phys[i] = 0;           /* frame 0x400000: "page table" if PS is ignored */
        phys[0x10 / 4] = 0x12345678;
        *(volatile u32 *)0x007ff000 = 0x9abcdef0;
        *pde = 0x00400000 | 0x80 | 0x7;                       /* PS, U, W, P */
        write_cr3((u32)pgdir);
        TRY("", "movl 0x40400010, %%eax", "");
        pf("pse-off-ps-ignored");
        write_cr4(read_cr4() | 0x10);
        write_cr3((u32)pgdir);
        u32 v1 = *(volatile u32 *)0x40400010;
        u32 v2 = *(volatile u32 *)0x407ff000;
        kprintf("pse-read: %8x %8x pde-a=%x pde-d=%x\n", v1, v2, (*pde >> 5) & 1, (*pde >> 6) & 1);
        *(volatile u32 *)0x40500000 = 0x55aa55aa;
        kprintf("pse-write: phys=%8x pde-a=%x pde-d=%x\n", *(volatile u32 *)0x00500000, (*pde >> 5) & 1,
                (*pde >> 6) & 1);
        TRYX(R3("movl 0x40600000, %%eax"));
        pf("pse-user-read-r3");
        *pde = 0x00400000 | 0x80 | 0x3;                       /* supervisor */
        write_cr3((u32)pgdir);
        TRYX(R3("movl 0x40600000, %%eax"));
        pf("pse-sup-read-r3");
        *pde = 0x00400000 | 0x80 | 0x5;                       /* user read-only */
        write_cr3((u32)pgdir);
        TRYX(R3("movl %%eax, 0x40600004"));
        pf("pse-ro-write-r3");
        write_cr0(read_cr0() | 0x10000u);
        TRY("", "movl %%eax, 0x40600004", "");
        pf("pse-ro-write-r0-wp1");
        write_cr0(read_cr0() & ~0x10000u);
        *pde = 0;
        write_cr4(read_cr4() & ~0x10u);
        write_cr3((u32)pgdir);
    }

    paging_off();
    puts("DONE\n");
}
