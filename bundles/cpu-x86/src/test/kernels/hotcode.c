/* hotcode.c - system events hitting code the CPU has already run many times.
 *
 * Why: the Java CPU pre-decodes and, after a few dozen runs, compiles hot
 * code; whatever it caches must follow the architecture: a different frame
 * mapped under the same linear address (INVLPG, CR3 reload), a store into
 * the code, the same code run through a code segment with another base,
 * a page fault in the middle of a hot loop (exact EIP, CR2 and progress),
 * and single-stepping hot code. Each function is run 100 times first.
 */
#include "sys.h"

static u8 frames[3][4096] __attribute__((aligned(4096)));
static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static volatile u32 pdir2[1024] __attribute__((aligned(4096)));
u32 progress;

static u32 call_at(u32 addr)
{
    u32 v;
    __asm__ volatile("call *%1" : "=a"(v) : "r"(addr) : "ecx", "edx", "memory");
    return v;
}

static u32 hot_call(u32 addr)
{
    u32 v = 0;
    for (int i = 0; i < 100; i++) v = call_at(addr);
    return v;
}

static void emit_ret_imm(u8 *p, u32 imm)         /* movl $imm, %eax; ret */
{
    p[0] = 0xb8; p[1] = imm; p[2] = imm >> 8; p[3] = imm >> 16; p[4] = imm >> 24; p[5] = 0xc3;
}

/* returns its own return-address-relative EIP: call 1f; 1: popl %eax; lret */
__asm__(".text\n.globl whereami\nwhereami:\n\tcall 1f\n1:\tpopl %eax\n\tlret\n");
extern u8 whereami[];

void kmain(void)
{
    puts("KERNEL hotcode\n");
    paging_build();
    pgdir[0x40000000u >> 22] = (u32)pt_test | 3;
    emit_ret_imm(frames[0], 0x11111111);
    emit_ret_imm(frames[1], 0x22222222);
    pt_test[0] = (u32)frames[0] | 3;
    paging_on();

    /* remap the linear page under hot code */
    u32 a = hot_call(0x40000000);
    pt_test[0] = (u32)frames[1] | 3;
    invlpg(0x40000000);
    u32 b = call_at(0x40000000);
    kprintf("hot-remap-invlpg: %8x %8x\n", a, b);
    hot_call(0x40000000);
    pt_test[0] = (u32)frames[0] | 3;
    write_cr3((u32)pgdir);
    kprintf("hot-remap-cr3-reload: %8x\n", call_at(0x40000000));
    /* another page directory mapping a different frame there */
    for (int i = 0; i < 1024; i++) pdir2[i] = pgdir[i];
    {
        static volatile u32 pt2[1024] __attribute__((aligned(4096)));
        pt2[0] = (u32)frames[1] | 3;
        pdir2[0x40000000u >> 22] = (u32)pt2 | 3;
        hot_call(0x40000000);
        write_cr3((u32)pdir2);
        a = call_at(0x40000000);
        write_cr3((u32)pgdir);
        b = call_at(0x40000000);
        kprintf("hot-cr3-switch-and-back: %8x %8x\n", a, b);
    }

    /* patch hot code */
    hot_call(0x40000000);
    *(volatile u8 *)0x40000001 = 0x33;
    kprintf("hot-patch-imm: %8x\n", call_at(0x40000000));

    /* the same hot code through a code segment with base 0x1000 */
    set_desc(16, 0x1000, 0xfffff, ACC_P | ACC_CODE | ACC_R, FL_G | FL_DB);     /* 0x80 */
    {
        u32 v0 = 0, v1 = 0;
        for (int i = 0; i < 100; i++)
            __asm__ volatile("lcall $0x08, $whereami" : "=a"(v0) : : "ecx", "edx", "memory");
        u32 off = (u32)whereami - 0x1000;
        static struct { u32 off; u16 sel; } __attribute__((packed)) far;
        far.off = off;
        far.sel = 0x80;
        __asm__ volatile("lcall *%1" : "=a"(v1) : "m"(far) : "ecx", "edx", "memory");
        kprintf("hot-code-other-cs-base: eip-delta=%x\n", v0 - v1);
    }

    /* a hot loop that runs into a not-present page: reads dwords at 40002000 upwards,
     * storing its count each time; 40003000 is not mapped */
    {
        u8 *p = frames[2];
        pt_test[2] = (u32)frames[2] | 3;          /* code and the first data page */
        pt_test[3] = 0;
        invlpg(0x40002000);
        invlpg(0x40003000);
        /* movl $0x40002800, %esi; xorl %ecx,%ecx; loop: movl (%esi),%eax; addl $4,%esi; incl %ecx;
         * movl %ecx, progress; cmpl $1000, %ecx; jne loop; ret */
        u32 pr = (u32)&progress;
        u8 code[] = { 0xbe, 0x00, 0x28, 0x00, 0x40, 0x31, 0xc9,
                      0x8b, 0x06, 0x83, 0xc6, 0x04, 0x41,
                      0x89, 0x0d, (u8)pr, (u8)(pr >> 8), (u8)(pr >> 16), (u8)(pr >> 24),
                      0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, 0x75, 0xec, 0xc3 };
        for (unsigned i = 0; i < sizeof code; i++) p[i] = code[i];
        progress = 0;
        TRY("movl $0x40002000, %%eax", "call *%%eax", "");
        kprintf("hot-loop-fault: %s err=%4x cr2=%8x eip=%8x progress=%d\n", vecname(T_log[0].vec), T_log[0].raw[0],
                T_log[0].cr2, T_log[0].raw[1], (int)progress);
    }

    /* single-step a hot function: one trap per instruction */
    {
        u8 *p = frames[0];
        p[0] = 0x90; p[1] = 0x90; p[2] = 0x90; p[3] = 0xc3;        /* nop; nop; nop; ret */
        pt_test[0] = (u32)frames[0] | 3;
        invlpg(0x40000000);
        hot_call(0x40000000);
        TRY("movl $0x40000000, %%ebx\n\tmovl $20, T_resume\n\tpushfl\n\torl $0x100, (%%esp)\n\tpopfl", "call *%%ebx",
            "pushfl\n\tandl $~0x100, (%%esp)\n\tpopfl\n\tmovl $0, T_resume\n\tint $0x80");
        kprintf("hot-single-step: entries=%d", (int)T_count);
        for (u32 i = 0; i < T_count && i < 8; i++) {
            u32 e = T_log[i].raw[0];
            if (T_log[i].vec == 1 && e >= 0x40000000 && e < 0x40001000) kprintf(" #DB@fn+%d", (int)(e - 0x40000000));
            else {
                kprintf(" %s@", vecname(T_log[i].vec));
                show_ip(e);
            }
        }
        putch('\n');
    }

    paging_off();
    puts("DONE\n");
}
