/* ioperm.c - I/O privilege: IOPL against CPL, and the TSS I/O permission
 * bitmap consulted when CPL > IOPL.
 *
 * Why: lguest guests run with CPL > IOPL and must trap on every port access
 * (the Launcher emulates the devices); a processor that lets an access
 * through, or traps one the bitmap allows, breaks that. A second TSS with a
 * full bitmap (8192 bytes plus the trailing 0xff byte) is loaded with LTR.
 * Checked, at ring 3 and ring 1 with IOPL 0 unless stated:
 *  - IN/OUT/INS/OUTS allowed only when every bitmap bit for the accessed
 *    bytes is clear (byte, word, dword; a word straddling an allowed and a
 *    denied port), port 0xffff (whose word access reaches the trailing
 *    byte), a bitmap cut short by the TSS limit;
 *  - with IOPL 3 (ring 3) or IOPL 1 (ring 1) the bitmap is not consulted;
 *  - ring 0 ignores it;
 *  - CLI/STI follow IOPL.
 * Ports 0x1230.. and 0xffff are unused on both qemu's PC and the bare
 * machine: reads return all ones, writes are dropped.
 */
#include "sys.h"

#define IOMAP 104
static u8 iotss[IOMAP + 8192 + 1] __attribute__((aligned(128)));
u32 r3[8];

static void line(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) puts("ok");
    else show_entry(0);
    putch('\n');
}

static void deny(u32 port) { iotss[IOMAP + port / 8] |= (u8)(1u << (port & 7)); }

static void load_iotss(u32 limit)
{
    set_desc(16, (u32)iotss, limit, 0x89, 0);                     /* 0x80: available TSS */
    __asm__ volatile("ltr %w0" : : "r"(0x80) : "memory");
}

#define R3(pre, insn) ENTER_RING3("1f") "1:\tmovl $0x23, %%eax\n\tmovl %%eax, %%ds\n\tmovl %%eax, %%es\n\t" pre, insn, "int $0x80"
#define R3IOPL3(pre, insn) ENTER_RING(0x1b, 0x23, "ustack_top", 0x3000, "1f") "1:\t" pre, insn, "int $0x80"
#define R1(pre, insn) ENTER_RING(0x31, 0x39, "stack1_top - 64", 0, "1f") "1:\t" pre, insn, "int $0x80"
#define R1IOPL1(pre, insn) ENTER_RING(0x31, 0x39, "stack1_top - 64", 0x1000, "1f") "1:\t" pre, insn, "int $0x80"

void kmain(void)
{
    puts("KERNEL ioperm\n");
    u32 *t = (u32 *)iotss;
    t[1] = (u32)stack0_top;
    t[2] = KDATA;
    t[3] = (u32)stack1_top;
    t[4] = R1DATA;
    t[25] = (u32)IOMAP << 16;
    deny(0x1231);
    deny(0x1233);
    iotss[IOMAP + 8192] = 0xff;                                   /* the trailing byte */
    load_iotss(IOMAP + 8192);

    TRYX(R3("movl $0x1230, %%edx", "inb %%dx, %%al"));
    line("r3-inb-allowed");
    TRYX(R3("movl $0x1231, %%edx", "inb %%dx, %%al"));
    line("r3-inb-denied");
    TRYX(R3("movl $0x1230, %%edx", "outb %%al, %%dx"));
    line("r3-outb-allowed");
    TRYX(R3("movl $0x1231, %%edx", "outb %%al, %%dx"));
    line("r3-outb-denied");
    TRYX(R3("movl $0x1232, %%edx", "inw %%dx, %%ax"));
    line("r3-inw-second-byte-denied");
    TRYX(R3("movl $0x1234, %%edx", "inl %%dx, %%eax"));
    line("r3-inl-allowed");
    TRYX(R3("movl $0x1230, %%edx", "inl %%dx, %%eax"));
    line("r3-inl-some-denied");
    TRYX(R3("movl $0x1234, %%edx\n\tmovl $r3, %%edi\n\tmovl $4, %%ecx\n\tcld", "rep insb"));
    line("r3-rep-insb-allowed");
    TRYX(R3("movl $0x1233, %%edx\n\tmovl $r3, %%esi\n\tcld", "outsb"));
    line("r3-outsb-denied");
    TRYX(R3("movl $0xffff, %%edx", "inb %%dx, %%al"));
    line("r3-inb-ffff");
    TRYX(R3("movl $0xffff, %%edx", "inw %%dx, %%ax"));
    line("r3-inw-ffff-into-trailing-byte");
    TRYX(R3("", "inb $0x80, %%al"));
    line("r3-inb-imm-allowed");
    TRYX(R1("movl $0x1231, %%edx", "inb %%dx, %%al"));
    line("r1-inb-denied");
    TRYX(R1("movl $0x1230, %%edx", "inb %%dx, %%al"));
    line("r1-inb-allowed");
    TRYX(R3IOPL3("movl $0x1231, %%edx", "inb %%dx, %%al"));
    line("r3-iopl3-inb-denied-port");
    TRYX(R1IOPL1("movl $0x1231, %%edx", "inb %%dx, %%al"));
    line("r1-iopl1-inb-denied-port");
    TRY("movl $0x1231, %%edx", "inb %%dx, %%al", "");
    line("r0-inb-denied-port");

    /* the TSS limit cuts the bitmap short: ports whose bitmap bytes lie beyond it are denied */
    load_iotss(IOMAP + 0x1234 / 8);                               /* byte for 0x1230-0x1237 is the last one */
    TRYX(R3("movl $0x1230, %%edx", "inb %%dx, %%al"));
    line("r3-limit-last-byte-needs-next");
    TRYX(R3("movl $0x1228, %%edx", "inb %%dx, %%al"));
    line("r3-limit-inside");
    load_iotss(IOMAP - 1);                                        /* no bitmap at all */
    TRYX(R3("movl $0x1230, %%edx", "inb %%dx, %%al"));
    line("r3-no-bitmap");
    load_tr();

    /* CLI/STI */
    TRYX(R3("", "sti"));
    line("r3-sti-iopl0");
    TRYX(R3IOPL3("", "sti"));
    line("r3-sti-iopl3");
    TRYX(R1("", "sti"));
    line("r1-sti-iopl0");
    TRYX(R1IOPL1("", "cli"));
    line("r1-cli-iopl1");

    puts("DONE\n");
}
