/*
 * hostile-gdt: LOAD_GDT with descriptors that would give us ring 0 or a
 * segment reaching the Switcher (docs/lguest-abi.md §1.4, §1.5, §12.2;
 * docs/architecture.md §3: "guest segments are trimmed below the switcher").
 *
 * Our table keeps Linux's entries 12/13 (flat, DPL 0, as Linux writes them)
 * and adds:
 *   10  a DPL-0 code segment based at 0x40000000: entry 10 is the Host's
 *       LGUEST_CS and must never be taken from us;
 *   20  flat code, DPL 0;   21 flat data, DPL 0;
 *   22  data, base 0x80000000, limit 4 GB (offset 0x7FC00000 = linear
 *       0xFFC00000; larger offsets wrap around to 0);
 *   23  flat data, DPL 1, limit 4 GB;
 *   24  a 32-bit call gate, DPL 1, to 0x50:callee (the Host's ring-0 CS).
 *
 *   dpl0 (default)  lar shows the DPL the CPU sees for 20/21; ljmp to 20 with
 *                   RPL 0 and a %es load of 21: we must still run at CPL 1.
 *   limit           lsl shows the limits of 22/23; writes through them at
 *                   the Switcher's addresses must trap (#GP with a trimmed
 *                   limit, #PF if only paging protects) and never land.
 *   callgate        lcall through 24 and ljmp to 0x50: neither may reach
 *                   CPL 0 (the Host's fix-up, or its refusal, must stop it).
 *   tls-callgate    the same through LOAD_TLS (entries 6-8 take the same
 *                   fix-up path): a call gate in 6, DPL-0 code in 7.
 * A survived attack ends with CRASH "hostile: contained: ..."; anything that
 * reaches CPL 0 or writes the Switcher ends with "hostile: ESCAPE: ...".
 */
#include "hostile.h"

extern void callee(void);
static struct desc table[GDT_ENTRIES] __attribute__((aligned(8)));
static volatile u32 scratch;

static int lar(u32 sel, u32 *ar)
{
	u32 r = 0;
	u8 ok;
	asm volatile("lar %2, %0; setz %1" : "+r"(r), "=q"(ok) : "r"(sel));
	*ar = r;
	return ok;
}

static int lsl(u32 sel, u32 *limit)
{
	u32 r = 0;
	u8 ok;
	asm volatile("lsl %2, %0; setz %1" : "+r"(r), "=q"(ok) : "r"(sel));
	*limit = r;
	return ok;
}

static void load_table(void)
{
	u32 off = (u32)callee;
	table[10] = (struct desc){ 0x0000ffff, 0x40cf9a00 };
	table[12] = (struct desc){ 0x0000ffff, 0x00cf9a00 };
	table[13] = (struct desc){ 0x0000ffff, 0x00cf9200 };
	table[14] = (struct desc){ 0x0000ffff, 0x00cffa00 };
	table[15] = (struct desc){ 0x0000ffff, 0x00cff200 };
	table[20] = (struct desc){ 0x0000ffff, 0x00cf9a00 };
	table[21] = (struct desc){ 0x0000ffff, 0x00cf9200 };
	table[22] = (struct desc){ 0x0000ffff, 0x80cfb200 };
	table[23] = (struct desc){ 0x0000ffff, 0x00cfb200 };
	table[24] = (struct desc){ (0x50u << 16) | (off & 0xffff), (off & 0xffff0000) | 0x8000 | (1 << 13) | 0x0C00 };
	say("about to LOAD_GDT(%x, 32) with DPL-0 entries 10, 20, 21, a base-0x80000000/4 GB entry 22, "
	    "a flat 4 GB entry 23 and a call gate to 0x50 in 24", __pa(table));
	hc(LHCALL_LOAD_GDT, __pa(table), GDT_ENTRIES, 0);
	say("LOAD_GDT accepted");
}

static void show(u32 sel)
{
	u32 ar, lim;
	int a = lar(sel, &ar), l = lsl(sel, &lim);
	if (a)
		say("selector %x: access rights %x (DPL %u), limit %s%x", sel, ar, (ar >> 13) & 3,
		    l ? "" : "unreadable ", l ? lim : 0);
	else
		say("selector %x: lar refused (not visible at CPL 1: DPL 0, or not a valid segment)", sel);
}

static void __attribute__((noreturn)) dpl0(void)
{
	int cpl;
	show(0xA1);
	show(0xA9);
	show(0x51);
	say("about to ljmp to selector 0xA0 (entry 20, written with DPL 0, RPL 0)");
	cpl = try_ljmp(0xA0);
	if (cpl == 0)
		escape("ljmp to our DPL-0 code segment 0xA0 gave CPL 0");
	if (cpl < 0)
		say("ljmp to 0xA0 trapped: vector %u, error code %x", last_trap.vector, last_trap.err);
	else
		say("ljmp to 0xA0 ran at CPL %d", cpl);
	say("about to load %%es with 0xA8 (entry 21, DPL 0, RPL 0) and write through it");
	int t = try_es_write32(0xA8, (u32)&scratch, 0x1234);
	say("%%es = 0xA8 write %s", t ? "trapped" : "worked (the entry was raised to DPL 1)");
	say("about to ljmp to selector 0x50 (the Host's ring-0 code segment)");
	cpl = try_ljmp(0x50);
	if (cpl == 0)
		escape("ljmp to 0x50 gave CPL 0");
	contained("DPL-0 entries did not give CPL 0 (ljmp 0xA0 -> %d, ljmp 0x50 -> %d; -1 = trapped)",
		  try_ljmp(0xA0), cpl);
}

static void __attribute__((noreturn)) limit(void)
{
	static const struct { u32 sel, off; const char *what; } w[] = {
		{ 0xB1, 0x7FC00000, "entry 22 (base 0x80000000) offset 0x7FC00000 = linear 0xFFC00000" },
		{ 0xB1, 0x7FFFF000, "entry 22 (base 0x80000000) offset 0x7FFFF000 = linear 0xFFFFF000" },
		{ 0xB9, 0xFFC00000, "entry 23 (flat) offset 0xFFC00000" },
		{ 0xB9, 0xFFC02000, "entry 23 (flat) offset 0xFFC02000 (read-only state page)" },
	};
	u32 gp = 0, pf = 0;
	show(0xB1);
	show(0xB9);
	for (u32 i = 0; i < ARRAY_SIZE(w); i++) {
		say("about to write through %s", w[i].what);
		if (!try_es_write32(w[i].sel, w[i].off, 0x0BADF00D))
			escape("write through %s did not trap", w[i].what);
		say("trapped: vector %u, error code %x, cr2 %x", last_trap.vector, last_trap.err, last_trap.cr2);
		if (last_trap.vector == 13)
			gp++;
		else if (last_trap.vector == 14)
			pf++;
	}
	contained("every write through a 4 GB segment into the Switcher trapped (%u #GP, %u #PF)", gp, pf);
}

static void __attribute__((noreturn)) callgate(void)
{
	int cpl;
	show(0xC1);
	say("about to lcall through the call gate at 0xC0 (entry 24 -> 0x50:callee)");
	cpl = try_lcall(0xC1);
	if (cpl == 0)
		escape("the call gate in our GDT took us to CPL 0");
	if (cpl < 0)
		say("lcall 0xC1 trapped: vector %u, error code %x", last_trap.vector, last_trap.err);
	else
		say("lcall 0xC1 ran the callee at CPL %d", cpl);
	contained("the call gate to the Host's code segment did not give CPL 0 (%d)", cpl);
}

static void __attribute__((noreturn)) tls_callgate(void)
{
	static struct desc tls[3] __attribute__((aligned(8)));
	u32 off = (u32)callee;
	int cpl;
	tls[0] = (struct desc){ (0x50u << 16) | (off & 0xffff), (off & 0xffff0000) | 0x8000 | (3 << 13) | 0x0C00 };
	tls[1] = (struct desc){ 0x0000ffff, 0x00cf9a00 };          /* flat code, DPL 0 */
	say("about to LOAD_TLS(%x) with a DPL-3 call gate to 0x50:callee in entry 6 and DPL-0 code in entry 7",
	    __pa(tls));
	hc(LHCALL_LOAD_TLS, __pa(tls), 0, 0);
	show(0x33);
	show(0x39);
	say("about to lcall through 0x33 (entry 6)");
	cpl = try_lcall(0x33);
	if (cpl == 0)
		escape("the call gate in our TLS entry took us to CPL 0");
	say("about to ljmp to 0x38 (entry 7, DPL 0 code)");
	int cpl2 = try_ljmp(0x38);
	if (cpl2 == 0)
		escape("ljmp to our DPL-0 TLS code segment gave CPL 0");
	contained("TLS entries did not give CPL 0 (lcall 0x33 -> %d, ljmp 0x38 -> %d; -1 = trapped)", cpl, cpl2);
}

void hostile_main(void)
{
	if (variant("tls-callgate"))
		tls_callgate();
	load_table();
	if (variant("limit"))
		limit();
	if (variant("callgate"))
		callgate();
	dpl0();
}
