/*
 * traps.c - the CPU tables and what happens when the CPU stops what it was
 * doing: exceptions, interrupts and system calls.
 *
 * The GDT has Linux's 32-entry layout, because the lguest Host starts us on
 * selectors 0x61/0x69 (entries 12 and 13) and keeps entries 10, 11, 16 and
 * 31 for itself.  Kernel descriptors are written with DPL 0; the Host
 * raises them to DPL 1 when it copies them, so the very same table serves
 * both boots.  Only the selectors we *use* differ: pv.kernel_rpl is 1 under
 * lguest.
 *
 * The IDT is built in a local table and each gate is handed to
 * pv.write_idt_entry (natively that is the whole story; under lguest each
 * gate is also sent to the Host with LHCALL_LOAD_IDT_ENTRY).  Gate types
 * matter under lguest: a *trap* gate for 0x80 with DPL 3 becomes a direct
 * trap (ring 3 enters our handler without the Host), interrupt gates make
 * the Host clear lguest_data.irq_enabled when it delivers.
 */
#include "guest.h"

struct desc gdt[GDT_ENTRIES] __attribute__((aligned(8)));
struct desc idt[256] __attribute__((aligned(8)));
volatile u32 irq_count;
extern u32 trap_stubs[];                /* entry.S: 0..63, then 0x80 */
static void (*irq_handlers[NR_IRQS])(void);

static struct desc seg_desc(u32 base, u32 limit, u32 access)
{
	struct desc d;
	d.a = (limit & 0xffff) | (base << 16);
	d.b = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
	      (0xc << 20) /* 4 KB granularity, 32-bit */ | (base & 0xff000000);
	return d;
}

#define GATE_INTR 0xE
#define GATE_TRAP 0xF

static void set_gate(int vector, u32 handler, int type, int dpl)
{
	u32 sel = KERNEL_CS | pv.kernel_rpl;
	u32 lo = (sel << 16) | (handler & 0xffff);
	u32 hi = (handler & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8);
	pv.write_idt_entry(idt, vector, lo, hi);
}

void traps_init(void)
{
	int v;

	/* GDT: flat kernel and user segments; the accessed bits are preset. */
	gdt[GDT_ENTRY_KERNEL_CS] = seg_desc(0, 0xfffff, 0x9b);
	gdt[GDT_ENTRY_KERNEL_DS] = seg_desc(0, 0xfffff, 0x93);
	gdt[GDT_ENTRY_USER_CS]   = seg_desc(0, 0xfffff, 0xfb);
	gdt[GDT_ENTRY_USER_DS]   = seg_desc(0, 0xfffff, 0xf3);
	pv.load_gdt(gdt, GDT_ENTRIES);
	printk("traps: GDT loaded (%d entries, kernel cs %x ds %x)\n",
	       GDT_ENTRIES, KERNEL_CS | pv.kernel_rpl, KERNEL_DS | pv.kernel_rpl);

	/*
	 * Exceptions are trap gates except the page fault (an interrupt gate,
	 * so nothing can disturb cr2 before we read it); hardware interrupts
	 * are interrupt gates; the system call is a DPL-3 trap gate.
	 */
	for (v = 0; v < 32; v++)
		set_gate(v, trap_stubs[v], v == 14 ? GATE_INTR : GATE_TRAP, 0);
	for (v = 32; v < 64; v++)
		set_gate(v, trap_stubs[v], GATE_INTR, 0);
	set_gate(SYSCALL_VECTOR, trap_stubs[64], GATE_TRAP, 3);
	pv.load_idt(idt, 256);
	printk("traps: IDT loaded (exceptions 0-31, irqs 32-63, syscall 0x80 DPL 3)\n");

	/* The stack traps from ring 3 land on. */
	pv.load_kernel_stack((u32)trap_stack + TRAP_STACK_PAGES * PAGE_SIZE,
			     TRAP_STACK_PAGES);
	pv.irq_init();
}

void irq_register(int irq, void (*handler)(void))
{
	irq_handlers[irq] = handler;
	pv.irq_unmask(irq);
}

static const char *const exc_names[32] = {
	"divide error", "debug", "nmi", "breakpoint", "overflow", "bound",
	"invalid opcode", "no fpu", "double fault", "coprocessor overrun",
	"bad tss", "segment not present", "stack fault", "general protection",
	"page fault", "spurious", "fpu error", "alignment check", "machine check",
	"simd", "virtualization",
};

void trap_dispatch(struct trap_frame *f)
{
	u32 v = f->vector;
	int user = (f->cs & 3) == 3;

	if (v >= FIRST_IRQ_VECTOR && v < FIRST_IRQ_VECTOR + NR_IRQS) {
		int irq = v - FIRST_IRQ_VECTOR;
		irq_count++;
		if (irq_handlers[irq])
			irq_handlers[irq]();
		pv.irq_ack(irq);
		return;
	}
	if (v == SYSCALL_VECTOR) {
		syscall_dispatch(f);
		return;
	}
	if (v == 14) {
		u32 addr = pv.read_cr2();
		if (handle_page_fault(f, addr))
			return;
		if (user) {
			printk("user: page fault at %x (eip %x, error %x): killed\n",
			       addr, f->eip, f->errcode);
			user_result.fault_addr = addr;
			user_return(-14);
		}
		panic("page fault at %x, eip %x, error %x", addr, f->eip, f->errcode);
	}
	if (user) {
		printk("user: %s (trap %u) at eip %x: killed\n",
		       v < 32 && exc_names[v] ? exc_names[v] : "trap", v, f->eip);
		user_return(-(int)v);
	}
	panic("%s (trap %u) at eip %x cs %x error %x eax %x",
	      v < 32 && exc_names[v] ? exc_names[v] : "unknown", v,
	      f->eip, f->cs, f->errcode, f->eax);
}
