/*
 * bench.c - the two measurement modes the benchmarks (bench/ at the top of
 * the repository) ask for on the command line, run after boot:
 *
 *   hcallbench=N   (lguest only; hcallrounds=R, default 3, repeats it all;
 *                  hcallloop=M sets the calibration loop's length)
 *                  N round trips of LHCALL_FLUSH_ASYNC with an
 *                  empty ring (the cheapest call: the exit itself is the
 *                  work) and N of LHCALL_GET_WALLCLOCK, plus a calibration
 *                  loop of ordinary instructions.  Each phase sits between
 *                  two console lines,
 *                      HCALLBENCH <phase> begin
 *                      HCALLBENCH <phase> end n=<N> insns=<guest instructions>
 *                  and the host timestamps the lines (bench/lines.py), so
 *                  the time is wall-clock time as the host sees it.  The
 *                  instruction count is the RDTSC difference: our CPU's TSC
 *                  counts retired guest instructions, so it says how many
 *                  guest instructions the phase executed (the host's work for
 *                  a hypercall adds nothing to it).  Interrupts are off during
 *                  each phase, so no timer tick is counted in.
 *
 *   bench          the shared CPU workload, bench_run() from the shared
 *                  bench's bench_core.o (scale=N on the command line, as for
 *                  the bare-machine kernel), printing the same "BENCH ..."
 *                  lines on the console, with interrupts on (the 100 Hz tick
 *                  keeps running, as it would in any guest).  bench_core.o is
 *                  linked only into lguest-bench.elf, which build.sh makes when
 *                  BENCH_CORE_O names it; the plain image says so and goes on.
 *
 * Both work on the native path too (hcallbench only under lguest), and both
 * end with whatever else the command line asks, usually "poweroff".
 */
#include "guest.h"
#include "lguest_abi.h"

#ifdef WITH_BENCH_CORE
u32 bench_run(u32 scale, void (*out)(const char *));
u32 parse_scale(const char *s);
#endif

static inline u64 rdtsc(void)
{
	u64 v;
	asm volatile("rdtsc" : "=A"(v));
	return v;
}

static inline u32 hcall0(u32 call)
{
	asm volatile("int $0x1f" : "+a"(call) : "d"(0), "b"(0), "c"(0) : "memory");
	return call;
}

/* A u64 as decimal (printk has only 32-bit numbers). */
static void u64_to_dec(u64 v, char *buf)
{
	char tmp[21];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + (u32)(v % 10));
		v /= 10;
	} while (v);
	while (n)
		*buf++ = tmp[--n];
	*buf = '\0';
}

static void phase_end(const char *name, u32 n, u64 insns)
{
	char d[21];
	u64_to_dec(insns, d);
	printk("HCALLBENCH %s end n=%u insns=%s\n", name, n, d);
}

static u32 parse_u32(const char *p)
{
	u32 v = 0;
	while (p && *p >= '0' && *p <= '9')
		v = v * 10 + (u32)(*p++ - '0');
	return v;
}

static void hcall_round(u32 n, u32 loops, u32 *sink)
{
	u32 i;
	u64 t0, t1;

	/* Calibration: a dependent add/rotate chain, 5 instructions an
	 * iteration with the loop's own inc/cmp/jne (gcc -O2). */
	printk("HCALLBENCH loop begin\n");
	t0 = rdtsc();
	for (i = 0; i < loops; i++)
		asm volatile("addl %1, %0; roll $3, %0" : "+r"(*sink) : "r"(i));
	t1 = rdtsc();
	phase_end("loop", loops, t1 - t0);

	printk("HCALLBENCH flush_async begin\n");
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		hcall0(LHCALL_FLUSH_ASYNC);
	t1 = rdtsc();
	phase_end("flush_async", n, t1 - t0);

	printk("HCALLBENCH get_wallclock begin\n");
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		*sink += hcall0(LHCALL_GET_WALLCLOCK);
	t1 = rdtsc();
	phase_end("get_wallclock", n, t1 - t0);
}

/* hcallbench=N [hcallrounds=R] [hcallloop=M]: R rounds (default 3) of the
 * three phases, the calibration loop M iterations long (default 16 * N); the
 * first rounds warm up the host (a JIT compiles the hot paths). */
static void hcall_bench(u32 n)
{
	const char *r = cmdline_option("hcallrounds=");
	const char *l = cmdline_option("hcallloop=");
	u32 rounds = r ? parse_u32(r) : 3, loops = l ? parse_u32(l) : 16 * n;
	u32 flags, i, sink = 0;

	if (!boot.lguest) {
		printk("HCALLBENCH skipped: hypercalls exist only under lguest\n");
		return;
	}
	flags = pv.save_fl();
	pv.irq_disable();
	for (i = 1; i <= rounds; i++) {
		printk("HCALLBENCH round %u\n", i);
		hcall_round(n, loops, &sink);
	}
	pv.restore_fl(flags);
	printk("HCALLBENCH done (sink %x)\n", sink);
}

#ifdef WITH_BENCH_CORE
/* bench_run() prints a line in pieces; send each whole line at once. */
static char line[128];
static int line_len;

static void bench_out(const char *s)
{
	for (; *s; s++) {
		if (line_len < (int)sizeof(line) - 1)
			line[line_len++] = *s;
		if (*s == '\n') {
			line[line_len] = '\0';
			printk("%s", line);
			line_len = 0;
		}
	}
}
#endif

/*
 * conbench=KB: KB kilobytes of console output, 64-byte numbered lines, through
 * the console device as fast as it takes them, framed by "CONBENCH begin" and
 * "CONBENCH end" lines whose host-side timestamps give the rate
 * (bench/conbench.py).
 */
static void console_bench(u32 kb)
{
	static char chunk[4096];
	u32 lines = sizeof(chunk) / 64;

	printk("CONBENCH begin kb=%u\n", kb);
	for (u32 k = 0; k < kb / 4; k++) {
		for (u32 l = 0; l < lines; l++) {
			char *line = chunk + 64 * l;
			u32 n = k * lines + l;
			memset(line, 'x', 63);
			for (int d = 7; d >= 0; d--, n /= 10)
				line[d] = (char)('0' + n % 10);
			line[8] = ' ';
			line[63] = '\n';
		}
		pv.console_write(chunk, sizeof(chunk));
	}
	printk("CONBENCH end kb=%u\n", kb / 4 * 4);
}

void bench_modes(void)
{
	const char *n = cmdline_option("hcallbench=");
	const char *c = cmdline_option("conbench=");

	if (n)
		hcall_bench(parse_u32(n));
	if (c)
		console_bench(parse_u32(c));
	if (cmdline_flag("bench")) {
#ifdef WITH_BENCH_CORE
		const char *s = cmdline_option("scale=");
		bench_run(s ? parse_scale(s) : 1, bench_out);
#else
		printk("bench: this image has no workload; build lguest-bench.elf with "
		       "BENCH_CORE_O=.../bench_core.o guest/build.sh OUTDIR (see bench/README.md)\n");
#endif
	}
}
