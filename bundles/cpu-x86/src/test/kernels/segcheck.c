/* segcheck.c - the checks a processor makes on every memory access through
 * a segment: null selector, limit (normal, expand-down, 4 KiB granular),
 * writability, readability of code.
 *
 * Why: lguest guests are flat, but the guest kernel's segments are capped
 * below the hypervisor (lguest's guest GDT limits), and any access beyond
 * a limit must fault, not silently reach memory. qemu's TCG makes none of
 * these per-access checks (it adds the base and goes), so this file's
 * expected output is written by hand from the Intel SDM (Vol. 2, each
 * instruction's "Protected Mode Exceptions": #GP(0) for a null selector,
 * an effective address outside the limit, a write to a read-only data or
 * to a code segment, a read of an execute-only code segment; #SS(0) for a
 * limit violation through SS) instead of recorded from qemu.
 * The far-transfer limit checks (JMP/IRET to an EIP beyond CS's limit,
 * #GP(0); qemu makes the JMP one) and instruction fetch running into CS's
 * limit (#GP(0) at the first instruction not wholly inside it; qemu does not
 * check) are included too.
 */
#include "sys.h"

/* code at the very end of a 4 KiB page, for CS limit checks on fetch */
__asm__(".text\n"
        ".balign 4096\n.skip 4095\n"
        ".globl cs_edge\ncs_edge:\n\tnop\n"          /* last byte of its page */
        "\tint $0x80\n"                                /* first byte of the next page */
        ".balign 4096\n.skip 4095\n"
        ".globl cs_edge2\ncs_edge2:\n\t.byte 0x89, 0xc0\n" /* movl %eax, %eax across the page end */
        "\tint $0x80\n");
extern u8 cs_edge[], cs_edge2[];

static void fetch_line(const char *name, u8 *edge)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) {
        puts("ok\n");
        return;
    }
    struct rec *r = &T_log[0];
    kprintf("%s", vecname(r->vec));
    if (r->haserr) kprintf(" err=%4x", r->raw[0]);
    kprintf(" eip=edge+%d cs=%4x\n", (int)(r->raw[r->haserr] - (u32)edge), r->raw[r->haserr + 1] & 0xffff);
}

static void line(const char *name)
{
    kprintf("%s: ", name);
    if (T_count == 0 || T_log[0].vec == 0x80) puts("ok");
    else show_entry(0);
    putch('\n');
}

#define WITH_FS(sel, access) "movl $" #sel ", %%eax\n\tmovl %%eax, %%fs", access, \
    "movl $0x10, %%eax\n\tmovl %%eax, %%fs"

void kmain(void)
{
    puts("KERNEL segcheck\n");
    set_desc(16, 0, 0xfff, ACC_P | ACC_DATA | ACC_W, FL_DB);                         /* 80: limit fff */
    set_desc(17, 0, 0x000, ACC_P | ACC_DATA | ACC_W, FL_G | FL_DB);                  /* 88: 4K-gran limit 0 -> fff */
    set_desc(18, 0, 0xfff, ACC_P | ACC_DATA | ACC_W | ACC_E, FL_DB);                 /* 90: expand-down, lower bound fff, B=1 */
    set_desc(19, 0, 0xfff, ACC_P | ACC_DATA | ACC_W | ACC_E, 0);                     /* 98: expand-down, B=0: upper bound ffff */
    set_desc(20, 0, 0xfffff, ACC_P | ACC_DATA, FL_G | FL_DB);                        /* a0: read-only */
    set_desc(21, 0, 0xfffff, ACC_P | ACC_CODE, FL_G | FL_DB);                        /* a8: execute-only code */
    set_desc(22, 0, 0xfffff, ACC_P | ACC_CODE | ACC_R, FL_G | FL_DB);                /* b0: readable code */
    set_desc(23, 0, 0x1ff, ACC_P | ACC_DPL(3) | ACC_DATA | ACC_W, FL_G | FL_DB);     /* b8: ring-3 stack, limit 1fffff */
    set_desc(24, 0, 0x100, ACC_P | ACC_DATA | ACC_W | ACC_E, FL_G | FL_DB);          /* c0: ring-0 data expand-down, above 100fff */
    set_desc(25, 0, 0xfffff, ACC_P | ACC_CODE | ACC_R, FL_DB);                       /* c8: ring-0 code, limit fffff (1 MiB) */

    /* null selectors */
    TRY("xorl %%eax, %%eax\n\tmovl %%eax, %%fs", "movl %%fs:0x1000, %%eax", "movl $0x10, %%eax\n\tmovl %%eax, %%fs");
    line("null-fs-read");
    TRY("xorl %%eax, %%eax\n\tmovl %%eax, %%fs", "movl %%eax, %%fs:0x1000", "movl $0x10, %%eax\n\tmovl %%eax, %%fs");
    line("null-fs-write");
    TRY(ENTER_RING3("1f") "1:", "movl 0x1000, %%eax", "int $0x80");       /* DS was nulled by the IRET */
    line("ring3-nulled-ds-read");

    /* limits: the whole operand must lie within [0, limit] */
    TRYX(WITH_FS(0x80, "movl %%fs:0xffc, %%eax"));
    line("limit-fff-dword-at-ffc");
    TRYX(WITH_FS(0x80, "movl %%fs:0xffd, %%eax"));
    line("limit-fff-dword-at-ffd");
    TRYX(WITH_FS(0x80, "movb %%fs:0xfff, %%al"));
    line("limit-fff-byte-at-fff");
    TRYX(WITH_FS(0x80, "movb %%al, %%fs:0x1000"));
    line("limit-fff-byte-write-at-1000");
    TRYX(WITH_FS(0x80, "movw %%fs:0xfff, %%ax"));
    line("limit-fff-word-at-fff");
    TRYX(WITH_FS(0x88, "movl %%fs:0xffc, %%eax"));
    line("gran4k-limit0-dword-at-ffc");
    TRYX(WITH_FS(0x88, "movl %%fs:0x1000, %%eax"));
    line("gran4k-limit0-dword-at-1000");
    TRY("movl $0x80, %%eax\n\tmovl %%eax, %%es\n\tmovl $0xff0, %%edi\n\tmovl $8, %%ecx\n\tcld", "rep stosl",
        "movl $0x10, %%eax\n\tmovl %%eax, %%es");
    line("limit-fff-rep-stos-across");

    /* expand-down: valid offsets are limit+1 .. ffffffff (B=1) or ffff (B=0) */
    TRYX(WITH_FS(0x90, "movl %%fs:0x800, %%eax"));
    line("expdown-b1-below-bound");
    TRYX(WITH_FS(0x90, "movl %%fs:0xffe, %%eax"));
    line("expdown-b1-straddles-bound");
    TRYX(WITH_FS(0x90, "movl %%fs:0x1000, %%eax"));
    line("expdown-b1-at-bound");
    TRYX(WITH_FS(0x90, "movl %%fs:0x100000, %%eax"));
    line("expdown-b1-high");
    TRYX(WITH_FS(0x98, "movl %%fs:0xfffc, %%eax"));
    line("expdown-b0-top");
    TRYX(WITH_FS(0x98, "movl %%fs:0xfffe, %%eax"));
    line("expdown-b0-beyond-ffff");
    TRYX(WITH_FS(0xc0, "movl %%fs:0x100ffc, %%eax"));
    line("expdown-gran4k-below");
    TRYX(WITH_FS(0xc0, "movl %%fs:0x101000, %%eax"));
    line("expdown-gran4k-above");

    /* through SS at ring 3 (the #SS handler runs on the TSS stack) */
    TRY(ENTER_RING(0x1b, 0xbb, "ustack_top", 0, "1f") "1:\tmovl $0x200000, %%ebx", "movl %%ss:(%%ebx), %%eax", "int $0x80");
    line("ring3-ss-limit-read");
    TRY(ENTER_RING(0x1b, 0xbb, "ustack_top", 0, "1f") "1:\tmovl $0x1ffffc, %%ebp", "movl (%%ebp), %%eax", "int $0x80");
    line("ring3-ss-ebp-at-limit");
    TRY(ENTER_RING(0x1b, 0xbb, "ustack_top", 0, "1f") "1:\tmovl $0x1ffffe, %%ebp", "movl (%%ebp), %%eax", "int $0x80");
    line("ring3-ss-ebp-beyond-limit");

    /* writability and readability */
    TRYX(WITH_FS(0xa0, "movl %%fs:0x100000, %%eax"));
    line("read-only-data-read");
    TRYX(WITH_FS(0xa0, "movl %%eax, %%fs:0x100000"));
    line("read-only-data-write");
    TRY("", "movl %%cs:0x100000, %%eax", "");
    line("readable-code-read-via-cs");
    TRY("", "movl %%eax, %%cs:0x7ff000", "");
    line("code-write-via-cs");
    TRY("ljmp $0xa8, $1f\n1:", "movl %%cs:0x100000, %%eax", "ljmp $0x08, $2f\n2:");
    line("exec-only-code-read-via-cs");
    TRYX(WITH_FS(0xb0, "movl %%eax, %%fs:0x7ff000"));
    line("readable-code-in-fs-write");

    /* far transfers beyond the target's CS limit */
    TRY("", "ljmp $0xc8, $9f", "");
    line("far-jmp-beyond-cs-limit");
    TRY("pushfl\n\tpushl $0xc8\n\tpushl $9f", "iret", "");
    line("iret-beyond-cs-limit");

    /* instruction fetch up to and across CS's limit (4 KiB granular: limit = end of cs_edge's page) */
    set_desc(26, 0, (u32)cs_edge >> 12, ACC_P | ACC_CODE | ACC_R, FL_G | FL_DB);      /* d0 */
    set_desc(27, 0, (u32)cs_edge2 >> 12, ACC_P | ACC_CODE | ACC_R, FL_G | FL_DB);     /* d8 */
    TRY("", "ljmp $0xd0, $cs_edge", "");
    fetch_line("fetch-next-insn-beyond-cs-limit", cs_edge);
    TRY("", "ljmp $0xd8, $cs_edge2", "");
    fetch_line("fetch-insn-straddling-cs-limit", cs_edge2);

    puts("DONE\n");
}
