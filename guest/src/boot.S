/*
 * boot.S - the two ways in.
 *
 * One ELF image, two entry paths, like one vmlinux that boots on a PC or as
 * an lguest Guest:
 *
 *  1. Bare metal (qemu -kernel, GRUB): the multiboot header below makes a
 *     multiboot loader put the image at its physical addresses (1 MB up) and
 *     jump to multiboot_entry at ring 0, paging off, EAX = 0x2BADB002 and
 *     EBX = the physical address of the multiboot information.  We build a
 *     temporary page directory that maps the first 16 MB both at 0 and at
 *     PAGE_OFFSET, turn paging on, and continue at our linked (high) address
 *     in native_start().
 *
 *  2. lguest (the 2.6.23 Launcher): the Launcher loads the same segments at
 *     their physical addresses, scans the image for the 13-byte marker and
 *     starts us right after it, at marker + 13 + PAGE_OFFSET, at ring 1, with
 *     its own page tables mapping all of RAM at PAGE_OFFSET (and nothing at
 *     0), cs = 0x61, ds = es = ss = 0x69 and %esi = 0, the guest-physical
 *     address of the boot block.  Being entered here is what tells us we are
 *     under lguest (the 2.6.23 way; hardware_subarch = 1 in the boot block is
 *     checked later as a cross-check).  Nothing privileged may run on this
 *     path: no cli, no lgdt, no mov to %cr3.
 *
 * Both paths clear .bss before using any stack (the stacks live in .bss),
 * then hand over to C.  Every absolute address used before paging is on is
 * written as "symbol - PAGE_OFFSET".
 */
#include "guest.h"

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-align modules, give memory info */
#define MB_BOOT_MAGIC   0x2BADB002
#define BOOT_STACK_SIZE 16384

	.section .multiboot, "a"
	.align 4
multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/*
 * The lguest entry.  The marker is immediately followed by code: the Launcher
 * computes the entry point as "where the marker was found + 13".  This must
 * be the first occurrence of those 13 bytes in the image, so no other file
 * spells them out.
 */
	.section .lguest_entry, "ax"
	.globl lguest_marker
lguest_marker:
	.ascii "GenuineLguest"
lguest_entry:
	/* We are at ring 1 with paging on; %esp is not set up yet. */
	cld
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $boot_stack + BOOT_STACK_SIZE, %esp
	xorl %ebp, %ebp
	/* %esi is the boot block's guest-physical address: make it virtual. */
	leal PAGE_OFFSET(%esi), %eax
	pushl %eax
	call lguest_start               /* never returns */
1:	jmp 1b

	.text
/* The bare entry: ring 0, paging off, flat segments from the loader. */
	.globl multiboot_entry
multiboot_entry:
	cli
	cld
	movl %eax, %esi                 /* keep magic and info across the clear */
	movl %ebx, %ebp
	movl $__bss_start - PAGE_OFFSET, %edi
	movl $__bss_end - PAGE_OFFSET, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* Temporary page directory: 4 MB pages, 0-16 MB at 0 and PAGE_OFFSET. */
	movl $early_pgdir - PAGE_OFFSET, %edi
	movl $0x83, %eax                /* present, writable, 4 MB page */
	xorl %ecx, %ecx
1:	movl %eax, (%edi, %ecx, 4)
	movl %eax, (PAGE_OFFSET >> 22) * 4(%edi, %ecx, 4)
	addl $0x400000, %eax
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	movl %cr4, %eax
	orl $0x10, %eax                 /* CR4.PSE */
	movl %eax, %cr4
	movl %edi, %cr3
	movl %cr0, %eax
	orl $0x80010000, %eax           /* CR0.PG | CR0.WP */
	movl %eax, %cr0
	movl $1f, %eax                  /* jump to the high (linked) address */
	jmp *%eax
1:	movl $boot_stack + BOOT_STACK_SIZE, %esp
	pushl %ebp                      /* multiboot info, physical */
	pushl %esi                      /* magic */
	xorl %ebp, %ebp
	call native_start               /* never returns */
2:	hlt
	jmp 2b

	.bss
	.align PAGE_SIZE
	.globl early_pgdir
early_pgdir:
	.skip PAGE_SIZE
	.globl boot_stack
boot_stack:
	.skip BOOT_STACK_SIZE
