/* callgate.c - far CALL/JMP/RET through call gates and conforming code.
 *
 * Why: call gates are the other way (besides IDT gates) a CPU moves to an
 * inner ring, copying parameters from the outer stack; lret goes back out
 * and must re-check privilege. Checked, printing the stack the callee sees:
 *  - ring 3 -> ring 0 through a DPL-3 gate with 2 parameters: new stack from
 *    TSS ss0:esp0 holding EIP CS p1 p2 ESP SS; lret $8 back to ring 3 with
 *    the caller's ESP restored past the parameters;
 *  - the same into ring 1 (TSS ss1:esp1), lguest's guest-kernel ring;
 *  - ring 0 -> ring 0 through a gate: no stack switch, no parameter copy;
 *  - faults: DPL-0 gate from ring 3, gate with RPL above its DPL, not-present
 *    gate (#NP), JMP through a gate to an inner ring, gate to a data
 *    segment, far CALL straight to a ring-0 code segment, lret to an inner
 *    ring;
 *  - conforming code: a ring-3 far call into a DPL-0 conforming segment runs
 *    at CPL 3 (CS.RPL stays 3).
 */
#include "sys.h"

u32 r3[8];
u32 cg_stack[6], cg_esp, cg_ss, cg_cs;

__asm__(".text\n"
        ".globl cg_target\n"
        "cg_target:\n\t"
        "movl %esp, %ss:cg_esp\n\t"
        "movw %ss, %ss:cg_ss\n\t"
        "movw %cs, %ss:cg_cs\n\t"
        ".irp i, 0, 4, 8, 12, 16, 20\n\t"
        "movl \\i(%esp), %eax\n\t"
        "movl %eax, %ss:cg_stack + \\i\n\t"
        ".endr\n\t"
        "lret $8\n");
extern u8 cg_target[];

static void show_callee(const char *name, int words)
{
    kprintf("%s: cs=%4x ss=%4x esp=", name, cg_cs & 0xffff, cg_ss & 0xffff);
    show_sp(cg_esp);
    puts(" stack=");
    for (int i = 0; i < words; i++) {
        if (i) putch(',');
        if (i == 0) show_ip(cg_stack[0]);
        else if (i == 4) show_sp(cg_stack[4]);
        else kprintf("%x", cg_stack[i]);
    }
    putch('\n');
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

#define RING3_CALL(sel, post) \
    ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\tpushl $0x1111\n\tpushl $0x2222", \
    "lcall $" #sel ", $0", post

void kmain(void)
{
    puts("KERNEL callgate\n");
    u32 target = (u32)cg_target;

    /* ring 3 -> 0 with two parameters, and back */
    set_call_gate(8, KCODE, target, 3, 2);                         /* 0x40 */
    TRYX(RING3_CALL(0x43, "movw %%cs, r3\n\tmovl %%esp, r3+4\n\tmovw %%ds, r3+8\n\tint $0x80"));
    show_callee("cg-ring3-to-ring0", 6);
    kprintf("cg-ring3-to-ring0-return: cs=%4x ds=%4x esp=", r3[0] & 0xffff, r3[2] & 0xffff);
    show_sp(r3[1]);
    putch('\n');
    line("cg-ring3-to-ring0-entries");

    /* ring 3 -> 1 (TSS ss1:esp1) */
    set_call_gate(9, R1CODE, target, 3, 2);                        /* 0x48 */
    TRYX(RING3_CALL(0x4b, "movw %%cs, r3\n\tmovl %%esp, r3+4\n\tint $0x80"));
    show_callee("cg-ring3-to-ring1", 6);
    kprintf("cg-ring3-to-ring1-return: cs=%4x esp=", r3[0] & 0xffff);
    show_sp(r3[1]);
    putch('\n');

    /* ring 0 -> 0: no stack switch, no copy */
    set_call_gate(10, KCODE, target, 0, 2);                        /* 0x50 */
    TRY("pushl $0x1111\n\tpushl $0x2222", "lcall $0x50, $0", "movl %%esp, r3");
    show_callee("cg-ring0-to-ring0", 4);
    kprintf("cg-ring0-to-ring0-return: esp=");
    show_sp(r3[0]);
    puts("\n");

    /* faults */
    set_call_gate(11, KCODE, target, 0, 0);                        /* 0x58: DPL 0 */
    TRYX(RING3_CALL(0x5b, ""));
    line("cg-dpl0-gate-from-ring3");
    TRY("", "lcall $0x5b, $0", "");
    line("cg-rpl3-dpl0-gate-from-ring0");
    set_call_gate(12, KCODE, target, 3, 0);                        /* 0x60: not present */
    gdt[12 * 2 + 1] &= ~0x8000u;
    TRYX(RING3_CALL(0x63, ""));
    line("cg-not-present");
    TRY(ENTER_RING3("1f") "1:", "ljmp $0x43, $0", "");
    line("cg-jmp-to-inner-ring");
    set_call_gate(13, KDATA, target, 3, 0);                        /* 0x68: gate to a data segment */
    TRYX(RING3_CALL(0x6b, ""));
    line("cg-gate-to-data-segment");
    TRY(ENTER_RING3("1f") "1:", "lcall $0x08, $cg_target", "");
    line("far-call-ring3-to-ring0-code");
    TRY(ENTER_RING3("1f") "1:\tpushl $0x08\n\tpushl $2f", "lret", "2:");
    line("lret-ring3-to-ring0");

    /* conforming code: entered from ring 3, runs at CPL 3 */
    set_desc(14, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_CODE | ACC_C | ACC_R, FL_G | FL_DB);   /* 0x70 */
    TRY(ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\tpushl $0x1111\n\tpushl $0x2222",
        "lcall $0x70, $cg_target", "movw %%cs, r3\n\tint $0x80");
    show_callee("conforming-from-ring3", 4);
    kprintf("conforming-from-ring3-return: cs=%4x\n", r3[0] & 0xffff);
    /* and a conforming segment with DPL 3 is not callable from... ring 0 may call it only as conforming */
    set_desc(15, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_CODE | ACC_C | ACC_R, FL_G | FL_DB);   /* 0x78 */
    TRY("pushl $0x1111\n\tpushl $0x2222", "lcall $0x78, $cg_target", "");
    line("conforming-dpl3-from-ring0");

    puts("DONE\n");
}
