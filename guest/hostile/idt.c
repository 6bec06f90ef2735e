/*
 * hostile-idt: take over the vectors the Host keeps, or point gates where
 * they must not lead (docs/lguest-abi.md §2.4, §5.6, §12.2).
 *
 *   protected (default)  LOAD_IDT_ENTRY for 2 (NMI), 8 (double fault) and
 *                   15, as DPL-3 trap gates to our own handler: the Host must
 *                   ignore them silently (Linux loads them), and hypercalls
 *                   still reach the Host.
 *   hcall-gate      the same for 0x1F, the hypercall vector: ignored (2.6.23)
 *                   or killed (this Host: "attempt to take over the hypercall
 *                   vector").  If our 0x1F handler runs instead we can no
 *                   longer talk to the Host: we then make ourselves impossible
 *                   to run (esp 0 and a fault), so the test sees an odd death.
 *   trap-gates      14 (page fault) and 13 (#GP) as trap gates, which would
 *                   be direct traps for other vectors: the Host must keep
 *                   its own stubs.  We flush every shadow mapping and read our
 *                   own pages (page faults must go to the Host and be
 *                   handled silently), then run "inb $0x60" (the Host
 *                   emulates it, reading 0xFF; our #GP handler must not run).
 *   switcher-gate   gates whose handler is in the Switcher: int3 through a
 *                   DPL-3 trap gate at 0xFFC000E0 (the Host's page-fault stub
 *                   address) and IRQ 0 through an interrupt gate at
 *                   0xFFC00000.  Neither may run Switcher code or pass for a
 *                   Host trap: expect a #GP reflected to us (the target is
 *                   beyond our trimmed code segment) or a kill.
 *   selector        a trap gate for 3 whose selector is 0x50 (the Host's
 *                   ring-0 code): the Host forces the guest kernel CS, so our
 *                   handler must run at CPL 1.
 *   badtype         LOAD_IDT_ENTRY(32) with type 5 (task gate): killed,
 *                   "bad IDT type".
 *   bigvector       LOAD_IDT_ENTRY for vectors the Host keeps nothing for
 *                   (64, 0x81, 255) and beyond any table (256, 0x7FFFFFFF,
 *                   0x80000000, 0xFFFFFFFF): ignored, like 2.6.23 (contained).
 */
#include "hostile.h"

extern u32 trap_stub_table[32];
static volatile u32 hijacked;

void hijack_stub(void);
asm(".text\n hijack_stub:\n movl $1, hijacked\n iret\n");

static void load_raw(u32 v, u32 lo, u32 hi, const char *what)
{
	say("about to LOAD_IDT_ENTRY(%x, %x, %x): %s", v, lo, hi, what);
	hc(LHCALL_LOAD_IDT_ENTRY, v, lo, hi);
}

static void __attribute__((noreturn)) take_over(const u32 *vecs, u32 n, const char *names)
{
	for (u32 i = 0; i < n; i++) {
		u32 lo, hi;
		gate_words(hijack_stub, 0x60, 0xF, 3, &lo, &hi);
		load_raw(vecs[i], lo, hi, "a DPL-3 trap gate to our hijack handler");
	}
	say("accepted without a kill; about to call GET_WALLCLOCK through int $0x1f");
	u32 t = hc(LHCALL_GET_WALLCLOCK, 0, 0, 0);
	if (hijacked) {
		/* Every hypercall now lands in our handler: end without one. */
		asm volatile("movl $0, %%esp; ud2" ::: "memory");
	}
	contained("the Host ignored LOAD_IDT_ENTRY for %s; hypercalls still reach it (wall clock %u)", names, t);
}

static void __attribute__((noreturn)) protected(void)
{
	static const u32 vecs[] = { 2, 8, 15 };
	take_over(vecs, ARRAY_SIZE(vecs), "2, 8 and 15");
}

static void __attribute__((noreturn)) hcall_gate(void)
{
	static const u32 vecs[] = { 0x1F };
	take_over(vecs, ARRAY_SIZE(vecs), "0x1F");
}

static volatile u32 sink;

static void __attribute__((noreturn)) trap_gates(void)
{
	u32 lo, hi, before, v = 0;
	gate_words((void (*)(void))trap_stub_table[14], 0x60, 0xF, 0, &lo, &hi);
	load_raw(14, lo, hi, "page fault as a trap gate (would be a direct trap)");
	gate_words((void (*)(void))trap_stub_table[13], 0x60, 0xF, 0, &lo, &hi);
	load_raw(13, lo, hi, "#GP as a trap gate (would be a direct trap)");
	before = last_trap.count;
	say("about to FLUSH_TLB(1) and read our own pages: page faults must go to the Host");
	hc(LHCALL_FLUSH_TLB, 1, 0, 0);
	for (u32 a = PAGE_OFFSET + 0x100000; a < PAGE_OFFSET + 0x140000; a += PAGE_SIZE)
		sink += *(volatile u32 *)a;
	if (last_trap.count != before)
		unexpected("a page fault on our own mapped page was given to us (vector %u, cr2 %x): "
			   "page faults became direct traps", last_trap.vector, last_trap.cr2);
	say("about to run inb $0x60 at ring 1: the Host must emulate it");
	asm volatile("inb $0x60, %%al" : "=a"(v) : "0"(0));
	if (last_trap.count != before)
		unexpected("our #GP handler ran for inb (vector %u): #GP became a direct trap", last_trap.vector);
	contained("13 and 14 stayed with the Host (no fault reached us; inb read %x)", v & 0xff);
}

static void __attribute__((noreturn)) switcher_gate(void)
{
	u32 lo, hi;
	int r;
	gate_words((void (*)(void))0xFFC000E0, 0x60, 0xF, 3, &lo, &hi);
	load_raw(3, lo, hi, "int3 as a DPL-3 trap gate into the Switcher (0xFFC000E0)");
	say("about to int3");
	r = try_int3();
	if (r >= 0)
		escape("int3 through a gate at 0xFFC000E0 came back through our own handler at CPL %d", r);
	if (r == -2)
		escape("int3 through a gate into the Switcher returned with no trap at all");
	say("int3 trapped: vector %u at eip %x, error code %x", last_trap.vector, last_trap.eip, last_trap.err);
	gate_words((void (*)(void))0xFFC00000, 0x60, 0xE, 0, &lo, &hi);
	load_raw(32, lo, hi, "IRQ 0 as an interrupt gate at 0xFFC00000");
	say("about to enable interrupts with a 100 us clock event");
	u32 before = last_trap.count;
	lguest_data.blocked_interrupts = ~1u;
	hc(LHCALL_SET_CLOCKEVENT, 100000, 0, 0);
	lguest_data.irq_enabled = X86_EFLAGS_IF;
	halt_until_trap(200);
	lguest_data.irq_enabled = 0;
	if (last_trap.count == before)
		unexpected("IRQ 0 into the Switcher never trapped after 200 halts");
	contained("gates into the Switcher trapped: int3 -> vector %u, IRQ 0 -> vector %u at eip %x",
		  13, last_trap.vector, last_trap.eip);
}

static void __attribute__((noreturn)) selector(void)
{
	u32 lo, hi;
	int cpl;
	gate_words((void (*)(void))trap_stub_table[3], 0x50, 0xF, 3, &lo, &hi);
	load_raw(3, lo, hi, "int3 as a DPL-3 trap gate with selector 0x50 (the Host's ring-0 code)");
	say("about to int3");
	cpl = try_int3();
	if (cpl == 0)
		escape("our int3 handler ran at CPL 0 through a gate with selector 0x50");
	if (cpl == -1)
		say("int3 trapped: vector %u, error code %x", last_trap.vector, last_trap.err);
	contained("the gate's selector 0x50 did not give CPL 0 (handler CPL %d; -1 = trapped)", cpl);
}

static void __attribute__((noreturn)) bigvector(void)
{
	static const u32 vecs[] = { 64, 0x81, 255, 256, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF };
	u32 lo, hi;
	gate_words((void (*)(void))trap_stub_table[3], 0x60, 0xF, 3, &lo, &hi);
	for (u32 i = 0; i < ARRAY_SIZE(vecs); i++)
		load_raw(vecs[i], lo, hi, "a vector the Host keeps no gate for");
	contained("LOAD_IDT_ENTRY for vectors 64, 0x81, 255, 256, 0x7FFFFFFF, 0x80000000 and 0xFFFFFFFF were ignored");
}

void hostile_main(void)
{
	if (variant("bigvector"))
		bigvector();
	if (variant("hcall-gate"))
		hcall_gate();
	if (variant("trap-gates"))
		trap_gates();
	if (variant("switcher-gate"))
		switcher_gate();
	if (variant("selector"))
		selector();
	if (variant("badtype")) {
		load_raw(32, 0x00600000, 0xC0008500, "type 5 (a task gate): expect to be killed");
		unexpected("still alive after LOAD_IDT_ENTRY with a task gate");
	}
	protected();
}
