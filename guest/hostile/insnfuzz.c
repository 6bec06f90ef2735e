/*
 * hostile-insnfuzz: random instructions, run by an lguest guest at ring 1
 * and at ring 3, under shadow paging, with a 1 kHz timer interrupting them.
 * `seed=N cases=N` on the command line (decimal; defaults 1 and 2000).
 *
 * Each case writes 32 random bytes into a code page, ends them with ud2, and
 * jumps there with random registers: through `iret` to ring 3 (the page is
 * mapped for the user at 0x400000, with a user stack and data page beside
 * it), or with a plain jump at ring 1 (the same page through the kernel's
 * mapping).  The bytes are random, ordinary register arithmetic, or built from a table of opcodes
 * that matter to a hypervisor: privileged and I/O instructions, segment
 * loads, far transfers, int/iret, interrupt flag changes, x87, string
 * instructions, prefixes; one case in 32 also makes a hypercall a guest can
 * survive (FLUSH_TLB, TS, SET_CLOCKEVENT, SEND_DMA, ...) with random
 * arguments in the other registers.
 *
 * Whatever the code does ends the case in one of three ways:
 *  - a trap: every exception vector goes to fz_trap_N (below), which takes
 *    the vector and the faulting eip off whatever stack it landed on, puts
 *    back our segments and stack, and returns from fz_enter with the vector
 *    (ud2 at the end of the bytes means the case ran to its end);
 *  - a timeout: the timer hook ends a case that has seen 3 ticks (a loop);
 *  - the Host kills us, with its reason (a hypercall with bad arguments, a
 *    stack the Host cannot push a trap frame onto, ...).
 * Random code at ring 1 can also scribble over this kernel; then anything
 * may follow, up to the Host killing us.  That is the point: the outcome
 * must always be guest-level (a reflected trap, a kill with a reason, or
 * carrying on), never a Host exception, and never a neighbour disturbed.
 *
 * The kernel prints its seed, and every 50 cases a line "insnfuzz: N cases
 * (R1 at ring 1, R3 at ring 3) from seed S; v13:.. v14:.. end:.. timeout:.."
 * with how the cases ended so far (vN: exception N reflected to us).  Having
 * run them all it ends with CRASH "hostile: contained: " and the same line.
 */
#include "hostile.h"

#define KDS     0x69                    /* kernel data, RPL 1 */
#define KCS     0x61                    /* kernel code, RPL 1 */
#define USER_BASE 0x00400000            /* code, stack, data pages for ring 3 */
#define TIMER_NS 1000000                /* 1 kHz */

struct fz_regs {
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags;
};

u32 fz_enter(struct fz_regs *r, u32 ring);
void fz_leave(u32 code) __attribute__((noreturn));
extern u32 fz_trap_table[32];

u32 fz_saved_esp;
static u8 code_page[4096] __attribute__((aligned(4096)));
static u8 user_stack[4096] __attribute__((aligned(4096)));
static u8 data_page[4096] __attribute__((aligned(4096)));
static u8 ring1_stack[4096] __attribute__((aligned(4096)));
static u8 fz_kstack[8192] __attribute__((aligned(4096)));
static u32 user_pt[1024] __attribute__((aligned(4096)));


/* ---- the way in and out (fz_enter saves our context; fz_leave returns to it) ---- */
asm(
"	.text\n"
"	.globl fz_enter\n"
"fz_enter:\n"
"	pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
"	movl %esp, fz_saved_esp\n"
"	movl 20(%esp), %eax\n"          /* struct fz_regs * */
"	cmpl $3, 24(%esp)\n"
"	je 3f\n"
	/* ring 1: flags, then the registers, the stack last; jump through memory */
"	movl 32(%eax), %edx\n"
"	movl %edx, fz_target\n"
"	pushl 36(%eax)\n"
"	popfl\n"
"	movl $0x200, lguest_data\n"     /* interrupts on: the timer may hit the random code */
"	movl 4(%eax), %ecx; movl 8(%eax), %edx; movl 12(%eax), %ebx\n"
"	movl 20(%eax), %ebp; movl 24(%eax), %esi; movl 28(%eax), %edi\n"
"	movl 16(%eax), %esp\n"
"	movl (%eax), %eax\n"
"	jmp *fz_target\n"
	/* ring 3: an iret frame to the user's code, user data segments */
"3:	pushl $0x7b\n"
"	pushl 16(%eax)\n"
"	pushl 36(%eax)\n"
"	pushl $0x73\n"
"	pushl 32(%eax)\n"
"	movl $0x7b, %edx\n"
"	movl %edx, %ds; movl %edx, %es; movl %edx, %fs; movl %edx, %gs\n"
"	movl %ss:4(%eax), %ecx; movl %ss:8(%eax), %edx; movl %ss:12(%eax), %ebx\n"
"	movl %ss:20(%eax), %ebp; movl %ss:24(%eax), %esi; movl %ss:28(%eax), %edi\n"
"	movl $0x200, %ss:lguest_data\n"
"	movl %ss:(%eax), %eax\n"
"	iret\n"
"	.globl fz_leave\n"
"fz_leave:\n"
"	cld\n"                         /* the random code may have left DF set: C expects it clear */
"	movl 4(%esp), %eax\n"
"	movl $0x69, %edx\n"
"	movl %edx, %ss\n"
"	movl %ss:fz_saved_esp, %esp\n"
"	movl %edx, %ds; movl %edx, %es\n"
"	xorl %edx, %edx\n"
"	movl %edx, %fs; movl %edx, %gs\n"
"	popl %edi; popl %esi; popl %ebx; popl %ebp\n"
"	ret\n"
	/* A trap from the random code, on whatever stack it had: take vector, err, eip and cs off it
	 * through %ss, then our own segments and a stack below the saved context. */
"fz_tcommon:\n"
"	movl %ss:(%esp), %eax\n"
"	movl %ss:4(%esp), %ebx\n"
"	movl %ss:8(%esp), %ecx\n"
"	movl %ss:12(%esp), %edx\n"
"	movl $0x69, %esi\n"
"	movl %esi, %ss\n"
"	movl %ss:fz_saved_esp, %esp\n"
"	movl %esi, %ds; movl %esi, %es\n"
"	cld\n"
"	subl $64, %esp\n"
"	pushl %edx; pushl %ecx; pushl %ebx; pushl %eax\n"
"	call fz_trap\n"
"	ud2\n"
);

/* One stub per exception vector, in order, its address in fz_trap_table; E: the CPU pushes an error code. */
#define FZ_STUB(v, push0) \
	asm("	.text\n	.align 8\nfz_trap_" #v ":\n" push0 "	pushl $" #v "\n	jmp fz_tcommon\n" \
	    "	.section .rodata\n	.long fz_trap_" #v "\n	.text\n");
#define N(v) FZ_STUB(v, "	pushl $0\n")
#define E(v) FZ_STUB(v, "")
asm("	.section .rodata\n	.align 4\n	.globl fz_trap_table\nfz_trap_table:\n	.text\n");
N(0) N(1) N(2) N(3) N(4) N(5) N(6) N(7) E(8) N(9) E(10) E(11) E(12) E(13) E(14) N(15)
N(16) E(17) N(18) N(19) N(20) N(21) N(22) N(23) N(24) N(25) N(26) N(27) N(28) N(29) N(30) N(31)
#undef N
#undef E

u32 fz_target;
static volatile u32 case_ticks, in_case;
static u32 ring;
static u32 end_eip;                     /* where the ud2 after the random bytes is */

#define TIMEOUT 40                      /* fz_leave code for "the timer ended it" */
#define RAN_TO_END 41

void fz_trap(u32 vector, u32 err, u32 eip, u32 cs);
void fz_trap(u32 vector, u32 err, u32 eip, u32 cs)
{
	(void)err;
	(void)cs;
	in_case = 0;
	if (vector == 6 && eip == end_eip)
		fz_leave(RAN_TO_END);
	fz_leave(vector);
}

static void tick(int irq)
{
	if (irq != 0)
		return;
	hc(LHCALL_SET_CLOCKEVENT, TIMER_NS, 0, 0);
	if (in_case && ++case_ticks >= 3) {
		in_case = 0;
		fz_leave(TIMEOUT);
	}
}

/* ---- making the bytes ---- */
static const u8 interesting[] = {
	0xF4, 0xFA, 0xFB, 0xCF, 0xCD, 0xCC, 0xCE, 0x9A, 0xEA, 0x8E, 0x8C, 0xE4, 0xE5, 0xE6, 0xE7,
	0xEC, 0xED, 0xEE, 0xEF, 0x6C, 0x6D, 0x6E, 0x6F, 0x9C, 0x9D, 0x62, 0x63, 0xC8, 0xC9, 0xCA,
	0xCB, 0xC2, 0xC3, 0x07, 0x17, 0x1F, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE,
	0xAF, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF6, 0xF7, 0xFF, 0xFE, 0x8D, 0xC4,
	0xC5, 0xD4, 0xD5, 0x27, 0x2F, 0x37, 0x3F, 0x60, 0x61, 0xE0, 0xE1, 0xE2, 0xE3, 0x9B, 0xD7,
};
static const u8 interesting0f[] = {
	0x00, 0x01, 0x02, 0x03, 0x06, 0x08, 0x09, 0x0B, 0x20, 0x21, 0x22, 0x23, 0x30, 0x31, 0x32,
	0x33, 0x34, 0x35, 0x05, 0x07, 0xA2, 0xA0, 0xA1, 0xA8, 0xA9, 0xAA, 0xB2, 0xB4, 0xB5, 0xC7,
	0xC8, 0xAE, 0xA3, 0xAB, 0xB3, 0xBB, 0xBA, 0xBC, 0xBD, 0xB0, 0xB1, 0xC0, 0xC1, 0x40, 0x4F,
	0x80, 0x8F, 0x90, 0x9F, 0xA4, 0xA5, 0xAC, 0xAD, 0xAF, 0xB6, 0xB7, 0xBE, 0xBF,
};
static const u8 prefixes[] = { 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 };

static u32 pick_reg(u32 data_va)
{
	switch (below(8)) {
	case 0: return 0;
	case 1: return below(256);
	case 2: case 3: return data_va + below(4096);
	case 4: return 0xFFFFFFFF - below(16);
	case 5: return below(4) ? 0x7b : 0x69 + below(0x30);  /* selectors */
	default: return next();
	}
}

static void make_bytes(u8 *p, u32 n)
{
	u32 i = 0;
	while (i < n) {
		u32 k = below(16);
		if (k < 3) {
			p[i++] = (u8)next();                       /* anything */
		} else if (k < 6) {
			/* ordinary register-to-register arithmetic and moves, so that code runs on and sets flags */
			static const u8 alu[] = { 0x01, 0x03, 0x09, 0x0B, 0x11, 0x13, 0x19, 0x1B, 0x21, 0x23, 0x29,
						  0x2B, 0x31, 0x33, 0x39, 0x3B, 0x85, 0x87, 0x89, 0x8B, 0xD1, 0xD3, 0xF7 };
			p[i++] = alu[below(sizeof(alu))];
			if (i < n) {                               /* never %esp: ring 1 would lose its stack */
				u32 reg = below(7), rm = below(7);
				p[i++] = (u8)(0xC0 | (reg + (reg >= 4)) << 3 | (rm + (rm >= 4)));
			}
		} else if (k < 8) {
			p[i++] = prefixes[below(sizeof(prefixes))];
		} else if (k < 12) {
			p[i++] = interesting[below(sizeof(interesting))];
			if (i < n) p[i++] = (u8)next();            /* ModRM or immediate */
		} else if (k < 15) {
			p[i++] = 0x0F;
			if (i < n) p[i++] = interesting0f[below(sizeof(interesting0f))];
			if (i < n) p[i++] = (u8)next();
		} else {
			p[i++] = (u8)next();
		}
	}
	/* One case in 32: a hypercall among the random bytes (int $0x1f), one a guest survives with random
	 * arguments most of the time; a random call number would end nearly every guest ("Bad hypercall"). */
	if (n >= 8 && below(32) == 0) {
		static const u32 calls[] = { LHCALL_FLUSH_ASYNC, LHCALL_FLUSH_TLB, LHCALL_TS, LHCALL_GET_WALLCLOCK,
					     LHCALL_SET_CLOCKEVENT, LHCALL_SEND_DMA };
		u32 at = below(n - 7), call = calls[below(sizeof(calls) / sizeof(calls[0]))];
		p[at] = 0xB8;                                      /* mov $call, %eax */
		p[at + 1] = (u8)call;
		p[at + 2] = p[at + 3] = p[at + 4] = 0;
		p[at + 5] = 0xCD;
		p[at + 6] = LGUEST_TRAP_ENTRY;
	}
}

static void map_user_pages(void)
{
	user_pt[0] = __pa(code_page) | 0x67;
	user_pt[1] = __pa(user_stack) | 0x67;
	user_pt[2] = __pa(data_page) | 0x67;
	hpgdir[USER_BASE >> 22] = __pa(user_pt) | 0x67;
	hc(LHCALL_NEW_PGTABLE, __pa(hpgdir), 0, 0);
	hc(LHCALL_FLUSH_TLB, 1, 0, 0);
}

static u32 outcomes[42];
static u32 rings[4];

/* "N cases (R1 at ring 1, R3 at ring 3) from seed S; v13:.. v14:.. end:.. timeout:.." into buf. */
static void report(char *buf, int size, u32 n, u32 seed)
{
	int len = hsnprintf(buf, size, "insnfuzz: %u cases (%u at ring 1, %u at ring 3) from seed %u;", n, rings[1], rings[3], seed);
	for (u32 v = 0; v < 42 && len < size - 20; v++) {
		if (!outcomes[v])
			continue;
		if (v == RAN_TO_END)
			len += hsnprintf(buf + len, size - len, " end:%u", outcomes[v]);
		else if (v == TIMEOUT)
			len += hsnprintf(buf + len, size - len, " timeout:%u", outcomes[v]);
		else
			len += hsnprintf(buf + len, size - len, " v%u:%u", v, outcomes[v]);
	}
}

void hostile_main(void)
{
	u32 seed = decimal("seed=", 1);
	u32 cases = decimal("cases=", 2000);
	u32 n, v;
	char line[200];
	seed_random(seed * 2654435761u ^ 0x85EBCA6B);
	say("insnfuzz: seed %u, %u cases", seed, cases);
	hostile_paging_init();
	map_user_pages();
	hc(LHCALL_SET_STACK, KDS, (u32)fz_kstack + sizeof(fz_kstack), 2);
	for (v = 0; v < 32; v++)
		if (v != 2 && v != 8 && v != 15 && v != LGUEST_TRAP_ENTRY)   /* as hlib: the Host keeps these */
			set_gate(v, (void (*)(void))fz_trap_table[v], 0xE, v == 3 || v == 4 ? 3 : 0);
	irqs_install();
	irq_hook = tick;
	lguest_data.blocked_interrupts = ~1u;          /* the timer only */
	hc(LHCALL_SET_CLOCKEVENT, TIMER_NS, 0, 0);

	for (n = 1; n <= cases; n++) {
		struct fz_regs r;
		u32 len_bytes = 8 + below(25), code;
		ring = below(4) ? 3 : 1;
		hc(LHCALL_SET_CLOCKEVENT, TIMER_NS, 0, 0);     /* the random code of the last case may have moved it */
		make_bytes(code_page, len_bytes);
		code_page[len_bytes] = 0x0F;                   /* ud2: the end */
		code_page[len_bytes + 1] = 0x0B;
		u32 code_va = ring == 3 ? USER_BASE : (u32)code_page;
		u32 data_va = ring == 3 ? USER_BASE + 0x2000 : (u32)data_page;
		end_eip = code_va + len_bytes;
		r.eax = pick_reg(data_va);
		r.ecx = pick_reg(data_va);
		r.edx = pick_reg(data_va);
		r.ebx = pick_reg(data_va);
		/* At ring 1 a trap is pushed on the current stack, and a stack the Host cannot write kills the
		 * guest: keep %ebp (leave, enter) mostly on the stack so that most cases end in a trap. */
		r.ebp = ring == 1 && below(8) ? (u32)ring1_stack + 2048 + 4 * below(256) : pick_reg(data_va);
		r.esi = pick_reg(data_va);
		r.edi = pick_reg(data_va);
		r.eip = code_va;
		r.eflags = 0x202 | (next() & 0x8D5);           /* random arithmetic flags and DF */
		if (ring == 3)
			r.esp = below(64) ? USER_BASE + 0x2000 - 4 * below(64) : next();
		else
			r.esp = below(256) ? (u32)ring1_stack + 4096 - 4 * below(64) : next();
		case_ticks = 0;
		in_case = 1;
		code = fz_enter(&r, ring);
		in_case = 0;
		lguest_data.irq_enabled = 0x200;
		outcomes[code < 42 ? code : 41]++;
		rings[ring]++;
		if (n % 50 == 0) {
			report(line, sizeof(line), n, seed);
			say("%s", line);
		}
	}
	report(line, sizeof(line), cases, seed);
	contained("%s", line);
}
