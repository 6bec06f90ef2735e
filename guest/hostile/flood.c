/*
 * hostile-flood: keep the Host as busy as a guest can, forever
 * (docs/architecture.md §5: "no guest can stall the host: the run loop is
 * interruptible and time-sliced").  Never ends by itself; the test stops it.
 *
 *   clock (default)  interrupts on, IRQ 0 unblocked, and SET_CLOCKEVENT(100)
 *                    (the shortest, LG_CLOCK_MIN_DELTA) re-armed from the
 *                    IRQ 0 handler and before every HALT: an interrupt storm.
 *   dma              32 BIND_DMAs (the most a guest may hold) on keys inside
 *                    our memory, then forever: SEND_DMA to each of those keys
 *                    (nobody else binds them, so every send goes to the
 *                    Launcher), unbind and bind again.
 *   console          SEND_DMA to the console key as fast as possible: the
 *                    console must stay bounded and the Launcher responsive.
 * Progress lines ("hostile: flood ...") are printed now and then.
 */
#include "hostile.h"

static struct lguest_dma bufs[32] __attribute__((aligned(4096)));
static u32 keys[32] __attribute__((aligned(4096)));
static char data[64] __attribute__((aligned(64))) = "flood";
static struct lguest_dma out __attribute__((aligned(128)));

static void rearm(int irq)
{
	if (irq == 0)
		hc(LHCALL_SET_CLOCKEVENT, LG_CLOCK_MIN_DELTA, 0, 0);
}

static void __attribute__((noreturn)) clock_flood(void)
{
	u32 next = 1 << 12;
	irqs_install();
	irq_hook = rearm;
	lguest_data.blocked_interrupts = ~1u;
	say("flood clock: SET_CLOCKEVENT(100 ns) re-armed from IRQ 0 and before every HALT, forever");
	lguest_data.irq_enabled = X86_EFLAGS_IF;
	for (;;) {
		hc(LHCALL_SET_CLOCKEVENT, LG_CLOCK_MIN_DELTA, 0, 0);
		hc(LHCALL_HALT, 0, 0, 0);
		if (irq_hits[0] >= next) {
			say("flood clock: %u timer interrupts so far", irq_hits[0]);
			next <<= 1;
		}
	}
}

static void __attribute__((noreturn)) dma_flood(void)
{
	u32 rounds = 0, bound = 0;
	for (u32 i = 0; i < 32; i++) {
		bufs[i].addr[0] = __pa(data);
		bufs[i].len[0] = sizeof(data);
		bound += hc(LHCALL_BIND_DMA, __pa(&keys[i]), __pa(&bufs[i]), (1 << 8) | (1 + i % 31));
	}
	say("flood dma: %u of 32 BIND_DMAs accepted; now send to each key, unbind and rebind, forever", bound);
	for (;;) {
		for (u32 i = 0; i < 32; i++) {
			out.used_len = 0;
			out.addr[0] = __pa(data);
			out.len[0] = sizeof(data);
			out.len[1] = 0;
			hc(LHCALL_SEND_DMA, __pa(&keys[i]), __pa(&out), 0);
			hc(LHCALL_BIND_DMA, __pa(&keys[i]), __pa(&bufs[i]), 0);
			hc(LHCALL_BIND_DMA, __pa(&keys[i]), __pa(&bufs[i]), (1 << 8) | (1 + i % 31));
		}
		rounds++;
		if ((rounds & (rounds - 1)) == 0)
			say("flood dma: %u rounds of 32 sends", rounds);
	}
}

static void __attribute__((noreturn)) console_flood(void)
{
	for (u32 n = 0;; n++)
		say("flood console: line %u", n);
}

void hostile_main(void)
{
	if (variant("dma"))
		dma_flood();
	if (variant("console"))
		console_flood();
	clock_flood();
}
