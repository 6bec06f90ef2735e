/*
 * hostile-pfn: page tables pointing outside guest memory, or into the
 * Host's slot 1023 (docs/lguest-abi.md §4.2, §4.3, §4.7, §1.4).
 * The Host must kill us: a frame at or beyond the pfn limit would be Host
 * memory (in 2.6.23, the Launcher's own code above the guest's RAM).
 *
 *   pte (default)  SET_PTE for PAGE_OFFSET + 0xFFF000 with frame 0xF0000
 *                  (3.75 GB) and the accessed/dirty bits set, so the Host
 *                  validates it at once: "bad page table entry".
 *   fault          the same PTE written only in our table (no SET_PTE), then
 *                  a read there: the demand fault must kill us.
 *   pde            PDE 776 (PAGE_OFFSET + 32 MB) naming a page table at frame
 *                  0xF0000, then a read there: "bad page directory entry".
 *   pwt            SET_PTE with PWT (0x08) on a frame inside memory: "bad page
 *                  table entry" (2.6.23 check_gpte refuses PWT and PSE).
 *   pse            PDE 776 with PSE (a 4 MB page), then a read there: "bad page
 *                  directory entry" (flags outside _PAGE_TABLE).
 *   pmd-index      SET_PMD with indexes 1024 .. 0xFFFFFFFF: ignored (contained),
 *                  never an index into a Host array.
 *   slot1023       PDE 1023 present in our directory (SET_PMD 1023 must be
 *                  ignored), then a read of 0xFFFFF000: "attempt to access
 *                  switcher pages".
 */
#include "hostile.h"

#define FAR_FRAME 0xF0000u
static u32 pt1023[1024] __attribute__((aligned(4096)));
static u32 bait[1024] __attribute__((aligned(4096)));

static void __attribute__((noreturn)) touch(u32 va, const char *what)
{
	u32 v = 0;
	say("about to read 0x%x (%s): expect to be killed", va, what);
	if (try_read32(va, &v))
		contained("the read of 0x%x was reflected to us (vector %u, error code %x, cr2 %x) instead of killing us",
			  va, last_trap.vector, last_trap.err, last_trap.cr2);
	escape("read 0x%x through %s and got %x", va, what, v);
}

void hostile_main(void)
{
	u32 va = PAGE_OFFSET + 0xFFF000, pte = (FAR_FRAME << 12) | 0x63;

	hostile_paging_init();
	say("RAM is %u frames; the pfn limit is RAM + device pages; frame %x is far beyond", pfn_ram_end(), FAR_FRAME);
	if (variant("fault")) {
		*hpte(va) = pte;
		touch(va, "a PTE naming frame 0xF0000 that we never told the Host about");
	}
	if (variant("pde")) {
		u32 va2 = PAGE_OFFSET + (8u << 22);
		hpgdir[va2 >> 22] = (FAR_FRAME << 12) | 0x63;
		touch(va2, "a PDE whose page table is frame 0xF0000");
	}
	if (variant("pwt")) {
		*hpte(va) = (0x100u << 12) | 0x6B;
		say("about to SET_PTE(%x, %x, %x): PWT set: expect to be killed", __pa(hpgdir), va, *hpte(va));
		hc(LHCALL_SET_PTE, __pa(hpgdir), va, *hpte(va));
		touch(va, "a PTE with PWT the Host accepted");
	}
	if (variant("pse")) {
		u32 va2 = PAGE_OFFSET + (8u << 22);
		hpgdir[va2 >> 22] = 0x000000E3;         /* a 4 MB page at 0 */
		touch(va2, "a PDE with PSE (a 4 MB page)");
	}
	if (variant("pmd-index")) {
		static const u32 idx[] = { 1024, 4096, 0x40000000, 0x80000000, 0xFFFFFFFF };
		for (u32 i = 0; i < ARRAY_SIZE(idx); i++) {
			say("about to SET_PMD(%x, %x)", __pa(hpgdir), idx[i]);
			hc(LHCALL_SET_PMD, __pa(hpgdir), idx[i], 0);
		}
		contained("SET_PMD with indexes 1024, 4096, 0x40000000, 0x80000000 and 0xFFFFFFFF were ignored");
	}
	if (variant("slot1023")) {
		pt1023[1023] = __pa(bait) | 0x63;
		hpgdir[1023] = __pa(pt1023) | 0x63;
		say("about to SET_PMD(%x, 1023): the Host must ignore it", __pa(hpgdir));
		hc(LHCALL_SET_PMD, __pa(hpgdir), 1023, 0);
		say("still alive after SET_PMD 1023");
		touch(0xFFFFF000, "our PDE 1023");
	}
	*hpte(va) = pte;
	say("about to SET_PTE(%x, %x, %x): expect to be killed", __pa(hpgdir), va, pte);
	hc(LHCALL_SET_PTE, __pa(hpgdir), va, pte);
	say("SET_PTE with frame %x was accepted", FAR_FRAME);
	touch(va, "the PTE the Host accepted");
}
