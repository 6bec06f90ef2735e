/*
 * hlib.c - the shared startup and helpers of the hostile kernels
 * (hostile.h explains how a hostile kernel reports its outcome).
 *
 * lguest_start() is what the guest's boot.S calls after the lguest marker:
 * LGUEST_INIT first (unless the attack wants otherwise), the boot block's
 * command line and RAM size, our trap gates, then hostile_main().
 */
#include <stdarg.h>
#include "hostile.h"

extern char hostile_noirq_start[], hostile_noirq_end[];
extern u32 trap_stub_table[32], irq_stub_table[32];
extern volatile u32 fixup_eip;

struct lguest_data lguest_data = {
	.irq_enabled = 0,
	.blocked_interrupts = ~0u,      /* nothing until an attack asks for it */
	.hcall_status = { [0 ... LHCALL_RING_SIZE - 1] = 0xFF },
	.noirq_start = (u32)hostile_noirq_start,
	.noirq_end = (u32)hostile_noirq_end,
};
struct boot_info boot;                  /* lib.c reads boot.cmdline */
volatile struct trap_seen last_trap;
volatile u32 irq_hits[32];
void (*volatile irq_hook)(int irq);
static volatile u32 handler_cpl;

u32 hc(u32 call, u32 a1, u32 a2, u32 a3)
{
	asm volatile("int $0x1f" : "+a"(call) : "d"(a1), "b"(a2), "c"(a3) : "memory");
	return call;
}

/* ---- text ---- */
static int fmt_num(char *p, u32 v, int base)
{
	char tmp[12];
	int n = 0, i;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static int vfmt(char *buf, int size, const char *fmt, va_list ap)
{
	int n = 0;
	char num[12];
	for (; *fmt && n < size - 1; fmt++) {
		const char *s = num;
		int len;
		if (*fmt != '%') {
			buf[n++] = *fmt;
			continue;
		}
		switch (*++fmt) {
		case 'x': len = fmt_num(num, va_arg(ap, u32), 16); break;
		case 'u': len = fmt_num(num, va_arg(ap, u32), 10); break;
		case 'd': {
			int v = va_arg(ap, int);
			if (v < 0) {
				buf[n++] = '-';
				v = -v;
			}
			len = fmt_num(num, (u32)v, 10);
			break;
		}
		case 's': s = va_arg(ap, const char *); len = strlen(s); break;
		case '\0': fmt--; continue;
		default: num[0] = *fmt; len = 1; break;
		}
		while (len-- && n < size - 1)
			buf[n++] = *s++;
	}
	buf[n] = '\0';
	return n;
}

int hsnprintf(char *buf, int size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static struct lguest_dma out_dma __attribute__((aligned(128)));
static char out_buf[256] __attribute__((aligned(256)));

static void console_write(const char *s, int len)
{
	if (len > (int)sizeof(out_buf))
		len = sizeof(out_buf);
	memcpy(out_buf, s, len);
	out_dma.addr[0] = __pa(out_buf);
	out_dma.len[0] = len;
	out_dma.len[1] = 0;
	out_dma.used_len = 0;
	hc(LHCALL_SEND_DMA, LGUEST_CONSOLE_DMA_KEY, __pa(&out_dma), 0);
}

static void vsay(const char *prefix, const char *fmt, va_list ap, char *keep, int keep_size)
{
	char line[240];
	int n = hsnprintf(line, sizeof(line), "%s", prefix);
	n += vfmt(line + n, sizeof(line) - n - 1, fmt, ap);
	if (keep)
		hsnprintf(keep, keep_size, "%s", line);
	line[n++] = '\n';
	console_write(line, n);
}

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("hostile: ", fmt, ap, NULL, 0);
	va_end(ap);
}

void crash_raw(const char *msg)
{
	static char buf[128];
	u32 n = strlen(msg);
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, msg, n);
	buf[n] = '\0';
	hc(LHCALL_CRASH, __pa(buf), 0, 0);
	for (;;)
		hc(LHCALL_HALT, 0, 0, 0);
}

#define ENDING(name, prefix)                                    \
void name(const char *fmt, ...)                                 \
{                                                               \
	static char msg[128];                                   \
	va_list ap;                                             \
	va_start(ap, fmt);                                      \
	vsay(prefix, fmt, ap, msg, sizeof(msg));                \
	va_end(ap);                                             \
	crash_raw(msg);                                         \
}
ENDING(contained, "hostile: contained: ")
ENDING(escape, "hostile: ESCAPE: ")
ENDING(unexpected, "hostile: unexpected: ")

int variant(const char *word)
{
	return cmdline_flag(word);
}

u32 decimal(const char *name, u32 otherwise)
{
	const char *p = cmdline_option(name);
	u32 v = 0;
	if (!p || *p < '0' || *p > '9')
		return otherwise;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (u32)(*p++ - '0');
	return v;
}

/* ---- random numbers (xorshift32) ---- */
static u32 random_state = 1;

void seed_random(u32 seed)
{
	random_state = seed ? seed : 1;
}

u32 next(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 17;
	random_state ^= random_state << 5;
	return random_state;
}

u32 below(u32 n)
{
	return next() % n;
}

/* ---- traps ---- */
void gate_words(void (*h)(void), u32 sel, u32 type, u32 dpl, u32 *lo, u32 *hi)
{
	u32 off = (u32)h;
	*lo = (sel << 16) | (off & 0xffff);
	*hi = (off & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8);
}

void set_gate(u32 v, void (*h)(void), u32 type, u32 dpl)
{
	u32 lo, hi;
	gate_words(h, 0x60, type, dpl, &lo, &hi);
	hc(LHCALL_LOAD_IDT_ENTRY, v, lo, hi);
}

struct hframe {
	u32 edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
	u32 vector, err, eip, cs, eflags;
};

void hostile_trap(struct hframe *f);
void hostile_trap(struct hframe *f)
{
	last_trap.vector = f->vector;
	last_trap.err = f->err;
	last_trap.eip = f->eip;
	last_trap.cs = f->cs;
	last_trap.cr2 = lguest_data.cr2;
	last_trap.count++;
	if (f->vector == 3) {           /* int3: note the ring we run in, go on */
		handler_cpl = read_cs() & 3;
		return;
	}
	if (fixup_eip) {
		f->eip = fixup_eip;
		fixup_eip = 0;
		return;
	}
	unexpected("trap %u at eip %x (cs %x, error code %x, cr2 %x)",
		   f->vector, f->eip, f->cs, f->err, lguest_data.cr2);
}

int int3_asm(void);
int try_int3(void)
{
	u32 before = last_trap.count;
	handler_cpl = 99;
	if (int3_asm())
		return -1;              /* a fault, recovered through fixup_eip */
	if (last_trap.count == before)
		return -2;              /* nothing ran */
	return (int)handler_cpl;
}

void hostile_irq(struct hframe *f);
void hostile_irq(struct hframe *f)
{
	int irq = f->vector - 32;
	irq_hits[irq]++;
	if (irq_hook)
		irq_hook(irq);
}

void irqs_install(void)
{
	for (u32 i = 0; i < 32; i++)
		set_gate(32 + i, (void (*)(void))irq_stub_table[i], 0xE, 0);
}

/* ---- paging ---- */
u32 hpgdir[1024] __attribute__((aligned(4096)));
static u32 hpt[4][1024] __attribute__((aligned(4096)));

u32 pfn_ram_end(void)
{
	return boot.ram_bytes / PAGE_SIZE;
}

u32 *hpte(u32 va)
{
	u32 i = (va - PAGE_OFFSET) >> 12;
	return va >= PAGE_OFFSET && i < 4 * 1024 ? &hpt[i / 1024][i % 1024] : NULL;
}

void hostile_paging_init(void)
{
	u32 frames = pfn_ram_end();
	if (frames > 4 * 1024)
		frames = 4 * 1024;
	for (u32 i = 0; i < frames; i++)
		hpt[i / 1024][i % 1024] = (i << 12) | 0x63;
	for (u32 t = 0; t < 4; t++)
		hpgdir[(PAGE_OFFSET >> 22) + t] = __pa(hpt[t]) | 0x63;
	hc(LHCALL_NEW_PGTABLE, __pa(hpgdir), 0, 0);
	hc(LHCALL_FLUSH_TLB, 1, 0, 0);
}

/* ---- the way in ---- */
__attribute__((weak)) int hostile_wants_init(void) { return 1; }

void lguest_start(void *boot_block)
{
	u8 *bp = boot_block;
	u32 i, n, top = 0;

	/* The boot block first (no hypercall needed), so that an attack can
	 * look at its command line before it decides about LGUEST_INIT. */
	u32 cmd_pa = *(u32 *)(bp + BOOT_CMD_LINE_PTR);
	if (cmd_pa) {
		const char *cmd = __va(cmd_pa);
		n = strlen(cmd);
		if (n >= sizeof(boot.cmdline))
			n = sizeof(boot.cmdline) - 1;
		memcpy(boot.cmdline, cmd, n);
	}
	n = bp[BOOT_E820_ENTRIES];
	for (i = 0; i < n && i < 128; i++) {
		u8 *e = bp + BOOT_E820_MAP + 20 * i;
		u32 addr = *(u32 *)e, size = *(u32 *)(e + 8), type = *(u32 *)(e + 16);
		if (type == E820_RAM && addr + size > top)
			top = addr + size;
	}
	boot.ram_bytes = top;
	boot.lguest = 1;
	if (!hostile_wants_init())
		hostile_main();
	hc(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);
	for (i = 0; i < 32; i++)
		if (i != 2 && i != 8 && i != 15 && i != LGUEST_TRAP_ENTRY)
			set_gate(i, (void (*)(void))trap_stub_table[i],
				 i == 3 ? 0xF : 0xE, i == 3 ? 3 : 0);
	say("booted, command line \"%s\", %u MB of RAM", boot.cmdline, top >> 20);
	hostile_main();
}

/* The bare (multiboot) path of boot.S: a hostile kernel only runs under lguest. */
void native_start(u32 magic, u32 mbi)
{
	(void)magic;
	(void)mbi;
	for (;;)
		asm volatile("cli; hlt");
}
