/*
 * hostile-fuzz: random hypercalls from a seed.  `seed=N count=N` on the
 * command line (decimal; defaults 1 and 10000).  The kernel prints its seed,
 * then makes `count` calls, each either through `int $0x1f` or queued in
 * the asynchronous ring of lguest_data, with a console line every 500 calls
 * (legal traffic between the hostile calls).
 *
 * Numbers: mostly the calls a guest can survive with bad arguments (FLUSH_ASYNC,
 * FLUSH_TLB, TS, SET_CLOCKEVENT, GET_WALLCLOCK, BIND_DMA, SEND_DMA, LOAD_TLS,
 * LOAD_IDT_ENTRY of vectors we do not use, SET_PTE and SET_PMD on a page
 * directory we never load), and one call in 32 anything at all: any
 * number 0..31 or any 32-bit value, with the same arguments, which may tear
 * down our own page tables, GDT, IDT or stack.  HALT is left out (with no
 * interrupt coming it would wait for ever); CRASH only in the "anything" draw.
 *
 * Arguments lean to the edges: 0, -1, the end of RAM and its neighbours, the
 * Switcher's pages, unaligned and huge values, our own lguest_data, a
 * random 32-bit value.
 *
 * Ends: killed by the Host with its reason (most runs), or
 * CRASH "hostile: contained: fuzz: N calls from seed S" when all were made.
 * Either way the Host must not throw, and a guest beside us must not notice.
 */
#include "hostile.h"


static u32 scratch_pgdir[1024] __attribute__((aligned(4096)));
static struct desc tls[3] __attribute__((aligned(8)));
static struct lguest_dma dmas[4] __attribute__((aligned(128)));

static u32 edge(void)
{
	u32 ram = boot.ram_bytes;
	switch (below(12)) {
	case 0: return 0;
	case 1: return 0xFFFFFFFF;
	case 2: return ram - 1 - below(16);
	case 3: return ram + below(16);
	case 4: return 0xFFC00000 + below(0x3000);
	case 5: return 0x7FFFFFFF - below(4);
	case 6: return 0x20000001;
	case 7: return below(64);
	case 8: return __pa(&lguest_data) + below(sizeof(lguest_data) + 16);
	case 9: return __pa(&dmas[below(4)]) + (below(4) == 0 ? below(8) : 0);
	case 10: return PAGE_OFFSET + below(ram);
	default: return next();
	}
}

static u32 survivable(void)
{
	static const u32 calls[] = {
		LHCALL_FLUSH_ASYNC, LHCALL_FLUSH_TLB, LHCALL_TS, LHCALL_SET_CLOCKEVENT,
		LHCALL_GET_WALLCLOCK, LHCALL_BIND_DMA, LHCALL_SEND_DMA, LHCALL_LOAD_TLS,
		LHCALL_LOAD_IDT_ENTRY, LHCALL_SET_PTE, LHCALL_SET_PMD,
	};
	return calls[below(sizeof(calls) / sizeof(calls[0]))];
}

/* Arguments for a call: edges, but with enough plausible ones that the call reaches its deeper checks. */
static void arguments(u32 call, u32 *a1, u32 *a2, u32 *a3)
{
	*a1 = edge();
	*a2 = edge();
	*a3 = edge();
	if (below(4) == 0)
		return; /* one call in four: edges only */
	switch (call) {
	case LHCALL_SET_PTE:
	case LHCALL_SET_PMD:
		*a1 = __pa(scratch_pgdir); /* a directory we never load: changing it is harmless to us */
		if (call == LHCALL_SET_PMD)
			*a2 = below(1100);
		break;
	case LHCALL_LOAD_IDT_ENTRY:
		*a1 = 40 + below(24); /* vectors we do not use */
		break;
	case LHCALL_LOAD_TLS:
		tls[below(3)].a = next();
		tls[below(3)].b = next();
		*a1 = __pa(tls);
		break;
	case LHCALL_SEND_DMA:
	case LHCALL_BIND_DMA: {
		struct lguest_dma *d = &dmas[below(4)];
		u32 i;
		d->used_len = below(4) ? 0 : next();
		for (i = 0; i < LGUEST_MAX_DMA_SECTIONS; i++) {
			d->addr[i] = below(3) ? __pa(scratch_pgdir) + below(4096) : edge();
			d->len[i] = below(3) ? below(512) : (u16)next();
		}
		if (call == LHCALL_SEND_DMA) {
			*a1 = below(4) ? 0 : edge();       /* key: the console's, or anything */
			*a2 = __pa(d);
		} else {
			*a1 = below(4) ? 0 : edge() & ~3u;
			*a2 = __pa(d);
			*a3 = below(2) ? (1 + below(4)) << 8 | below(40) : next();
		}
		break;
	}
	case LHCALL_SET_CLOCKEVENT:
		*a1 = below(2) ? below(10000000) : next();
		break;
	default:
		break;
	}
}

static u32 ring_next;

static void queue(u32 call, u32 a1, u32 a2, u32 a3)
{
	u32 i = ring_next;
	volatile u8 *status = lguest_data.hcall_status;
	if (status[i] != 0xFF)
		hc(LHCALL_FLUSH_ASYNC, 0, 0, 0); /* the Host drains the ring at this exit */
	if (status[i] != 0xFF)
		return; /* the Host did not take it: it refused the ring (we are about to die) */
	lguest_data.hcalls[i].eax = call;
	lguest_data.hcalls[i].edx = a1;
	lguest_data.hcalls[i].ebx = a2;
	lguest_data.hcalls[i].ecx = a3;
	asm volatile("" ::: "memory");
	status[i] = 0;
	ring_next = (i + 1) % LHCALL_RING_SIZE;
}

void hostile_main(void)
{
	u32 seed = decimal("seed=", 1);
	u32 count = decimal("count=", 10000);
	u32 n;

	seed_random(seed * 2654435761u ^ 0x9E3779B9);
	say("fuzz: seed %u, %u calls", seed, count);
	for (n = 1; n <= count; n++) {
		u32 call, a1, a2, a3;
		if (below(32) == 0)
			call = below(2) ? below(32) : next();
		else
			call = survivable();
		if (call == LHCALL_HALT)
			call = LHCALL_FLUSH_TLB;
		arguments(call, &a1, &a2, &a3);
		if (below(2))
			hc(call, a1, a2, a3);
		else
			queue(call, a1, a2, a3);
		if (n % 500 == 0)
			say("fuzz: %u calls", n);
	}
	hc(LHCALL_FLUSH_ASYNC, 0, 0, 0);
	contained("fuzz: %u calls from seed %u", count, seed);
}
