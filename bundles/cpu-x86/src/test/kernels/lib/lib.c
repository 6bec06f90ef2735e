/* lib.c - serial output, descriptor tables, reporting and paging helpers
 * shared by the system-test kernels. */
#include "sys.h"
#include <stdarg.h>

u32 gdt[GDT_ENTRIES * 2] __attribute__((aligned(8)));
static u32 idt[256 * 2] __attribute__((aligned(8)));
u32 tss[26] __attribute__((aligned(128)));
extern u8 isr_table[], T_climb_ret[];

volatile u32 pgdir[1024] __attribute__((aligned(4096)));
volatile u32 pgtab_low[4][1024] __attribute__((aligned(4096)));

/* ---- serial (COM1) ---- */
void putch(char c)
{
    for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++) { }
    outb(0x3f8, (u8)c);
}

void puts(const char *s)
{
    while (*s) putch(*s++);
}

static void puthex(u32 v, int digits)
{
    char buf[9];
    int n = 0;
    if (digits <= 0) {
        do { buf[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    } else {
        while (n < digits) { buf[n++] = "0123456789abcdef"[v & 15]; v >>= 4; }
    }
    while (n) putch(buf[--n]);
}

static void putdec(int v)
{
    char buf[12];
    int n = 0;
    u32 u = v < 0 ? -(u32)v : (u32)v;
    if (v < 0) putch('-');
    do { buf[n++] = '0' + u % 10; u /= 10; } while (u);
    while (n) putch(buf[--n]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { putch(*fmt); continue; }
        fmt++;
        int w = 0;
        while (*fmt >= '0' && *fmt <= '9') w = w * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'x': puthex(va_arg(ap, u32), w); break;
        case 'd': putdec(va_arg(ap, int)); break;
        case 's': puts(va_arg(ap, const char *)); break;
        case 'c': putch((char)va_arg(ap, int)); break;
        case '%': putch('%'); break;
        default: putch('?'); break;
        }
    }
    va_end(ap);
}

void exit_qemu(u32 code)
{
    outb(0xf4, (u8)code);
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- descriptors ---- */
void set_raw_desc(int idx, u32 lo, u32 hi)
{
    gdt[idx * 2] = lo;
    gdt[idx * 2 + 1] = hi;
}

void set_desc(int idx, u32 base, u32 limit, u32 access, u32 flags)
{
    u32 lo = (limit & 0xffff) | (base << 16);
    u32 hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000)
           | ((flags & 0xf) << 20) | (base & 0xff000000);
    set_raw_desc(idx, lo, hi);
}

void set_gate(int vec, u32 sel, u32 off, u32 type, u32 dpl, int present)
{
    idt[vec * 2] = (off & 0xffff) | (sel << 16);
    idt[vec * 2 + 1] = (off & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | (type << 8);
}

void set_call_gate(int idx, u32 sel, u32 off, u32 dpl, u32 params)
{
    set_raw_desc(idx, (off & 0xffff) | (sel << 16),
                 (off & 0xffff0000) | 0x8000 | (dpl << 13) | (0xC << 8) | (params & 31));
}

void *isr_addr(int vec)
{
    return isr_table + 16 * vec;
}

void restore_std_gate(int vec)
{
    set_gate(vec, KCODE, (u32)isr_addr(vec), GATE_INT, vec == 0x80 ? 3 : 0, 1);
}

void load_tr(void)
{
    gdt[5 * 2 + 1] &= ~0x200u;              /* mark available again */
    __asm__ volatile("ltr %w0" : : "r"(TSSSEL) : "memory");
}

static struct { u16 limit; u32 base; } __attribute__((packed)) gdtr, idtr;

void lib_init(u32 magic, u32 *mbi)
{
    (void)magic; (void)mbi;
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x80);
    outb(0x3f8, 0x01);
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x03);
    outb(0x3fa, 0xc7);
    outb(0x3fc, 0x03);
    outb(0x21, 0xff);                       /* mask both PICs (qemu has them; the bare runner does not) */
    outb(0xa1, 0xff);

    set_desc(1, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_CODE | ACC_R, FL_G | FL_DB);
    set_desc(2, 0, 0xfffff, ACC_P | ACC_DPL(0) | ACC_DATA | ACC_W, FL_G | FL_DB);
    set_desc(3, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_CODE | ACC_R, FL_G | FL_DB);
    set_desc(4, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_DATA | ACC_W, FL_G | FL_DB);
    set_desc(5, (u32)tss, 103, 0x89, 0);
    set_desc(6, 0, 0xfffff, ACC_P | ACC_DPL(1) | ACC_CODE | ACC_R, FL_G | FL_DB);
    set_desc(7, 0, 0xfffff, ACC_P | ACC_DPL(1) | ACC_DATA | ACC_W, FL_G | FL_DB);
    tss[1] = (u32)stack0_top;
    tss[2] = KDATA;
    tss[3] = (u32)stack1_top;
    tss[4] = R1DATA;
    tss[25] = 104u << 16;                   /* I/O bitmap base beyond the limit: no bitmap */

    for (int v = 0; v < 256; v++) restore_std_gate(v);

    gdtr.limit = sizeof gdt - 1;
    gdtr.base = (u32)gdt;
    idtr.limit = sizeof idt - 1;
    idtr.base = (u32)idt;
    __asm__ volatile("lgdt %0\n\t"
                     "lidt %1\n\t"
                     "ljmp $0x08, $1f\n"
                     "1:\tmov %2, %%ds\n\tmov %2, %%es\n\tmov %2, %%fs\n\tmov %2, %%gs\n\tmov %2, %%ss\n\t"
                     "xorl %%eax, %%eax\n\tlldt %%ax"
                     : : "m"(gdtr), "m"(idtr), "r"(KDATA) : "memory", "eax");
    load_tr();
}

/* ---- traps ---- */
void trap_reset(void)
{
    T_count = 0;
    T_resume = 0;
    for (u32 *p = (u32 *)T_log; p < (u32 *)(T_log + 8); p++) *p = 0;
}

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "v15",
    "#MF", "#AC", "#MC", "#XM", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31",
};

const char *vecname(u32 v)
{
    static char buf[8];
    if (v < 32) return names[v];
    buf[0] = 'v';
    buf[1] = "0123456789abcdef"[(v >> 4) & 15];
    buf[2] = "0123456789abcdef"[v & 15];
    buf[3] = 0;
    return buf;
}

void show_ip(u32 eip)
{
    if (eip == fault_ip) puts("fault");
    else if (eip == next_ip) puts("next");
    else if (eip == (u32)T_climb_ret) puts("stub-climb");
    else if (eip - fault_ip < 256) kprintf("ip+%x", eip - fault_ip);
    else if (fault_ip - eip < 256) kprintf("ip-%x", fault_ip - eip);
    else kprintf("%8x", eip);
}

void show_entry(int i)
{
    struct rec *r = &T_log[i];
    u32 o = r->haserr;
    kprintf("%s", vecname(r->vec));
    if (o) kprintf(" err=%4x", r->raw[0]);
    puts(" eip=");
    show_ip(r->raw[o]);
    kprintf(" cs=%4x", r->raw[o + 1] & 0xffff);
    if (r->vec == 14 && !(r->cs & 3)) kprintf(" cr2=%8x", r->cr2);   /* CR2 is only readable at ring 0 */
}

void show(const char *name)
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

void unexpected_trap(struct rec *r)
{
    u32 o = r->haserr;
    kprintf("UNEXPECTED %s err=%x eip=%8x cs=%x cr2=%8x\n", vecname(r->vec), o ? r->raw[0] : 0,
            r->raw[o], r->raw[o + 1], r->cr2);
    exit_qemu(3);
}

/* ---- paging ---- */
void paging_build(void)
{
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 1024; i++)
            pgtab_low[t][i] = ((u32)(t * 1024 + i) << 12) | 0x7;
        pgdir[t] = (u32)pgtab_low[t] | 0x7;
    }
    for (int t = 4; t < 1024; t++) pgdir[t] = 0;
}

void paging_on(void)
{
    write_cr3((u32)pgdir);
    write_cr0(read_cr0() | 0x80000000u);
}

void paging_off(void)
{
    write_cr0(read_cr0() & ~0x80000000u);
}

void show_sp(u32 v)
{
    if ((u32)stack0_top - v <= 4096) kprintf("stk0-%d", (int)((u32)stack0_top - v));
    else if ((u32)stack1_top - v <= 4096) kprintf("stk1-%d", (int)((u32)stack1_top - v));
    else if ((u32)ustack_top - v <= 4096) kprintf("ustk-%d", (int)((u32)ustack_top - v));
    else if (pre_esp - v <= 4096) kprintf("pre-%d", (int)(pre_esp - v));
    else kprintf("%8x", v);
}

/* one handler entry, with the privilege-change part of the frame and the
 * handler's own CS/SS/ESP/IF */
void show_full(int i)
{
    struct rec *r = &T_log[i];
    u32 o = r->haserr;
    u32 fcs = r->raw[o + 1] & 0xffff;
    show_entry(i);
    kprintf(" fl=%4x", r->raw[o + 2] & 0x7300);
    if ((fcs & 3) != (r->cs & 3)) {
        puts(" esp=");
        show_sp(r->raw[o + 3]);
        kprintf(" ss=%4x", r->raw[o + 4] & 0xffff);
    }
    kprintf(" | handler cs=%4x ss=%4x esp=", r->cs, r->ss);
    show_sp(r->esp);
    kprintf(" if=%d", (r->fl >> 9) & 1);
}

void load_idt_limit(u32 limit)
{
    idtr.limit = (u16)limit;
    idtr.base = (u32)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
