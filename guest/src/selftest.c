/*
 * selftest.c - built-in checks, run when the command line says "selftest".
 *
 * Each check prints exactly one line, "PASS name" or "FAIL name: reason",
 * and the run ends with "selftest: N passed, M failed".  The checks run on
 * both platforms; the lines an automated test can expect are listed in
 * README.md.
 *
 * console-input needs someone to type.  With "input-expected=TEXT" on the
 * command line the check waits (up to 30 s) for a line, echoes it as it
 * arrives and compares it with TEXT: a test harness feeds "hello\n" to the
 * serial port (bare) or to the Launcher's console (lguest) and passes
 * input-expected=hello.  Without it, the bare kernel checks the receive
 * path with the UART's loopback mode; under lguest the check is skipped
 * with a SKIP line (there is no loopback in the DMA console).
 *
 * block-device and net-device check the disk and network the Launcher gave
 * (blk.c, net.c) without changing anything: two reads of the first 4 KiB
 * agree and a flush succeeds; our MAC is in our slot of the peer map and
 * the receive buffers are bound. Without the device they print SKIP.
 */
#include "guest.h"

int lguest_ring_drained(void);
static int passed, failed;

static void pass(const char *name)
{
	printk("PASS %s\n", name);
	passed++;
}

static void fail(const char *name, const char *reason)
{
	printk("FAIL %s: %s\n", name, reason);
	failed++;
}

static void check(const char *name, int ok, const char *reason)
{
	if (ok)
		pass(name);
	else
		fail(name, reason);
}

/* Touch four fresh pages in the demand zone: read (zero), write, re-read. */
static void test_paging_demand(void)
{
	u32 before = demand_faults, i;
	char why[80];

	for (i = 0; i < 4; i++) {
		volatile u32 *p = (u32 *)(DEMAND_BASE + i * PAGE_SIZE + 4 * i);
		if (*p != 0) {
			snprintk(why, sizeof(why), "fresh page %u not zero", i);
			fail("paging-demand", why);
			return;
		}
		*p = 0xC0DE0000 + i;
	}
	for (i = 0; i < 4; i++)
		if (*(volatile u32 *)(DEMAND_BASE + i * PAGE_SIZE + 4 * i) != 0xC0DE0000 + i) {
			fail("paging-demand", "pattern lost");
			return;
		}
	snprintk(why, sizeof(why), "%u faults for 4 pages", demand_faults - before);
	check("paging-demand", demand_faults - before == 4, why);
}

/* Map eight pages in one lazy batch (queued SET_PTEs under lguest). */
static void test_paging_batch(void)
{
	u32 base = DEMAND_BASE + 0x100000, i, faults = demand_faults;

	pv.lazy_mmu_begin();
	for (i = 0; i < 8; i++)
		map_page(base + i * PAGE_SIZE, alloc_page(), PTE_P | PTE_W);
	pv.lazy_mmu_end();
	if (boot.lguest && !lguest_ring_drained()) {
		fail("paging-batch", "async hypercall ring not drained after FLUSH_ASYNC");
		return;
	}
	for (i = 0; i < 8; i++)
		*(volatile u32 *)(base + i * PAGE_SIZE) = i + 1;
	for (i = 0; i < 8; i++)
		if (*(volatile u32 *)(base + i * PAGE_SIZE) != i + 1) {
			fail("paging-batch", "pattern lost");
			return;
		}
	check("paging-batch", demand_faults == faults, "batched pages faulted");
}

static void test_user(void)
{
	static const char expect[] = "user: hello from ring 3 via int 0x80\n";
	u32 faults = demand_faults;
	int code = user_run_selftest_program(), killed;
	char why[80], kwhy[80];

	printk("selftest: user program ended with %d after %d system calls "
	       "(%u stack faults), reported %x\n", code, user_result.syscalls,
	       demand_faults - faults, user_result.report);
	if (!user_result.reported) {
		snprintk(why, sizeof(why), "program ended (%d) before reporting", code);
		fail("user-syscall", why);
		return;
	}
	killed = code == -14 && user_result.fault_addr == 0xC0100000;
	snprintk(kwhy, sizeof(kwhy), "ended with %d, fault address %x", code,
		 user_result.fault_addr);
	code = user_result.report;
	check("user-syscall",
	      user_result.syscalls >= 3 && user_result.from_ring3 == user_result.syscalls &&
	      !(code & 17) && user_result.out_len == (int)sizeof(expect) - 1 &&
	      !memcmp(user_result.out, expect, sizeof(expect) - 1),
	      "system calls not seen from ring 3 or wrong output");
	check("user-tls", !(code & 2), "TLS segment did not show the magic word");
	check("user-stack-demand", !(code & 4) && demand_faults - faults >= 3,
	      "user stack was not demand-paged");
	check("user-timer", !(code & 8), "no ticks while in ring 3");
	check("user-kernel-protected", killed, kwhy);
}

static void test_timer(void)
{
	u32 t0 = ticks, halts = 0;
	char why[80];

	while (ticks - t0 < 10 && halts < 100000) {
		pv.irq_disable();       /* halt even if console input is pending */
		pv.safe_halt();
		halts++;
	}
	snprintk(why, sizeof(why), "%u ticks after %u halts", ticks - t0, halts);
	check("timer-ticks", ticks - t0 >= 10, why);
}

static void test_halt(void)
{
	u32 irqs = irq_count, t0 = ticks;
	int enabled;

	pv.irq_disable();
	pv.safe_halt();                 /* returns after an interrupt */
	enabled = (pv.save_fl() & X86_EFLAGS_IF) != 0;
	if (irq_count == irqs)
		fail("halt-wake", "woke without an interrupt");
	else if (!enabled)
		fail("halt-wake", "interrupts still disabled after the halt");
	else {
		printk("selftest: halt woke after %u tick(s)\n", ticks - t0);
		pass("halt-wake");
	}
}

/* Read one line (echoed), waiting at most `timeout` ticks. */
static int read_line(char *buf, int size, u32 timeout, int echo)
{
	u32 t0 = ticks;
	int n = 0;

	while (ticks - t0 < timeout) {
		int c = console_getc();
		if (c < 0) {
			idle_wait();
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (echo)
				printk("\n");
			buf[n] = '\0';
			return n;
		}
		if (echo)
			printk("%c", c);
		if (n < size - 1)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return -1;
}

static void test_console_input(void)
{
	const char *opt = cmdline_option("input-expected=");
	char expect[64], got[64], why[128];
	int n = 0;

	if (console_irq < 0) {
		fail("console-input", "no console input device");
		return;
	}
	if (!opt)
		while (console_getc() >= 0)
			;                       /* drop stale bytes before loopback */
	if (opt) {
		while (opt[n] && opt[n] != ' ' && n < (int)sizeof(expect) - 1) {
			expect[n] = opt[n];
			n++;
		}
		expect[n] = '\0';
		printk("selftest: waiting for console input \"%s\" + Enter: ", expect);
		if (read_line(got, sizeof(got), 30 * HZ, 1) < 0) {
			printk("\n");
			fail("console-input", "timed out after 30 s");
			return;
		}
		snprintk(why, sizeof(why), "got \"%s\", expected \"%s\"", got, expect);
		check("console-input", !strncmp(got, expect, sizeof(expect)), why);
		return;
	}
	if (!pv.console_loopback) {
		printk("SKIP console-input: no input-expected= on the command line\n");
		return;
	}
	pv.console_loopback("loop\n", 5);
	if (read_line(got, sizeof(got), HZ, 0) < 0) {
		fail("console-input", "loopback bytes never arrived on IRQ 4");
		return;
	}
	snprintk(why, sizeof(why), "loopback gave \"%s\"", got);
	check("console-input", !strncmp(got, "loop", 5), why);
}

/* The devices the Launcher gave us: each check is skipped when there is none. */
static void test_devices(void)
{
	char why[96];
	int r = blk_selftest(why, sizeof(why));
	if (r < 0)
		printk("SKIP block-device: %s\n", why);
	else
		check("block-device", r, why);
	r = net_selftest(why, sizeof(why));
	if (r < 0)
		printk("SKIP net-device: %s\n", why);
	else
		check("net-device", r, why);
}

void selftest_run(void)
{
	printk("selftest: running on %s\n", pv.name);
	test_paging_demand();
	test_paging_batch();
	test_user();
	test_timer();
	test_halt();
	test_console_input();
	test_devices();
	printk("selftest: %d passed, %d failed\n", passed, failed);
}
