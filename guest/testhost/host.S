/*
 * host.S - entry and trap stubs of the test host (see host.c).
 *
 * Entered by a multiboot loader at physical 128 MB with paging off.  We map
 * ourselves at 0xFFC00000 with one 4 MB page, identity-map the low 512 MB
 * (to read the multiboot data and the Guest module), map the Guest's 64 MB
 * of RAM at 0xC0000000 the way the Guest itself will, and go to C.
 *
 * Every vector has a 16-byte stub that pushes a dummy error code (where the
 * CPU pushes none) and the vector, saves the Guest's registers as a
 * struct regs, and calls host_trap(); the C code may rewrite the saved
 * registers (hypercall results, reflected traps, injected interrupts)
 * before the iret takes us back to ring 1 or 3.
 */
#define HOST_VA 0xFFC00000
#define HOST_PA 0x08000000
#define PA(x) ((x) - HOST_VA + HOST_PA)
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl host_entry
host_entry:
	cli
	cld
	movl %ebx, %ebp
	movl $PA(__bss_start), %edi
	movl $PA(__bss_end), %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $PA(host_pgdir), %edi
	movl $0x83, %eax                /* identity: 128 x 4 MB */
	xorl %ecx, %ecx
1:	movl %eax, (%edi, %ecx, 4)
	addl $0x400000, %eax
	incl %ecx
	cmpl $128, %ecx
	jne 1b
	movl $0x83, %eax                /* Guest RAM + device page at 0xC0000000 */
	xorl %ecx, %ecx
2:	movl %eax, 768*4(%edi, %ecx, 4)
	addl $0x400000, %eax
	incl %ecx
	cmpl $17, %ecx
	jne 2b
	movl $HOST_PA | 0x83, 1023*4(%edi)
	movl %cr4, %eax
	orl $0x10, %eax
	movl %eax, %cr4
	movl %edi, %cr3
	movl %cr0, %eax
	orl $0x80010000, %eax
	movl %eax, %cr0
	movl $3f, %eax
	jmp *%eax
3:	movl $host_stack + 16384, %esp
	pushl %ebp
	call host_main
4:	hlt
	jmp 4b

host_common:
	pushal
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	movl $0x58, %eax                /* LGUEST_DS */
	movl %eax, %ds
	movl %eax, %es
	movl $PA(host_pgdir), %eax      /* our view: Guest RAM at 0xC0000000 */
	movl %eax, %cr3
	pushl %esp
	call host_trap                  /* returns the cr3 to go back with */
	addl $4, %esp
	movl %eax, %cr3
	.globl host_return
host_return:
	popl %gs
	popl %fs
	popl %es
	popl %ds
	popal
	addl $8, %esp
	iret

	.align 16
	.globl host_stubs
host_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17)
	.else
	pushl $0
	.endif
	pushl $vec
	jmp host_common
	.set vec, vec + 1
	.endr

/* launch(struct regs *r): start the Guest from a prepared register frame. */
	.globl launch
launch:
	movl 4(%esp), %esp
	jmp host_return

	.bss
	.align 4096
	.globl host_pgdir
host_pgdir:
	.skip 4096
	.globl host_stack
host_stack:
	.skip 16384
