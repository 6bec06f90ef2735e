/* smc.c - self-modifying code: stores into code that is about to run.
 *
 * Why: an i686 must execute what memory holds, whatever it decoded before
 * (Intel SDM "Handling Self- and Cross-Modifying Code": P6 and later detect
 * a store to an instruction already fetched, even the very next one), and
 * guest kernels patch their code (alternatives, paravirt patching - lguest's
 * own guest does). The Java CPU caches pre-decoded instructions per code
 * frame, so every kind of store must invalidate them. Checked, each line
 * printing the value the patched code returned:
 *  - patch the immediate of a function, call it again;
 *  - patch the instruction immediately following the store, no jump between;
 *  - patch a loop's body from inside the loop, every iteration;
 *  - patch through another linear address (paging alias of the same frame);
 *  - patch with REP MOVSB, with a 16-bit store, with a store straddling the
 *    end of the code page into the next one.
 */
#include "sys.h"

static u8 code[2 * 4096] __attribute__((aligned(4096)));
static volatile u32 pt_test[1024] __attribute__((aligned(4096)));

typedef u32 (*fn)(void);

static u32 call(void)
{
    u32 v;
    __asm__ volatile("call *%1" : "=a"(v) : "r"(code) : "ecx", "edx", "memory");
    return v;
}

static void emit_ret_imm(u8 *p, u32 imm)         /* movl $imm, %eax; ret */
{
    p[0] = 0xb8;
    p[1] = imm;
    p[2] = imm >> 8;
    p[3] = imm >> 16;
    p[4] = imm >> 24;
    p[5] = 0xc3;
}

void kmain(void)
{
    puts("KERNEL smc\n");

    emit_ret_imm(code, 0x11111111);
    u32 a = call();
    code[1] = 0x22;
    u32 b = call();
    kprintf("patch-imm-and-call: %8x %8x\n", a, b);

    /* movb $0x22, L+1 ; L: movb $0x11, %al ; ret  (eax cleared first) */
    {
        u8 *p = code;
        u32 l = (u32)code + 12;
        *p++ = 0x31; *p++ = 0xc0;                                  /* xorl %eax, %eax */
        *p++ = 0xc6; *p++ = 0x05;                                  /* movb $imm8, abs32 */
        *p++ = (u8)(l + 1); *p++ = (u8)((l + 1) >> 8); *p++ = (u8)((l + 1) >> 16); *p++ = (u8)((l + 1) >> 24);
        *p++ = 0x22;
        *p++ = 0x90; *p++ = 0x90; *p++ = 0x90;                     /* pad to L = code + 12 */
        *p++ = 0xb0; *p++ = 0x11;                                  /* L: movb $0x11, %al */
        *p++ = 0xc3;
        u32 first = call();
        kprintf("patch-next-insn: %2x", first);
        code[13] = 0x33;                                           /* reset L's immediate, run again */
        kprintf(" again=%2x\n", call());
    }

    /* a loop that rewrites its own add immediate: add 1, then 2, then 3 */
    {
        u8 *p = code;
        u32 imm = (u32)code + 9;                                   /* the add's imm8 */
        *p++ = 0x31; *p++ = 0xc0;                                  /* xorl %eax, %eax */
        *p++ = 0xb9; *p++ = 3; *p++ = 0; *p++ = 0; *p++ = 0;       /* movl $3, %ecx */
        /* loop: */
        *p++ = 0x83; *p++ = 0xc0; *p++ = 1;                        /* addl $1, %eax  (imm at code+9) */
        *p++ = 0xfe; *p++ = 0x05;                                  /* incb imm */
        *p++ = (u8)imm; *p++ = (u8)(imm >> 8); *p++ = (u8)(imm >> 16); *p++ = (u8)(imm >> 24);
        *p++ = 0xe2; *p++ = 0xf5;                                  /* loop code+7 (from code+18) */
        *p++ = 0xc3;
        kprintf("loop-patches-itself: %x\n", call());             /* 1 + 2 + 3 */
    }

    /* through a paging alias: linear 40000000 maps the same frame as code[] */
    paging_build();
    pgdir[0x40000000u >> 22] = (u32)pt_test | 3;
    pt_test[0] = (u32)code | 3;
    pt_test[1] = ((u32)code + 4096) | 3;
    paging_on();
    emit_ret_imm(code, 0x44444444);
    a = call();
    *(volatile u8 *)0x40000001 = 0x55;
    b = call();
    kprintf("patch-through-alias: %8x %8x\n", a, b);

    /* REP MOVSB over the function */
    {
        static u8 repl[6];
        emit_ret_imm(repl, 0x66666666);
        const u8 *src = repl;
        u8 *dst = code;
        u32 n = 6;
        __asm__ volatile("cld\n\trep movsb" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
        kprintf("patch-rep-movsb: %8x\n", call());
        /* a 16-bit store over the two low immediate bytes */
        *(volatile u16 *)(code + 1) = 0x7777;
        kprintf("patch-word-store: %8x\n", call());
    }

    /* a dword store straddling into the next code page, where the function continues */
    {
        u8 *p = code + 4096 - 3;                                   /* movl $imm32, %eax at page end - 3 */
        emit_ret_imm(p, 0x88888888);
        u32 v1, v2;
        __asm__ volatile("call *%1" : "=a"(v1) : "r"(p) : "ecx", "edx", "memory");
        *(volatile u32 *)(p + 1) = 0x99999999;                     /* 2 bytes in each page */
        __asm__ volatile("call *%1" : "=a"(v2) : "r"(p) : "ecx", "edx", "memory");
        kprintf("patch-straddling-pages: %8x %8x\n", v1, v2);
    }
    paging_off();

    puts("DONE\n");
}
