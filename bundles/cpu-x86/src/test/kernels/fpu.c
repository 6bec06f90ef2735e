/* fpu.c - the x87's two exceptions: #NM (device not available) and #MF
 * (floating-point error).
 *
 * Why: lguest switches the FPU lazily with CR0.TS - the first x87
 * instruction after a switch must raise #NM - and a guest sees x87 errors
 * as #MF when CR0.NE is set. Checked: #NM for ESC instructions with TS or
 * EM set, WAIT/FWAIT only when both TS and MP are set; #MF reported at the
 * next waiting instruction after an unmasked zero-divide, with the saved
 * EIP of that waiting instruction; the lazy switch itself from ring 3 and
 * ring 1 (#NM, the handler clears TS and IRETs, the instruction re-runs).
 */
#include "sys.h"

static void rep(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0) {
        puts("no fault\n");
        return;
    }
    show_entry(0);
    if (T_count > 1) kprintf(" (+%d more)", (int)T_count - 1);
    putch('\n');
}

u16 sw_out;
u32 r3[8];

/* lazy FPU switching as lguest does it: the #NM handler clears TS and returns to the
 * x87 instruction, which then runs */
__asm__(".text\nnm_fix:\n\tclts\n\tjmp isr_table + 16 * 7\n");
extern u8 nm_fix[];

void kmain(void)
{
    puts("KERNEL fpu\n");

    write_cr0((read_cr0() & ~0x4u) | 0x8u);     /* EM=0, TS=1, MP=0 */
    TRY("", "fld1", "");
    rep("nm-ts-fld1");
    TRY("", "fninit", "");
    rep("nm-ts-fninit");
    TRY("", "fwait", "");
    rep("nm-ts-wait-mp0");
    write_cr0(read_cr0() | 0x2u);               /* MP=1 */
    TRY("", "fwait", "");
    rep("nm-ts-wait-mp1");
    __asm__ volatile("clts");
    TRY("", "fwait", "");
    rep("nm-clear-wait");
    write_cr0(read_cr0() | 0x4u);               /* EM=1 */
    TRY("", "fld1", "");
    rep("nm-em-fld1");
    TRY("", "fwait", "");
    rep("nm-em-wait");
    write_cr0(read_cr0() & ~0x6u);

    /* an unmasked zero-divide, reported by the next waiting instruction (CR0.NE=1) */
    write_cr0(read_cr0() | 0x20u);
    {
        static u16 cw = 0x037b;                 /* all masked but ZM */
        TRY("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp %%st, %%st(1)\n\tnop", "fwait", "", "m"(cw));
        rep("mf-zero-divide");
        TRY("fnstsw sw_out", "nop", "");
        kprintf("mf-status-word: %4x\n", sw_out & 0x80ffu);    /* B, ES, SF and the exception flags */
        TRY("", "fninit", "");
        rep("fninit-clears");
        TRY("fld1\n\tfldz", "fdivrp %%st, %%st(1)", "fwait\n\tfstp %%st(0)");
        rep("masked-after-fninit");
    }
    /* lazy switch from ring 3 and ring 1: #NM, handler does CLTS and IRETs, FLD1 re-executes */
    set_gate(7, KCODE, (u32)nm_fix, GATE_INT, 0, 1);
    __asm__ volatile("fninit");
    write_cr0(read_cr0() | 0x8u);
    TRY(ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\tmovl $1, T_resume", "fld1",
        "fistpl r3\n\tint $0x80");
    kprintf("nm-lazy-switch-ring3: %s@", vecname(T_log[0].vec));
    show_ip(T_log[0].raw[0]);
    kprintf(" cs=%4x then %s value=%d ts=%d\n", T_log[0].raw[1] & 0xffff, vecname(T_log[1].vec), (int)r3[0],
            (read_cr0() >> 3) & 1);
    __asm__ volatile("fninit");
    r3[0] = 0;
    write_cr0(read_cr0() | 0x8u);
    TRY(ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\t"
        "movl $1, T_resume", "fld1", "fistpl r3\n\tint $0x80");
    kprintf("nm-lazy-switch-ring1: %s@", vecname(T_log[0].vec));
    show_ip(T_log[0].raw[0]);
    kprintf(" cs=%4x then %s value=%d ts=%d\n", T_log[0].raw[1] & 0xffff, vecname(T_log[1].vec), (int)r3[0],
            (read_cr0() >> 3) & 1);
    restore_std_gate(7);

    puts("DONE\n");
}
