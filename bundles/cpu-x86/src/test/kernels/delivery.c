/* delivery.c - faults raised while the processor is delivering an INT n:
 * the IDT entry, the gate's target code segment and the new stack are all
 * checked, and a failure raises its own exception with the INT's state.
 *
 * Why: lguest's Switcher owns the IDT, the TSS and the ring-0 stack; a
 * processor that gets these checks wrong either lets a guest through a
 * broken gate or reports the wrong fault to the host. Checked, printing
 * each handler entry (vector, error code, saved EIP/CS, handler context):
 *  - vector beyond the IDT limit: #GP(vector*8+2);
 *  - gate of an invalid type (a TSS descriptor in the IDT): #GP(vector*8+2);
 *  - gate whose code selector is null (#GP(0)), beyond the GDT (#GP(sel)),
 *    a data segment (#GP(sel)), not present (#NP(sel));
 *  - INT from ring 1 to a ring-0 gate with a bad TSS ss0 (null, RPL != 0,
 *    DPL != 0): #TS(ss0), taken by a ring-1 #TS handler on the current
 *    stack (that handler repairs ss0, then climbs to ring 0 to report);
 *  - INT from ring 3 whose TSS esp0 points into a not-present page, and
 *    into a read-only page with CR0.WP: #PF (supervisor write, error code
 *    2 / 3) reported with the INT's ring-3 EIP/CS, taken by a ring-1 #PF
 *    handler on the ss1:esp1 stack (which repairs esp0); CR2 is printed as
 *    its page only, since the order of the frame's stores is not specified;
 *  - the double-fault rules (Intel SDM table "Conditions for Generating a
 *    Double Fault"): #PF while delivering #PF -> #DF; #PF while delivering
 *    #GP or #DE -> the #PF is delivered; #GP while delivering #PF -> #DF;
 *    #NP while delivering #NP -> #DF. The #DF lines print no saved CS:EIP,
 *    which the architecture leaves undefined.
 */
#include "sys.h"

static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static u8 page_ro[4096] __attribute__((aligned(4096)));

__asm__(".text\n"
        "ts_fix:\n\t"
        "movl $0x10, %ss:tss+8\n\t"
        "jmp isr_table + 16 * 10\n"
        "pf_fix:\n\t"
        "movl $stack0_top, %ss:tss+4\n\t"
        "jmp isr_table + 16 * 14\n"
        "df_fix:\n\t"
        "movl $stack0_top, %ss:tss+4\n\t"
        "jmp isr_table + 16 * 8\n");
extern u8 ts_fix[], pf_fix[], df_fix[];

/* a #DF frame's saved CS:EIP are undefined: print only what is defined */
static void df_line(const char *name)
{
    struct rec *r = &T_log[0];
    kprintf("%s: %s", name, vecname(r->vec));
    if (r->haserr) kprintf(" err=%4x", r->raw[0]);
    if (r->vec != 8) {
        puts(" eip=");
        show_ip(r->raw[r->haserr]);
        kprintf(" cs=%4x", r->raw[r->haserr + 1] & 0xffff);
    }
    kprintf(" | handler cs=%4x esp=", r->cs);
    show_sp(r->esp);
    if (T_count > 1 && T_log[1].vec == 0x80) kprintf(" cr2-page=%8x", T_log[1].cr2 & ~0xfffu);
    kprintf(" entries=%d\n", (int)T_count);
}

static void line(const char *name)
{
    kprintf("%s:", name);
    if (T_count == 0) puts(" no fault");
    for (u32 i = 0; i < T_count && i < 8; i++) {
        puts(i ? " ;; " : " ");
        show_full(i);
    }
    putch('\n');
}

#define FROM_R1(insn) ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:", insn, ""

static void bad_ss0(const char *name, u32 ss0)
{
    tss[2] = ss0;
    TRYX(FROM_R1("int $0x80"));
    line(name);
    tss[2] = KDATA;
}

void kmain(void)
{
    puts("KERNEL delivery\n");

    /* the IDT limit */
    load_idt_limit(0x40 * 8 - 1);
    TRY("", "int $0x50", "");
    line("vector-beyond-idt-limit");
    TRY("", "int $0x40", "");
    line("vector-just-beyond-idt-limit");
    load_idt_limit(0x41 * 8 - 2);
    TRY("", "int $0x40", "");
    line("gate-straddles-idt-limit");
    load_idt_limit(256 * 8 - 1);

    /* broken gates */
    set_gate(0x50, KCODE, (u32)isr_addr(0x50), 0x9, 0, 1);        /* type 9: a TSS, not a gate */
    TRY("", "int $0x50", "");
    line("gate-type-tss");
    set_gate(0x50, 0, (u32)isr_addr(0x50), GATE_INT, 0, 1);
    TRY("", "int $0x50", "");
    line("gate-null-selector");
    set_gate(0x50, 0x100, (u32)isr_addr(0x50), GATE_INT, 0, 1);
    TRY("", "int $0x50", "");
    line("gate-selector-beyond-gdt");
    set_gate(0x50, KDATA, (u32)isr_addr(0x50), GATE_INT, 0, 1);
    TRY("", "int $0x50", "");
    line("gate-to-data-segment");
    set_desc(16, 0, 0xfffff, ACC_DPL(0) | ACC_CODE | ACC_R, FL_G | FL_DB);   /* 0x80: code, not present */
    set_gate(0x50, 0x80, (u32)isr_addr(0x50), GATE_INT, 0, 1);
    TRY("", "int $0x50", "");
    line("gate-code-not-present");
    restore_std_gate(0x50);

    /* a bad ss0 in the TSS, met by an INT from ring 1 */
    set_gate(10, R1CODE, (u32)ts_fix, GATE_INT, 0, 1);
    set_desc(17, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_DATA | ACC_W, FL_G | FL_DB);  /* 0x88: data dpl3 */
    static const struct { const char *name; u32 ss0; } bad[] = {
        { "tss-ss0-null", 0 }, { "tss-ss0-rpl3", 0x13 }, { "tss-ss0-dpl3", 0x88 }, { "tss-ss0-code", 0x08 },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) bad_ss0(bad[i].name, bad[i].ss0);
    restore_std_gate(10);

    /* esp0 on a page the push cannot write, met by an INT from ring 3 */
    paging_build();
    pgdir[0x40000000u >> 22] = (u32)pt_test | 7;
    pt_test[0] = 0;                                   /* 40000000: not present */
    pt_test[1] = (u32)page_ro | 0x5;                  /* 40001000: read-only */
    paging_on();
    set_gate(14, R1CODE, (u32)pf_fix, GATE_INT, 0, 1);
    tss[1] = 0x40001000;
    TRY(ENTER_RING3("1f") "1:", "int $0x80", "");
    line("esp0-page-not-present");
    kprintf("esp0-page-not-present-cr2-page: %8x\n", T_log[1].cr2 & ~0xfffu);
    write_cr0(read_cr0() | 0x10000u);
    tss[1] = 0x40002000;
    TRY(ENTER_RING3("1f") "1:", "int $0x80", "");
    line("esp0-page-read-only-wp1");
    kprintf("esp0-page-read-only-wp1-cr2-page: %8x\n", T_log[1].cr2 & ~0xfffu);
    write_cr0(read_cr0() & ~0x10000u);
    tss[1] = (u32)stack0_top;
    restore_std_gate(14);

    /* benign/contributory/page-fault classes: which second fault makes a #DF */
    pt_test[0] = 0;
    tss[1] = 0x40001000;                              /* pushes on the ring-0 stack will page-fault */
    set_gate(8, R1CODE, (u32)df_fix, GATE_INT, 0, 1);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds", "movl 0x40800010, %%eax", "");
    df_line("pf-while-delivering-pf");                 /* CR2: the second fault's page */
    tss[1] = (u32)stack0_top;
    set_gate(14, R1CODE, (u32)pf_fix, GATE_INT, 0, 1);
    tss[1] = 0x40001000;
    TRY(ENTER_RING3("1f") "1:", "cli", "");
    df_line("pf-while-delivering-gp");
    tss[1] = 0x40001000;                              /* pf_fix repaired it */
    TRY(ENTER_RING3("1f") "1:\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx", "divl %%ecx", "");
    df_line("pf-while-delivering-de");
    tss[1] = (u32)stack0_top;
    restore_std_gate(14);
    set_gate(14, 0, (u32)isr_addr(14), GATE_INT, 0, 1);   /* #PF gate with a null code selector */
    set_gate(8, KCODE, (u32)isr_addr(8), GATE_INT, 0, 1);
    TRY("", "movl 0x40000010, %%eax", "");
    df_line("gp-while-delivering-pf");
    restore_std_gate(14);
    set_gate(13, 0, (u32)isr_addr(13), GATE_INT, 0, 1);   /* #GP gate with a null code selector */
    set_gate(11, KCODE, (u32)isr_addr(11), GATE_INT, 0, 0);   /* #NP gate not present */
    TRY("movl $0x80, %%eax", "movl %%eax, %%ds", "");       /* #NP (0x80 is not present) */
    df_line("np-while-delivering-np");
    restore_std_gate(13);
    restore_std_gate(11);
    restore_std_gate(8);
    paging_off();

    puts("DONE\n");
}
