/* singlestep.c - the single-step trap (#DB with EFLAGS.TF).
 *
 * Why: lguest guests (and debuggers in them) single-step; the trap must come
 * after each instruction that *began* with TF set, and never for the
 * instruction that set TF; INT n / INT3 clear TF on entry so their handler
 * is not stepped and no trap is taken for the INT itself (stepping resumes
 * after the handler's IRET); a faulting instruction is not trapped; MOV SS
 * and POP SS hold the trap off for one instruction; an IRET that sets TF
 * traps after the first instruction it returns to. Each line lists the
 * handler entries in order as VEC@EIP (EIP relative to the probed
 * instruction).
 */
#include "sys.h"

static void steps(const char *name)
{
    kprintf("%s: entries=%d", name, (int)T_count);
    for (u32 i = 0; i < T_count && i < 8; i++) {
        struct rec *r = &T_log[i];
        kprintf(" %s@", vecname(r->vec));
        show_ip(r->raw[r->haserr]);
        if (r->vec == 1) kprintf("/tf=%d", (r->raw[2] >> 8) & 1);
    }
    putch('\n');
}

#define TF_ON "pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n"

void kmain(void)
{
    puts("KERNEL singlestep\n");
    set_gate(0x42, KCODE, (u32)isr_addr(0x42), GATE_TRAP, 0, 1);

    /* one step: the trap follows the instruction after the POPF that set TF */
    {
        u32 dr6;
        __asm__ volatile("xorl %%eax, %%eax\n\tmovl %%eax, %%dr6" : : : "eax");
        TRY(TF_ON, "nop", "nop\n\tnop");
        __asm__ volatile("movl %%dr6, %0" : "=r"(dr6));
        steps("step-one");
        kprintf("step-one-dr6-bs: %x\n", (dr6 >> 14) & 1);
    }
    /* keep stepping (the stub IRETs back with TF restored) until TF is cleared
     * by a POPF, which is itself still trapped */
    TRY("movl $7, T_resume\n\t" TF_ON, "nop",
        "pushfl\n\tandl $~0x100, (%%esp)\n\tpopfl\n\tnop\n\tnop\n\tmovl $0, T_resume\n\tint $0x80");
    steps("step-until-popf-clears");

    /* INT n and INT3 with TF set: entered without a trap, stepping resumes after IRET */
    TRY("movl $7, T_resume\n\t" TF_ON, "int $0x42",
        "nop\n\tpushfl\n\tandl $~0x100, (%%esp)\n\tpopfl\n\tmovl $0, T_resume\n\tint $0x80");
    steps("step-over-int-n");
    kprintf("step-over-int-n-pushed-tf: %d handler-tf: %d\n", (T_log[0].raw[2] >> 8) & 1, (T_log[0].fl >> 8) & 1);
    TRY("movl $7, T_resume\n\t" TF_ON, "int3",
        "nop\n\tpushfl\n\tandl $~0x100, (%%esp)\n\tpopfl\n\tmovl $0, T_resume\n\tint $0x80");
    steps("step-over-int3");

    /* a faulting instruction is not trapped */
    TRY(TF_ON, "ud2", "");
    steps("step-faulting-insn");

    /* MOV SS: no trap after it; the next instruction's trap covers both */
    TRY("movl $0x10, %%eax\n\t" TF_ON, "movl %%eax, %%ss", "nop\n\tnop");
    steps("step-mov-ss");
    TRY("pushl $0x10\n\t" TF_ON, "popl %%ss", "nop\n\tnop");
    steps("step-pop-ss");

    /* IRET to ring 3 with TF in the image: trap after the first ring-3 instruction */
    TRY(ENTER_RING(0x1b, 0x23, "ustack_top", 0x100, "1f") "1:", "nop", "nop");
    steps("step-iret-to-ring3");

    puts("DONE\n");
}
