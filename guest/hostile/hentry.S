/*
 * hentry.S - trap and interrupt stubs and fault-tolerant accessors for the
 * hostile kernels (see hostile.h).  The guest's boot.S enters at the lguest
 * marker and calls lguest_start() in hlib.c.
 *
 * A stub builds: pushal, vector, error code, then the frame the Host (or the
 * CPU, for a direct trap) pushed: eip, cs, eflags.  hostile_trap() may
 * redirect eip to the recovery label of a try_* accessor (fixup_eip).
 * Interrupts return through hostile_iret, which stores the saved IF into
 * lguest_data.irq_enabled inside [hostile_noirq_start, hostile_noirq_end),
 * the window the Host never injects into (like the guest's lguest_iret).
 */
#include "guest.h"

#define KDS 0x69                        /* kernel data, RPL 1 */

	.text
trap_common:
	pushal
	movl $KDS, %eax
	movl %eax, %ds
	movl %eax, %es
	cld
	pushl %esp
	call hostile_trap
	addl $4, %esp
	popal
	addl $8, %esp
	jmp hostile_iret

irq_common:
	pushal
	movl $KDS, %eax
	movl %eax, %ds
	movl %eax, %es
	cld
	pushl %esp
	call hostile_irq
	addl $4, %esp
	popal
	addl $8, %esp
	.globl hostile_iret
hostile_iret:
	pushl %eax
	movl 12(%esp), %eax             /* saved eflags */
	andl $0x200, %eax
	.globl hostile_noirq_start
hostile_noirq_start:
	movl %eax, %ss:lguest_data      /* irq_enabled */
	popl %eax
	iret
	.globl hostile_noirq_end
hostile_noirq_end:

.macro TSTUB vec
	.text
	.align 8
tstub_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17)
	.else
	pushl $0
	.endif
	pushl $\vec
	jmp trap_common
	.section .rodata
	.long tstub_\vec
.endm
.macro ISTUB vec
	.text
	.align 8
istub_\vec:
	pushl $0
	pushl $\vec
	jmp irq_common
	.section .rodata
	.long istub_\vec
.endm

	.section .rodata
	.align 4
	.globl trap_stub_table          /* vectors 0..31 */
trap_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	TSTUB \v
	.endr
	.section .rodata
	.globl irq_stub_table           /* vectors 32..63 */
irq_stub_table:
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	ISTUB \v
	.endr

/* ---- fault-tolerant accessors: fixup_eip is where a trap resumes ---- */
	.text
	.globl try_write32
try_write32:                            /* (addr, val) */
	movl 4(%esp), %edx
	movl 8(%esp), %eax
	movl $9f, fixup_eip
	movl %eax, (%edx)
	movl $0, fixup_eip
	xorl %eax, %eax
	ret
9:	movl $1, %eax
	ret

	.globl try_read32
try_read32:                             /* (addr, *val) */
	movl 4(%esp), %edx
	movl $9f, fixup_eip
	movl (%edx), %eax
	movl $0, fixup_eip
	movl 8(%esp), %edx
	movl %eax, (%edx)
	xorl %eax, %eax
	ret
9:	movl $1, %eax
	ret

	.globl try_es_write32
try_es_write32:                         /* (sel, off, val) */
	pushl %es
	movl 8(%esp), %eax
	movl 12(%esp), %edx
	movl 16(%esp), %ecx
	movl $9f, fixup_eip
	movl %eax, %es
	movl %ecx, %es:(%edx)
	movl $0, fixup_eip
	popl %es
	xorl %eax, %eax
	ret
9:	popl %es
	movl $1, %eax
	ret

	.globl try_ljmp
try_ljmp:                               /* (sel): CPL after ljmp sel:1f, or -1 */
	movl 4(%esp), %eax
	movw %ax, farptr + 4
	movl $1f, farptr
	movl $9f, fixup_eip
	ljmp *farptr
1:	movl $0, fixup_eip
	movl %cs, %eax
	andl $3, %eax
	ljmp $0x61, $2f                 /* back to the kernel code segment */
2:	ret
9:	movl $-1, %eax
	ret

	.globl try_lcall
try_lcall:                              /* (sel): CPL seen by the callee, or -1 */
	movl 4(%esp), %eax
	movw %ax, farptr + 4
	movl $callee, farptr
	movl $9f, fixup_eip
	lcall *farptr
	movl $0, fixup_eip
	ret
9:	movl $-1, %eax
	ret
	.globl callee
callee:
	movl %cs, %eax
	andl $3, %eax
	lret

	.globl int3_asm
int3_asm:                               /* 1 if a trap took the fixup path */
	movl %esp, saved_esp
	movl $9f, fixup_eip
	int3
	movl $0, fixup_eip
	xorl %eax, %eax
	ret
9:	movl saved_esp, %esp
	movl $1, %eax
	ret

	.globl halt_until_trap
halt_until_trap:                        /* (n): 1 if a trap took the fixup path */
	pushl %ebx
	pushl %esi
	movl %esp, saved_esp
	movl $9f, fixup_eip
	movl 12(%esp), %esi
1:	movl $10, %eax                  /* LHCALL_HALT */
	int $0x1f
	decl %esi
	jnz 1b
	movl $0, fixup_eip
	popl %esi
	popl %ebx
	xorl %eax, %eax
	ret
9:	movl saved_esp, %esp
	popl %esi
	popl %ebx
	movl $1, %eax
	ret

	.data
	.align 8
saved_esp:
	.long 0
farptr:	.long 0
	.word 0
	.globl fixup_eip
fixup_eip:
	.long 0
