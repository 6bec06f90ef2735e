/*
 * lar_lsl.S - what the selectors of a case's user segments are, for the
 * header both oracles send (protocol.c): the native helper runs it at ring
 * 3, the oracle kernel at ring 0.
 */
/* int lar_lsl(int selector, int *lsl_out): LAR result, or -1 when ZF=0. */
	.globl lar_lsl
lar_lsl:
	movl	4(%esp), %ecx
	movl	$-1, %eax
	larl	%ecx, %eax
	jz	1f
	movl	$-1, %eax
1:	movl	8(%esp), %edx
	pushl	%ebx
	movl	$-1, %ebx
	lsll	%ecx, %ebx
	jz	2f
	movl	$-1, %ebx
2:	movl	%ebx, (%edx)
	popl	%ebx
	ret

	.section .note.GNU-stack,"",@progbits
