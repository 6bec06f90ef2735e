/* sys.h - the shared library of the system-test kernels.
 *
 * Every kernel is a multiboot (v1) ELF linked at 1 MiB. entry.S sets up a
 * stack and calls lib_init() (serial, our own GDT/IDT/TSS), then kmain(),
 * then exits through the isa-debug-exit port 0xF4.
 *
 * Exceptions: every vector has a stub (entry.S) that records, into T_log[],
 * what the processor pushed and the state the handler runs in, then either
 * IRETs back (T_resume > 0) or long-jumps to the innermost TRY().
 */
#ifndef SYS_H
#define SYS_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

/* GDT layout shared by all kernels */
#define KCODE   0x08    /* ring 0 code, flat */
#define KDATA   0x10    /* ring 0 data, flat */
#define UCODE   0x1b    /* ring 3 code, flat (GDT 3) */
#define UDATA   0x23    /* ring 3 data, flat (GDT 4) */
#define TSSSEL  0x28    /* 32-bit TSS (GDT 5) */
#define R1CODE  0x31    /* ring 1 code, flat (GDT 6) */
#define R1DATA  0x39    /* ring 1 data, flat (GDT 7) */
#define SCRATCH 8       /* GDT entries 8.. are free for tests */
#define GDT_ENTRIES 32

/* one handler entry, as recorded by entry.S (layout fixed: 16 dwords) */
struct rec {
    u32 vec;        /* vector of the stub that ran */
    u32 haserr;     /* 1 if the stub's vector pushes an error code */
    u32 esp;        /* ESP at handler entry (points at the pushed frame) */
    u32 ss;         /* SS at handler entry */
    u32 cs;         /* CS at handler entry (its RPL is the handler's CPL) */
    u32 fl;         /* EFLAGS at handler entry */
    u32 cr2;        /* CR2 at handler entry (0 if the handler is not ring 0) */
    u32 raw[8];     /* the 8 dwords from ESP upwards, as pushed */
    u32 pad;
};

extern struct rec T_log[8];
extern volatile u32 T_count;     /* handler entries since trap_reset() */
extern volatile u32 T_resume;    /* entries still to resume by IRET instead of long-jumping */
extern volatile u32 pre_esp, fault_ip, next_ip;   /* set by TRY() */
extern u32 tss[26];
extern u8 stack0_top[], stack1_top[], ustack_top[];
extern u32 gdt[GDT_ENTRIES * 2];

int catch_setjmp(void) __attribute__((returns_twice));
void catch_done(void);
void trap_reset(void);
void *isr_addr(int vec);
void isr_generic_ring1(void);

/* Run `pre`, then `insn` (labelled 8:, the instruction expected to trap;
 * 9: is the one after it), then `post`, catching any exception. */
#define TRYX(...) TRY(__VA_ARGS__)      /* for argument lists built by macros */
#define TRY(pre, insn, post, ...) do {                                         \
    trap_reset();                                                              \
    if (catch_setjmp() == 0) {                                                 \
        __asm__ volatile("movl %%esp, pre_esp\n\t"                             \
                         "movl $8f, fault_ip\n\tmovl $9f, next_ip\n\t"         \
                         pre "\n8:\t" insn "\n9:\t" post                       \
                         : : __VA_ARGS__                                       \
                         : "memory", "cc", "eax", "ebx", "ecx", "edx", "esi", "edi"); \
    }                                                                          \
    catch_done();                                                              \
} while (0)

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void invlpg(u32 a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }

/* output */
void putch(char c);
void puts(const char *s);
void kprintf(const char *fmt, ...);   /* %x (hex), %2x/%4x/%8x (zero-padded), %d, %s, %c */
void exit_qemu(u32 code) __attribute__((noreturn));

/* descriptors */
#define ACC_P     0x80
#define ACC_DPL(d) ((d) << 5)
#define ACC_S     0x10
#define ACC_CODE  0x18          /* S + executable */
#define ACC_DATA  0x10          /* S, data */
#define ACC_R     0x02          /* readable (code) / writable (data) */
#define ACC_W     0x02
#define ACC_C     0x04          /* conforming (code) */
#define ACC_E     0x04          /* expand-down (data) */
#define ACC_A     0x01
#define FL_G      0x8
#define FL_DB     0x4
void set_desc(int idx, u32 base, u32 limit, u32 access, u32 flags);
void set_raw_desc(int idx, u32 lo, u32 hi);
void set_gate(int vec, u32 sel, u32 off, u32 type, u32 dpl, int present);
void set_call_gate(int idx, u32 sel, u32 off, u32 dpl, u32 params);
#define GATE_INT  0xE
#define GATE_TRAP 0xF
#define GATE_TASK 0x5
void restore_std_gate(int vec);
void load_tr(void);
void load_idt_limit(u32 limit);      /* reload IDTR with our IDT and this limit */

/* reporting */
const char *vecname(u32 v);
void show(const char *name);         /* one line: name: what the first handler entry saw */
void show_entry(int i);              /* details of entry i, no newline */
void show_ip(u32 eip);               /* fault / next / ip+N / absolute */
void show_sp(u32 esp);                /* stk0-N / stk1-N / ustk-N for the known stacks */
void show_full(int i);               /* show_entry + pushed EFLAGS, outer ESP/SS and the handler context */

/* paging: identity map of the first 16 MiB in 4 KiB pages, PDE/PTEs U+W+P */
extern volatile u32 pgdir[1024];   /* volatile: the MMU reads and writes these behind the compiler */
extern volatile u32 pgtab_low[4][1024];
void paging_build(void);
void paging_on(void);
void paging_off(void);

/* enter ring 3 (flat UCODE/UDATA, ESP = ustack_top, EFLAGS as now | extra)
 * at the local label that must follow: ENTER_RING3("1f") ... "1:" */
#define ENTER_RING(cs, ss, esp, flags, label) \
    "pushl $" #ss "\n\tpushl $" esp "\n\tpushfl\n\torl $" #flags ", (%%esp)\n\tpushl $" #cs "\n\tpushl $" label "\n\tiret\n"
#define ENTER_RING3(label) ENTER_RING(0x1b, 0x23, "ustack_top", 0, label)

void kmain(void);

#endif
