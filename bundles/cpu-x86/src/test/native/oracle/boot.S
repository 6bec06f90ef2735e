/*
 * boot.S - the oracle kernel's entry, its exception stubs, and the jump
 * into a test case at ring 3 and back.
 *
 * The kernel is linked at 0xE0100000 and loaded at 1 MiB. _start runs
 * with paging off, so until paging is on it reaches its own symbols
 * through PHYS(): it maps the first 128 MiB of RAM at 0xE0000000 (and,
 * for the instant of the switch, at 0), turns paging on and jumps up.
 * kmain (oracle.c) then sets up the processor the way 32-bit Linux runs a
 * process, and removes the low mapping.
 *
 * Each of the 256 vectors has a 16-byte stub that pushes a dummy error
 * code where the processor pushes none, then the vector, then goes to
 * `common`: it saves the general registers and the data segment
 * registers as the case left them, loads the kernel's, and calls
 * trap(). trap() returns 0 to resume what was interrupted (the timer
 * waking an idle kernel) or 1 when a case ended: then the stack the
 * dispatcher had when it called run_case() is taken back and run_case
 * returns.
 */
#define KBASE 0xE0000000
#define PHYS(x) ((x) - KBASE)
#define KCODE 0x08
#define KDATA 0x18
#define UCODE 0x73
#define UDATA 0x7b
#define NKPT 32                 /* page tables of the kernel's map: 32 x 4 MiB */

    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 4096
    .globl kernel_pd, kernel_pt
kernel_pd:  .skip 4096
kernel_pt:  .skip 4096 * NKPT
    .align 16
kstack:     .skip 65536
kstack_top:
    .globl trap_stack_top
            .skip 16384
trap_stack_top:

    .data
    .globl saved_esp, case_regs, case_esp, case_entry
saved_esp:  .long 0
case_regs:  .skip 36            /* PUSHA order EDI ESI EBP ESP EBX EDX ECX EAX, then EFLAGS */
case_esp:   .long 0
case_entry: .long 0
    .globl trap_sel
trap_sel:   .skip 8             /* DS ES FS GS as the case left them (u16 each) */

    .text
    .globl start_phys
    .set start_phys, PHYS(_start)
_start:
    cli
    /* kernel_pt: frame i at entry i, supervisor read/write. */
    movl  $PHYS(kernel_pt), %edi
    movl  $0x003, %eax
    movl  $1024 * NKPT, %ecx
1:  movl  %eax, (%edi)
    addl  $4096, %eax
    addl  $4, %edi
    loop  1b
    /* kernel_pd: the tables at KBASE (entry KBASE >> 22 on), the first also at 0. */
    movl  $PHYS(kernel_pd), %edi
    movl  $PHYS(kernel_pt) + 0x003, %eax
    movl  %eax, (%edi)
    leal  (KBASE >> 22) * 4(%edi), %edi
    movl  $NKPT, %ecx
2:  movl  %eax, (%edi)
    addl  $4096, %eax
    addl  $4, %edi
    loop  2b
    movl  $PHYS(kernel_pd), %eax
    movl  %eax, %cr3
    movl  %cr0, %eax
    orl   $0x80010000, %eax     /* PG WP */
    movl  %eax, %cr0
    movl  $high, %eax
    jmp   *%eax
high:
    movl  $kstack_top, %esp
    xorl  %ebp, %ebp
    call  kmain
3:  cli
    hlt
    jmp   3b

/* ---- the 256 stubs ---- */
    .align 16
    .globl isr_table
isr_table:
    .set v, 0
    .rept 256
    .align 16
    .if (v == 8) || (v >= 10 && v <= 14) || (v == 17)
    pushl $v
    .else
    pushl $0
    pushl $v
    .endif
    jmp   common
    .set v, v + 1
    .endr

common:
    pushal
    /* The case may have left anything in DS: reach memory through SS (the kernel's). */
    movw  %ds, %ss:trap_sel
    movw  %es, %ss:trap_sel + 2
    movw  %fs, %ss:trap_sel + 4
    movw  %gs, %ss:trap_sel + 6
    movl  $KDATA, %eax
    movw  %ax, %ds
    movw  %ax, %es
    xorl  %eax, %eax
    movw  %ax, %fs
    movw  %ax, %gs
    pushl %esp
    call  trap
    addl  $4, %esp
    testl %eax, %eax
    jnz   case_ended
    popal
    addl  $8, %esp
    iret
case_ended:
    movl  saved_esp, %esp
    popl  %edi
    popl  %esi
    popl  %ebx
    popl  %ebp
    cld
    ret

/*
 * void run_case(void): enters the case at ring 3 with the registers of
 * case_regs, EFLAGS case_regs[8], ESP case_esp and EIP case_entry, the
 * user data segment in DS and ES and null FS and GS. Returns when trap()
 * has recorded how the case ended.
 */
    .globl run_case
run_case:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl  %esp, saved_esp
    pushl $UDATA
    pushl case_esp
    pushl case_regs + 32
    pushl $UCODE
    pushl case_entry
    movl  $UDATA, %eax
    movw  %ax, %ds
    movw  %ax, %es
    xorl  %eax, %eax
    movw  %ax, %fs
    movw  %ax, %gs
    movl  case_regs + 0, %edi
    movl  case_regs + 4, %esi
    movl  case_regs + 8, %ebp
    movl  case_regs + 16, %ebx
    movl  case_regs + 20, %edx
    movl  case_regs + 24, %ecx
    movl  case_regs + 28, %eax
    iret

    .section .note.GNU-stack,"",@progbits
