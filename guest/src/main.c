/*
 * main.c - what the kernel does once an entry path has chosen its ops.
 *
 * lguest_start() or native_start() copied the command line and the memory
 * size into `boot` and filled in `pv`; from here on the code is the same for
 * both: print the boot line, set up the CPU tables, the page tables, the
 * console input and the clock (all through pv), switch interrupts on, run
 * the selftests if asked, then either power off or sit in the idle loop
 * echoing whatever is typed.
 */
#include "guest.h"
#include "lguest_abi.h"

struct boot_info boot;
struct pv_ops pv;
volatile u32 power_request;

/* The power button was pressed (lguest:shutdown, lguest:reboot): put the disk's writes on stable storage, power off. */
static void power_button(void)
{
	printk("\nlguest-guest: power button: %s\n",
	       power_request == LGUEST_POWER_RESTART ? "restarting" : "powering off");
	blk_sync();
	pv.power_off();
}

static void echo_loop(void)
{
	char line[80];
	int n = 0;

	printk("lguest-guest: ready; typed text is echoed, \"poweroff\" + Enter ends\n");
	for (;;) {
		int c;
		if (power_request)
			power_button();
		c = console_getc();
		if (c < 0) {
			net_poll();
			idle_wait_tickless();
			continue;
		}
		if (c == '\r' || c == '\n') {
			printk("\n");
			line[n] = '\0';
			if (!strncmp(line, "poweroff", 9)) {
				printk("lguest-guest: power down\n");
				pv.power_off();
			}
			if (!strncmp(line, "blk ", 4))
				blk_command(line + 4);
			else
				net_command(line);
			n = 0;
			continue;
		}
		printk("%c", c);
		if (n < (int)sizeof(line) - 1)
			line[n++] = (char)c;
	}
}

void kernel_main(void)
{
	printk("lguest-guest: booting %s, cmdline \"%s\"\n", pv.name, boot.cmdline);
	printk("lguest-guest: %u MB of RAM, kernel at ring %u\n",
	       boot.ram_bytes >> 20, pv.kernel_rpl);
	if (pv.boot_report)
		pv.boot_report();

	traps_init();
	paging_init();
	console_irq = pv.console_input_init();
	if (console_irq >= 0)
		printk("console: input on IRQ %d\n", console_irq);
	if (cmdline_flag("nopowerbutton")) {
		printk("power: the button is ignored (nopowerbutton)\n");
	} else {
		int power_irq = pv.power_button_init();
		if (power_irq >= 0)
			printk("power: button on IRQ %d\n", power_irq);
	}
	timer_init();
	pv.irq_enable();
	printk("lguest-guest: boot complete\n");
	if (cmdline_flag("hcalltrace"))
		lguest_hcall_trace_dump();

	if (cmdline_flag("selftest"))
		selftest_run();
	bench_modes();          /* hcallbench=N, bench (bench.c) */
	blk_modes();            /* blk write|verify SEED N (blk.c) */
	net_modes();            /* ping IP, net send|recv (net.c) */
	if (cmdline_flag("crashtest"))
		panic("crash requested on the command line");
	if (cmdline_flag("poweroff")) {
		printk("lguest-guest: power down\n");
		pv.power_off();
	}
	echo_loop();
	for (;;)
		;
}
