/* crt0.S - where ring 3 starts: call umain(), then exit with its result. */
	.section .text.start, "ax"
	.globl _start
_start:
	call umain
	movl %eax, %ebx
1:	movl $1, %eax                   /* exit(umain()) */
	int $0x80
	jmp 1b
