/*
 * hostile-hcallargs: hypercall arguments outside guest memory, or wrapping
 * around 4 GB (docs/lguest-abi.md §3.2, §4.7 lguest_address_ok, §7, §12.2).
 * Every one must kill us; none may make the Host read or write outside our
 * memory, throw, or hang.  One variant word on the command line:
 *
 *   init-beyond     LGUEST_INIT(0x7FFFF000) as the first hypercall
 *   init-wrap       LGUEST_INIT(0xFFFFFC00): 1120 bytes wrap past 4 GB
 *   gdt-beyond      LOAD_GDT(0x7FFFF000, 32)
 *   gdt-wrap        LOAD_GDT(0xFFFFFF80, 32)
 *   gdt-count       LOAD_GDT(valid table, 0x20000001): 33 entries if the
 *                   count is taken modulo 2^29 (count * 8 overflows to 8)
 *   send-beyond     SEND_DMA(0, 0x7FFFF000): the lguest_dma itself outside
 *   send-section    SEND_DMA(0, dma) whose section is 0x7FFFF000, 256 bytes
 *   send-wrap       SEND_DMA(0, dma) whose section is 0xFFFFFF00, 512 bytes
 *   send-cross      SEND_DMA(0, dma) whose section, in guest memory, crosses a page
 *   send-overlap    SEND_DMA(0, dma) whose two sections, in guest memory, overlap
 *   key-beyond      SEND_DMA(0x7FFFF000, valid dma): the key outside memory
 *   bind-beyond     BIND_DMA(0, 0x7FFFF000, 1 buffer, IRQ 1); if accepted we
 *                   wait (halted, interrupts on) for console input, which
 *                   makes the Launcher use the buffer: the kill may come then
 *   bind-wrap       BIND_DMA(0, 0xFFFFFFC0, 4 buffers, IRQ 1), the same way
 *   crash-beyond    CRASH(0x7FFFF000): the message is outside memory
 *   pgtable-beyond  NEW_PGTABLE(0x7FFFF000)
 *   tls-wrap        LOAD_TLS(0xFFFFFFF0)
 *   stack-pages     SET_STACK(0x69, top, 0xFFFFFFFF): at most 2 pages
 *   stack-rpl       SET_STACK(0x68, top, 1): the stack segment must have RPL 1
 *   net-mtu         SEND_DMA of a 2000-byte frame to the first device's page
 *                   (give the guest a network device on a TAP first: its
 *                   page then follows the device page, and slot 0, the
 *                   TAP, receives at the page's own address)
 */
#include "hostile.h"

static struct desc table[GDT_ENTRIES] __attribute__((aligned(8)));
static struct lguest_dma dma __attribute__((aligned(128)));

int hostile_wants_init(void)
{
	return !variant("init-beyond") && !variant("init-wrap");
}

static void __attribute__((noreturn)) after(const char *what)
{
	unexpected("still alive after %s", what);
}

static void __attribute__((noreturn)) send_with_section(u32 addr, u32 len)
{
	dma.used_len = 0;
	dma.addr[0] = addr;
	dma.len[0] = len;
	dma.len[1] = 0;
	say("about to SEND_DMA(0, %x) with section %x, %u bytes: expect to be killed", __pa(&dma), addr, len);
	hc(LHCALL_SEND_DMA, 0, __pa(&dma), 0);
	unexpected("still alive after SEND_DMA with section %x, %u bytes (used_len %u)", addr, len, dma.used_len);
}

static void __attribute__((noreturn)) bind_and_wait(u32 addr, u32 count)
{
	say("about to BIND_DMA(0, %x, %u buffers, IRQ 1): expect to be killed now or when input arrives", addr, count);
	u32 r = hc(LHCALL_BIND_DMA, 0, addr, (count << 8) | 1);
	say("BIND_DMA(0, %x) returned %u; waiting for console input (type a line)", addr, r);
	irqs_install();
	lguest_data.blocked_interrupts = 0;
	for (u32 n = 0; n < 1000000; n++)
		hc(LHCALL_HALT, 0, 0, 0);       /* the Host turns interrupts on when it wakes us */
	contained("the bad BIND_DMA buffer at %x was never used (%u console interrupts)", addr, irq_hits[1]);
}

void hostile_main(void)
{
	if (variant("init-beyond")) {
		hc(LHCALL_LGUEST_INIT, 0x7FFFF000, 0, 0);
		hc(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);
		after("LGUEST_INIT(0x7FFFF000)");
	}
	if (variant("init-wrap")) {
		hc(LHCALL_LGUEST_INIT, 0xFFFFFC00, 0, 0);
		hc(LHCALL_LGUEST_INIT, __pa(&lguest_data), 0, 0);
		after("LGUEST_INIT(0xFFFFFC00)");
	}
	if (variant("gdt-beyond")) {
		say("about to LOAD_GDT(0x7FFFF000, 32): expect to be killed");
		hc(LHCALL_LOAD_GDT, 0x7FFFF000, 32, 0);
		after("LOAD_GDT(0x7FFFF000, 32)");
	}
	if (variant("gdt-wrap")) {
		say("about to LOAD_GDT(0xFFFFFF80, 32): expect to be killed");
		hc(LHCALL_LOAD_GDT, 0xFFFFFF80, 32, 0);
		after("LOAD_GDT(0xFFFFFF80, 32)");
	}
	if (variant("gdt-count")) {
		table[12] = (struct desc){ 0x0000ffff, 0x00cf9a00 };
		table[13] = (struct desc){ 0x0000ffff, 0x00cf9200 };
		say("about to LOAD_GDT(%x, 0x20000001): expect to be killed", __pa(table));
		hc(LHCALL_LOAD_GDT, __pa(table), 0x20000001, 0);
		after("LOAD_GDT(table, 0x20000001)");
	}
	if (variant("send-beyond")) {
		say("about to SEND_DMA(0, 0x7FFFF000): expect to be killed");
		hc(LHCALL_SEND_DMA, 0, 0x7FFFF000, 0);
		after("SEND_DMA(0, 0x7FFFF000)");
	}
	if (variant("send-section"))
		send_with_section(0x7FFFF000, 256);
	if (variant("send-wrap"))
		send_with_section(0xFFFFFF00, 512);
	if (variant("send-cross"))
		send_with_section((__pa(table) | 0xFFF) - 15, 64);
	if (variant("send-overlap")) {
		dma.used_len = 0;
		dma.addr[0] = __pa(table);
		dma.len[0] = 64;
		dma.addr[1] = __pa(table) + 32;
		dma.len[1] = 64;
		dma.len[2] = 0;
		say("about to SEND_DMA(0, %x) with overlapping sections: expect to be killed", __pa(&dma));
		hc(LHCALL_SEND_DMA, 0, __pa(&dma), 0);
		unexpected("still alive after SEND_DMA with overlapping sections (used_len %u)", dma.used_len);
	}
	if (variant("key-beyond")) {
		dma.used_len = 0;
		dma.addr[0] = __pa(table);
		dma.len[0] = 8;
		dma.len[1] = 0;
		say("about to SEND_DMA(0x7FFFF000, %x): expect to be killed", __pa(&dma));
		hc(LHCALL_SEND_DMA, 0x7FFFF000, __pa(&dma), 0);
		after("SEND_DMA to key 0x7FFFF000");
	}
	if (variant("net-mtu")) {
		static u8 frame[4096] __attribute__((aligned(4096)));
		u32 key = (pfn_ram_end() + 1) << 12;
		for (u32 i = 0; i < 12; i++)
			frame[i] = 0xFF;                /* broadcast: whoever is there takes it */
		dma.used_len = 0;
		dma.addr[0] = __pa(frame);
		dma.len[0] = 2000;
		dma.len[1] = 0;
		say("about to SEND_DMA(%x, %x): a 2000-byte frame, longer than Ethernet's 1514: expect to be killed", key, __pa(&dma));
		hc(LHCALL_SEND_DMA, key, __pa(&dma), 0);
		unexpected("still alive after sending a 2000-byte frame (used_len %u)", dma.used_len);
	}
	if (variant("bind-beyond"))
		bind_and_wait(0x7FFFF000, 1);
	if (variant("bind-wrap"))
		bind_and_wait(0xFFFFFFC0, 4);
	if (variant("crash-beyond")) {
		say("about to CRASH(0x7FFFF000): expect to be killed for the address, not for the crash");
		hc(LHCALL_CRASH, 0x7FFFF000, 0, 0);
		after("CRASH(0x7FFFF000)");
	}
	if (variant("pgtable-beyond")) {
		say("about to NEW_PGTABLE(0x7FFFF000): expect to be killed");
		hc(LHCALL_NEW_PGTABLE, 0x7FFFF000, 0, 0);
		after("NEW_PGTABLE(0x7FFFF000)");
	}
	if (variant("stack-pages")) {
		say("about to SET_STACK(0x69, top of our stack, 0xFFFFFFFF): expect to be killed");
		hc(LHCALL_SET_STACK, 0x69, PAGE_OFFSET + 0x200000, 0xFFFFFFFF);
		after("SET_STACK with 0xFFFFFFFF pages");
	}
	if (variant("stack-rpl")) {
		say("about to SET_STACK(0x68, ...): RPL 0: expect to be killed");
		hc(LHCALL_SET_STACK, 0x68, PAGE_OFFSET + 0x200000, 1);
		after("SET_STACK with RPL 0");
	}
	if (variant("tls-wrap")) {
		say("about to LOAD_TLS(0xFFFFFFF0): expect to be killed");
		hc(LHCALL_LOAD_TLS, 0xFFFFFFF0, 0, 0);
		after("LOAD_TLS(0xFFFFFFF0)");
	}
	unexpected("no variant on the command line \"%s\"", boot.cmdline);
}
