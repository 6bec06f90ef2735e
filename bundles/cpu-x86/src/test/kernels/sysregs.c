/* sysregs.c - the system-register instructions: descriptor-table and task
 * registers, control registers, and which of them ring 3 may use.
 *
 * Why: lguest's Switcher reloads GDTR, IDTR and TR on every switch into and
 * out of a guest, and marks the guest's TSS busy by doing so; a guest kernel
 * tries these instructions and must fault. Checked:
 *  - SGDT/SIDT/STR/SLDT/SMSW read back what was loaded;
 *  - LTR marks an available TSS busy, and refuses a busy TSS, a data
 *    segment, an LDT selector (#GP(sel)) and a not-present TSS (#NP(sel));
 *  - LLDT accepts null, refuses a TSS (#GP(sel)) and a not-present LDT
 *    (#NP(sel));
 *  - LMSW cannot clear PE, sets MP/EM/TS;
 *  - at ring 3: SGDT/SIDT/SMSW/STR are allowed (no UMIP); LGDT, LIDT, LTR,
 *    LLDT, CLTS, LMSW, MOV to/from CRn and DR7, INVLPG, RDMSR, WRMSR, WBINVD
 *    raise #GP(0).
 * Not checked because qemu's TCG does not model them (so they cannot be
 * recorded): LTR with a null selector (#GP(0); qemu loads it), MOV to CR0
 * with PG=1 PE=0 or NW=1 CD=0, MOV to CR4 with bit 31 set (all #GP(0);
 * qemu takes the value and then runs away).
 */
#include "sys.h"

static struct { u16 limit; u32 base; } __attribute__((packed)) dt;
u32 r3[8];

static void line(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) puts("ok");
    else show_entry(0);
    putch('\n');
}

#define R3(insn) ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\txorl %%eax, %%eax", insn, "int $0x80"

void kmain(void)
{
    puts("KERNEL sysregs\n");

    /* reading them back */
    __asm__ volatile("sgdt %0" : "=m"(dt));
    kprintf("sgdt: limit=%4x base=%s\n", dt.limit, dt.base == (u32)gdt ? "gdt" : "?");
    __asm__ volatile("sidt %0" : "=m"(dt));
    kprintf("sidt: limit=%4x\n", dt.limit);
    {
        u32 tr = 0x5555, ldtr = 0x5555, msw = 0;
        __asm__ volatile("str %w0\n\tsldt %w1\n\tsmsw %w2" : "+r"(tr), "+r"(ldtr), "+r"(msw));
        kprintf("str-sldt-smsw: tr=%4x ldtr=%4x msw=%4x\n", tr & 0xffff, ldtr & 0xffff, msw & 0xffff);
    }

    /* LTR */
    set_desc(16, (u32)tss, 103, 0x89, 0);                          /* 0x80: available TSS */
    set_desc(17, (u32)tss, 103, 0x09, 0);                          /* 0x88: TSS, not present */
    set_desc(18, (u32)gdt, 0x1f, 0x82, 0);                         /* 0x90: LDT */
    set_desc(19, (u32)gdt, 0x1f, 0x02, 0);                         /* 0x98: LDT, not present */
    kprintf("ltr-before: type=%x\n", (gdt[16 * 2 + 1] >> 8) & 0xf);
    TRY("movl $0x80, %%eax", "ltr %%ax", "");
    line("ltr-available");
    kprintf("ltr-after: type=%x str=", (gdt[16 * 2 + 1] >> 8) & 0xf);
    {
        u32 tr = 0;
        __asm__ volatile("str %w0" : "+r"(tr));
        kprintf("%4x\n", tr & 0xffff);
    }
    TRY("movl $0x80, %%eax", "ltr %%ax", "");
    line("ltr-busy");
    TRY("movl $0x10, %%eax", "ltr %%ax", "");
    line("ltr-data-segment");
    TRY("movl $0x88, %%eax", "ltr %%ax", "");
    line("ltr-not-present");
    TRY("movl $0x84, %%eax", "ltr %%ax", "");
    line("ltr-ldt-selector");
    TRY("movl $0x90, %%eax", "ltr %%ax", "");
    line("ltr-ldt-descriptor");
    load_tr();

    /* LLDT */
    TRY("xorl %%eax, %%eax", "lldt %%ax", "");
    line("lldt-null");
    TRY("movl $0x90, %%eax", "lldt %%ax", "xorl %%eax, %%eax\n\tlldt %%ax");
    line("lldt-ldt");
    TRY("movl $0x80, %%eax", "lldt %%ax", "");
    line("lldt-tss");
    TRY("movl $0x98, %%eax", "lldt %%ax", "");
    line("lldt-not-present");

    /* LMSW */
    {
        u32 cr0 = read_cr0();
        __asm__ volatile("lmsw %w0" : : "r"(0) : "memory");
        u32 a = read_cr0();
        __asm__ volatile("lmsw %w0" : : "r"(0xe) : "memory");
        u32 b = read_cr0();
        write_cr0(cr0);
        kprintf("lmsw: after-0=%x after-e=%x\n", a & 0xf, b & 0xf);
    }

    /* ring 3 */
    TRYX(R3("sgdt r3"));
    line("r3-sgdt");
    TRYX(R3("sidt r3"));
    line("r3-sidt");
    TRYX(R3("smsw %%ax"));
    line("r3-smsw");
    TRYX(R3("str %%ax"));
    line("r3-str");
    TRYX(R3("sldt %%ax"));
    line("r3-sldt");
    TRYX(R3("lgdt r3"));
    line("r3-lgdt");
    TRYX(R3("lidt r3"));
    line("r3-lidt");
    TRYX(R3("ltr %%ax"));
    line("r3-ltr");
    TRYX(R3("lldt %%ax"));
    line("r3-lldt");
    TRYX(R3("clts"));
    line("r3-clts");
    TRYX(R3("lmsw %%ax"));
    line("r3-lmsw");
    TRYX(R3("movl %%eax, %%cr3"));
    line("r3-mov-to-cr3");
    TRYX(R3("movl %%cr2, %%eax"));
    line("r3-mov-from-cr2");
    TRYX(R3("movl %%cr4, %%eax"));
    line("r3-mov-from-cr4");
    TRYX(R3("invlpg r3"));
    line("r3-invlpg");
    TRY(ENTER_RING3("1f") "1:\tmovl $0x10, %%ecx", "rdmsr", "int $0x80");
    line("r3-rdmsr");
    TRY(ENTER_RING3("1f") "1:\tmovl $0x10, %%ecx", "wrmsr", "int $0x80");
    line("r3-wrmsr");
    TRYX(R3("wbinvd"));
    line("r3-wbinvd");
    TRYX(R3("movl %%dr7, %%eax"));
    line("r3-mov-from-dr7");

    puts("DONE\n");
}
