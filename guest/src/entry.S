/*
 * entry.S - the way into the kernel after boot: trap and interrupt stubs,
 * the return path, and the hop to and from ring 3.
 *
 * Every vector we own gets a tiny stub that makes the stack look the same
 * (a dummy error code where the CPU pushes none, then the vector number) and
 * jumps to trap_common, which saves the registers as a struct trap_frame and
 * calls trap_dispatch() in traps.c.
 *
 * Returning is where native and lguest differ.  Natively it is "iret".  Under
 * lguest the real EFLAGS.IF is always 1 and "interrupts enabled" is the word
 * lguest_data.irq_enabled, so returning from an interrupt must copy the saved
 * IF back into that word *and* iret, atomically: lguest_iret does the store
 * inside [lguest_noirq_start, lguest_noirq_end), a range we hand the Host in
 * lguest_data where it promises never to inject an interrupt.  The store uses
 * an %ss: override because %ds may already be the user's.  The stubs return
 * with "jmp *pv", the first slot of struct pv_ops.
 */
#include "guest.h"

	.text
trap_common:
	pushal
	pushl %ds
	pushl %es
	movl $USER_DS, %eax             /* flat, usable at ring 0, 1 and 3 */
	movl %eax, %ds
	movl %eax, %es
	cld
	pushl %esp                      /* struct trap_frame * */
	call trap_dispatch
	addl $4, %esp
	popl %es
	popl %ds
	popal
	addl $8, %esp                   /* vector, error code */
	jmp *pv                         /* pv.iret */

.macro STUB vec
	.text
	.align 8
stub_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17)
	.else
	pushl $0
	.endif
	pushl $\vec
	jmp trap_common
	.section .rodata
	.long stub_\vec
.endm

	.section .rodata
	.align 4
	.globl trap_stubs               /* vectors 0..63, then 0x80 */
trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	STUB \v
	.endr
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	STUB \v
	.endr
	STUB 128

/* The native return: nothing to do but iret. */
	.text
	.globl native_iret
native_iret:
	iret

/* The lguest return (see the top of this file). */
	.globl lguest_iret, lguest_noirq_start, lguest_noirq_end
lguest_iret:
	pushl %eax
	movl 12(%esp), %eax             /* saved EFLAGS, above eip and cs */
	andl $X86_EFLAGS_IF, %eax
lguest_noirq_start:
	movl %eax, %ss:lguest_data      /* lguest_data.irq_enabled */
	popl %eax
	iret
lguest_noirq_end:

/*
 * int run_user(u32 eip, u32 esp): enter ring 3 at eip with stack esp, and
 * come back here (returning the exit code) when the program calls exit,
 * through user_return().  Traps from ring 3 land on trap_stack (the stack
 * given to the TSS natively, to LHCALL_SET_STACK under lguest), never on
 * this one, so the frame saved here survives.
 */
	.globl run_user, user_return
run_user:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, user_saved_esp
	movl 20(%esp), %eax
	movl 24(%esp), %ecx
	pushl $USER_DS                  /* ss */
	pushl %ecx                      /* esp */
	pushl $X86_EFLAGS_IF | 2        /* eflags: interrupts on */
	pushl $USER_CS                  /* cs */
	pushl %eax                      /* eip */
	/* Data segments the program may use: an iret to ring 3 would null a
	 * ring-1 (or ring-0) DS/ES, and the program's first system call would
	 * save and restore that null selector.  USER_DS is flat, so the
	 * kernel's own accesses on the way out still work. */
	movl $USER_DS, %edx
	movl %edx, %ds
	movl %edx, %es
	xorl %eax, %eax
	movl %eax, %gs                  /* the program loads its own TLS */
	movl %eax, %fs
	jmp *pv

user_return:
	movl 4(%esp), %eax
	movl user_saved_esp, %esp
	xorl %ecx, %ecx
	movl %ecx, %gs
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.bss
	.align 4
user_saved_esp:
	.long 0
	.align PAGE_SIZE
	.globl trap_stack
trap_stack:
	.skip PAGE_SIZE * TRAP_STACK_PAGES
