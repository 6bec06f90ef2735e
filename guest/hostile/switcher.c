/*
 * hostile-switcher: write the Switcher's region, 0xFFC00000 and up
 * (docs/lguest-abi.md §1.1, §1.3, §1.4, §4.2, §4.3).
 *
 *   direct (default)  write 0xFFC00000 (Switcher text), 0xFFC02000 (the
 *                     read-only state: the IDT/GDT/TSS the CPU runs us with)
 *                     and 0xFFFFF000 without mapping anything.  Our page
 *                     directory has nothing in slot 1023, so every write must
 *                     fault and be reflected to us (the Host cannot fill a
 *                     shadow entry for a page we never mapped): contained.
 *   map               put a page table in our slot 1023 mapping one of our
 *                     own pages at 0xFFC00000, tell the Host (SET_PMD 1023,
 *                     which 2.6.23 ignores), then write there: the shadow
 *                     fault must kill us ("attempt to access switcher pages").
 *   setpte            the same table, then SET_PTE for 0xFFC00000 with the
 *                     accessed and dirty bits set: killed at the hypercall.
 *   stack             the same table, then SET_STACK(0x69, 0xFFC02000, 2): the
 *                     Host pins the stack pages (§4.6) by demand-faulting them
 *                     in, which here means slot 1023: killed.
 *   stack-nomap       SET_STACK(0x69, 0xFFC02000, 2) with nothing in our slot
 *                     1023: "bad stack page", killed.
 *   esp               %esp = 0xFFC02000, then int3 (a direct trap gate): the
 *                     CPU cannot push there (trimmed SS, or read-only/unmapped
 *                     pages), nor can the Host reflecting the fault: killed.
 */
#include "hostile.h"

static u32 sw_pt[1024] __attribute__((aligned(4096)));
static u32 bait[1024] __attribute__((aligned(4096)));

static void __attribute__((noreturn)) direct(void)
{
	static const u32 targets[] = { 0xFFC00000, 0xFFC02000, 0xFFFFF000 };
	u32 faults = 0;

	for (u32 i = 0; i < ARRAY_SIZE(targets); i++) {
		u32 a = targets[i], v = 0;
		say("about to write 0x%x directly (nothing mapped there in our page tables)", a);
		if (try_write32(a, 0x0BADF00D)) {
			say("write to 0x%x trapped: vector %u, error code %x, cr2 %x",
			    a, last_trap.vector, last_trap.err, last_trap.cr2);
			faults++;
			continue;
		}
		if (!try_read32(a, &v) && v == 0x0BADF00D)
			escape("wrote 0x0BADF00D at 0x%x in the Switcher region and read it back", a);
		escape("write to 0x%x did not fault (read back %x)", a, v);
	}
	contained("all %u direct writes to the Switcher region faulted and were reflected", faults);
}

static void build_slot1023(void)
{
	hostile_paging_init();
	for (u32 i = 0; i < 1024; i++)
		sw_pt[i] = __pa(bait) | 0x63;  /* every page of the region -> our bait page */
	hpgdir[1023] = __pa(sw_pt) | 0x63;
	say("our page directory %x now maps 0xFFC00000-0xFFFFFFFF onto our page %x (PDE 1023 = %x)",
	    __pa(hpgdir), __pa(bait), hpgdir[1023]);
}

void hostile_main(void)
{
	if (variant("esp")) {
		say("about to point %%esp at 0xFFC02000 (the Switcher's regs page ends there) and int3: "
		    "expect to be killed when no frame can be pushed");
		asm volatile("movl $0xFFC02000, %%esp; int3" ::: "memory");
		escape("int3 with %%esp in the Switcher region returned");
	}
	if (variant("stack") || variant("stack-nomap")) {
		if (variant("stack"))
			build_slot1023();
		say("about to SET_STACK(0x69, 0xFFC02000, 2): the Host would pin 0xFFC01000 and 0xFFC00000 "
		    "(the Switcher's regs and code pages) as our kernel stack: expect to be killed");
		hc(LHCALL_SET_STACK, 0x69, 0xFFC02000, 2);
		if (bait[0] || bait[1])
			escape("SET_STACK into the Switcher region wrote into our slot-1023 page");
		contained("SET_STACK(0x69, 0xFFC02000, 2) was accepted and did not kill us");
	}
	if (variant("setpte")) {
		build_slot1023();
		say("about to SET_PTE(%x, 0xFFC00000, %x): expect to be killed", __pa(hpgdir), sw_pt[0]);
		hc(LHCALL_SET_PTE, __pa(hpgdir), 0xFFC00000, sw_pt[0]);
		say("SET_PTE for 0xFFC00000 was accepted; writing there");
		if (try_write32(0xFFC00000, 0x0BADF00D))
			contained("SET_PTE for the Switcher slot accepted, but the write faulted (vector %u)",
				  last_trap.vector);
		if (bait[0] == 0x0BADF00D)
			escape("the Host let us map our own page over the Switcher at 0xFFC00000");
		escape("write to 0xFFC00000 did not fault after SET_PTE");
	}
	if (variant("map")) {
		build_slot1023();
		say("about to SET_PMD(%x, 1023): the Host must ignore it", __pa(hpgdir));
		hc(LHCALL_SET_PMD, __pa(hpgdir), 1023, 0);
		say("still alive after SET_PMD 1023; about to write 0xFFC00000 through our mapping: expect to be killed");
		if (try_write32(0xFFC00000, 0x0BADF00D))
			contained("the write to 0xFFC00000 through our slot-1023 mapping was reflected (vector %u, cr2 %x), not killed",
				  last_trap.vector, last_trap.cr2);
		if (bait[0] == 0x0BADF00D)
			escape("our slot-1023 mapping replaced the Switcher: the write landed in our page");
		escape("write to 0xFFC00000 through our slot-1023 mapping did not fault");
	}
	direct();
}
