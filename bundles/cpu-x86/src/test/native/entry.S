/*
 * Entry points of the differential-test helper that must be written in
 * assembler: process start, loading a test case's whole register state and
 * jumping into it, the point where the signal handler resumes the dispatcher,
 * and the signal restorer (rt_sigreturn).
 */
	.text
	.globl _start
_start:
	andl	$-16, %esp
	call	helper_main
	movl	%eax, %ebx
	movl	$252, %eax		/* exit_group */
	int	$0x80
	hlt

/*
 * void run_case(void): the registers come from case_regs (in PUSHA order:
 * EDI ESI EBP ESP EBX EDX ECX EAX), then case_eflags, then case_esp.
 * Does not return by itself: the signal handler resumes at case_resume,
 * which returns to run_case's caller.
 */
	.globl run_case
run_case:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, saved_esp
	movl	$1, in_case
	movl	$case_regs, %esp
	popal				/* ESP slot is skipped by POPA */
	popfl				/* case_eflags follows case_regs */
	movl	case_esp, %esp
	jmp	*case_entry

	.globl case_resume
case_resume:
	movl	saved_esp, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	cld
	ret

	.globl sig_restorer
sig_restorer:
	movl	$173, %eax		/* rt_sigreturn */
	int	$0x80
	hlt

/* Host selectors, read once at start. */
	.globl read_selectors
read_selectors:
	movl	4(%esp), %edx
	xorl	%eax, %eax
	movw	%es, %ax
	movl	%eax, 0(%edx)
	movw	%cs, %ax
	movl	%eax, 4(%edx)
	movw	%ss, %ax
	movl	%eax, 8(%edx)
	movw	%ds, %ax
	movl	%eax, 12(%edx)
	movw	%fs, %ax
	movl	%eax, 16(%edx)
	movw	%gs, %ax
	movl	%eax, 20(%edx)
	ret


	.section .note.GNU-stack,"",@progbits
