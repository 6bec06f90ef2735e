/*
 * lguest_abi.h - the DMA-era (Linux 2.6.23) lguest ABI as the guest sees it.
 *
 * Numbers and layouts follow docs/lguest-abi.md (§3, §7, §8, Appendix A).
 * A hypercall is "int $0x1f" with the call number in %eax and up to three
 * arguments in %edx, %ebx, %ecx; a result comes back in %eax.
 */
#ifndef LGUEST_ABI_H
#define LGUEST_ABI_H

#define LGUEST_TRAP_ENTRY       0x1F

#define LHCALL_FLUSH_ASYNC      0
#define LHCALL_LGUEST_INIT      1
#define LHCALL_CRASH            2
#define LHCALL_LOAD_GDT         3
#define LHCALL_NEW_PGTABLE      4
#define LHCALL_FLUSH_TLB        5
#define LHCALL_LOAD_IDT_ENTRY   6
#define LHCALL_SET_STACK        7
#define LHCALL_TS               8
#define LHCALL_SET_CLOCKEVENT   9
#define LHCALL_HALT             10
#define LHCALL_GET_WALLCLOCK    11
#define LHCALL_BIND_DMA         12
#define LHCALL_SEND_DMA         13
#define LHCALL_SET_PTE          14
#define LHCALL_SET_PMD          15
#define LHCALL_LOAD_TLS         16

#define LHCALL_RING_SIZE        64
#define LG_CLOCK_MIN_DELTA      100     /* ns */

#ifndef __ASSEMBLER__
#include "guest.h"

struct hcall_ring_entry { u32 eax, edx, ebx, ecx; };

/* Shared between Guest and Host; its address goes to LHCALL_LGUEST_INIT. */
struct lguest_data {
	u32 irq_enabled;                /* 0 or X86_EFLAGS_IF (512) */
	u32 blocked_interrupts;         /* bit n set: IRQ n masked */
	u32 cr2;                        /* Host: address of the reflected #PF */
	u8  hcall_status[LHCALL_RING_SIZE];   /* 0xFF free/done, 0 pending */
	struct hcall_ring_entry hcalls[LHCALL_RING_SIZE];
	u32 reserve_mem;                /* Host at INIT: keep top of VA free */
	u16 guestid;                    /* Host at INIT */
	u32 tsc_khz;                    /* Host at INIT, 0 = don't use TSC */
	u32 noirq_start;                /* no interrupt injection in [start,end) */
	u32 noirq_end;
};
_Static_assert(__builtin_offsetof(struct lguest_data, hcall_status) == 12, "ld");
_Static_assert(__builtin_offsetof(struct lguest_data, hcalls) == 76, "ld");
_Static_assert(__builtin_offsetof(struct lguest_data, reserve_mem) == 1100, "ld");
_Static_assert(__builtin_offsetof(struct lguest_data, guestid) == 1104, "ld");
_Static_assert(__builtin_offsetof(struct lguest_data, tsc_khz) == 1108, "ld");
_Static_assert(__builtin_offsetof(struct lguest_data, noirq_start) == 1112, "ld");
_Static_assert(sizeof(struct lguest_data) == 1120, "ld");

#define LGUEST_MAX_DMA_SECTIONS 16
struct lguest_dma {
	u32 used_len;                   /* 0: free; else bytes placed */
	u32 addr[LGUEST_MAX_DMA_SECTIONS];     /* guest-physical */
	u16 len[LGUEST_MAX_DMA_SECTIONS];      /* 0 terminates */
};
_Static_assert(sizeof(struct lguest_dma) == 100, "dma");

/* One page of these sits at guest-physical "end of RAM". */
struct lguest_device_desc {
	u16 type, features, status, num_pages;
	u32 pfn;
};
_Static_assert(sizeof(struct lguest_device_desc) == 12, "desc");
#define LGUEST_MAX_DEVICES      16
#define LGUEST_DEVICE_T_CONSOLE 1
#define LGUEST_DEVICE_T_NET     2
#define LGUEST_DEVICE_T_BLOCK   3
#define LGUEST_DEVICE_T_POWER   4       /* ours: the power button; features = what is asked */
#define LGUEST_POWER_OFF        1
#define LGUEST_POWER_RESTART    2
#define LGUEST_DEVICE_S_ACKNOWLEDGE 1
#define LGUEST_DEVICE_S_DRIVER      2
#define LGUEST_DEVICE_S_DRIVER_OK   4
#define LGUEST_DEVICE_S_FAILED      128
#define LGUEST_CONSOLE_DMA_KEY  0

/* The Linux "zero page" fields the 2.6.23 Launcher fills in. */
#define BOOT_E820_ENTRIES       0x1e8   /* u8 */
#define BOOT_CMD_LINE_PTR       0x228   /* u32, guest-physical */
#define BOOT_HARDWARE_SUBARCH   0x23c   /* u32, 1 = lguest */
#define BOOT_E820_MAP           0x2d0   /* 20-byte entries */
#define E820_RAM                1

extern struct lguest_data lguest_data;
#endif
#endif
