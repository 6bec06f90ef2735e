/* gates.c - IDT gates and the privilege-level transitions they make.
 *
 * Why: lguest runs its guest kernel outside ring 0 and lives on ring
 * transitions: IRET to an outer ring, INT n / exceptions back in through
 * the TSS stack, IRET back out. Checked here, each line printing what the
 * processor pushed and the context the handler runs in:
 *  - IRET from ring 0 to ring 3: CS/SS as given, DS/ES/GS holding a DPL-0
 *    segment are nulled, FS holding a DPL-3 segment kept;
 *  - INT n from ring 3 through a DPL-3 gate: stack switch to TSS ss0:esp0,
 *    frame EIP CS EFLAGS ESP SS (20 bytes), handler at CPL 0;
 *  - a gate to a conforming code segment: no stack switch, CPL stays 3;
 *  - an exception at ring 3 (#UD) is delivered through a DPL-0 gate; INT n,
 *    INT3 and INTO through DPL-0 gates from ring 3 raise #GP(vector*8+2);
 *  - interrupt gates clear IF, trap gates keep it; NT is cleared;
 *  - IRET from the handler back to ring 3, continuing on the ring-3 stack;
 *  - TSS esp0 is read at every entry (changing it moves the frame);
 *  - ring 1 the way lguest's guest kernel uses it: IRET to ring 1, an INT
 *    from ring 3 into a ring-1 handler on the TSS ss1:esp1 stack, IRET
 *    from ring 1 back to ring 3, privileged instructions at ring 1 (#GP);
 *  - IRET's checks on the way out (CS RPL vs DPL, SS RPL/DPL, CS not
 *    present, return to an inner ring) and IF/IOPL left alone by IRET and
 *    POPF at CPL 3, changed at CPL 0.
 */
#include "sys.h"

u32 r3[8];

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

void kmain(void)
{
    puts("KERNEL gates\n");

    /* ring 0 -> 3 by IRET, then back in by INT $0x80 (DPL 3 interrupt gate) */
    TRY("movl $0x23, %%eax\n\tmovl %%eax, %%fs\n\t" ENTER_RING3("1f") "1:\t"
        "movw %%cs, %%ss:r3\n\tmovw %%ss, %%ss:r3+4\n\tmovw %%ds, %%ss:r3+8\n\t"
        "movw %%es, %%ss:r3+12\n\tmovw %%fs, %%ss:r3+16\n\tmovw %%gs, %%ss:r3+20\n\t"
        "movl %%esp, %%ss:r3+24",
        "int $0x80", "");
    kprintf("iret-to-ring3: cs=%4x ss=%4x ds=%4x es=%4x fs=%4x gs=%4x esp=", r3[0] & 0xffff, r3[1] & 0xffff,
            r3[2] & 0xffff, r3[3] & 0xffff, r3[4] & 0xffff, r3[5] & 0xffff);
    show_sp(r3[6]);
    putch('\n');
    line("int80-from-ring3");

    /* the same with IF=1 in ring 3 (no interrupt sources: PICs masked) */
    TRY(ENTER_RING(0x1b, 0x23, "ustack_top", 0x200, "1f") "1:", "int $0x80", "");
    line("int80-from-ring3-if1-interrupt-gate");
    set_gate(0x45, KCODE, (u32)isr_addr(0x45), GATE_TRAP, 3, 1);
    TRY(ENTER_RING(0x1b, 0x23, "ustack_top", 0x200, "1f") "1:", "int $0x45", "");
    line("int45-from-ring3-if1-trap-gate");

    /* same privilege: interrupt gate vs trap gate, IF=1 before */
    set_gate(0x41, KCODE, (u32)isr_addr(0x41), GATE_INT, 0, 1);
    set_gate(0x42, KCODE, (u32)isr_addr(0x42), GATE_TRAP, 0, 1);
    TRY("sti", "int $0x41", "");
    line("ring0-int-gate-if1");
    TRY("sti", "int $0x42", "");
    line("ring0-trap-gate-if1");
    /* NT is cleared by both gate kinds (TF too: see singlestep.c) */
    TRY("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl", "int $0x42", "");
    kprintf("ring0-trap-gate-nt: %s pushed-fl=%4x handler-fl=%4x entries=%d\n", vecname(T_log[0].vec),
            T_log[0].raw[2] & 0x4300, T_log[0].fl & 0x4300, (int)T_count);

    /* exceptions at ring 3 go through DPL-0 gates; software interrupts may not */
    TRY(ENTER_RING3("1f") "1:", "ud2", "");
    line("ud2-ring3");
    TRY(ENTER_RING3("1f") "1:", "int $0x41", "");
    line("int41-dpl0-gate-from-ring3");
    TRY(ENTER_RING3("1f") "1:", "int3", "");
    line("int3-dpl0-gate-from-ring3");
    TRY(ENTER_RING3("1f") "1:\tmovl $0x7fffffff, %%eax\n\taddl $1, %%eax", "into", "");
    line("into-dpl0-gate-from-ring3");
    set_gate(3, KCODE, (u32)isr_addr(3), GATE_INT, 3, 1);
    TRY(ENTER_RING3("1f") "1:", "int3", "");
    line("int3-dpl3-gate-from-ring3");
    restore_std_gate(3);
    /* a not-present DPL-3 gate: #NP(vector*8+2) */
    set_gate(0x46, KCODE, (u32)isr_addr(0x46), GATE_INT, 3, 0);
    TRY(ENTER_RING3("1f") "1:", "int $0x46", "");
    line("int46-not-present-from-ring3");

    /* a gate to a conforming ring-0 code segment: no privilege change, the handler runs at CPL 3 */
    set_desc(17, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_CODE | ACC_C | ACC_R, FL_G | FL_DB);   /* 0x88 */
    set_gate(0x47, 0x88, (u32)isr_addr(0x47), GATE_INT, 3, 1);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds", "int $0x47", "");
    line("int47-ring3-to-conforming-gate");
    restore_std_gate(0x47);

    /* IRET from the handler back to ring 3, then a second trip in */
    set_gate(0x43, KCODE, (u32)isr_addr(0x43), GATE_INT, 3, 1);
    TRY(ENTER_RING3("1f") "1:\tmovl $1, %%ss:T_resume", "int $0x43",
        "movw %%cs, %%ss:r3\n\tmovl %%esp, %%ss:r3+4\n\tint $0x80");
    kprintf("iret-back-to-ring3: cs=%4x esp=", r3[0] & 0xffff);
    show_sp(r3[1]);
    putch('\n');
    line("iret-back-to-ring3-entries");

    /* TSS esp0 is consulted at each entry */
    tss[1] = (u32)stack0_top - 512;
    TRY(ENTER_RING3("1f") "1:", "int $0x80", "");
    line("tss-esp0-moved");
    tss[1] = (u32)stack0_top;

    /* privileged instructions at ring 3 */
    TRY(ENTER_RING3("1f") "1:", "cli", "");
    line("ring3-cli-iopl0");
    TRY(ENTER_RING3("1f") "1:", "hlt", "");
    line("ring3-hlt");
    TRY(ENTER_RING3("1f") "1:", "movl %%cr0, %%eax", "");
    line("ring3-mov-from-cr0");
    TRY(ENTER_RING3("1f") "1:", "outb %%al, $0x80", "");
    line("ring3-out-iopl0");
    TRY(ENTER_RING(0x1b, 0x23, "ustack_top", 0x3000, "1f") "1:\tcli\n\toutb %%al, $0x80\n\tpushfl\n\tpopl %%ss:r3",
        "int $0x80", "");
    kprintf("ring3-cli-out-iopl3: fl=%4x\n", r3[0] & 0x3200);
    line("ring3-cli-out-iopl3-entries");

    /* ring 1, as lguest runs its guest kernel */
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:\t"
        "movw %%cs, %%ss:r3\n\tmovw %%ss, %%ss:r3+4\n\tmovw %%ds, %%ss:r3+8\n\tmovl %%esp, %%ss:r3+12",
        "int $0x80", "");
    kprintf("iret-to-ring1: cs=%4x ss=%4x ds=%4x esp=", r3[0] & 0xffff, r3[1] & 0xffff, r3[2] & 0xffff);
    show_sp(r3[3]);
    putch('\n');
    line("int80-from-ring1");
    /* ring 3 -> ring 1 handler on the ss1:esp1 stack (the generic stub then climbs to ring 0) */
    set_gate(0x44, R1CODE, (u32)isr_addr(0x44), GATE_INT, 3, 1);
    TRY(ENTER_RING3("1f") "1:", "int $0x44", "");
    line("int44-ring3-to-ring1-handler");
    /* a ring-1 handler IRETs back to ring 3 */
    TRY(ENTER_RING3("1f") "1:\tmovl $1, %%ss:T_resume", "int $0x44",
        "movw %%cs, %%ss:r3\n\tmovl %%esp, %%ss:r3+4\n\tint $0x80");
    kprintf("ring1-iret-back-to-ring3: cs=%4x esp=", r3[0] & 0xffff);
    show_sp(r3[1]);
    putch('\n');
    line("ring1-iret-back-to-ring3-entries");
    /* a ring-1 handler cannot be entered from ring 0 (inner to outer through a gate) */
    TRY("", "int $0x44", "");
    line("int44-ring0-to-ring1-handler");
    restore_std_gate(0x44);
    /* what ring 1 may not do */
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:", "cli", "");
    line("ring1-cli-iopl0");
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:", "movl %%eax, %%cr3", "");
    line("ring1-mov-to-cr3");
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:\tmovl $0x10, %%eax", "movl %%eax, %%ds", "");
    line("ring1-load-dpl0-data");
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0x1000, "1f") "1:\tcli\n\tpushfl\n\tpopl %%ss:r3", "int $0x80", "");
    kprintf("ring1-cli-iopl1: fl=%4x\n", r3[0] & 0x3200);

    /* IRET's own checks on the way out */
    set_desc(16, 0, 0xfffff, ACC_DPL(3) | ACC_CODE | ACC_R, FL_G | FL_DB);        /* 0x80: ring-3 code, not present */
    TRY("pushl $0x23\n\tpushl $ustack_top\n\tpushfl\n\tpushl $0x0b\n\tpushl $1f", "iret", "1:\tint $0x80");
    line("iret-cs-rpl3-dpl0");
    TRY("pushl $0x20\n\tpushl $ustack_top\n\tpushfl\n\tpushl $0x1b\n\tpushl $1f", "iret", "1:\tint $0x80");
    line("iret-ss-rpl0-to-ring3");
    TRY("pushl $0x13\n\tpushl $ustack_top\n\tpushfl\n\tpushl $0x1b\n\tpushl $1f", "iret", "1:\tint $0x80");
    line("iret-ss-dpl0-to-ring3");
    TRY("pushl $0x23\n\tpushl $ustack_top\n\tpushfl\n\tpushl $0x83\n\tpushl $1f", "iret", "1:\tint $0x80");
    line("iret-cs-not-present");
    TRY(ENTER_RING3("1f") "1:\tpushfl\n\tpushl $0x08\n\tpushl $2f", "iret", "2:\tint $0x80");
    line("iret-ring3-to-ring0");
    /* at CPL 3 with IOPL 0, IRET and POPF leave IF and IOPL alone, without faulting */
    TRY(ENTER_RING3("1f") "1:\tpushfl\n\torl $0x3200, (%%esp)\n\tpushl $0x1b\n\tpushl $2f\n\tiret\n"
        "2:\tpushfl\n\tpopl %%ss:r3\n\tpushfl\n\torl $0x3200, (%%esp)\n\tpopfl\n\tpushfl\n\tpopl %%ss:r3+4",
        "int $0x80", "");
    kprintf("ring3-iret-popf-if-iopl: after-iret=%4x after-popf=%4x entries=%d\n", r3[0] & 0x3200, r3[1] & 0x3200,
            (int)T_count);
    /* at CPL 0 both may change them */
    TRY("pushfl\n\torl $0x1000, (%%esp)\n\tpushl $0x08\n\tpushl $2f\n\tiret\n"
        "2:\tpushfl\n\tpopl r3\n\tpushfl\n\torl $0x2000, (%%esp)\n\tpopfl\n\tpushfl\n\tpopl r3+4",
        "nop", "pushl $2\n\tpopfl");
    kprintf("ring0-iret-popf-iopl: after-iret=%4x after-popf=%4x\n", r3[0] & 0x3200, r3[1] & 0x3200);

    puts("DONE\n");
}
