/* fpu.c - the x87's two exceptions: #NM (device not available) and #MF
 * (floating-point error).
 *
 * Why: lguest switches the FPU lazily with CR0.TS - the first x87
 * instruction after a switch must raise #NM - and a guest sees x87 errors
 * as #MF when CR0.NE is set. Checked: #NM for ESC instructions with TS or
 * EM set, WAIT/FWAIT only when both TS and MP are set; #MF reported at the
 * next waiting instruction after an unmasked zero-divide, with the saved
 * EIP of that waiting instruction.
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
    puts("DONE\n");
}
