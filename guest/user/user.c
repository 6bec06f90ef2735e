/*
 * user.c - the tiny ring-3 program the selftest runs.
 *
 * It talks to the kernel only through int 0x80 and reports what it found
 * in its exit code, one bit per problem (0 = all well):
 *   1  %cs does not have RPL 3 (we are not really in ring 3)
 *   2  the TLS segment (selector 0x33) does not show the kernel's magic word
 *   4  a 12 KB stack buffer (demand-paged by the kernel) did not hold data
 *   8  the tick count did not move while we ran (no timer interrupts
 *      reached us in user mode)
 *  16  write() did not return the length written
 *
 * It hands these bits to the kernel with report() (system call 200) and
 * then reads a kernel address, 0xC0100000, which must kill it with a page
 * fault: kernel pages are not user-accessible.  (If the read succeeds, it
 * exits with bit 256 set.)
 */
#define TLS_SEL   0x33
#define TLS_MAGIC 0x7157AB1E

static inline int sys(int nr, int a, int b, int c)
{
	int r;
	asm volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static const char msg[] = "user: hello from ring 3 via int 0x80\n";

int umain(void)
{
	int fails = 0, i;
	unsigned short cs;
	unsigned int v, t0;
	volatile char big[3 * 4096];

	asm volatile("movw %%cs, %0" : "=r"(cs));
	if ((cs & 3) != 3)
		fails |= 1;

	if (sys(4, 1, (int)msg, sizeof(msg) - 1) != (int)sizeof(msg) - 1)
		fails |= 16;

	asm volatile("movw %w1, %%gs\n\tmovl %%gs:0, %0" : "=r"(v) : "r"(TLS_SEL));
	if (v != TLS_MAGIC)
		fails |= 2;

	for (i = 0; i < (int)sizeof(big); i += 1024)
		big[i] = (char)(i >> 10);
	for (i = 0; i < (int)sizeof(big); i += 1024)
		if (big[i] != (char)(i >> 10))
			fails |= 4;

	t0 = sys(13, 0, 0, 0);
	for (i = 0; i < 50000000 && (unsigned int)sys(13, 0, 0, 0) == t0; i++)
		;
	if ((unsigned int)sys(13, 0, 0, 0) == t0)
		fails |= 8;
	sys(200, fails, 0, 0);
	v = *(volatile unsigned int *)0xC0100000;
	return fails | 256 | (v & 0);
}
