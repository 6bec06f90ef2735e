/*
 * native.c - the operations for bare hardware (qemu-system-i386 or a PC).
 *
 * Here the kernel runs at ring 0 and simply does what the paravirt ops
 * stand for: real cli/sti/hlt, lgdt/lidt/ltr, mov to %cr3 and invlpg.  The
 * devices are the classic PC ones: a 16550 UART on COM1 (0x3F8) for the
 * console, receiving on IRQ 4; the 8259 PIC pair remapped to vectors 32-47;
 * the 8254 PIT on IRQ 0 as the tick; and qemu's isa-debug-exit device at
 * port 0xF4 to power off (qemu then exits with status (value << 1) | 1).
 *
 * native_start() is where boot.S lands after turning paging on: it reads
 * the multiboot information, installs these ops and calls kernel_main().
 */
#include "guest.h"

#define COM1            0x3F8
#define PIC1            0x20
#define PIC2            0xA0
#define PIT_HZ          1193182
#define DEBUG_EXIT_PORT 0xF4
#define MB_BOOT_MAGIC   0x2BADB002

/* ---- interrupt flag ---- */
static u32 native_save_fl(void)
{
	u32 f;
	asm volatile("pushfl; popl %0" : "=r"(f) :: "memory");
	return f;
}
static void native_restore_fl(u32 f) { asm volatile("pushl %0; popfl" :: "r"(f) : "memory", "cc"); }
static void native_irq_disable(void) { asm volatile("cli" ::: "memory"); }
static void native_irq_enable(void) { asm volatile("sti" ::: "memory"); }
static void native_safe_halt(void) { asm volatile("sti; hlt" ::: "memory"); }

/* ---- descriptor tables ---- */
struct tss {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __attribute__((packed));
static struct tss tss;

struct dtr { u16 limit; u32 base; } __attribute__((packed));

static void native_load_gdt(struct desc *table, int entries)
{
	struct dtr d = { entries * 8 - 1, (u32)table };
	asm volatile("lgdt %0\n\t"
		     "ljmp %1, $1f\n"
		     "1:\tmovl %2, %%eax\n\t"
		     "movl %%eax, %%ss\n\t"
		     "movl %3, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "movl %%eax, %%fs\n\t"
		     "movl %%eax, %%gs"
		     :: "m"(d), "i"(KERNEL_CS), "i"(KERNEL_DS), "i"(USER_DS) : "eax", "memory");
}

static void native_write_idt_entry(struct desc *table, int v, u32 lo, u32 hi)
{
	table[v].a = lo;
	table[v].b = hi;
}

static void native_load_idt(struct desc *table, int entries)
{
	struct dtr d = { entries * 8 - 1, (u32)table };
	asm volatile("lidt %0" :: "m"(d));
}

static void native_load_tls(struct desc *table, struct desc tls[3])
{
	int i;
	for (i = 0; i < 3; i++)
		table[GDT_ENTRY_TLS_MIN + i] = tls[i];
}

static void native_load_kernel_stack(u32 esp_top, u32 pages)
{
	static int loaded;
	(void)pages;
	tss.esp0 = esp_top;
	tss.ss0 = KERNEL_DS;
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap */
	if (!loaded) {
		u32 base = (u32)&tss, limit = sizeof(tss) - 1;
		gdt[GDT_ENTRY_TSS].a = (limit & 0xffff) | (base << 16);
		gdt[GDT_ENTRY_TSS].b = ((base >> 16) & 0xff) | (0x89 << 8) |
				       (base & 0xff000000);
		asm volatile("ltr %w0" :: "r"(TSS_SEL));
		loaded = 1;
	}
}

/* ---- MMU ---- */
static void native_write_cr3(u32 *pgdir) { asm volatile("movl %0, %%cr3" :: "r"(__pa(pgdir)) : "memory"); }
static void reload_cr3(void)
{
	u32 v;
	asm volatile("movl %%cr3, %0; movl %0, %%cr3" : "=r"(v) :: "memory");
}
static void native_set_pte(u32 *pgdir, u32 vaddr, u32 *ptep, u32 pte)
{
	(void)pgdir;
	*ptep = pte;
	asm volatile("invlpg (%0)" :: "r"(vaddr) : "memory");
}
static void native_set_pmd(u32 *pgdir, u32 index, u32 pde)
{
	pgdir[index] = pde;
	reload_cr3();
}
static u32 native_read_cr2(void)
{
	u32 v;
	asm volatile("movl %%cr2, %0" : "=r"(v));
	return v;
}
static void native_nop(void) { }

/* ---- 8259 PIC and 8254 PIT ---- */
static u16 pic_mask = 0xFFFB;           /* everything masked but the cascade */

static void pic_write_mask(void)
{
	outb(PIC1 + 1, pic_mask & 0xff);
	outb(PIC2 + 1, pic_mask >> 8);
}

static void native_irq_init(void)
{
	outb(PIC1, 0x11); outb(PIC2, 0x11);     /* ICW1: init, ICW4 follows */
	outb(PIC1 + 1, FIRST_IRQ_VECTOR);       /* ICW2: vector bases */
	outb(PIC2 + 1, FIRST_IRQ_VECTOR + 8);
	outb(PIC1 + 1, 0x04); outb(PIC2 + 1, 0x02);     /* ICW3: cascade on 2 */
	outb(PIC1 + 1, 0x01); outb(PIC2 + 1, 0x01);     /* ICW4: 8086 mode */
	pic_write_mask();
}

static void native_irq_unmask(int irq)
{
	pic_mask &= ~(1u << irq);
	pic_write_mask();
}

static void native_irq_ack(int irq)
{
	if (irq >= 8)
		outb(PIC2, 0x20);
	if (irq < 16)
		outb(PIC1, 0x20);
}

static void native_timer_init(u32 hz)
{
	u32 div = PIT_HZ / hz;
	outb(0x43, 0x34);               /* channel 0, lo/hi, rate generator */
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
}

/* ---- 16550 UART on COM1 ---- */
static void serial_init(void)
{
	outb(COM1 + 1, 0x00);           /* no interrupts yet */
	outb(COM1 + 3, 0x80);           /* DLAB */
	outb(COM1 + 0, 0x01);           /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);           /* 8N1 */
	outb(COM1 + 2, 0x07);           /* FIFO on, cleared, trigger at 1 byte */
	outb(COM1 + 4, 0x0B);           /* DTR, RTS, OUT2 (IRQ line enabled) */
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void native_console_write(const char *s, int len)
{
	while (len--) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s++);
	}
}

static void serial_irq(void)
{
	char buf[16];
	int n = 0;
	while ((inb(COM1 + 5) & 0x01) && n < (int)sizeof(buf))
		buf[n++] = inb(COM1);
	console_input_bytes(buf, n);
}

static int native_console_input_init(void)
{
	irq_register(4, serial_irq);
	outb(COM1 + 1, 0x01);           /* interrupt on received data */
	return 4;
}

/*
 * Loopback: with MCR bit 4 set the UART feeds what it transmits straight
 * back into its receiver, so the whole receive path (UART, IRQ 4, PIC,
 * handler, input ring) can be checked without anyone typing.
 */
static int native_console_loopback(const char *s, int len)
{
	u32 start;
	int i;
	outb(COM1 + 4, 0x1B);
	for (i = 0; i < len; i++)
		serial_putc(s[i]);
	start = ticks;
	while (ticks - start < HZ / 2)  /* let the bytes come round */
		idle_wait();
	outb(COM1 + 4, 0x0B);
	return len;
}

/* ---- power ---- */
static int native_no_power_button(void) { return -1; }   /* no ACPI here: the button is lguest's */
static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

static void __attribute__((noreturn)) native_power_off(void)
{
	outb(DEBUG_EXIT_PORT, 0x00);    /* qemu exits with status 1 */
	halt_forever();
}

static void __attribute__((noreturn)) native_crash(const char *msg)
{
	(void)msg;                      /* already printed by panic() */
	outb(DEBUG_EXIT_PORT, 0x01);    /* qemu exits with status 3 */
	halt_forever();
}

extern void native_iret(void);

static const struct pv_ops native_ops = {
	.iret = native_iret,
	.name = "native",
	.kernel_rpl = 0,
	.save_fl = native_save_fl,
	.restore_fl = native_restore_fl,
	.irq_disable = native_irq_disable,
	.irq_enable = native_irq_enable,
	.safe_halt = native_safe_halt,
	.load_gdt = native_load_gdt,
	.write_idt_entry = native_write_idt_entry,
	.load_idt = native_load_idt,
	.load_tls = native_load_tls,
	.load_kernel_stack = native_load_kernel_stack,
	.set_pte = native_set_pte,
	.set_pmd = native_set_pmd,
	.write_cr3 = native_write_cr3,
	.read_cr2 = native_read_cr2,
	.flush_tlb_kernel = reload_cr3,
	.flush_tlb_user = reload_cr3,
	.lazy_mmu_begin = native_nop,
	.lazy_mmu_end = native_nop,
	.irq_init = native_irq_init,
	.irq_unmask = native_irq_unmask,
	.irq_ack = native_irq_ack,
	.timer_init = native_timer_init,
	.timer_tick = native_nop,
	.tick_stop = native_nop,        /* the PIT keeps ticking: natively idle costs nothing anyway */
	.tick_start = native_nop,
	.console_write = native_console_write,
	.console_input_init = native_console_input_init,
	.console_loopback = native_console_loopback,
	.power_button_init = native_no_power_button,
	.power_off = native_power_off,
	.crash = native_crash,
};

/* Multiboot information (the fields we read). */
struct multiboot_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

void native_start(u32 magic, u32 mbi_phys)
{
	pv = native_ops;
	serial_init();
	if (magic != MB_BOOT_MAGIC)
		panic("not started by a multiboot loader (eax %x)", magic);

	/* Copy what we need now: our page allocator will reuse this memory. */
	struct multiboot_info *mbi = __va(mbi_phys);
	if (mbi->flags & (1 << 2)) {
		const char *c = __va(mbi->cmdline);
		u32 n = strlen(c);
		if (n >= sizeof(boot.cmdline))
			n = sizeof(boot.cmdline) - 1;
		memcpy(boot.cmdline, c, n);
	}
	boot.ram_bytes = (mbi->flags & 1) ? (mbi->mem_upper + 1024) * 1024 : 16 << 20;
	boot.lguest = 0;
	kernel_main();
}
