/*
 * The oracle kernel: the differential tests' case runner for machines
 * whose host cannot execute i386 code. It boots under qemu-system-i386
 * (multiboot), sets up the processor the way 32-bit Linux runs a process,
 * and then runs the same protocol as the native helper (protocol.c): each
 * case at ring 3 on the emulated processor, each ending taken through the
 * IDT at ring 0, where the vector, error code and CR2 are read first hand.
 *
 * What a case sees (JavaCpuRig builds the same on the Java side):
 *   - CR0 = PG AM WP NE ET MP PE, CR4 = 0, paging with 4 KiB pages;
 *   - the code page at 0x10000000 user read-only, the data area (two pages)
 *     at 0x20000000 user read-write, nothing else below 0xE0000000;
 *   - the GDT of 32-bit Linux's user segments: flat code 0x73 and data
 *     0x7b (DPL 3), kernel code 0x08 and data 0x18, the TSS at 0x40; 16
 *     entries; no LDT; a TSS without I/O bitmap; IOPL 0;
 *   - an IDT of interrupt gates, DPL 3 for vectors 3, 4 and 0x80 (INT3,
 *     INTO and Linux's system call gate), DPL 0 for the rest.
 *
 * Input and output travel through two byte rings in guest RAM (at 64 MiB,
 * RING_PHYS), which the Java side maps from the same file that backs the
 * guest's memory (qemu's memory-backend-file, share=on): no device, no
 * exits. When a ring is empty (or full), the kernel halts until the next
 * 1 kHz timer tick rather than spin a host core.
 */
#include "../protocol.h"

#define KBASE 0xE0000000u
#define KCODE 0x08
#define KDATA 0x18
#define TSS_SEL 0x40
#define UCODE 0x73
#define UDATA 0x7b

/* ---- the rings: a control page, then the input ring, then the output ring ---- */
#define RING_PHYS 0x04000000u
#define RING_MAGIC 0x4c43524fu /* "ORCL" */
#define IN_SIZE (4u << 20)
#define OUT_SIZE (8u << 20)
/* Words of the control page; each counter on its own cache line. */
#define C_MAGIC 0
#define C_IN_SIZE 1
#define C_OUT_SIZE 2
#define C_IN_HEAD 16    /* bytes the host has written (free-running) */
#define C_IN_TAIL 32    /* bytes the kernel has read */
#define C_OUT_HEAD 48   /* bytes the kernel has written */
#define C_OUT_TAIL 64   /* bytes the host has read */
#define C_EXIT 80       /* the kernel's last word: 0 running, 1 finished, 2 died */

static volatile u32 *const ctl = (volatile u32 *)(KBASE + RING_PHYS);
static u8 *const in_ring = (u8 *)(KBASE + RING_PHYS + 4096);
static u8 *const out_ring = (u8 *)(KBASE + RING_PHYS + 4096 + IN_SIZE);

static inline void outb(u32 port, u32 v) { __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port)); }
static inline u32 inb(u32 port) { u8 v; __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port)); return v; }
static inline void fence(void) { __asm__ volatile("lock; addl $0, (%%esp)" ::: "memory", "cc"); }

/* ---- COM1 for what goes wrong ---- */

static void putc_serial(char c) {
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (u8)c);
}

static void puts_serial(const char *s) {
    while (*s) putc_serial(*s++);
}

static void puthex(u32 v) {
    for (int i = 28; i >= 0; i -= 4) putc_serial("0123456789abcdef"[(v >> i) & 15]);
}

/* qemu's isa-debug-exit at 0xf4: the process exits with (value << 1) | 1. */
static void __attribute__((noreturn)) qemu_exit(u32 status) {
    outb(0xf4, status);
    for (;;) __asm__ volatile("cli; hlt");
}

void plat_die(const char *why) {
    puts_serial("oracle-kernel: ");
    puts_serial(why);
    puts_serial("\n");
    ctl[C_EXIT] = 2;
    fence();
    qemu_exit(1);
}

/* ---- waiting: spin briefly, then halt until the timer's next tick ---- */

static void idle(void) {
    outb(0x21, 0xfe);               /* IRQ0 only, and only while halted */
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    outb(0x21, 0xff);
}

int plat_read(u8 *buf, unsigned max) {
    u32 tail = ctl[C_IN_TAIL];
    u32 head;
    for (unsigned spins = 0; (head = ctl[C_IN_HEAD]) == tail; spins++) {
        if (spins > 200) idle();
    }
    fence();
    u32 pos = tail & (IN_SIZE - 1);
    u32 n = head - tail;
    if (n > IN_SIZE - pos) n = IN_SIZE - pos;
    if (n > max) n = max;
    memcpy(buf, in_ring + pos, n);
    fence();
    ctl[C_IN_TAIL] = tail + n;
    return (int)n;
}

void plat_write(const u8 *buf, unsigned n) {
    while (n) {
        u32 head = ctl[C_OUT_HEAD];
        u32 room;
        for (unsigned spins = 0; (room = OUT_SIZE - (head - ctl[C_OUT_TAIL])) == 0; spins++) {
            if (spins > 200) idle();
        }
        u32 pos = head & (OUT_SIZE - 1);
        u32 k = n;
        if (k > room) k = room;
        if (k > OUT_SIZE - pos) k = OUT_SIZE - pos;
        memcpy(out_ring + pos, buf, k);
        fence();
        ctl[C_OUT_HEAD] = head + k;
        buf += k;
        n -= k;
    }
}

/* ---- the processor's tables ---- */

extern u32 kernel_pd[1024];
extern u32 kernel_pt[];
extern u8 isr_table[];
extern u8 trap_stack_top[];

static u32 gdt[16][2] __attribute__((aligned(8)));
static u32 idt[256][2] __attribute__((aligned(8)));
static u32 tss[26] __attribute__((aligned(4)));          /* 0x68 bytes */
static u32 pt_code[1024] __attribute__((aligned(4096)));
static u32 pt_data[1024] __attribute__((aligned(4096)));
static u8 code_page[PAGE] __attribute__((aligned(4096)));
static u8 data_pages[DATA_SIZE] __attribute__((aligned(4096)));

u8 *code_rw = code_page;

static u32 phys(const void *p) { return (u32)p - KBASE; }

static void descriptor(int sel, u32 low, u32 high) {
    gdt[sel >> 3][0] = low;
    gdt[sel >> 3][1] = high;
}

static void setup_tables(void) {
    descriptor(KCODE, 0x0000ffff, 0x00cf9b00);
    descriptor(KDATA, 0x0000ffff, 0x00cf9300);
    descriptor(UCODE, 0x0000ffff, 0x00cffb00);      /* accessed already, as Linux's */
    descriptor(UDATA, 0x0000ffff, 0x00cff300);
    u32 t = (u32)tss;
    descriptor(TSS_SEL, (t & 0xffff) << 16 | 0x67, (t & 0xff000000) | ((t >> 16) & 0xff) | 0x8900);
    tss[1] = (u32)trap_stack_top;   /* ESP0 */
    tss[2] = KDATA;                 /* SS0 */
    tss[25] = 0x68u << 16;          /* I/O map base beyond the limit: no I/O bitmap */
    for (int v = 0; v < 256; v++) {
        u32 off = (u32)isr_table + 16 * (u32)v;
        u32 dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
        idt[v][0] = (u32)KCODE << 16 | (off & 0xffff);
        idt[v][1] = (off & 0xffff0000) | 0x8e00 | dpl << 13;
    }
    struct __attribute__((packed)) { u16 limit; u32 base; } gdtr = {sizeof gdt - 1, (u32)gdt},
        idtr = {sizeof idt - 1, (u32)idt};
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    __asm__ volatile("lidt %0" : : "m"(idtr));
    __asm__ volatile(
        "ljmp %0, $1f\n1:\n\t"
        "movw %w1, %%ds\n\tmovw %w1, %%es\n\tmovw %w1, %%ss\n\t"
        "xorl %%eax, %%eax\n\tmovw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
        "lldt %%ax\n\t"
        "ltr %w2"
        : : "i"(KCODE), "r"(KDATA), "r"(TSS_SEL) : "eax", "memory");
}

static void setup_paging(void) {
    pt_code[(CODE_ADDR >> 12) & 0x3ff] = phys(code_page) | 0x5;            /* user, read-only */
    for (u32 i = 0; i < DATA_SIZE / PAGE; i++)
        pt_data[((DATA_ADDR >> 12) + i) & 0x3ff] = (phys(data_pages) + i * PAGE) | 0x7;
    kernel_pd[CODE_ADDR >> 22] = phys(pt_code) | 0x7;
    kernel_pd[DATA_ADDR >> 22] = phys(pt_data) | 0x7;
    kernel_pd[0] = 0;                                                     /* the boot-time low map */
    __asm__ volatile("movl %0, %%cr3" : : "r"(phys(kernel_pd)) : "memory");
    __asm__ volatile("movl %0, %%cr4" : : "r"(0u));
    __asm__ volatile("movl %0, %%cr0" : : "r"(0x80050033u));                /* PG AM WP NE ET MP PE */
    __asm__ volatile("fninit");
}

static void setup_timer(void) {
    /* PIC: master at 0x20, slave at 0x28, everything masked. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xff); outb(0xa1, 0xff);
    /* PIT channel 0, rate generator, 1193 -> about 1 kHz. */
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
}

/* ---- running a case ---- */

extern u32 case_regs[9];
extern u32 case_esp, case_entry;
extern u16 trap_sel[4];     /* DS ES FS GS */
void run_case(void);

struct frame {
    u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    u32 vector, err, eip, cs, eflags, esp, ss;  /* esp, ss: from ring 3 only */
    u32 v86_es, v86_ds, v86_fs, v86_gs;         /* from virtual-8086 mode only */
};

#define EFLAGS_VM 0x20000u

static struct outcome *res;
static volatile int in_case;

void plat_selectors(u32 sel6[6]) {
    sel6[0] = UDATA; sel6[1] = UCODE; sel6[2] = UDATA;
    sel6[3] = UDATA; sel6[4] = 0; sel6[5] = 0;
}

void plat_run_case(const u32 pusha_regs[8], u32 eflags, u32 esp, u32 entry, struct outcome *out) {
    for (int i = 0; i < 8; i++) case_regs[i] = pusha_regs[i];
    case_regs[8] = eflags | 0x200;  /* a process runs with IF set; every IRQ is masked at the PIC */
    case_esp = esp;
    case_entry = entry;
    res = out;
    in_case = 1;
    run_case();
}

static void __attribute__((noreturn)) kernel_fault(struct frame *f) {
    u32 cr2;
    __asm__ volatile("movl %%cr2, %0" : "=r"(cr2));
    puts_serial("oracle-kernel: fault in the kernel: vector ");
    puthex(f->vector);
    puts_serial(" error ");
    puthex(f->err);
    puts_serial(" eip ");
    puthex(f->eip);
    puts_serial(" cr2 ");
    puthex(cr2);
    puts_serial("\n");
    plat_die("stopped");
}

/* Called by boot.S for every vector: 0 resumes what was interrupted, 1 ends the case. */
int trap(struct frame *f) {
    /* A case can end in virtual-8086 mode, where QEMU lets an IRET at CPL 3 go
     * (QemuDifferences.IRET_VM_AT_CPL3); then CS may have RPL 0. */
    int v86 = (f->eflags & EFLAGS_VM) != 0;
    if ((f->cs & 3) == 0 && !v86) {
        if (f->vector == 0x20) {
            outb(0x20, 0x20);
            return 0;
        }
        if (f->vector > 0x20 && f->vector < 0x30) return 0;   /* spurious */
        kernel_fault(f);
    }
    if (!in_case) plat_die("a trap from ring 3 outside a case");
    in_case = 0;
    u32 cr2 = 0;
    if (f->vector == 14) __asm__ volatile("movl %%cr2, %0" : "=r"(cr2));
    res->signo = 0;
    res->trapno = f->vector;
    res->err = f->err;
    res->cr2 = cr2;
    res->eip = f->eip;
    res->eflags = f->eflags;
    res->regs[0] = f->eax; res->regs[1] = f->ecx; res->regs[2] = f->edx; res->regs[3] = f->ebx;
    res->regs[4] = f->esp; res->regs[5] = f->ebp; res->regs[6] = f->esi; res->regs[7] = f->edi;
    res->sel[0] = trap_sel[1]; res->sel[1] = f->cs & 0xffff; res->sel[2] = f->ss & 0xffff;
    res->sel[3] = trap_sel[0]; res->sel[4] = trap_sel[2]; res->sel[5] = trap_sel[3];
    if (v86) {
        res->sel[0] = f->v86_es & 0xffff; res->sel[3] = f->v86_ds & 0xffff;
        res->sel[4] = f->v86_fs & 0xffff; res->sel[5] = f->v86_gs & 0xffff;
    }
    return 1;
}

void kmain(void) {
    setup_tables();
    setup_paging();
    setup_timer();
    ctl[C_IN_HEAD] = 0;
    ctl[C_IN_TAIL] = 0;
    ctl[C_OUT_HEAD] = 0;
    ctl[C_OUT_TAIL] = 0;
    ctl[C_EXIT] = 0;
    ctl[C_IN_SIZE] = IN_SIZE;
    ctl[C_OUT_SIZE] = OUT_SIZE;
    fence();
    ctl[C_MAGIC] = RING_MAGIC;
    fence();
    dispatch();
    ctl[C_EXIT] = 1;
    fence();
    qemu_exit(0);
}
