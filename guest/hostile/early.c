/*
 * hostile-early: break the hypercall rules themselves (docs/lguest-abi.md
 * §3.1, §3.2, §3.3).  Every variant must be killed.
 *
 *   before-init (default)  GET_WALLCLOCK as the very first hypercall (so
 *                   nothing is printed: printing is a hypercall too).
 *   unknown         hypercall 17, the first number past the table.
 *   unknown-max     hypercall 0xFFFFFFFF.
 *   ring-unknown    hypercall 99 queued in the asynchronous ring, then
 *                   FLUSH_ASYNC: the Host runs ring entries like direct calls.
 *   second-init     LGUEST_INIT a second time.
 */
#include "hostile.h"

int hostile_wants_init(void)
{
	return !variant("before-init") && !(boot.cmdline[0] == '\0');
}

void hostile_main(void)
{
	if (!hostile_wants_init()) {
		hc(LHCALL_GET_WALLCLOCK, 0, 0, 0);
		hc(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);
		unexpected("GET_WALLCLOCK before LGUEST_INIT did not kill us");
	}
	if (variant("unknown")) {
		say("about to make hypercall 17: expect to be killed");
		hc(17, 0, 0, 0);
		unexpected("hypercall 17 did not kill us");
	}
	if (variant("unknown-max")) {
		say("about to make hypercall 0xFFFFFFFF: expect to be killed");
		hc(0xFFFFFFFF, 0, 0, 0);
		unexpected("hypercall 0xFFFFFFFF did not kill us");
	}
	if (variant("ring-unknown")) {
		say("about to queue hypercall 99 in the async ring and FLUSH_ASYNC: expect to be killed");
		lguest_data.hcalls[0].eax = 99;
		lguest_data.hcalls[0].edx = lguest_data.hcalls[0].ebx = lguest_data.hcalls[0].ecx = 0;
		asm volatile("" ::: "memory");
		lguest_data.hcall_status[0] = 0;
		hc(LHCALL_FLUSH_ASYNC, 0, 0, 0);
		unexpected("hypercall 99 through the async ring did not kill us");
	}
	if (variant("second-init")) {
		say("about to LGUEST_INIT again: expect to be killed");
		hc(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);
		unexpected("a second LGUEST_INIT did not kill us");
	}
	unexpected("no variant on the command line \"%s\"", boot.cmdline);
}
