/*
 * hostile-nohalt: never give the CPU back (docs/architecture.md §5,
 * docs/lguest-abi.md §5.2).  Never ends by itself; the test stops it.
 *
 *   spin (default)  lguest_data.irq_enabled = 0 and every IRQ blocked, then a
 *                   tight loop with no hypercall and no fault: only the
 *                   Host's time slice takes the CPU back.
 *   cli             the same after trying the real "cli" at ring 1 (it must
 *                   trap: #GP reflected to us, we skip it) and "popf" with
 *                   IF clear (silently ignored at IOPL 0).
 *   noirq           a loop inside our own noirq window is not possible to
 *                   declare after LGUEST_INIT, so: irq_enabled = 0 with IRQ 0
 *                   armed and pending, spinning: the pending interrupt must
 *                   never be injected, and the guest must still be stoppable.
 */
#include "hostile.h"

static void __attribute__((noreturn)) spin(void)
{
	say("about to spin forever with irq_enabled = 0 and no hypercalls");
	lguest_data.irq_enabled = 0;
	lguest_data.blocked_interrupts = ~0u;
	for (;;)
		asm volatile("" ::: "memory");
}

void hostile_main(void)
{
	if (variant("cli")) {
		u32 before = last_trap.count;
		say("about to execute cli at ring 1");
		asm volatile("movl $1f, fixup_eip; cli; 1: movl $0, fixup_eip" ::: "memory");
		say("cli %s", last_trap.count != before ? "trapped (vector 13 expected)" : "did NOT trap");
		asm volatile("pushl $0x2; popfl" ::: "memory", "cc");
		spin();
	}
	if (variant("noirq")) {
		irqs_install();
		lguest_data.blocked_interrupts = ~1u;
		lguest_data.irq_enabled = 0;
		hc(LHCALL_SET_CLOCKEVENT, 1000, 0, 0);
		say("about to spin forever with IRQ 0 pending and irq_enabled = 0");
		for (u32 n = 0;; n++)
			if (irq_hits[0])
				unexpected("IRQ 0 was injected while irq_enabled was 0");
	}
	spin();
}
