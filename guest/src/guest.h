/*
 * guest.h - the few definitions every part of the guest kernel shares.
 *
 * The kernel is linked at PAGE_OFFSET + physical address (0xC0100000 for
 * physical 1 MB), exactly like a 2.6.23 Linux vmlinux, because the lguest
 * Launcher insists that every loadable segment has p_vaddr - p_paddr ==
 * PAGE_OFFSET.  The bare (multiboot) path reaches the same addresses by
 * switching paging on before it calls any C.
 *
 * The heart of the file is struct pv_ops: the table of function pointers that
 * boot fills in once, with the lguest implementations (lguest.c) or the native
 * ones (native.c).  Everything else in the kernel calls through it, the way
 * Linux's paravirt_ops made one kernel binary run on bare metal and under a
 * hypervisor.
 */
#ifndef GUEST_H
#define GUEST_H

#define PAGE_OFFSET     0xC0000000
#define PAGE_SIZE       4096

/* The GDT layout is Linux i386's (2.6.2x), because the lguest Host starts us
 * with cs = 12*8|1 and ds = 13*8|1 and owns entries 10, 11, 16 and 31. */
#define GDT_ENTRIES         32
#define GDT_ENTRY_TLS_MIN   6          /* 6, 7, 8: per-thread TLS */
#define GDT_ENTRY_KERNEL_CS 12
#define GDT_ENTRY_KERNEL_DS 13
#define GDT_ENTRY_USER_CS   14
#define GDT_ENTRY_USER_DS   15
#define GDT_ENTRY_TSS       16
#define KERNEL_CS   (GDT_ENTRY_KERNEL_CS * 8)          /* 0x60, RPL added at boot */
#define KERNEL_DS   (GDT_ENTRY_KERNEL_DS * 8)          /* 0x68 */
#define USER_CS     (GDT_ENTRY_USER_CS * 8 + 3)        /* 0x73 */
#define USER_DS     (GDT_ENTRY_USER_DS * 8 + 3)        /* 0x7b */
#define TLS_SEL(n)  ((GDT_ENTRY_TLS_MIN + (n)) * 8 + 3) /* 0x33, 0x3b, 0x43 */
#define TSS_SEL     (GDT_ENTRY_TSS * 8)                /* 0x80 */

#define SYSCALL_VECTOR  0x80
#define FIRST_IRQ_VECTOR 32
#define NR_IRQS         32               /* LGUEST_IRQS */

#define X86_EFLAGS_IF   0x200
#define TRAP_STACK_PAGES 2              /* the stack traps from ring 3 use */

#ifndef __ASSEMBLER__

typedef unsigned char  u8;
typedef unsigned short u16;
typedef unsigned int   u32;
typedef unsigned long long u64;
typedef int s32;

#define __pa(x) ((u32)(x) - PAGE_OFFSET)
#define __va(x) ((void *)((u32)(x) + PAGE_OFFSET))
#define NULL ((void *)0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define barrier() asm volatile("" ::: "memory")

/* What the entry path found: filled in by lguest_start() or native_start(). */
struct boot_info {
	int lguest;             /* 1: entered through the lguest marker */
	char cmdline[256];
	u32 ram_bytes;          /* top of RAM (guest-physical) */
	u32 wallclock;          /* seconds since the epoch, 0 if unknown */
};
extern struct boot_info boot;

/* The register frame every trap stub builds (entry.S), lowest address first. */
struct trap_frame {
	u32 es, ds;
	u32 edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;  /* pushal */
	u32 vector, errcode;
	u32 eip, cs, eflags;
	u32 esp, ss;            /* only when coming from ring 3 */
};

/* A segment descriptor and an interrupt gate, as two 32-bit words. */
struct desc { u32 a, b; };

/*
 * The paravirt operations.  `iret` must stay first: the trap stubs in
 * entry.S return with "jmp *pv" (native: a bare iret; lguest: lguest_iret).
 */
struct pv_ops {
	void (*iret)(void);
	const char *name;
	u32 kernel_rpl;                 /* 0 native, 1 under lguest */

	/* Interrupt flag: real EFLAGS.IF, or lguest_data.irq_enabled. */
	u32  (*save_fl)(void);
	void (*restore_fl)(u32 flags);
	void (*irq_disable)(void);
	void (*irq_enable)(void);
	void (*safe_halt)(void);        /* enable interrupts and wait for one */

	/* CPU tables. */
	void (*load_gdt)(struct desc *gdt, int entries);
	void (*write_idt_entry)(struct desc *idt, int vector, u32 lo, u32 hi);
	void (*load_idt)(struct desc *idt, int entries);
	void (*load_tls)(struct desc *gdt, struct desc tls[3]);
	void (*load_kernel_stack)(u32 esp_top, u32 pages);

	/* Memory management (two-level, non-PAE). */
	void (*set_pte)(u32 *pgdir, u32 vaddr, u32 *ptep, u32 pte);
	void (*set_pmd)(u32 *pgdir, u32 index, u32 pde);
	void (*write_cr3)(u32 *pgdir);
	u32  (*read_cr2)(void);
	void (*flush_tlb_kernel)(void);
	void (*flush_tlb_user)(void);
	void (*lazy_mmu_begin)(void);
	void (*lazy_mmu_end)(void);

	/* Interrupt controller, clock, console, power. */
	void (*irq_init)(void);
	void (*irq_unmask)(int irq);
	void (*irq_ack)(int irq);
	void (*timer_init)(u32 hz);
	void (*timer_tick)(void);       /* called on each timer IRQ: re-arm */
	void (*tick_stop)(void);        /* idle with nothing timed: no ticks until tick_start */
	void (*tick_start)(void);
	void (*console_write)(const char *s, int len);
	int  (*console_input_init)(void);  /* returns the console IRQ or -1 */
	void (*console_irq)(void);
	int  (*console_loopback)(const char *s, int len); /* bare only */
	int  (*power_button_init)(void);  /* returns the button's IRQ or -1 */
	void (*power_off)(void) __attribute__((noreturn));
	void (*crash)(const char *msg) __attribute__((noreturn));
	void (*boot_report)(void);      /* platform lines for the boot log */
};
extern struct pv_ops pv;

/* lib.c */
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);
int memcmp(const void *a, const void *b, u32 n);
u32 strlen(const char *s);
int strncmp(const char *a, const char *b, u32 n);
const char *cmdline_option(const char *name);  /* value after name, or NULL */
int cmdline_flag(const char *name);
int parse_decimal(const char **p, u32 *out);    /* 0 and the number after spaces, or -1 */

/* console.c */
void printk(const char *fmt, ...);
int snprintk(char *buf, int size, const char *fmt, ...);
void console_input_bytes(const char *s, int n);  /* from IRQ handlers */
int console_getc(void);                          /* -1 if nothing */
int console_input_available(void);
extern int console_irq;
void panic(const char *fmt, ...) __attribute__((noreturn));

/* bench.c: the hcallbench=N and bench command-line modes */
void bench_modes(void);
void blk_modes(void);                   /* blk write|verify SEED N (blk.c) */
int blk_command(const char *args);
int blk_selftest(char *why, int size);  /* 1 pass, 0 fail, -1 no disk; why says */

/* lguest.c: the lguest_net transport; net.c: ARP, ICMP echo, UDP */
struct lguest_net_stats {
	u32 tx_frames, tx_dropped, rx_frames, rx_bad, irqs;
	u64 tx_bytes, rx_bytes;
};
extern struct lguest_net_stats lguest_net_stats;
int lguest_net_init(u8 mac[6], u32 *slot);
int lguest_net_send(const void *frame, u32 len);
int lguest_net_receive(void *buf);
int lguest_net_pending(void);
int lguest_net_own_slot_holds(const u8 mac[6]);
int lguest_net_buffers_armed(void);     /* every receive buffer points at its page-contained 1514 bytes */
void net_modes(void);                   /* ping / net send / net recv on the command line */
int net_command(const char *line);      /* the same typed at the console; 0 when it was one */
void net_poll(void);                    /* answer ARP, ping and UDP echo; the idle loop calls it */
int net_selftest(char *why, int size);  /* 1 pass, 0 fail, -1 no network; why says */

/* traps.c */
void traps_init(void);
void irq_register(int irq, void (*handler)(void));
void trap_dispatch(struct trap_frame *f);
extern struct desc gdt[GDT_ENTRIES];
extern struct desc idt[256];
extern volatile u32 irq_count;
extern u8 trap_stack[];                 /* ring-3 -> kernel stack */

/* paging.c */
void paging_init(void);
u32 alloc_page(void);                   /* physical address of a zeroed page */
void map_page(u32 vaddr, u32 paddr, u32 flags);
u32 *lookup_pte(u32 vaddr);
int handle_page_fault(struct trap_frame *f, u32 addr);
extern u32 *kernel_pgdir;
extern volatile u32 demand_faults;
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_A   0x020
#define PTE_D   0x040
#define DEMAND_BASE  0xF0000000         /* kernel demand-paged zone, 4 MB */
#define DEMAND_END   0xF0400000
#define USTACK_BASE  0xBFC00000         /* user stack zone, demand-paged */
#define USTACK_TOP   0xC0000000

/* timer.c */
void timer_init(void);
void idle_wait_tickless(void);
extern volatile u32 power_request;   /* set by the power button: LGUEST_POWER_OFF or _RESTART */
void blk_sync(void);
extern volatile u32 ticks;
#define HZ 100
void idle_wait(void);

/* user.c */
int user_run_selftest_program(void);
void syscall_dispatch(struct trap_frame *f);
struct user_result {
	int exit_code, syscalls, from_ring3, reported, report;
	u32 fault_addr;
	char out[128];
	int out_len;
};
extern struct user_result user_result;
int run_user(u32 eip, u32 esp);         /* entry.S */
void user_return(int code) __attribute__((noreturn));

/* selftest.c */
void selftest_run(void);

/* lguest.c / native.c */
void lguest_hcall_trace_dump(void);
void lguest_start(void *boot_block);
void native_start(u32 magic, u32 mbi_phys);

/* main.c */
void kernel_main(void) __attribute__((noreturn));

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#endif /* __ASSEMBLER__ */
#endif
