/*
 * timer.c - the tick, and waiting for something to happen.
 *
 * The kernel counts ticks at HZ (100 per second).  Where they come from is
 * the ops' business: natively the PIT fires IRQ 0 periodically; under lguest
 * the Host offers a one-shot clock event (SET_CLOCKEVENT with a delta in
 * nanoseconds) that raises IRQ 0 once, so pv.timer_tick re-arms it on every
 * tick.  Under lguest IRQ 0 also starts out blocked in lguest_data, and
 * irq_register() is what unblocks it.
 *
 * idle_wait() is the idle loop's one step: with interrupts off, check for
 * work; if there is none, pv.safe_halt enables interrupts and waits for one
 * in a single step (sti;hlt natively, the HALT hypercall under lguest), so
 * an interrupt can never slip in between the check and the sleep.
 *
 * idle_wait_tickless() is the same step for a waiter that needs no time (the
 * echo loop waiting for a key or a frame): it stops the tick before halting
 * and starts it again once woken, so an idle guest makes no exits at all.
 * `ticks` then does not count the idle time; nothing reads it across such a
 * wait.
 */
#include "guest.h"

volatile u32 ticks;

static void timer_irq(void)
{
	ticks++;
	pv.timer_tick();
}

void timer_init(void)
{
	irq_register(0, timer_irq);
	pv.timer_init(HZ);
	printk("timer: %d Hz tick on IRQ 0 (%s)\n", HZ,
	       boot.lguest ? "one-shot SET_CLOCKEVENT, re-armed each tick" : "PIT");
}

void idle_wait(void)
{
	pv.irq_disable();
	if (console_input_available() || lguest_net_pending())
		pv.irq_enable();
	else
		pv.safe_halt();
}

void idle_wait_tickless(void)
{
	pv.irq_disable();
	if (console_input_available() || lguest_net_pending() || power_request) {
		pv.irq_enable();
		return;
	}
	pv.tick_stop();
	pv.safe_halt();
	pv.tick_start();
}
