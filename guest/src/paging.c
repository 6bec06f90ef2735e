/*
 * paging.c - physical pages and the kernel's page tables.
 *
 * Physical memory is handed out by a bump allocator that starts at the end
 * of the kernel image and never frees: enough for a kernel whose only
 * dynamic memory is its page tables and a few demand-allocated pages.  It
 * stays 4 MB clear of the top of RAM, where the lguest Launcher built the
 * page tables we are running on until paging_init() switches to our own.
 *
 * Our page directory is the classic i386 two-level, non-PAE one with 4 KB
 * pages only (the lguest Host refuses PSE pages): all RAM mapped linearly
 * at PAGE_OFFSET, plus, under lguest, the device descriptor page that
 * follows RAM.  Nothing is mapped at 0.  It is built in memory before it is
 * loaded, so those writes need no hypervisor notice; from the moment it is
 * live every change goes through pv.set_pte / pv.set_pmd, which under
 * lguest tell the Host (SET_PTE / SET_PMD, batched through the asynchronous
 * hypercall ring inside a lazy_mmu stretch).
 *
 * Two zones are demand-paged: touching an unmapped page there takes a page
 * fault, and the handler maps a fresh zeroed page.  DEMAND_BASE (4 MB at
 * 0xF0000000, kernel only) is for the selftest; USTACK (the 4 MB below
 * PAGE_OFFSET) is the user program's stack.  Under lguest the Host first
 * tries its own demand_page() against our tables, finds nothing present and
 * reflects the fault to us with the address in lguest_data.cr2.
 */
#include "guest.h"

extern char _end[];
u32 *kernel_pgdir;
volatile u32 demand_faults;
static u32 next_free, free_limit;

u32 alloc_page(void)
{
	u32 p = next_free;
	if (p + PAGE_SIZE > free_limit)
		panic("out of memory");
	next_free += PAGE_SIZE;
	memset(__va(p), 0, PAGE_SIZE);
	return p;
}

u32 *lookup_pte(u32 vaddr)
{
	u32 pde = kernel_pgdir[vaddr >> 22];
	if (!(pde & PTE_P))
		return NULL;
	return (u32 *)__va(pde & ~0xfff) + ((vaddr >> 12) & 1023);
}

/* Map one page in the live page tables, telling the hypervisor. */
void map_page(u32 vaddr, u32 paddr, u32 flags)
{
	u32 index = vaddr >> 22;
	if (!(kernel_pgdir[index] & PTE_P)) {
		u32 pde = alloc_page() | PTE_P | PTE_W | (vaddr < PAGE_OFFSET ? PTE_U : 0);
		pv.set_pmd(kernel_pgdir, index, pde);
	}
	pv.set_pte(kernel_pgdir, vaddr, lookup_pte(vaddr), paddr | flags);
}

void paging_init(void)
{
	u32 linear = boot.ram_bytes, top, addr;

	if (linear > DEMAND_BASE - PAGE_OFFSET)
		linear = DEMAND_BASE - PAGE_OFFSET;     /* 768 MB is plenty */
	linear &= ~(PAGE_SIZE - 1);
	next_free = (__pa(_end) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	free_limit = linear - (4 << 20);
	if (next_free + (1 << 20) > free_limit)
		panic("too little memory (%u KB)", boot.ram_bytes >> 10);

	/* Build the directory off-line: no hypercalls needed yet. */
	top = linear + (boot.lguest ? PAGE_SIZE : 0);
	kernel_pgdir = __va(alloc_page());
	for (addr = 0; addr < top; addr += PAGE_SIZE) {
		u32 va = PAGE_OFFSET + addr;
		u32 *pde = &kernel_pgdir[va >> 22];
		if (!(*pde & PTE_P))
			*pde = alloc_page() | PTE_P | PTE_W;
		((u32 *)__va(*pde & ~0xfff))[(va >> 12) & 1023] = addr | PTE_P | PTE_W;
	}

	/*
	 * Go live.  Under lguest, NEW_PGTABLE may recycle a shadow that still
	 * holds the Launcher's kernel mappings (flags 0x7, user-accessible), so
	 * follow it with a full flush; natively the cr3 load flushes anyway.
	 */
	pv.write_cr3(kernel_pgdir);
	pv.flush_tlb_kernel();
	printk("paging: %u MB mapped at %x%s, page directory at %x, "
	       "free pages from %x\n", linear >> 20, PAGE_OFFSET,
	       boot.lguest ? " (+ device page)" : "", __pa(kernel_pgdir), next_free);
}

int handle_page_fault(struct trap_frame *f, u32 addr)
{
	u32 *pte, user;
	(void)f;

	if (!((addr >= DEMAND_BASE && addr < DEMAND_END) ||
	      (addr >= USTACK_BASE && addr < USTACK_TOP)))
		return 0;
	pte = lookup_pte(addr);
	if (pte && (*pte & PTE_P))
		return 0;                       /* present: a protection fault */
	user = addr < PAGE_OFFSET ? PTE_U : 0;
	pv.lazy_mmu_begin();
	map_page(addr & ~(PAGE_SIZE - 1), alloc_page(), PTE_P | PTE_W | user);
	pv.lazy_mmu_end();
	demand_faults++;
	return 1;
}
