/* exceptions.c - every exception vector the processor raises by itself,
 * with its error code and the frame it pushes.
 *
 * Why: the Java CPU must deliver each exception with the right vector, the
 * right error code (or none), the right saved EIP (fault: the instruction;
 * trap: the next one) and CS, and push exactly 12 or 16 bytes in the order
 * error code, EIP, CS, EFLAGS. Each line prints what the handler observed:
 *   name: VEC [err=XXXX] eip=fault|next|ip+N cs=XXXX fl=XXXX push=N
 * fl is the pushed EFLAGS masked to NT|IF|TF; push is how many bytes the
 * stack pointer moved from the probe to the handler (same privilege level).
 * (Using a null ES for an access must raise #GP(0), but qemu's TCG does not
 * check it; that check lives in segcheck.c, whose expected output is hand-written.)
 * Also: the saved EIP of a prefixed instruction is its first prefix; an
 * instruction longer than 15 bytes raises #GP(0).
 * Covered: #DE #BP #OF #BR #UD #DF #TS #NP #SS #GP #PF, plus the "no fault"
 * halves of the conditional ones. #DB (single-step) is in singlestep.c,
 * #NM and #MF (the x87's exceptions) in fpu.c.
 */
#include "sys.h"

static void rep(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0) {
        puts("no fault\n");
        return;
    }
    struct rec *r = &T_log[0];
    show_entry(0);
    kprintf(" fl=%4x push=%d", r->raw[r->haserr + 2] & 0x4300, (int)(pre_esp - r->esp));
    if (T_count > 1) kprintf(" (+%d more)", (int)T_count - 1);
    putch('\n');
}

u32 bounds[2] = { 10, 20 };
static u32 pdir_one[1024] __attribute__((aligned(4096)));

void kmain(void)
{
    puts("KERNEL exceptions\n");

    /* #DE: divide by zero, quotient overflow, IDIV INT_MIN / -1 */
    TRY("movl $1, %%eax\n\txorl %%edx, %%edx\n\txorl %%ecx, %%ecx", "divl %%ecx", "");
    rep("de-div-zero");
    TRY("movl $0, %%eax\n\tmovl $2, %%edx\n\tmovl $1, %%ecx", "divl %%ecx", "");
    rep("de-div-overflow");
    TRY("movl $0x80000000, %%eax\n\tcltd\n\tmovl $-1, %%ecx", "idivl %%ecx", "");
    rep("de-idiv-overflow");
    TRY("movl $0x1300, %%eax\n\tmovb $0x13, %%cl", "divb %%cl", "");
    rep("de-divb-overflow");
    TRY("movl $100, %%eax\n\txorl %%edx, %%edx\n\tmovl $7, %%ecx", "divl %%ecx", "");
    rep("de-div-ok");

    /* a faulting instruction's saved EIP is its first prefix byte */
    TRY("movl $1, %%eax\n\txorl %%edx, %%edx\n\txorl %%ecx, %%ecx", ".byte 0x3e, 0x66, 0xf7, 0xf1", "");  /* ds; divw %cx */
    rep("de-prefixed-eip-at-first-prefix");
    TRY("", ".byte 0x2e, 0x3e, 0x0f, 0x0b", "");                    /* cs; ds; ud2 */
    rep("ud-prefixed-eip-at-first-prefix");

    /* instruction length: 15 bytes is the most */
    TRY("", ".byte 0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e, 0x90", "");
    rep("insn-15-bytes");
    TRY("", ".byte 0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e, 0x90", "");
    rep("insn-16-bytes");

    /* #BP */
    TRY("", "int3", "");
    rep("bp-int3");
    TRY("", "int $3", "");
    rep("bp-int-3");

    /* #OF: INTO with OF set traps, with OF clear does nothing */
    TRY("movl $0x7fffffff, %%eax\n\taddl $1, %%eax", "into", "");
    rep("of-into-set");
    TRY("movl $1, %%eax\n\taddl $1, %%eax", "into", "");
    rep("of-into-clear");

    /* #BR */
    TRY("movl $30, %%eax", "boundl %%eax, bounds", "");
    rep("br-above");
    TRY("movl $9, %%eax", "boundl %%eax, bounds", "");
    rep("br-below");
    TRY("movl $20, %%eax", "boundl %%eax, bounds", "");
    rep("br-inside");

    /* #UD */
    TRY("", "ud2", "");
    rep("ud-ud2");
    TRY("", ".byte 0x0f, 0xff", "");
    rep("ud-ud0");
    TRY("", ".byte 0x0f, 0x20, 0xc8", "");      /* mov %cr1, %eax */
    rep("ud-mov-cr1");
    TRY("", ".byte 0xf0, 0x90", "");
    rep("ud-lock-nop");
    TRY("", ".byte 0x8e, 0xc8", "");            /* mov %eax, %cs */
    rep("ud-mov-to-cs");

    /* #GP */
    TRY("movl $0x108, %%eax", "movl %%eax, %%ds", "");   /* beyond the GDT limit */
    rep("gp-sel-beyond-gdt");
    TRY("movl $0x28, %%eax", "movl %%eax, %%ds", "");       /* a TSS into DS */
    rep("gp-tss-into-ds");
    TRY("movl $0x08, %%eax", "movl %%eax, %%ss", "");       /* code into SS */
    rep("gp-code-into-ss");
    TRY("xorl %%eax, %%eax", "movl %%eax, %%ss", "");       /* null SS at CPL 0 */
    rep("gp-null-ss");
    /* #NP: not-present data segment, not-present IDT gate */
    set_desc(9, 0, 0xfffff, ACC_DPL(0) | ACC_DATA | ACC_W, FL_G | FL_DB);      /* P=0 */
    TRY("movl $0x48, %%eax", "movl %%eax, %%ds", "");
    rep("np-data-segment");
    set_gate(0x40, KCODE, (u32)isr_addr(0x40), GATE_INT, 0, 0);
    TRY("", "int $0x40", "");
    rep("np-gate");
    restore_std_gate(0x40);

    /* #SS: not-present segment into SS */
    TRY("movl $0x48, %%eax", "movl %%eax, %%ss", "");
    rep("ss-not-present");

    /* #TS: IRET with NT set and a back link that is not a busy TSS */
    set_desc(10, (u32)tss, 103, 0x89, 0);                   /* available TSS at 0x50 */
    tss[0] = 0x50;
    TRY("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl", "iret", "");
    rep("ts-iret-nt-available-tss");
    tss[0] = 0x10;
    TRY("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl", "iret", "");
    rep("ts-iret-nt-data-segment");
    tss[0] = 0x0c;
    TRY("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl", "iret", "");
    rep("ts-iret-nt-ldt-selector");
    tss[0] = 0;

    /* #DF: a #GP whose gate is not present raises #NP while being delivered */
    set_gate(13, KCODE, (u32)isr_addr(13), GATE_INT, 0, 0);
    TRY("movl $0x108, %%eax", "movl %%eax, %%ds", "");
    kprintf("df-gp-gate-not-present: %s err=%4x push=%d entries=%d\n", vecname(T_log[0].vec),
            T_log[0].raw[0], (int)(pre_esp - T_log[0].esp), (int)T_count);
    restore_std_gate(13);
    /* #DE with a not-present #DE gate: contributory + #NP = #DF */
    set_gate(0, KCODE, (u32)isr_addr(0), GATE_INT, 0, 0);
    TRY("xorl %%ecx, %%ecx\n\txorl %%edx, %%edx", "divl %%ecx", "");
    kprintf("df-de-gate-not-present: %s err=%4x entries=%d\n", vecname(T_log[0].vec), T_log[0].raw[0],
            (int)T_count);
    restore_std_gate(0);
    /* #BP with a not-present gate: benign, so just #NP(vector*8+2) */
    set_gate(3, KCODE, (u32)isr_addr(3), GATE_INT, 0, 0);
    TRY("", "int3", "");
    rep("np-bp-gate-not-present");
    restore_std_gate(3);

    /* #PF: one read of an unmapped page (paging details are in paging.c) */
    paging_build();
    (void)pdir_one;
    paging_on();
    TRY("", "movl 0x40000123, %%eax", "");
    rep("pf-not-present-read");
    TRY("", "movl %%eax, 0x40000ffe", "");
    rep("pf-not-present-write-straddle-start");
    paging_off();

    puts("DONE\n");
}
