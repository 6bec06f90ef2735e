/*
 * lguest.c - the operations for running as an lguest Guest (2.6.23 ABI).
 *
 * Under lguest we run at ring 1 and the Host (the hypervisor) owns the real
 * CPU tables, page tables and devices.  Each paravirt op therefore becomes
 * either a write to the shared struct lguest_data or a hypercall: "int $0x1f"
 * with the call in %eax and arguments in %edx, %ebx, %ecx.
 *
 *  - Interrupt flag: lguest_data.irq_enabled is the virtual EFLAGS.IF (0 or
 *    512).  cli/sti would fault at ring 1; the Host reads this word before
 *    it injects an interrupt, and clears it when it delivers one through an
 *    interrupt gate.  Returning restores it: see lguest_iret in entry.S.
 *  - Per-IRQ masking: lguest_data.blocked_interrupts (bit n = IRQ n).
 *  - Tables: LOAD_GDT (the whole 32-entry table), LOAD_IDT_ENTRY (one gate),
 *    LOAD_TLS (entries 6-8), SET_STACK (the ring-1 stack for traps from
 *    ring 3).
 *  - Paging: the Host keeps shadow page tables, so every change we make to
 *    ours is reported: NEW_PGTABLE (cr3), SET_PTE, SET_PMD, FLUSH_TLB.  In
 *    "lazy" stretches these are queued in the asynchronous ring inside
 *    lguest_data instead, and LHCALL_FLUSH_ASYNC at the end has the Host run
 *    them (it also drains the ring on every exit, before any synchronous
 *    call, so order is kept).
 *  - Time: a one-shot clock event, SET_CLOCKEVENT(ns), re-armed on each tick
 *    (IRQ 0); GET_WALLCLOCK for the date.
 *  - Idle: HALT, which the Host ends by delivering an interrupt (and setting
 *    irq_enabled, since halting implies interrupts on).
 *  - Console (DMA-era lguest_bus device of type 1): output is SEND_DMA of one
 *    buffer to key 0, which the Launcher writes to its stdout; input is one
 *    256-byte buffer bound at key 0 with BIND_DMA, filled by the Launcher,
 *    announced by the console's IRQ (device index + 1).
 *  - The end: CRASH with a message (panics), or with "Power down".
 */
#include "guest.h"
#include "lguest_abi.h"

extern char lguest_noirq_start[], lguest_noirq_end[];
extern void lguest_iret(void);

struct lguest_data lguest_data = {
	.irq_enabled = 0,
	.blocked_interrupts = 1,        /* the timer stays blocked until set up */
	.hcall_status = { [0 ... LHCALL_RING_SIZE - 1] = 0xFF },
	.noirq_start = (u32)lguest_noirq_start,
	.noirq_end = (u32)lguest_noirq_end,
};

/* ---- hypercalls, with an optional trace for the boot log ---- */
struct trace { u32 call, a1, a2, a3, ret; int async; };
static struct trace trace[160];
static int trace_len, trace_lost, console_sends;

static const char *const hcall_names[] = {
	"FLUSH_ASYNC", "LGUEST_INIT", "CRASH", "LOAD_GDT", "NEW_PGTABLE",
	"FLUSH_TLB", "LOAD_IDT_ENTRY", "SET_STACK", "TS", "SET_CLOCKEVENT",
	"HALT", "GET_WALLCLOCK", "BIND_DMA", "SEND_DMA", "SET_PTE", "SET_PMD",
	"LOAD_TLS",
};

static void trace_add(u32 call, u32 a1, u32 a2, u32 a3, u32 ret, int async)
{
	if (trace_len < (int)ARRAY_SIZE(trace))
		trace[trace_len++] = (struct trace){ call, a1, a2, a3, ret, async };
	else
		trace_lost++;
}

static u32 hcall_raw(u32 call, u32 a1, u32 a2, u32 a3)
{
	asm volatile("int $0x1f" : "+a"(call) : "d"(a1), "b"(a2), "c"(a3) : "memory");
	return call;
}

static u32 hcall(u32 call, u32 a1, u32 a2, u32 a3)
{
	u32 ret = hcall_raw(call, a1, a2, a3);
	trace_add(call, a1, a2, a3, ret, 0);
	return ret;
}

/*
 * The asynchronous ring (uniprocessor only, like the original): take the
 * next slot if the Host has marked it free (0xFF), fill in the four words,
 * and only then mark it pending (0).  A full ring means the Host has not
 * caught up: make the call synchronously, which drains the ring first.
 */
static u32 next_call;
static int lazy_mode;

static void async_hcall(u32 call, u32 a1, u32 a2, u32 a3)
{
	u32 flags = lguest_data.irq_enabled;
	lguest_data.irq_enabled = 0;
	barrier();
	if (lguest_data.hcall_status[next_call] != 0xFF) {
		hcall(call, a1, a2, a3);
	} else {
		struct hcall_ring_entry *e = &lguest_data.hcalls[next_call];
		e->eax = call;
		e->edx = a1;
		e->ebx = a2;
		e->ecx = a3;
		barrier();
		lguest_data.hcall_status[next_call] = 0;
		trace_add(call, a1, a2, a3, next_call, 1);
		next_call = (next_call + 1) % LHCALL_RING_SIZE;
	}
	barrier();
	lguest_data.irq_enabled = flags;
}

static void lazy_hcall(u32 call, u32 a1, u32 a2, u32 a3)
{
	if (lazy_mode)
		async_hcall(call, a1, a2, a3);
	else
		hcall(call, a1, a2, a3);
}

static void lg_lazy_mmu_begin(void) { lazy_mode = 1; }
static void lg_lazy_mmu_end(void)
{
	lazy_mode = 0;
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0);
}

/* For the selftest: has the Host consumed every queued call? */
int lguest_ring_drained(void)
{
	int i;
	for (i = 0; i < LHCALL_RING_SIZE; i++)
		if (((volatile u8 *)lguest_data.hcall_status)[i] != 0xFF)
			return 0;
	return 1;
}

void lguest_hcall_trace_dump(void)
{
	int i, n = trace_len;
	if (!boot.lguest)
		return;
	printk("hcall trace: %d calls (plus %d console SEND_DMA to key 0)\n",
	       n, console_sends);
	for (i = 0; i < n; i++) {
		struct trace *t = &trace[i];
		const char *name = t->call < ARRAY_SIZE(hcall_names) ? hcall_names[t->call] : "?";
		if (t->async)
			printk("  %d: [ring %u] %u %s(%x, %x, %x)\n", i, t->ret,
			       t->call, name, t->a1, t->a2, t->a3);
		else
			printk("  %d: %u %s(%x, %x, %x) = %x\n", i, t->call, name,
			       t->a1, t->a2, t->a3, t->ret);
	}
	if (trace_lost)
		printk("  ... %d more not recorded\n", trace_lost);
}

/* ---- interrupt flag ---- */
static u32 lg_save_fl(void) { barrier(); return ((volatile struct lguest_data *)&lguest_data)->irq_enabled; }
static void lg_restore_fl(u32 f) { barrier(); lguest_data.irq_enabled = f & X86_EFLAGS_IF; barrier(); }
static void lg_irq_disable(void) { barrier(); lguest_data.irq_enabled = 0; barrier(); }
static void lg_irq_enable(void) { barrier(); lguest_data.irq_enabled = X86_EFLAGS_IF; barrier(); }
static void lg_safe_halt(void) { hcall(LHCALL_HALT, 0, 0, 0); }

/* ---- tables ---- */
static void lg_load_gdt(struct desc *table, int entries)
{
	hcall(LHCALL_LOAD_GDT, __pa(table), entries, 0);
}

static void lg_write_idt_entry(struct desc *table, int v, u32 lo, u32 hi)
{
	table[v].a = lo;
	table[v].b = hi;
	/* The Host owns NMI, double fault, spurious and the hypercall vector. */
	if (v == 2 || v == 8 || v == 15 || v == LGUEST_TRAP_ENTRY)
		return;
	hcall(LHCALL_LOAD_IDT_ENTRY, v, lo, hi);
}

static void lg_load_idt(struct desc *table, int entries)
{
	(void)table; (void)entries;     /* every gate went to the Host already */
}

static void lg_load_tls(struct desc *table, struct desc tls[3])
{
	int i;
	for (i = 0; i < 3; i++)
		table[GDT_ENTRY_TLS_MIN + i] = tls[i];
	lazy_hcall(LHCALL_LOAD_TLS, __pa(&table[GDT_ENTRY_TLS_MIN]), 0 /* cpu */, 0);
}

static void lg_load_kernel_stack(u32 esp_top, u32 pages)
{
	lazy_hcall(LHCALL_SET_STACK, KERNEL_DS | 1, esp_top, pages);
}

/* ---- MMU ---- */
static void lg_set_pte(u32 *pgdir, u32 vaddr, u32 *ptep, u32 pte)
{
	*ptep = pte;
	lazy_hcall(LHCALL_SET_PTE, __pa(pgdir), vaddr, pte);
}

static void lg_set_pmd(u32 *pgdir, u32 index, u32 pde)
{
	pgdir[index] = pde;
	lazy_hcall(LHCALL_SET_PMD, __pa(pgdir), index, 0);
}

static void lg_write_cr3(u32 *pgdir) { lazy_hcall(LHCALL_NEW_PGTABLE, __pa(pgdir), 0, 0); }
static u32 lg_read_cr2(void) { return ((volatile struct lguest_data *)&lguest_data)->cr2; }
static void lg_flush_tlb_kernel(void) { lazy_hcall(LHCALL_FLUSH_TLB, 1, 0, 0); }
static void lg_flush_tlb_user(void) { lazy_hcall(LHCALL_FLUSH_TLB, 0, 0, 0); }

/* ---- virtual interrupt controller and clock ---- */
static void lg_nop(void) { }
static void lg_irq_unmask(int irq) { lguest_data.blocked_interrupts &= ~(1u << irq); }
static void lg_irq_ack(int irq) { (void)irq; }

static u32 tick_ns;
static void lg_timer_init(u32 hz)
{
	tick_ns = 1000000000u / hz;
	hcall(LHCALL_SET_CLOCKEVENT, tick_ns, 0, 0);
}
static int tick_stopped;
static void lg_timer_tick(void)
{
	if (!tick_stopped)
		hcall_raw(LHCALL_SET_CLOCKEVENT, tick_ns, 0, 0);    /* not traced */
}
/* SET_CLOCKEVENT(0) disarms the Host's clock: a halted guest then costs the Host nothing. */
static void lg_tick_stop(void)
{
	tick_stopped = 1;
	hcall_raw(LHCALL_SET_CLOCKEVENT, 0, 0, 0);
}
static void lg_tick_start(void)
{
	tick_stopped = 0;
	hcall_raw(LHCALL_SET_CLOCKEVENT, tick_ns, 0, 0);
}

/* ---- console over DMA ---- */
static struct lguest_dma out_dma __attribute__((aligned(128)));
static char out_buf[256] __attribute__((aligned(256)));   /* never crosses a page */
static struct lguest_dma in_dma __attribute__((aligned(128)));
static char in_buf[256] __attribute__((aligned(256)));

static void lg_console_write(const char *s, int len)
{
	while (len > 0) {
		int n = len > (int)sizeof(out_buf) ? (int)sizeof(out_buf) : len;
		memcpy(out_buf, s, n);
		out_dma.addr[0] = __pa(out_buf);
		out_dma.len[0] = n;
		out_dma.len[1] = 0;
		out_dma.used_len = 0;
		hcall_raw(LHCALL_SEND_DMA, LGUEST_CONSOLE_DMA_KEY, __pa(&out_dma), 0);
		console_sends++;
		s += n;
		len -= n;
	}
}

static void lg_console_irq(void)
{
	u32 n = ((volatile struct lguest_dma *)&in_dma)->used_len;
	if (!n)
		return;
	if (n > sizeof(in_buf))
		n = sizeof(in_buf);
	console_input_bytes(in_buf, n);
	barrier();
	in_dma.used_len = 0;            /* hand the buffer back */
}

/*
 * The device page sits just past the end of RAM; paging_init() maps it
 * there in the linear map (like ioremap).  The console is the device of
 * type 1; its interrupt is its index + 1.
 */
static int lg_console_input_init(void)
{
	struct lguest_device_desc *d = __va(boot.ram_bytes);
	int i, irq;

	for (i = 0; i < LGUEST_MAX_DEVICES; i++)
		if (d[i].type == LGUEST_DEVICE_T_CONSOLE)
			break;
	if (i == LGUEST_MAX_DEVICES) {
		printk("lguest: no console in the device page: no input\n");
		return -1;
	}
	d[i].status |= LGUEST_DEVICE_S_ACKNOWLEDGE | LGUEST_DEVICE_S_DRIVER;
	irq = i + 1;
	in_dma.addr[0] = __pa(in_buf);
	in_dma.len[0] = sizeof(in_buf);
	in_dma.len[1] = 0;
	barrier();
	in_dma.used_len = 0;
	irq_register(irq, lg_console_irq);
	if (!hcall(LHCALL_BIND_DMA, LGUEST_CONSOLE_DMA_KEY, __pa(&in_dma), (1 << 8) | irq)) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("lguest: BIND_DMA for console input failed\n");
		return -1;
	}
	d[i].status |= LGUEST_DEVICE_S_DRIVER_OK;
	return irq;
}

/*
 * ---- the block device (lguest_block, abi section 8.3) ----
 *
 * One page of device memory holds the request (type, sector, bytes), the
 * Launcher's result and the disk's size.  The reply buffer is bound at the
 * page's own address with the device's IRQ.  One request is in flight: a
 * write sends the data to the key; a read points the reply buffer at the
 * destination and sends an empty DMA as a doorbell.  The Launcher sets
 * result (1 done, 2 error) and raises the IRQ; we wait for result.
 */
struct lguest_block_page {
	int type;               /* 0 read, 1 write, 2 flush (ours; 2.6.23 had none) */
	u32 sector;
	u32 bytes;
	int result;             /* 0 pending, 1 done, 2 error */
	u32 num_sectors;
};

static volatile struct lguest_block_page *blk_page;
static u32 blk_key;
static struct lguest_dma blk_reply __attribute__((aligned(128)));
static struct lguest_dma blk_send __attribute__((aligned(128)));
static u32 blk_irq_count;

static void lg_block_irq(void)
{
	blk_irq_count++;        /* the waiter looks at result itself */
}

/* Finds and sets up the first block device; its size in sectors, or 0 when there is none. */
u32 lguest_block_init(void)
{
	struct lguest_device_desc *d = __va(boot.ram_bytes);
	int i, irq;
	u32 page;

	if (!boot.lguest)
		return 0;
	for (i = 0; i < LGUEST_MAX_DEVICES; i++)
		if (d[i].type == LGUEST_DEVICE_T_BLOCK)
			break;
	if (i == LGUEST_MAX_DEVICES)
		return 0;
	d[i].status |= LGUEST_DEVICE_S_ACKNOWLEDGE | LGUEST_DEVICE_S_DRIVER;
	if (d[i].num_pages < 1) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("block: device %d has no page\n", i);
		return 0;
	}
	page = d[i].pfn << 12;
	map_page((u32)__va(page), page, PTE_P | PTE_W);
	pv.flush_tlb_kernel();
	blk_page = __va(page);
	blk_key = page;
	irq = i + 1;
	irq_register(irq, lg_block_irq);
	blk_reply.len[0] = 0;
	blk_reply.used_len = 0;
	if (!hcall(LHCALL_BIND_DMA, blk_key, __pa(&blk_reply), (1 << 8) | irq)) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("block: BIND_DMA failed\n");
		return 0;
	}
	d[i].status |= LGUEST_DEVICE_S_DRIVER_OK;
	printk("block: %u sectors (%u MB) on IRQ %d, page %x\n", blk_page->num_sectors,
	       blk_page->num_sectors >> 11, irq, page);
	return blk_page->num_sectors;
}

/* Points `dma` at `bytes` of the page-aligned `buf`, one section per page. */
static void blk_sections(struct lguest_dma *dma, void *buf, u32 bytes)
{
	u32 i;
	for (i = 0; bytes && i < LGUEST_MAX_DMA_SECTIONS; i++) {
		u32 n = bytes < PAGE_SIZE ? bytes : PAGE_SIZE;
		dma->addr[i] = __pa(buf) + i * PAGE_SIZE;
		dma->len[i] = n;
		bytes -= n;
	}
	if (i < LGUEST_MAX_DMA_SECTIONS)
		dma->len[i] = 0;
}

/*
 * One request: the page says what, the send (its sections already set) is
 * the data or the doorbell; waits for the Launcher's result.  0 when done,
 * -1 on an I/O error.
 */
static int blk_request(int type, u32 sector, u32 bytes)
{
	blk_page->type = type;
	blk_page->sector = sector;
	blk_page->bytes = bytes;
	blk_page->result = 0;
	blk_send.used_len = 0;
	barrier();
	blk_reply.used_len = 0;
	hcall(LHCALL_SEND_DMA, blk_key, __pa(&blk_send), 0);
	while (!blk_page->result)
		idle_wait();
	return blk_page->result == 1 ? 0 : -1;
}

/*
 * Reads or writes `count` sectors (at most 128: 64 KB, 16 pages) at
 * `sector` from or into the page-aligned `buf`.  0 when done, -1 on an I/O
 * error.
 */
int lguest_block_rw(int write, u32 sector, u32 count, void *buf)
{
	u32 bytes = count * 512;

	if (count == 0 || count > 128)
		panic("block: %u sectors in one request", count);
	if (write) {
		blk_sections(&blk_send, buf, bytes);
	} else {
		blk_sections(&blk_reply, buf, bytes);
		blk_send.len[0] = 0;            /* an empty DMA: the doorbell */
	}
	return blk_request(write, sector, bytes);
}

/*
 * ---- the network device (lguest_net, abi section 8.4) ----
 *
 * The device's page is a map of peers: one 6-byte MAC per slot, 682 slots.
 * Our own slot is in the low bits of the descriptor's features; we write our
 * MAC there when we open.  A peer receives at key "page + 4 * its slot": on
 * an inter-guest LAN the page is shared by every guest on it, so those keys
 * are shared and the Host copies a send straight into the peer's buffer;
 * on a TAP device the page is ours alone and slot 0 is the Launcher's TAP,
 * so a send to it goes to the Launcher.  A peer with bit 0 of its first MAC
 * byte set wants every frame (the TAP does).  We bind 32 receive buffers
 * at our own key; the Host fills one, sets its used_len and raises our IRQ.
 */
struct lguest_net_slot { u8 mac[6]; };
#define NET_RX_BUFS     32              /* 2.6.23 bound 8; more keep a fast sender from waiting */
#define NET_FRAME_MAX   1514            /* ETH_HLEN + ETH_DATA_LEN */
#define NET_SLOTS       (PAGE_SIZE / sizeof(struct lguest_net_slot))

static volatile struct lguest_net_slot *net_map;
static u32 net_page, net_self, net_scan, net_scan_tick = ~0u;
static u8 net_rx[NET_RX_BUFS][2048] __attribute__((aligned(4096)));   /* 2 a page: none crosses */
static u8 net_tx[2048] __attribute__((aligned(2048)));
static struct lguest_dma net_rx_dma[NET_RX_BUFS] __attribute__((aligned(128)));
static struct lguest_dma net_tx_dma __attribute__((aligned(128)));
static u32 net_rx_next;
struct lguest_net_stats lguest_net_stats;

static void lg_net_irq(void)
{
	lguest_net_stats.irqs++;        /* the poller looks at used_len itself */
}

static void net_rx_arm(int i)
{
	net_rx_dma[i].addr[0] = __pa(net_rx[i]);
	net_rx_dma[i].len[0] = NET_FRAME_MAX;
	net_rx_dma[i].len[1] = 0;
	barrier();
	net_rx_dma[i].used_len = 0;
}

/* Finds and opens the first network device; 0 and our MAC in `mac`, or -1. */
int lguest_net_init(u8 mac[6], u32 *slot)
{
	struct lguest_device_desc *d = __va(boot.ram_bytes);
	int i, irq;

	if (!boot.lguest)
		return -1;
	for (i = 0; i < LGUEST_MAX_DEVICES; i++)
		if (d[i].type == LGUEST_DEVICE_T_NET)
			break;
	if (i == LGUEST_MAX_DEVICES)
		return -1;
	d[i].status |= LGUEST_DEVICE_S_ACKNOWLEDGE | LGUEST_DEVICE_S_DRIVER;
	if (d[i].num_pages < 1) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("net: device %d has no page\n", i);
		return -1;
	}
	net_page = d[i].pfn << 12;
	map_page((u32)__va(net_page), net_page, PTE_P | PTE_W);
	pv.flush_tlb_kernel();
	net_map = __va(net_page);
	net_self = d[i].features & 0x3FF;
	if (net_self >= NET_SLOTS) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("net: slot %u is outside the peer map\n", net_self);
		return -1;
	}
	/* Locally administered, unicast: 02:00:<guest id>:<slot>. */
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = lguest_data.guestid & 0xFF;
	mac[3] = lguest_data.guestid >> 8;
	mac[4] = net_self >> 8;
	mac[5] = net_self & 0xFF;
	irq = i + 1;
	irq_register(irq, lg_net_irq);
	for (int b = 0; b < NET_RX_BUFS; b++)
		net_rx_arm(b);
	if (!hcall(LHCALL_BIND_DMA, net_page + 4 * net_self, __pa(net_rx_dma), (NET_RX_BUFS << 8) | irq)) {
		d[i].status |= LGUEST_DEVICE_S_FAILED;
		printk("net: BIND_DMA failed\n");
		return -1;
	}
	for (int b = 0; b < 6; b++)
		net_map[net_self].mac[b] = mac[b];
	d[i].status |= LGUEST_DEVICE_S_DRIVER_OK;
	*slot = net_self;
	printk("net: slot %u of the peer map at %x, MAC %x:%x:%x:%x:%x:%x, IRQ %d%s\n",
	       net_self, net_page, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], irq,
	       (d[i].features & 0x4000) ? ", no checksums (LAN)" : "");
	return 0;
}

/* How far into the map peers reach: rescanned once a tick, so a send does not walk 682 slots. */
static u32 net_scan_limit(void)
{
	if (net_scan_tick != ticks) {
		u32 top = 0;
		for (u32 p = 0; p < NET_SLOTS; p++)
			if (net_map[p].mac[0])
				top = p + 1;
		net_scan = top;
		net_scan_tick = ticks;
	}
	return net_scan;
}

/*
 * Sends one Ethernet frame to every peer that should see it (broadcast and
 * multicast to all, a promiscuous peer always, otherwise the peer whose MAC
 * is the destination).  Returns how many peers did not take it (no free
 * buffer, or gone): the caller's drop count.
 */
int lguest_net_send(const void *frame, u32 len)
{
	const u8 *dst = frame;
	int missed = 0;
	u32 top;

	if (!net_map || len < 14 || len > NET_FRAME_MAX)
		return 1;
	memcpy(net_tx, frame, len);
	top = net_scan_limit();
	for (u32 p = 0; p < top; p++) {
		volatile u8 *m = net_map[p].mac;
		if (p == net_self || !m[0])
			continue;
		if (!(dst[0] & 1) && !(m[0] & 1) &&
		    ((m[0] & ~1) != dst[0] || m[1] != dst[1] || m[2] != dst[2] ||
		     m[3] != dst[3] || m[4] != dst[4] || m[5] != dst[5]))
			continue;
		net_tx_dma.addr[0] = __pa(net_tx);
		net_tx_dma.len[0] = len;
		net_tx_dma.len[1] = 0;
		net_tx_dma.used_len = 0;
		hcall_raw(LHCALL_SEND_DMA, net_page + 4 * p, __pa(&net_tx_dma), 0);
		if (((volatile struct lguest_dma *)&net_tx_dma)->used_len != len) {
			missed++;
			lguest_net_stats.tx_dropped++;
		} else {
			lguest_net_stats.tx_frames++;
			lguest_net_stats.tx_bytes += len;
		}
	}
	return missed;
}

/* Copies the next received frame into `buf` (NET_FRAME_MAX bytes) and re-arms its buffer; its length, or 0. */
int lguest_net_receive(void *buf)
{
	for (u32 k = 0; k < NET_RX_BUFS; k++) {
		u32 i = (net_rx_next + k) % NET_RX_BUFS;
		u32 n = ((volatile struct lguest_dma *)&net_rx_dma[i])->used_len;
		if (!n)
			continue;
		net_rx_next = i + 1;
		if (n < 14 || n > NET_FRAME_MAX) {
			lguest_net_stats.rx_bad++;
			net_rx_arm(i);
			continue;
		}
		memcpy(buf, net_rx[i], n);
		net_rx_arm(i);
		lguest_net_stats.rx_frames++;
		lguest_net_stats.rx_bytes += n;
		return n;
	}
	return 0;
}

int lguest_net_own_slot_holds(const u8 mac[6])
{
	if (!net_map)
		return 0;
	for (int b = 0; b < 6; b++)
		if (net_map[net_self].mac[b] != mac[b])
			return 0;
	return 1;
}

int lguest_net_buffers_armed(void)
{
	for (u32 i = 0; i < NET_RX_BUFS; i++) {
		struct lguest_dma *d = &net_rx_dma[i];
		if (d->addr[0] != __pa(net_rx[i]) || d->len[0] != NET_FRAME_MAX || d->len[1] != 0)
			return 0;
	}
	return net_map != NULL;
}

/* Whether a received frame waits (for the idle loop: do not halt then). */
int lguest_net_pending(void)
{
	if (!net_map)
		return 0;
	for (u32 i = 0; i < NET_RX_BUFS; i++)
		if (((volatile struct lguest_dma *)&net_rx_dma[i])->used_len)
			return 1;
	return 0;
}


/* Asks the Launcher to put everything written so far on stable storage (type 2, our extension). 0 or -1. */
int lguest_block_flush(void)
{
	blk_send.len[0] = 0;                    /* no data either way */
	blk_reply.len[0] = 0;
	return blk_request(2, 0, 0);
}

/*
 * ---- the power button (device type 4, our extension; 2.6.23 had none) ----
 *
 * The Launcher writes what it asks for (1 power off, 2 restart) into the
 * descriptor's features and raises the device's interrupt.  The handler
 * only notes it; the echo loop acts on it (flush the disk, power off: a
 * restart is the Launcher starting us again).
 */
static volatile struct lguest_device_desc *power_desc;

static void lg_power_irq(void)
{
	u32 asked = power_desc->features;
	power_request = asked ? asked : LGUEST_POWER_OFF;
}

static int lg_power_button_init(void)
{
	struct lguest_device_desc *d = __va(boot.ram_bytes);
	int i;

	for (i = 0; i < LGUEST_MAX_DEVICES; i++)
		if (d[i].type == LGUEST_DEVICE_T_POWER)
			break;
	if (i == LGUEST_MAX_DEVICES)
		return -1;
	power_desc = &d[i];
	d[i].status |= LGUEST_DEVICE_S_ACKNOWLEDGE | LGUEST_DEVICE_S_DRIVER;
	irq_register(i + 1, lg_power_irq);
	d[i].status |= LGUEST_DEVICE_S_DRIVER_OK;
	return i + 1;
}

/* ---- the end ---- */
static void __attribute__((noreturn)) lg_power_off(void)
{
	hcall_raw(LHCALL_CRASH, __pa("Power down"), 0, 0);
	for (;;)
		hcall_raw(LHCALL_HALT, 0, 0, 0);
}

static void __attribute__((noreturn)) lg_crash(const char *msg)
{
	static char buf[128];
	u32 n = strlen(msg);
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, msg, n);
	buf[n] = '\0';
	hcall_raw(LHCALL_CRASH, __pa(buf), 0, 0);
	for (;;)
		hcall_raw(LHCALL_HALT, 0, 0, 0);
}

static u32 subarch;
static void lg_boot_report(void)
{
	printk("lguest: lguest_data at %x (guest-physical), reserve_mem %u KB, "
	       "guestid %u, tsc_khz %u\n", __pa(&lguest_data),
	       lguest_data.reserve_mem >> 10, lguest_data.guestid, lguest_data.tsc_khz);
	if (subarch != 1)
		printk("lguest: warning: boot block hardware_subarch is %u, not 1\n", subarch);
	printk("lguest: wall clock %u s since the epoch\n", boot.wallclock);
	if (lguest_data.reserve_mem && DEMAND_END - 1 > 0xFFFFFFFFu - lguest_data.reserve_mem)
		panic("our address space overlaps the Host's reserved top");
}

static const struct pv_ops lguest_ops = {
	.iret = lguest_iret,
	.name = "lguest",
	.kernel_rpl = 1,
	.save_fl = lg_save_fl,
	.restore_fl = lg_restore_fl,
	.irq_disable = lg_irq_disable,
	.irq_enable = lg_irq_enable,
	.safe_halt = lg_safe_halt,
	.load_gdt = lg_load_gdt,
	.write_idt_entry = lg_write_idt_entry,
	.load_idt = lg_load_idt,
	.load_tls = lg_load_tls,
	.load_kernel_stack = lg_load_kernel_stack,
	.set_pte = lg_set_pte,
	.set_pmd = lg_set_pmd,
	.write_cr3 = lg_write_cr3,
	.read_cr2 = lg_read_cr2,
	.flush_tlb_kernel = lg_flush_tlb_kernel,
	.flush_tlb_user = lg_flush_tlb_user,
	.lazy_mmu_begin = lg_lazy_mmu_begin,
	.lazy_mmu_end = lg_lazy_mmu_end,
	.irq_init = lg_nop,
	.irq_unmask = lg_irq_unmask,
	.irq_ack = lg_irq_ack,
	.timer_init = lg_timer_init,
	.timer_tick = lg_timer_tick,
	.tick_stop = lg_tick_stop,
	.tick_start = lg_tick_start,
	.console_write = lg_console_write,
	.console_input_init = lg_console_input_init,
	.console_loopback = NULL,
	.power_button_init = lg_power_button_init,
	.power_off = lg_power_off,
	.crash = lg_crash,
	.boot_report = lg_boot_report,
};

/*
 * boot.S jumps here, on our own stack, with the boot block's virtual
 * address.  LGUEST_INIT must be the very first hypercall (the Host kills a
 * Guest that makes any other call first), so it comes before any output.
 */
void lguest_start(void *boot_block)
{
	u8 *bp = boot_block;
	u32 i, n, top = 0;

	pv = lguest_ops;
	boot.lguest = 1;
	hcall(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);

	/* Read the boot block now: we will reuse low memory later. */
	const char *cmd = __va(*(u32 *)(bp + BOOT_CMD_LINE_PTR));
	if (*(u32 *)(bp + BOOT_CMD_LINE_PTR)) {
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
	subarch = *(u32 *)(bp + BOOT_HARDWARE_SUBARCH);
	boot.wallclock = hcall(LHCALL_GET_WALLCLOCK, 0, 0, 0);
	kernel_main();
}
