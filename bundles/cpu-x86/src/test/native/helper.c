/*
 * Differential-test helper: runs single x86 instructions on the host
 * processor at ring 3 and reports what they did. This is the first oracle
 * of the differential tests, used where the host executes i386 programs
 * (the other, oracle/, runs the same protocol under qemu-system-i386).
 *
 * Built with gcc -m32 -nostdlib -static; it talks to the kernel through raw
 * int $0x80 system calls and uses no C library. The protocol loop is
 * protocol.c; this file supplies the Linux pieces: standard input and
 * output, the code page and data area as mappings, and running a case
 * with every ending delivered as a signal whose sigcontext is the outcome.
 */
#include "protocol.h"

#define SYS_exit_group 252
#define SYS_read 3
#define SYS_write 4
#define SYS_mmap2 192
#define SYS_rt_sigaction 174
#define SYS_sigaltstack 186
#define SYS_memfd_create 356
#define SYS_ftruncate 93

static inline int sys3(int nr, int a, int b, int c) {
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static inline int sys6(int nr, int a, int b, int c, int d, int e, int f) {
    /* EBP is the sixth argument: pass the arguments in a block. */
    int args[6] = {a, b, c, d, e, f};
    int r;
    __asm__ volatile(
        "pushl %%ebp\n\t"
        "movl 20(%%ebx), %%ebp\n\t"
        "movl 16(%%ebx), %%edi\n\t"
        "movl 12(%%ebx), %%esi\n\t"
        "movl 8(%%ebx), %%edx\n\t"
        "movl 4(%%ebx), %%ecx\n\t"
        "movl 0(%%ebx), %%ebx\n\t"
        "int $0x80\n\t"
        "popl %%ebp"
        : "=a"(r)
        : "a"(nr), "b"(args)
        : "ecx", "edx", "esi", "edi", "memory");
    return r;
}

static void put_str(const char *s) {
    unsigned n = 0;
    while (s[n]) n++;
    sys3(SYS_write, 2, (int)s, (int)n);
}

void plat_die(const char *why) {
    put_str("diff-helper: ");
    put_str(why);
    put_str("\n");
    sys3(SYS_exit_group, 2, 0, 0);
    for (;;) {}
}

int plat_read(u8 *buf, unsigned max) {
    int n = sys3(SYS_read, 0, (int)buf, (int)max);
    if (n < 0) plat_die("read from stdin failed");
    return n;
}

void plat_write(const u8 *buf, unsigned n) {
    unsigned off = 0;
    while (off < n) {
        int k = sys3(SYS_write, 1, (int)(buf + off), (int)(n - off));
        if (k <= 0) plat_die("write to stdout failed");
        off += (unsigned)k;
    }
}

/* ---- the case being run; shared with entry.S ---- */

u32 case_regs[9];          /* PUSHA order EDI ESI EBP ESP EBX EDX ECX EAX, then EFLAGS */
u32 case_esp;
u32 case_entry;
u32 saved_esp;
volatile u32 in_case;

void run_case(void);
void case_resume(void);
void sig_restorer(void);
void read_selectors(u32 *sel6);

static u32 host_sel[6];    /* ES CS SS DS FS GS */
static struct outcome *res;

void plat_selectors(u32 sel6[6]) {
    for (int i = 0; i < 6; i++) sel6[i] = host_sel[i];
}

struct sigcontext32 {
    u16 gs, gsh, fs, fsh, es, esh, ds, dsh;
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 trapno, err, eip;
    u16 cs, csh;
    u32 eflags, esp_at_signal;
    u16 ss, ssh;
    u32 fpstate, oldmask, cr2;
};

static void handler(int sig, void *info, void *ucv) {
    (void)info;
    struct sigcontext32 *sc = (struct sigcontext32 *)((u8 *)ucv + 20);
    if (!in_case) plat_die("fault outside a test case");
    in_case = 0;
    res->signo = (u32)sig;
    res->trapno = sc->trapno;
    res->err = sc->err;
    res->cr2 = sc->cr2;
    res->eip = sc->eip;
    res->eflags = sc->eflags;
    res->regs[0] = sc->eax; res->regs[1] = sc->ecx; res->regs[2] = sc->edx; res->regs[3] = sc->ebx;
    res->regs[4] = sc->esp; res->regs[5] = sc->ebp; res->regs[6] = sc->esi; res->regs[7] = sc->edi;
    res->sel[0] = sc->es; res->sel[1] = sc->cs; res->sel[2] = sc->ss;
    res->sel[3] = sc->ds; res->sel[4] = sc->fs; res->sel[5] = sc->gs;
    /* Resume the dispatcher with the host's own segments and flags. */
    sc->eip = (u32)case_resume;
    sc->esp = saved_esp;
    sc->eflags = 0x202;
    sc->es = (u16)host_sel[0]; sc->cs = (u16)host_sel[1]; sc->ss = (u16)host_sel[2];
    sc->ds = (u16)host_sel[3]; sc->fs = (u16)host_sel[4]; sc->gs = (u16)host_sel[5];
}

void plat_run_case(const u32 pusha_regs[8], u32 eflags, u32 esp, u32 entry, struct outcome *out) {
    for (int i = 0; i < 8; i++) case_regs[i] = pusha_regs[i];
    case_regs[8] = eflags;
    case_esp = esp;
    case_entry = entry;
    res = out;
    run_case();
}

struct ksigaction {
    void *handler;
    u32 flags;
    void *restorer;
    u32 mask[2];
};

#define SA_SIGINFO 4u
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u

static u8 altstack[1 << 16] __attribute__((aligned(16)));

static void install_handlers(void) {
    struct { void *sp; int flags; u32 size; } ss = {altstack, 0, sizeof altstack};
    if (sys3(SYS_sigaltstack, (int)&ss, 0, 0) != 0) plat_die("sigaltstack failed");
    static const int sigs[] = {4 /*ILL*/, 5 /*TRAP*/, 7 /*BUS*/, 8 /*FPE*/, 11 /*SEGV*/};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct ksigaction sa;
        sa.handler = (void *)handler;
        sa.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER;
        sa.restorer = (void *)sig_restorer;
        sa.mask[0] = 0xffffffffu; /* block everything else while handling */
        sa.mask[1] = 0xffffffffu;
        if (sys6(SYS_rt_sigaction, sigs[i], (int)&sa, 0, 8, 0, 0) != 0)
            plat_die("rt_sigaction failed");
    }
}

#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000

u8 *code_rw;                 /* writable view of the code page */

static void map_areas(void) {
    int fd = sys3(SYS_memfd_create, (int)"diff-code", 0, 0);
    if (fd < 0) plat_die("memfd_create failed");
    if (sys3(SYS_ftruncate, fd, PAGE, 0) != 0) plat_die("ftruncate failed");
    int r = sys6(SYS_mmap2, CODE_ADDR, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (r != (int)CODE_ADDR) plat_die("cannot map the code page at 0x10000000");
    r = sys6(SYS_mmap2, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if ((unsigned)r >= 0xfffff000u) plat_die("cannot map the writable view of the code page");
    code_rw = (u8 *)r;
    r = sys6(SYS_mmap2, DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r != (int)DATA_ADDR) plat_die("cannot map the data area at 0x20000000");
}

int helper_main(void) {
    map_areas();
    read_selectors(host_sel);
    install_handlers();
    return dispatch();
}
