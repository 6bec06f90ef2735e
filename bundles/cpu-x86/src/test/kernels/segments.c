/* segments.c - segment-register loads and the LAR/LSL/VERR/VERW queries.
 *
 * Why: every segment load goes through the same type/privilege/presence
 * checks, and lguest's guest kernel (ring 1) and user code (ring 3) depend
 * on them. Checked, at ring 0 and ring 3:
 *  - LAR/LSL/VERR/VERW over a table of descriptors (data, code, conforming,
 *    execute-only, read-only, TSS, LDT, call gate, interrupt gate, not
 *    present, null, beyond the GDT): ZF and the value returned (LAR masked
 *    with 00F0FF00, LSL expanded by granularity);
 *  - loads: null into DS (allowed) and SS (#GP(0)), code into SS, execute-
 *    only code into DS, readable code into DS, read-only data into SS, SS
 *    with RPL or DPL different from CPL, DS with DPL < CPL or RPL, conforming
 *    code into DS from ring 3, LDT selectors with and without an LDT, beyond
 *    the LDT limit, not present (#NP, or #SS for SS);
 *  - side effects: the accessed bit is written to the descriptor by a load;
 *    the hidden descriptor cache keeps the old base until the next load; a
 *    segment base moves where DS:0 reads.
 * Limit checks on memory accesses are in segcheck.c (qemu's TCG does not
 * make them, so its expected output is written by hand).
 */
#include "sys.h"

u32 pr_out[6];
u32 r3[8];
static u32 ldt[4 * 2] __attribute__((aligned(8)));

__asm__(".text\n"
        ".globl probe_sel\n"
        "probe_sel:\n\t"
        "movl $0, %ss:pr_out\n\tmovl $0, %ss:pr_out+8\n\tmovl $0, %ss:pr_out+16\n\tmovl $0, %ss:pr_out+20\n\t"
        "movl $0xdeadbeef, %edx\n\tmovl %edx, %ecx\n\t"
        "larl %ax, %edx\n\tsetz %ss:pr_out\n\tmovl %edx, %ss:pr_out+4\n\t"
        "lsll %ax, %ecx\n\tsetz %ss:pr_out+8\n\tmovl %ecx, %ss:pr_out+12\n\t"
        "verr %ax\n\tsetz %ss:pr_out+16\n\t"
        "verw %ax\n\tsetz %ss:pr_out+20\n\t"
        "ret\n");

static void print_probe(void)
{
    if (pr_out[0] & 1) kprintf(" lar=%8x", pr_out[1] & 0x00f0ff00);
    else puts(" lar=--------");
    if (pr_out[2] & 1) kprintf(" lsl=%8x", pr_out[3]);
    else puts(" lsl=--------");
    kprintf(" verr=%d verw=%d", pr_out[4] & 1, pr_out[5] & 1);
}

static void query(const char *name, u32 sel)
{
    kprintf("q %s %4x r0:", name, sel);
    TRY("movl %0, %%eax\n\tcall probe_sel", "nop", "", "m"(sel));
    if (T_count) show_entry(0);
    print_probe();
    puts(" | r3:");
    TRY("movl %0, %%esi\n\t" ENTER_RING3("1f") "1:\tmovl %%esi, %%eax\n\torl $3, %%eax\n\tcall probe_sel", "int $0x80", "",
        "m"(sel));
    print_probe();
    putch('\n');
}

static void load(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) puts("ok");   /* ring 3 probes end with INT $0x80 */
    else show_entry(0);
    putch('\n');
}

#define LOAD_R3(sel, sreg) ENTER_RING3("1f") "1:\tmovl $" #sel ", %%eax", "movl %%eax, %%" #sreg, "int $0x80"

void kmain(void)
{
    puts("KERNEL segments\n");

    /* the descriptor zoo, GDT entries 16.. (selectors 0x80..) */
    set_desc(16, 0, 0xfff, ACC_P | ACC_DPL(0) | ACC_DATA | ACC_W, FL_DB);                 /* 80 data rw dpl0 byte-gran */
    set_desc(17, 0, 0xf, ACC_P | ACC_DPL(3) | ACC_DATA | ACC_W, FL_G | FL_DB);            /* 88 data rw dpl3 4K-gran */
    set_desc(18, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_DATA, FL_G | FL_DB);                /* 90 data ro dpl3 */
    set_desc(19, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_CODE, FL_G | FL_DB);                /* 98 code exec-only dpl3 */
    set_desc(20, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_CODE | ACC_R, FL_G | FL_DB);        /* a0 code readable dpl3 */
    set_desc(21, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_CODE | ACC_C | ACC_R, FL_G | FL_DB);/* a8 conforming readable dpl0 */
    set_desc(22, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_CODE | ACC_C, FL_G | FL_DB);        /* b0 conforming exec-only dpl0 */
    set_desc(23, (u32)tss, 103, 0x89 | ACC_DPL(3), 0);                                    /* b8 available TSS dpl3 */
    set_desc(24, (u32)ldt, sizeof ldt - 1, 0x82 | ACC_DPL(3), 0);                         /* c0 LDT dpl3 */
    set_call_gate(25, KCODE, 0x12345, 3, 0);                                              /* c8 call gate dpl3 */
    set_raw_desc(26, 0x00080000, 0x0000ee00);                                             /* d0 interrupt gate dpl3 */
    set_desc(27, 0, 0xfffff, ACC_DPL(3) | ACC_DATA | ACC_W, FL_G | FL_DB);                /* d8 data not present dpl3 */
    set_desc(28, 0x1000, 0xfff, ACC_P | ACC_DPL(3) | ACC_DATA | ACC_W | ACC_E, FL_DB);    /* e0 expand-down dpl3 */
    set_desc(29, 0, 0xfffff, ACC_P | ACC_DPL(1) | ACC_DATA | ACC_W, FL_G | FL_DB);        /* e8 data rw dpl1 */
    set_desc(30, 0x2000, 0xfff, ACC_P | ACC_DPL(0) | ACC_DATA | ACC_W, FL_DB);            /* f0 data base 0x2000 */

    static const struct { const char *name; u32 sel; } zoo[] = {
        { "null", 0x00 }, { "data-rw-dpl0-bytegran", 0x80 }, { "data-rw-dpl3-4kgran", 0x88 },
        { "data-ro-dpl3", 0x90 }, { "code-xo-dpl3", 0x98 }, { "code-r-dpl3", 0xa0 },
        { "conf-r-dpl0", 0xa8 }, { "conf-xo-dpl0", 0xb0 }, { "tss-avail-dpl3", 0xb8 },
        { "ldt-dpl3", 0xc0 }, { "callgate-dpl3", 0xc8 }, { "intgate-dpl3", 0xd0 },
        { "data-notpresent-dpl3", 0xd8 }, { "data-expdown-dpl3", 0xe0 }, { "data-rw-dpl1", 0xe8 },
        { "busy-tss-dpl0", 0x28 }, { "beyond-gdt", 0x100 }, { "ldt-sel-no-ldt", 0x0c },
    };
    for (unsigned i = 0; i < sizeof zoo / sizeof zoo[0]; i++) query(zoo[i].name, zoo[i].sel);

    /* loads at ring 0 */
    TRY("xorl %%eax, %%eax", "movl %%eax, %%ds", "movl $0x10, %%eax\n\tmovl %%eax, %%ds");
    load("r0-null-into-ds");
    TRY("xorl %%eax, %%eax", "movl %%eax, %%ss", "");
    load("r0-null-into-ss");
    TRY("movl $0x98, %%eax", "movl %%eax, %%ds", "movl $0x10, %%eax\n\tmovl %%eax, %%ds");
    load("r0-exec-only-code-into-ds");
    TRY("movl $0xa0, %%eax", "movl %%eax, %%ds", "movl $0x10, %%eax\n\tmovl %%eax, %%ds");
    load("r0-readable-code-into-ds");
    TRY("movl $0xa0, %%eax", "movl %%eax, %%ss", "movl $0x10, %%eax\n\tmovl %%eax, %%ss");
    load("r0-code-into-ss");
    TRY("movl $0x90, %%eax", "movl %%eax, %%ss", "movl $0x10, %%eax\n\tmovl %%eax, %%ss");
    load("r0-read-only-into-ss");
    TRY("movl $0x83, %%eax", "movl %%eax, %%ss", "movl $0x10, %%eax\n\tmovl %%eax, %%ss");
    load("r0-ss-rpl3-dpl0");
    TRY("movl $0x88, %%eax", "movl %%eax, %%ss", "movl $0x10, %%eax\n\tmovl %%eax, %%ss");
    load("r0-ss-rpl0-dpl3");
    TRY("movl $0x80, %%eax", "movl %%eax, %%ss", "movl $0x10, %%eax\n\tmovl %%eax, %%ss");
    load("r0-ss-rpl0-dpl0-small");
    TRY("movl $0x83, %%eax", "movl %%eax, %%ds", "movl $0x10, %%eax\n\tmovl %%eax, %%ds");
    load("r0-ds-rpl3-dpl0");
    TRY("movl $0xd8, %%eax", "movl %%eax, %%ds", "");
    load("r0-not-present-into-ds");
    TRY("movl $0xd8, %%eax", "movl %%eax, %%ss", "");
    load("r0-not-present-into-ss");
    TRY("movl $0xd8, %%eax", "movl %%eax, %%fs", "");
    load("r0-not-present-into-fs");
    TRY("movl $0xc8, %%eax", "movl %%eax, %%ds", "");
    load("r0-call-gate-into-ds");
    TRY("movl $0xc0, %%eax", "movl %%eax, %%ds", "");
    load("r0-ldt-descriptor-into-ds");
    TRY("movl $0x0c, %%eax", "movl %%eax, %%ds", "");
    load("r0-ldt-selector-without-ldt");
    TRY("movl $0x100, %%eax", "movl %%eax, %%gs", "");
    load("r0-beyond-gdt-into-gs");

    /* loads at ring 3 */
    TRYX(LOAD_R3(0x00, ds));
    load("r3-null-into-ds");
    TRYX(LOAD_R3(0x00, ss));
    load("r3-null-into-ss");
    TRYX(LOAD_R3(0x10, ds));
    load("r3-dpl0-data-into-ds");
    TRYX(LOAD_R3(0x13, ds));
    load("r3-dpl0-data-rpl3-into-ds");
    TRYX(LOAD_R3(0xeb, ds));
    load("r3-dpl1-data-into-ds");
    TRYX(LOAD_R3(0xab, ds));
    load("r3-conforming-dpl0-into-ds");
    TRYX(LOAD_R3(0xb3, es));
    load("r3-conforming-xo-dpl0-into-es");
    TRYX(LOAD_R3(0x10, ss));
    load("r3-dpl0-data-into-ss");
    TRYX(LOAD_R3(0x88, ss));
    load("r3-ss-rpl0-dpl3");
    TRYX(LOAD_R3(0x8b, ss));
    load("r3-ss-rpl3-dpl3");
    TRY(ENTER_RING3("1f") "1:\tmovl $0x88, %%eax\n\tmovl %%eax, %%ds", "movw %%ds, %%ss:r3", "int $0x80");
    kprintf("r3-ds-rpl0-dpl3-reads-back: %4x\n", r3[0] & 0xffff);

    /* LDT */
    ldt[2] = 0x0000ffff;                                   /* LDT entry 1: flat data dpl3 */
    ldt[3] = 0x00cff200;
    __asm__ volatile("lldt %w0" : : "r"(0xc0) : "memory");
    TRY("movl $0x0f, %%eax", "movl %%eax, %%ds", "movw %%ds, r3\n\tmovl $0x10, %%eax\n\tmovl %%eax, %%ds");
    kprintf("ldt-entry1-into-ds: %s ds=%4x\n", T_count ? vecname(T_log[0].vec) : "ok", r3[0] & 0xffff);
    TRY("movl $0x24, %%eax", "movl %%eax, %%ds", "");
    load("ldt-beyond-limit");
    TRY("movl $0x04, %%eax", "movl %%eax, %%ds", "");
    load("ldt-entry0-null-descriptor");
    query("ldt-entry1", 0x0c);
    __asm__ volatile("lldt %w0" : : "r"(0) : "memory");

    /* the accessed bit */
    set_desc(16, 0, 0xfff, ACC_P | ACC_DPL(0) | ACC_DATA | ACC_W, FL_DB);
    kprintf("accessed-before: %x\n", (gdt[16 * 2 + 1] >> 8) & 1);
    __asm__ volatile("movl $0x80, %%eax\n\tmovl %%eax, %%fs\n\tmovl $0x10, %%eax\n\tmovl %%eax, %%fs" : : : "eax", "memory");
    kprintf("accessed-after-load: %x\n", (gdt[16 * 2 + 1] >> 8) & 1);

    /* segment bases and the hidden cache */
    {
        static u32 probe[3] __attribute__((aligned(16)));
        u32 flat = 0x2000, *p = (u32 *)flat;
        u32 save0 = p[0], save1 = p[0x400];
        p[0] = 0x11111111;
        p[0x400] = 0x22222222;                             /* linear 0x3000 */
        __asm__ volatile("movl $0xf0, %%eax\n\tmovl %%eax, %%fs\n\t"
                         "movl %%fs:0, %%eax\n\tmovl %%eax, %0\n\t"
                         : "=m"(probe[0]) : : "eax", "memory");
        set_desc(30, 0x3000, 0xfff, ACC_P | ACC_DPL(0) | ACC_DATA | ACC_W, FL_DB);
        __asm__ volatile("movl %%fs:0, %%eax\n\tmovl %%eax, %0\n\t"
                         "movl $0xf0, %%eax\n\tmovl %%eax, %%fs\n\t"
                         "movl %%fs:0, %%eax\n\tmovl %%eax, %1\n\t"
                         "movl $0x10, %%eax\n\tmovl %%eax, %%fs"
                         : "=m"(probe[1]), "=m"(probe[2]) : : "eax", "memory");
        kprintf("base-2000-reads: %8x\n", probe[0]);
        kprintf("descriptor-changed-cache-still-reads: %8x\n", probe[1]);
        kprintf("after-reload-reads: %8x\n", probe[2]);
        p[0] = save0;
        p[0x400] = save1;
    }

    puts("DONE\n");
}
