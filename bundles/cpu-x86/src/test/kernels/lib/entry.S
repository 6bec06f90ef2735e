/* entry.S - multiboot entry, exception stubs and the catch/long-jump
 * machinery shared by every system-test kernel.
 *
 * Each of the 256 vectors has a 16-byte stub (isr_table + 16*v) that saves
 * DS and the general registers on the handler's stack, then `common`
 * records one struct rec (see sys.h) in T_log[T_count++]: the vector, the
 * ESP/SS/CS/EFLAGS the handler runs with, CR2 (ring 0 handlers only) and
 * the 8 dwords the processor pushed. Nothing is assumed about the frame's
 * layout beyond "the stack pointer points at it", so a processor that
 * pushes in the wrong order or the wrong amount shows up in the output.
 *
 * Then: if T_resume > 0 the stub IRETs back (dropping the error code of
 * vectors 8, 10-14, 17); otherwise a handler that is not at ring 0 first
 * climbs to ring 0 with INT $0x80 (a DPL-3 gate, recorded as one more
 * entry), and a ring-0 handler long-jumps to the innermost catch_setjmp()
 * with flat ring-0 segments and EFLAGS = 2.
 */
#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x23

    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 4096
kstack:     .skip 65536
    .globl kstack_top
kstack_top:
    .skip 16384
    .globl stack0_top
stack0_top:                     /* TSS esp0 */
    .skip 16384
    .globl stack1_top
stack1_top:                     /* TSS esp1 */
    .skip 16384
    .globl ustack_top
ustack_top:                     /* ring-3 stack */
    .skip 8192
emerg_top:

    .data
    .align 4
    .globl T_log, T_count, T_resume, pre_esp, fault_ip, next_ip
T_log:      .skip 64 * 8
T_count:    .long 0
T_resume:   .long 0
T_lasterr:  .long 0
pre_esp:    .long 0
fault_ip:   .long 0
next_ip:    .long 0
jb_active:  .long 0
jb_ebx:     .long 0
jb_esi:     .long 0
jb_edi:     .long 0
jb_ebp:     .long 0
jb_esp:     .long 0
jb_eip:     .long 0
jb_cs:      .long KCODE

    .text
    .globl _start
_start:
    cli
    movl  $kstack_top, %esp
    xorl  %ebp, %ebp
    pushl %ebx
    pushl %eax
    call  lib_init
    addl  $8, %esp
    call  kmain
    pushl $0
    call  exit_qemu

/* ---- the 256 stubs ---- */
    .align 16
    .globl isr_table
isr_table:
    .set vec, 0
    .rept 256
    .align 16
    pushl %ds
    pushal
    movl  $vec, %eax
    jmp   common
    .set vec, vec + 1
    .endr

common:
    /* stack: pushal (32 bytes), DS (4), then what the processor pushed */
    movl  $UDATA, %edx          /* flat, DPL 3: loadable at any CPL */
    mov   %edx, %ds
    movl  T_count, %edx
    cmpl  $7, %edx
    jbe   1f
    movl  $7, %edx
1:  shll  $6, %edx
    addl  $T_log, %edx
    movl  %eax, 0(%edx)
    xorl  %ecx, %ecx
    cmpl  $8, %eax
    je    2f
    cmpl  $17, %eax
    je    2f
    cmpl  $10, %eax
    jb    3f
    cmpl  $14, %eax
    ja    3f
2:  movl  $1, %ecx
3:  movl  %ecx, 4(%edx)
    movl  %ecx, T_lasterr
    leal  36(%esp), %ecx
    movl  %ecx, 8(%edx)
    xorl  %ecx, %ecx
    movw  %ss, %cx
    movl  %ecx, 12(%edx)
    movw  %cs, %cx
    movl  %ecx, 16(%edx)
    pushfl
    popl  20(%edx)
    xorl  %eax, %eax
    testl $3, %ecx
    jnz   4f
    movl  %cr2, %eax
4:  movl  %eax, 24(%edx)
    .set i, 0
    .rept 8
    movl  36 + 4 * i(%esp), %eax
    movl  %eax, 28 + 4 * i(%edx)
    .set i, i + 1
    .endr
    incl  T_count
    cmpl  $0, T_resume
    je    5f
    decl  T_resume
    popal
    popl  %ds
    cmpl  $0, %cs:T_lasterr
    je    6f
    addl  $4, %esp
6:  iret

5:  testl $3, 16(%edx)
    jz    7f
    int   $0x80                 /* climb to ring 0; does not come back */
    .globl T_climb_ret
T_climb_ret:
7:  cmpl  $0, jb_active
    je    unexpected
    movl  $KDATA, %ecx
    mov   %ecx, %ds
    mov   %ecx, %es
    mov   %ecx, %fs
    mov   %ecx, %gs
    mov   %ecx, %ss
    movl  jb_esp, %esp
    pushl $2
    popfl
    movl  jb_ebx, %ebx
    movl  jb_esi, %esi
    movl  jb_edi, %edi
    movl  jb_ebp, %ebp
    movl  $0, jb_active
    movl  $1, %eax
    ljmp  *jb_eip

unexpected:
    movl  $KDATA, %ecx
    mov   %ecx, %ds
    mov   %ecx, %es
    mov   %ecx, %ss
    movl  $emerg_top, %esp
    pushl %edx
    call  unexpected_trap
8:  hlt
    jmp   8b

    .globl catch_setjmp
catch_setjmp:
    movl  (%esp), %ecx
    movl  %ecx, jb_eip
    leal  4(%esp), %ecx
    movl  %ecx, jb_esp
    movl  %ebx, jb_ebx
    movl  %esi, jb_esi
    movl  %edi, jb_edi
    movl  %ebp, jb_ebp
    movl  $1, jb_active
    xorl  %eax, %eax
    ret

    .globl catch_done
catch_done:
    movl  $0, jb_active
    ret

    .section .note.GNU-stack,"",@progbits
