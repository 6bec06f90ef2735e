/* implicit.c - the processor's own accesses to its tables under paging:
 * reading the GDT, IDT and TSS and writing a descriptor's accessed bit are
 * supervisor accesses whatever the CPL.
 *
 * Why: lguest maps the guest's GDT and IDT (in the Switcher's pages) so the
 * guest cannot write them, and Linux pre-sets the accessed bits because a
 * processor writing one into a read-only page faults. Here a copy of the GDT
 * sits on a page seen at linear 40000000 with chosen U/W bits and GDTR
 * points there. Checked:
 *  - a segment load whose descriptor has A=0 writes A: into a read-only
 *    page that is allowed with CR0.WP=0 and is #PF(err 3: supervisor,
 *    write, present) with WP=1, from ring 0 and from ring 3 alike (U=0 in
 *    the error code even at ring 3); with A=1 nothing is written;
 *  - from ring 3, descriptors on a U=0 page are still read (segment load,
 *    IRET to ring 3, INT through an IDT on a U=0 page with the TSS on one).
 * CR2 is printed relative to the descriptor: its 8-byte slot (the width of
 * the accessed-bit write is not specified).
 */
#include "sys.h"

static u32 gcopy[GDT_ENTRIES * 2] __attribute__((aligned(4096)));
static u8 pad[4096] __attribute__((aligned(4096)));      /* keeps gcopy alone on its page */
static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static struct { u16 limit; u32 base; } __attribute__((packed)) dtr;

#define GLIN 0x40000000u

static void use_gdt(u32 base)
{
    dtr.limit = sizeof gcopy - 1;
    dtr.base = base;
    __asm__ volatile("lgdt %0" : : "m"(dtr) : "memory");
}

static void map_gdt(u32 bits)
{
    pt_test[0] = (u32)gcopy | bits;
    invlpg(GLIN);
}

static void line(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) {
        puts("ok");
    } else {
        struct rec *r = &T_log[0];
        kprintf("%s", vecname(r->vec));
        if (r->haserr) kprintf(" err=%4x", r->raw[0]);
        puts(" eip=");
        show_ip(r->raw[r->haserr]);
        kprintf(" cs=%4x", r->raw[r->haserr + 1] & 0xffff);
        if (r->vec == 14) {
            if ((r->cr2 & ~7u) == GLIN + 0x80) puts(" cr2=descriptor-80");
            else kprintf(" cr2=%8x", r->cr2);
        }
    }
    kprintf(" accessed=%d\n", (gcopy[16 * 2 + 1] >> 8) & 1);
}

static void reset_desc80(u32 dpl)
{
    gcopy[16 * 2] = 0x0000ffff;                                /* flat data, A=0 */
    gcopy[16 * 2 + 1] = 0x00cf9200 | (dpl << 13);
}

void kmain(void)
{
    puts("KERNEL implicit\n");
    (void)pad;
    for (int i = 0; i < GDT_ENTRIES * 2; i++) gcopy[i] = gdt[i];
    for (int i = 1; i < GDT_ENTRIES; i++) {
        if (gcopy[i * 2 + 1] & 0x1000) gcopy[i * 2 + 1] |= 0x100;   /* code/data: A=1 */
    }
    paging_build();
    pgdir[GLIN >> 22] = (u32)pt_test | 7;
    map_gdt(0x5);                                              /* user, read-only */
    paging_on();
    use_gdt(GLIN);

    reset_desc80(0);
    TRY("movl $0x80, %%eax", "movl %%eax, %%fs", "movl $0x10, %%eax\n\tmovl %%eax, %%fs");
    line("r0-load-a0-ro-page-wp0");
    write_cr0(read_cr0() | 0x10000u);
    reset_desc80(0);
    TRY("movl $0x80, %%eax", "movl %%eax, %%fs", "movl $0x10, %%eax\n\tmovl %%eax, %%fs");
    line("r0-load-a0-ro-page-wp1");
    gcopy[16 * 2 + 1] |= 0x100;
    TRY("movl $0x80, %%eax", "movl %%eax, %%fs", "movl $0x10, %%eax\n\tmovl %%eax, %%fs");
    line("r0-load-a1-ro-page-wp1");
    reset_desc80(3);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x83, %%eax", "movl %%eax, %%fs", "int $0x80");
    line("r3-load-a0-ro-page-wp1");
    write_cr0(read_cr0() & ~0x10000u);
    reset_desc80(3);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x83, %%eax", "movl %%eax, %%fs", "int $0x80");
    line("r3-load-a0-ro-page-wp0");

    /* descriptors on a supervisor page are read from ring 3 */
    map_gdt(0x3);                                              /* supervisor, writable */
    reset_desc80(3);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x83, %%eax", "movl %%eax, %%fs", "int $0x80");
    line("r3-load-a0-supervisor-page");
    {
        struct { u16 limit; u32 base; } __attribute__((packed)) idtr;
        __asm__ volatile("sidt %0" : "=m"(idtr));
        u32 ip = idtr.base >> 12, tp = (u32)tss >> 12;
        pgtab_low[ip >> 10][ip & 1023] &= ~4u;                 /* IDT and TSS pages: supervisor */
        pgtab_low[tp >> 10][tp & 1023] &= ~4u;
        write_cr3((u32)pgdir);
        /* ring 3 touches no data here: only its code, on a user page */
        TRY(ENTER_RING3("1f") "1:", "int $0x80", "");
        kprintf("r3-iret-and-int-with-supervisor-gdt-idt-tss: %s from cs=%4x entries=%d\n", vecname(T_log[0].vec),
                T_log[0].raw[1] & 0xffff, (int)T_count);
        pgtab_low[ip >> 10][ip & 1023] |= 4u;
        pgtab_low[tp >> 10][tp & 1023] |= 4u;
        write_cr3((u32)pgdir);
    }

    use_gdt((u32)gdt);
    paging_off();
    puts("DONE\n");
}
