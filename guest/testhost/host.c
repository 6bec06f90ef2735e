/*
 * host.c - a minimal test stand-in for the lguest Host and Launcher, so the
 * guest kernel's lguest path can be exercised on qemu-system-i386 before the
 * Java hypervisor exists.  It is a test tool, not a hypervisor: it trusts
 * the Guest (no shadow page tables: the CPU walks the Guest's own tables,
 * with our 4 MB page patched into slot 1023 of each), but it keeps the
 * Guest's side of the 2.6.23 ABI honest:
 *
 *  - Launcher (docs/lguest-abi.md §9): 64 MB of Guest RAM at guest-physical
 *    0 (= host-physical 0 here), the ELF loaded by p_paddr with one common
 *    p_vaddr - p_paddr, entry = the marker + 13 + page_offset, the boot block
 *    at 0 (E820, command line at 4096, hardware_subarch 1), initial page
 *    tables mapping RAM at 0xC0000000 with flags 0x7 just below the top of
 *    RAM, one device page after RAM with the console as device 0 (IRQ 1),
 *    and the Guest started at ring 1 with cs 0x61, ds/es/ss 0x69,
 *    eflags 0x202, %esi 0.
 *  - Host (§2-§5): the Guest runs at ring 1 with our GDT (Host-owned entries
 *    10, 11, 16, 31; Guest DPL 0 raised to 1), our IDT (stubs everywhere,
 *    DPL 1 on 0x1F, Guest *trap* gates installed directly for 0x80 and
 *    exceptions other than 7, 13, 14), a TSS whose esp1/ss1 come from
 *    SET_STACK; hypercalls 0-16 with the argument checks that kill a Guest;
 *    the async ring drained on every exit; page faults reflected with
 *    lguest_data.cr2; interrupts injected only when irq_enabled allows and
 *    never inside [noirq_start, noirq_end); a one-shot clock from the PIT;
 *    console output from SEND_DMA to key 0, input into the buffer bound at
 *    key 0 from COM1.
 *
 * Power down ends qemu with status 1 (port 0xF4 <- 0), any other CRASH with
 * 3, a Host kill with 5.  With "trace" on the host command line every
 * hypercall except console output, clock re-arms and halts is logged.
 */
#include <stdarg.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define GUEST_MEM       (64u << 20)
#define PAGE_OFFSET     0xC0000000u
#define HOST_PA         0x08000000u
#define LGUEST_CS       0x50
#define LGUEST_DS       0x58
#define GUEST_CS        0x61
#define GUEST_DS        0x69
#define IF              0x200
#define COM1            0x3F8

struct regs {
	u32 gs, fs, es, ds;
	u32 edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
	u32 vector, err;
	u32 eip, cs, eflags, esp, ss;
};

struct lguest_data {
	u32 irq_enabled, blocked_interrupts, cr2;
	u8 hcall_status[64];
	struct { u32 eax, edx, ebx, ecx; } hcalls[64];
	u32 reserve_mem;
	u16 guestid;
	u32 tsc_khz, noirq_start, noirq_end;
};
_Static_assert(sizeof(struct lguest_data) == 1120, "lguest_data");

struct lguest_dma { u32 used_len; u32 addr[16]; u16 len[16]; };

static inline void outb(u16 p, u8 v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline u8 inb(u16 p) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

/* ---- output ---- */
static void putc_raw(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}
static void putc(char c)
{
	if (c == '\n')
		putc_raw('\r');
	putc_raw(c);
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void putnum(u32 v, int base)
{
	char b[12];
	int n = 0;
	do { b[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
	while (n) putc(b[--n]);
}
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	puts("host: ");
	for (; *fmt; fmt++) {
		if (*fmt != '%') { putc(*fmt); continue; }
		switch (*++fmt) {
		case 's': puts(va_arg(ap, const char *)); break;
		case 'u': putnum(va_arg(ap, u32), 10); break;
		case 'x': putnum(va_arg(ap, u32), 16); break;
		}
	}
	va_end(ap);
}

static void __attribute__((noreturn)) quit(int code)
{
	outb(0xF4, code);
	for (;;)
		asm volatile("cli; hlt");
}

static void __attribute__((noreturn)) kill_guest(const char *why, u32 a)
{
	puts("\n");
	say("guest killed: %s (%x)\n", why, a);
	quit(2);
}

void *memcpy(void *d, const void *s, u32 n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
void *memset(void *d, int c, u32 n) { u8 *p = d; while (n--) *p++ = c; return d; }
static int memeq(const void *a, const void *b, u32 n)
{
	const u8 *p = a, *q = b;
	while (n--)
		if (*p++ != *q++)
			return 0;
	return 1;
}

/* Guest-physical memory, through the Guest's (and our) linear map. */
static void *gmem(u32 pa, u32 len)
{
	if (pa + len < pa || pa + len > GUEST_MEM + 4096)
		kill_guest("bad guest-physical address", pa);
	return (void *)(pa + PAGE_OFFSET);
}

/* ---- CPU tables ---- */
struct desc { u32 a, b; };
static struct desc gdt[32] __attribute__((aligned(8)));
static struct desc idt[256] __attribute__((aligned(8)));
static struct desc guest_idt[256];      /* the Guest's gates, as stored */
static struct {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 r[8], seg[7];
	u16 trap, iomap;
} __attribute__((packed)) tss;
extern u8 host_stubs[], host_stack[], host_pgdir[];
extern void launch(struct regs *r) __attribute__((noreturn));

static void set_host_gate(int v)
{
	u32 off = (u32)host_stubs + 16 * v;
	idt[v].a = (LGUEST_CS << 16) | (off & 0xffff);
	idt[v].b = (off & 0xffff0000) | 0x8E00 | (v == 0x1F ? 1 << 13 : 0);
}

static void fix_guest_desc(struct desc *d)
{
	if (!(d->b & 0x8000))
		return;
	if (((d->b >> 13) & 3) == 0)
		d->b |= 1 << 13;                /* DPL 0 -> 1 */
	if (d->b & 0x1000)
		d->b |= 0x100;                  /* code/data: preset accessed */
}

/* ---- the Guest's state ---- */
static struct lguest_data *ld;
static u32 ld_pa, irqs_pending, halted, next_hcall;
static u32 clock_armed, clock_expiry, host_ticks, trace_on;
static u32 con_dma_pa, con_irq, con_bound;
static char in_ring[256];
static u32 in_head, in_tail;
static u32 counts[17];

static const char *const names[] = {
	"FLUSH_ASYNC", "LGUEST_INIT", "CRASH", "LOAD_GDT", "NEW_PGTABLE",
	"FLUSH_TLB", "LOAD_IDT_ENTRY", "SET_STACK", "TS", "SET_CLOCKEVENT",
	"HALT", "GET_WALLCLOCK", "BIND_DMA", "SEND_DMA", "SET_PTE", "SET_PMD",
	"LOAD_TLS",
};

/* ---- shadow page tables (§4), much simplified ----
 *
 * The CPU never sees the Guest's page tables: it walks our shadows, which
 * start empty and are filled by page faults from the Guest's tables
 * (demand_page), and emptied again by the Guest's SET_PTE / SET_PMD /
 * FLUSH_TLB / NEW_PGTABLE.  A Guest that forgets to tell us about a change
 * keeps seeing the old mapping, as it would under lguest.  Shadow PTEs stay
 * read-only until the Guest PTE is dirty, so A/D bits are emulated too.
 * Slot 1023 of every shadow is our own 4 MB page.  On every trap the stubs
 * switch to host_pgdir (which maps Guest RAM linearly at 0xC0000000) and
 * back to the current shadow on the way out.
 */
#define HOST_VA         0xFFC00000u
#define hpa(v)          ((u32)(v) - HOST_VA + HOST_PA)
#define PFN_LIMIT       (GUEST_MEM / 4096 + 1)      /* RAM + device page */
#define POOL_PAGES      160

static u32 pool[POOL_PAGES][1024] __attribute__((aligned(4096)));
static u8 pool_used[POOL_PAGES];
static u32 spgd_pages[4][1024] __attribute__((aligned(4096)));
static struct { u32 gpgdir; int used; } pgdirs[4];
static int cur;
static u32 victim;
static u32 shadow_faults;

static u32 *pool_alloc(void)
{
	for (int i = 0; i < POOL_PAGES; i++)
		if (!pool_used[i]) {
			pool_used[i] = 1;
			memset(pool[i], 0, 4096);
			return pool[i];
		}
	kill_guest("test host out of shadow pages", 0);
}

static void release_pgd(u32 *spgd)
{
	if (*spgd & 1)
		pool_used[((*spgd & ~0xfff) - hpa(pool)) / 4096] = 0;
	*spgd = 0;
}

static u32 gpgd_of(u32 gpgdir, u32 va) { return ((u32 *)gmem(gpgdir, 4096))[va >> 22]; }

static u32 *gpte_ptr(u32 gpgd, u32 va)
{
	return (u32 *)gmem(gpgd & ~0xfff, 4096) + ((va >> 12) & 1023);
}

static u32 *spte_ptr(u32 spgd, u32 va)
{
	return (u32 *)((spgd & ~0xfff) - HOST_PA + HOST_VA) + ((va >> 12) & 1023);
}

static u32 check_gpte(u32 gpte)
{
	if ((gpte & 0x88) || (gpte >> 12) >= PFN_LIMIT)
		kill_guest("bad page table entry", gpte);
	return gpte;
}

/* The shadow of a present Guest PTE: no GLOBAL, read-only until dirty. */
static u32 shadow_pte(u32 gpte)
{
	u32 spte = gpte & ~0x100u;
	if (!(gpte & 0x40))
		spte &= ~2u;
	return spte;
}

static int demand_page(u32 va, u32 err)
{
	u32 gpgdir = pgdirs[cur].gpgdir, gpgd = gpgd_of(gpgdir, va), *gpte, g;
	u32 *spgd = &spgd_pages[cur][va >> 22];

	if (!(gpgd & 1))
		return 0;
	if ((va >> 22) == 1023)
		kill_guest("attempt to access switcher pages", va);
	if (!(*spgd & 1)) {
		if ((gpgd & 0xfff & ~0x67u) || (gpgd >> 12) >= PFN_LIMIT)
			kill_guest("bad page directory entry", gpgd);
		*spgd = hpa(pool_alloc()) | (gpgd & 0xfff);
	}
	gpte = gpte_ptr(gpgd, va);
	g = *gpte;
	if (!(g & 1))
		return 0;
	if ((err & 2) && !(g & 2))
		return 0;
	if ((err & 4) && !(g & 4))
		return 0;
	check_gpte(g);
	g |= 0x20;
	if (err & 2)
		g |= 0x40;
	*spte_ptr(*spgd, va) = shadow_pte(g);
	*gpte = g;
	shadow_faults++;
	return 1;
}

static u32 stack_esp, stack_pages;
static void pin_stack_pages(void)
{
	for (u32 i = 0; i < stack_pages; i++) {
		u32 va = stack_esp - i * 4096;  /* 2.6.23's arithmetic */
		u32 spgd = spgd_pages[cur][va >> 22];
		if ((spgd & 1) && (*spte_ptr(spgd, va) & 3) == 3)
			continue;
		if (!demand_page(va, 2))
			kill_guest("bad stack page", va);
	}
}

static void flush_user(int slot)
{
	for (u32 i = 0; i < PAGE_OFFSET >> 22; i++)
		release_pgd(&spgd_pages[slot][i]);
}

static void flush_all(void)
{
	for (int s = 0; s < 4; s++)
		if (pgdirs[s].used)
			for (u32 i = 0; i < 1023; i++)
				release_pgd(&spgd_pages[s][i]);
	pin_stack_pages();
}

static void new_pgtable(u32 gpgdir)
{
	int s;
	if (gpgdir & 0xfff)
		kill_guest("unaligned page directory", gpgdir);
	gmem(gpgdir, 4096);
	for (s = 0; s < 4; s++)
		if (pgdirs[s].used && pgdirs[s].gpgdir == gpgdir)
			break;
	if (s == 4) {
		victim = victim * 1103515245 + 12345 + host_ticks;
		s = (victim >> 16) % 4;         /* a random victim, like lguest */
		if (!pgdirs[s].used) {
			memset(spgd_pages[s], 0, 4096);
			spgd_pages[s][1023] = HOST_PA | 0x83;
			pgdirs[s].used = 1;
		}
		pgdirs[s].gpgdir = gpgdir;
		flush_user(s);                  /* kernel slots are kept */
		cur = s;
		pin_stack_pages();
	}
	cur = s;
}

static void set_pte(u32 gpgdir, u32 va, u32 gpte)
{
	for (int s = 0; s < 4; s++) {
		u32 spgd;
		if (!pgdirs[s].used || (va < PAGE_OFFSET && pgdirs[s].gpgdir != gpgdir))
			continue;
		spgd = spgd_pages[s][va >> 22];
		if (!(spgd & 1))
			continue;
		if (gpte & 0x60)
			*spte_ptr(spgd, va) = shadow_pte(check_gpte(gpte));
		else
			*spte_ptr(spgd, va) = 0;
	}
}

static void set_pmd(u32 gpgdir, u32 index)
{
	if (index >= 1023)
		return;
	for (int s = 0; s < 4; s++)
		if (pgdirs[s].used && pgdirs[s].gpgdir == gpgdir)
			release_pgd(&spgd_pages[s][index]);
}

static u32 current_cr3(void) { return hpa(spgd_pages[cur]); }

static void console_feed(void)
{
	struct lguest_dma *d;
	u32 n = 0, i;

	if (!con_bound || in_head == in_tail)
		return;
	d = gmem(con_dma_pa, sizeof(*d));
	if (d->used_len)
		return;                         /* the Guest has not re-armed yet */
	for (i = 0; i < 16 && d->len[i] && in_head != in_tail; i++) {
		u8 *p = gmem(d->addr[i], d->len[i]);
		u32 j;
		for (j = 0; j < d->len[i] && in_head != in_tail; j++)
			p[j] = in_ring[in_tail++ % sizeof(in_ring)], n++;
	}
	d->used_len = n;
	irqs_pending |= 1u << con_irq;
}

static void do_send_dma(u32 key, u32 pa)
{
	struct lguest_dma *d = gmem(pa, sizeof(*d));
	u32 i, j, total = 0;
	if (key & 3)
		kill_guest("unaligned DMA key", key);
	for (i = 0; i < 16 && d->len[i]; i++) {
		const char *p = gmem(d->addr[i], d->len[i]);
		if (d->len[i] > 4096 || (d->addr[i] & 0xfff) + d->len[i] > 4096)
			kill_guest("bad DMA entry", d->addr[i]);
		if (key == 0)
			for (j = 0; j < d->len[i]; j++)
				putc(p[j]);
		total += d->len[i];
	}
	d->used_len = key == 0 ? total : 0;    /* nobody else is bound */
}

static void check_pte(u32 pgdir, u32 va, u32 pte)
{
	u32 pde = ((u32 *)gmem(pgdir, 4096))[va >> 22], now;
	if (!(pde & 1)) {
		if (pte & 1)
			kill_guest("SET_PTE for a slot without a page table", va);
		return;
	}
	now = ((u32 *)gmem(pde & ~0xfff, 4096))[(va >> 12) & 1023];
	if ((now & ~0x60u) != (pte & ~0x60u))  /* ignore accessed/dirty */
		kill_guest("SET_PTE value differs from the page table", va);
	if (pte & 0x88)
		kill_guest("SET_PTE with PWT or PSE", pte);
}

static u32 hypercall(u32 call, u32 a1, u32 a2, u32 a3, int async)
{
	u32 ret = 0;

	if (call < 17)
		counts[call]++;
	if (trace_on && !(call == 13 && a1 == 0) &&
	    !((call == 9 || call == 10) && counts[call] > 2))
		say("%s%u %s(%x, %x, %x)\n", async ? "[ring] " : "", call,
		    call < 17 ? names[call] : "?", a1, a2, a3);
	if (!ld && call != 1)
		kill_guest("hypercall before LGUEST_INIT", call);

	switch (call) {
	case 0:                                 /* FLUSH_ASYNC: ring already run */
		break;
	case 1:                                 /* LGUEST_INIT */
		if (ld)
			kill_guest("second LGUEST_INIT", a1);
		ld = gmem(a1, sizeof(*ld));
		ld_pa = a1;
		ld->reserve_mem = 4u << 20;
		ld->guestid = 0;
		ld->tsc_khz = 0;
		say("LGUEST_INIT: lguest_data at %x, noirq [%x, %x)\n", a1,
		    ld->noirq_start, ld->noirq_end);
		break;
	case 2: {                               /* CRASH */
		char msg[129];
		memcpy(msg, gmem(a1, 128), 128);
		msg[128] = 0;
		puts("\n");
		say("CRASH: %s\n", msg);
		say("%u shadow page faults handled by the host\n", shadow_faults);
		say("hypercall counts:");
		for (u32 i = 0; i < 17; i++)
			if (counts[i])
				puts(" "), puts(names[i]), puts("="), putnum(counts[i], 10);
		puts("\n");
		quit(memeq(msg, "Power down", 11) ? 0 : 1);
	}
	case 3: {                               /* LOAD_GDT */
		struct desc *g = gmem(a1, a2 * 8);
		if (a2 > 32)
			kill_guest("too many GDT entries", a2);
		for (u32 i = 0; i < a2; i++) {
			if (i == 10 || i == 11 || i == 16 || i == 31)
				continue;
			gdt[i] = g[i];
			fix_guest_desc(&gdt[i]);
		}
		break;
	}
	case 4:                                 /* NEW_PGTABLE */
		new_pgtable(a1);
		break;
	case 5:                                 /* FLUSH_TLB */
		if (a1)
			flush_all();
		else
			flush_user(cur);
		break;
	case 6: {                               /* LOAD_IDT_ENTRY */
		u32 v = a1, type = (a3 >> 8) & 0x1f;
		if (v == 2 || v == 8 || v == 15 || v == 0x1F)
			break;
		if (v >= 64 && v != 0x80)
			break;
		if (!(a3 & 0x8000)) {
			guest_idt[v].a = guest_idt[v].b = 0;
		} else {
			if (type != 0xE && type != 0xF)
				kill_guest("bad IDT type", v);
			guest_idt[v].a = (GUEST_CS << 16) | (a2 & 0xffff);
			guest_idt[v].b = a3 & 0xFFFFEF00;
		}
		/* Direct traps: Guest trap gates for exceptions and 0x80. */
		if ((v < 32 || v == 0x80) && (a3 & 0x8000) && type == 0xF &&
		    v != 7 && v != 13 && v != 14)
			idt[v] = guest_idt[v];
		else if (v < 32 || v == 0x80)
			set_host_gate(v);
		break;
	}
	case 7:                                 /* SET_STACK */
		if ((a1 & 3) != 1)
			kill_guest("SET_STACK segment without RPL 1", a1);
		if (a3 > 2)
			kill_guest("SET_STACK with too many pages", a3);
		tss.ss1 = a1;
		tss.esp1 = a2;
		stack_esp = a2;
		stack_pages = a3;
		pin_stack_pages();
		break;
	case 8:                                 /* TS */
		break;
	case 9:                                 /* SET_CLOCKEVENT(ns) */
		if (!a1) {
			clock_armed = 0;
		} else {
			u32 ms = (a1 + 999999) / 1000000;
			clock_expiry = host_ticks + (ms ? ms : 1);
			clock_armed = 1;
		}
		break;
	case 10:                                /* HALT */
		halted = 1;
		while (console_feed(), !(irqs_pending & ~ld->blocked_interrupts))
			asm volatile("sti; hlt; cli" ::: "memory");
		break;
	case 11:                                /* GET_WALLCLOCK */
		ret = 1191888000;               /* 9 Oct 2007, 2.6.23 */
		break;
	case 12: {                              /* BIND_DMA */
		u32 irq = a3 & 0xff, num = a3 >> 8;
		if (irq >= 32)
			return 0;
		if (a1 & 3)
			kill_guest("unaligned DMA key", a1);
		if (irq == 0) {
			ret = con_bound && con_dma_pa == a2;
			con_bound = 0;
			break;
		}
		if (a1 != 0 || num < 1 || con_bound)
			return 0;               /* only the console key here */
		gmem(a2, num * sizeof(struct lguest_dma));
		con_dma_pa = a2;
		con_irq = irq;
		con_bound = 1;
		ret = 1;
		break;
	}
	case 13:                                /* SEND_DMA */
		do_send_dma(a1, a2);
		break;
	case 14:                                /* SET_PTE(pgdir, va, pte) */
		check_pte(a1, a2, a3);
		set_pte(a1, a2, a3);
		break;
	case 15:                                /* SET_PMD(pgdir, index) */
		if (a1 & 0xfff)
			kill_guest("unaligned SET_PMD pgdir", a1);
		set_pmd(a1, a2);
		break;
	case 16: {                              /* LOAD_TLS */
		struct desc *t = gmem(a1, 24);
		for (u32 i = 0; i < 3; i++) {
			gdt[6 + i] = t[i];
			fix_guest_desc(&gdt[6 + i]);
		}
		break;
	}
	default:
		kill_guest("bad hypercall", call);
	}
	return call == 11 || call == 12 ? ret : ~0u;
}

static void run_async_ring(void)
{
	u32 n;
	for (n = 0; n < 64; n++) {
		u32 i = next_hcall;
		if (ld->hcall_status[i] == 0xFF)
			break;
		hypercall(ld->hcalls[i].eax, ld->hcalls[i].edx, ld->hcalls[i].ebx,
			  ld->hcalls[i].ecx, 1);
		ld->hcall_status[i] = 0xFF;
		next_hcall = (i + 1) % 64;
	}
}

/* ---- putting a trap or interrupt on the Guest's stack (§5.3) ---- */
static void push(u32 *esp, u32 v)
{
	*esp -= 4;
	if (*esp < PAGE_OFFSET)
		kill_guest("guest stack outside the kernel mapping", *esp);
	*(u32 *)gmem(*esp - PAGE_OFFSET, 4) = v;
}

static void deliver(struct regs *r, u32 v, int has_err, u32 err)
{
	struct desc *g = &guest_idt[v];
	u32 ss, esp, eflags;

	if (!(g->b & 0x8000)) {
		say("unhandled trap %u at eip %x (err %x, cr2 %x)\n", v, r->eip, err,
		    ld ? ld->cr2 : 0);
		kill_guest("unhandled trap", v);
	}
	if ((r->ss & 3) != 1) {                 /* from ring 3: kernel stack */
		ss = tss.ss1;
		esp = tss.esp1;
		push(&esp, r->ss);
		push(&esp, r->esp);
	} else {
		ss = r->ss;
		esp = r->esp;
	}
	eflags = (r->eflags & ~IF) | (ld->irq_enabled & IF);
	push(&esp, eflags);
	push(&esp, r->cs);
	push(&esp, r->eip);
	if (has_err)
		push(&esp, err);
	r->ss = ss;
	r->esp = esp;
	r->cs = GUEST_CS;
	r->eip = (g->a & 0xffff) | (g->b & 0xffff0000);
	if (((g->b >> 8) & 0xf) == 0xE)
		ld->irq_enabled = 0;
}

static void maybe_do_interrupt(struct regs *r)
{
	u32 pend, irq;

	if (!ld)
		return;
	console_feed();
	pend = irqs_pending & ~ld->blocked_interrupts;
	if (!pend)
		return;
	if (r->eip >= ld->noirq_start && r->eip < ld->noirq_end)
		return;
	if (halted) {
		ld->irq_enabled = IF;
		halted = 0;
	} else if (!(ld->irq_enabled & IF)) {
		return;
	}
	irq = __builtin_ctz(pend);
	if (!(guest_idt[32 + irq].b & 0x8000))
		return;
	irqs_pending &= ~(1u << irq);
	deliver(r, 32 + irq, 0, 0);
}

static void host_irq(int irq)
{
	if (irq == 0) {
		host_ticks++;
		if (clock_armed && (int)(host_ticks - clock_expiry) >= 0) {
			clock_armed = 0;
			irqs_pending |= 1;
		}
	} else if (irq == 4) {
		while (inb(COM1 + 5) & 1) {
			char c = inb(COM1);
			if (in_head - in_tail < sizeof(in_ring))
				in_ring[in_head++ % sizeof(in_ring)] = c;
		}
	}
	outb(0x20, 0x20);
}

static int has_errcode(u32 v) { return v == 8 || (v >= 10 && v <= 14) || v == 17; }

u32 host_trap(struct regs *r)
{
	u32 v = r->vector;

	if (v >= 32 && v < 48) {
		host_irq(v - 32);
		if ((r->cs & 3) == 0)
			return hpa(host_pgdir); /* woke us from HALT */
	} else if ((r->cs & 3) == 0) {
		say("host fault: vector %u at %x err %x\n", v, r->eip, r->err);
		quit(2);
	}
	if (ld)
		run_async_ring();
	if (v == 0x1F) {
		u32 ret = hypercall(r->eax, r->edx, r->ebx, r->ecx, 0);
		if (ret != ~0u)
			r->eax = ret;
	} else if (v == 14) {
		u32 cr2;
		asm volatile("movl %%cr2, %0" : "=r"(cr2));
		if (!demand_page(cr2, r->err)) {
			if (!ld)
				kill_guest("page fault before LGUEST_INIT", cr2);
			ld->cr2 = cr2;
			deliver(r, 14, 1, r->err);
		}
	} else if (v == 13) {
		u8 *ip = r->eip >= PAGE_OFFSET ? gmem(r->eip - PAGE_OFFSET, 2) : (u8 *)"??";
		say("#GP at eip %x (bytes %x %x), err %x: reflected\n", r->eip, ip[0], ip[1], r->err);
		deliver(r, 13, 1, r->err);
	} else if (v == 7) {
		/* no lazy FPU here: absorb */
	} else if (v < 32 || v == 0x80) {
		deliver(r, v, has_errcode(v), r->err);
	}
	maybe_do_interrupt(r);
	return current_cr3();
}

/* ---- the Launcher's part ---- */
struct mb_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr; };
struct mb_mod { u32 start, end, string, reserved; };

static u32 strlen(const char *s) { u32 n = 0; while (s[n]) n++; return n; }

static u32 load_elf(const u8 *img, u32 size, u32 *page_offset)
{
	const u32 *eh = (const u32 *)img;
	u32 phoff = eh[7], i, start = ~0u, end = 0, off = 0;
	u16 phnum = *(const u16 *)(img + 44), type = *(const u16 *)(img + 16),
	    mach = *(const u16 *)(img + 18);

	if (size < 52 || eh[0] != 0x464C457F || type != 2 || mach != 3)
		kill_guest("not an i386 ET_EXEC ELF", eh[0]);
	for (i = 0; i < phnum; i++) {
		const u32 *ph = (const u32 *)(img + phoff + 32 * i);
		/* p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz */
		if (ph[0] != 1)
			continue;
		if (!off)
			off = ph[2] - ph[3];
		else if (off != ph[2] - ph[3])
			kill_guest("segments with different page offsets", i);
		if (ph[3] + ph[5] > GUEST_MEM - (1 << 20) || ph[1] + ph[4] > size)
			kill_guest("segment out of range", ph[3]);
		memcpy(gmem(ph[3], ph[5]), img + ph[1], ph[4]);
		memset(gmem(ph[3] + ph[4], 0), 0, ph[5] - ph[4]);
		say("loaded segment: paddr %x vaddr %x filesz %x memsz %x\n",
		    ph[3], ph[2], ph[4], ph[5]);
		if (ph[3] < start)
			start = ph[3];
		if (ph[3] + ph[4] > end)
			end = ph[3] + ph[4];
	}
	*page_offset = off;
	for (i = start; i + 13 <= end; i++)
		if (memeq(gmem(i, 13), "Genuine" "Lguest", 13))
			return i + 13 + off;
	kill_guest("Is this image a genuine lguest?", 0);
}

static struct regs start_regs;

void host_main(u32 mbi_pa)
{
	struct mb_info *mbi = (struct mb_info *)mbi_pa;
	struct mb_mod *mod;
	const char *hcmd = (mbi->flags & 4) ? (const char *)mbi->cmdline : "";
	const char *gcmd;
	u32 page_offset, entry, pgdir, i, v;
	u8 *boot = gmem(0, 8192);

	outb(COM1 + 1, 0); outb(COM1 + 3, 0x80); outb(COM1, 1); outb(COM1 + 1, 0);
	outb(COM1 + 3, 3); outb(COM1 + 2, 0x07); outb(COM1 + 4, 0x0B);
	for (i = 0; hcmd[i]; i++)
		if (memeq(hcmd + i, "trace", 5))
			trace_on = 1;
	say("lguest test host (2.6.23 ABI), guest RAM %u MB\n", GUEST_MEM >> 20);
	if (!(mbi->flags & 8) || mbi->mods_count < 1)
		kill_guest("no guest module (qemu -initrd \"guest.elf args\")", 0);
	mod = (struct mb_mod *)mbi->mods_addr;

	/* Guest command line: the module string after its first word. */
	gcmd = mod->string ? (const char *)mod->string : "";
	while (*gcmd && *gcmd != ' ')
		gcmd++;
	while (*gcmd == ' ')
		gcmd++;

	memset(boot, 0, 8192);
	entry = load_elf((const u8 *)mod->start, mod->end - mod->start, &page_offset);
	say("page_offset %x, entry %x (after the marker)\n", page_offset, entry);

	/* Boot block: E820, command line at 4096, hardware_subarch = 1. */
	boot[0x1e8] = 1;
	((u32 *)(boot + 0x2d0))[0] = 0;
	((u32 *)(boot + 0x2d0))[1] = 0;
	((u32 *)(boot + 0x2d0))[2] = GUEST_MEM;
	((u32 *)(boot + 0x2d0))[3] = 0;
	((u32 *)(boot + 0x2d0))[4] = 1;
	*(u32 *)(boot + 0x228) = 4096;
	memcpy(boot + 4096, gcmd, strlen(gcmd) + 1);
	*(u32 *)(boot + 0x23c) = 1;

	/* Device page after RAM: the console is device 0, so IRQ 1. */
	memset(gmem(GUEST_MEM, 4096), 0, 4096);
	*(u16 *)gmem(GUEST_MEM, 2) = 1;

	/* Initial page tables just below the top of RAM, flags 0x7. */
	pgdir = GUEST_MEM - 4096;
	memset(gmem(pgdir, 4096), 0, 4096);
	for (i = 0; i < GUEST_MEM / (4u << 20); i++) {
		u32 pt = pgdir - 4096 * (GUEST_MEM / (4u << 20)) + 4096 * i;
		for (v = 0; v < 1024; v++)
			((u32 *)gmem(pt, 4096))[v] = ((i << 22) + (v << 12)) | 7;
		((u32 *)gmem(pgdir, 4096))[(page_offset >> 22) + i] = pt | 7;
	}

	/* Our GDT, IDT, TSS; the 8259 and a 1 kHz PIT. */
	gdt[10] = (struct desc){ 0x0000ffff, 0x00cf9b00 };
	gdt[11] = (struct desc){ 0x0000ffff, 0x00cf9300 };
	gdt[12] = (struct desc){ 0x0000ffff, 0x00cfbb00 };     /* DPL 1 */
	gdt[13] = (struct desc){ 0x0000ffff, 0x00cfb300 };
	tss.esp0 = (u32)host_stack + 16384;
	tss.ss0 = LGUEST_DS;
	tss.iomap = sizeof(tss);
	gdt[16].a = (sizeof(tss) - 1) | ((u32)&tss << 16);
	gdt[16].b = (((u32)&tss >> 16) & 0xff) | 0x8900 | ((u32)&tss & 0xff000000);
	for (i = 0; i < 256; i++)
		set_host_gate(i);
	{
		struct { u16 l; u32 b; } __attribute__((packed)) g = { sizeof(gdt) - 1, (u32)gdt },
			d = { sizeof(idt) - 1, (u32)idt };
		asm volatile("lgdt %0; lidt %1; ljmp %2, $1f; 1:" :: "m"(g), "m"(d), "i"(LGUEST_CS));
		asm volatile("movl %0, %%ds; movl %0, %%es; movl %0, %%ss; ltr %w1"
			     :: "r"(LGUEST_DS), "r"(16 * 8));
	}
	outb(0x20, 0x11); outb(0xA0, 0x11); outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 4); outb(0xA1, 2); outb(0x21, 1); outb(0xA1, 1);
	outb(0x21, 0xEE); outb(0xA1, 0xFF);    /* IRQ 0 and 4 */
	outb(0x43, 0x34); outb(0x40, 1193182 / 1000 & 0xff); outb(0x40, (1193182 / 1000) >> 8);
	outb(COM1 + 1, 1);

	say("INITIALIZE: pfnlimit %x, pgdir %x, start %x, page_offset %x\n",
	    GUEST_MEM / 4096 + 1, pgdir, entry, page_offset);
	say("starting the guest at ring 1\n");
	new_pgtable(pgdir);
	asm volatile("movl %0, %%cr3" :: "r"(current_cr3()) : "memory");
	start_regs = (struct regs){ .gs = 0, .fs = 0, .es = GUEST_DS, .ds = GUEST_DS,
		.eip = entry, .cs = GUEST_CS, .eflags = 0x202, .esp = 0, .ss = GUEST_DS };
	launch(&start_regs);
}
