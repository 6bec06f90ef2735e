/*
 * Differential-test helper: runs single x86 instructions on the host
 * processor at ring 3 and reports what they did.
 *
 * Built with gcc -m32 -nostdlib -static; it talks to the kernel through raw
 * int $0x80 system calls and uses no C library.
 *
 * Protocol (all integers little-endian; see README-difftest.md):
 *   stdin : header  "DFC1" u32 dataSize, dataSize bytes of the data-area pattern
 *           cases   u8 tag (0 = end, 1 = case, 3 = case + FNSAVE wanted)
 *                   u16 codeOffset, u8 codeLen, codeLen bytes,
 *                   u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI), u32 eflags,
 *                   u8 patchCount, patchCount x (u16 offset, u8 len, len bytes)
 *   stdout: header  "DFR1" u32 codeAddr, u32 dataAddr, u32 dataSize,
 *                   u32 sel[6] (ES CS SS DS FS GS),
 *                   u32 larCs, lslCs, larDs, lslDs (-1 where LAR/LSL fail)
 *           results u8 tag (1, or 3 with FNSAVE image), u8 signo, u8 trapno, u8 0,
 *                   u32 err, cr2, eip, eflags, u32 regs[8], u16 sel[6],
 *                   u16 nDiff, nDiff x (u16 dwordIndex, u32 value) where the
 *                   data area differs from the pattern, [108 bytes FNSAVE]
 */

#define CODE_ADDR 0x10000000u
#define DATA_ADDR 0x20000000u
#define DATA_SIZE 0x2000u
#define PAGE 4096u

#define SYS_exit_group 252
#define SYS_read 3
#define SYS_write 4
#define SYS_mmap2 192
#define SYS_rt_sigaction 174
#define SYS_sigaltstack 186
#define SYS_memfd_create 356
#define SYS_ftruncate 93

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

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

void *memset(void *d, int c, unsigned n) {
    u8 *p = d;
    while (n--) *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--) *p++ = *q++;
    return d;
}

static void put_str(const char *s) {
    unsigned n = 0;
    while (s[n]) n++;
    sys3(SYS_write, 2, (int)s, (int)n);
}

static void die(const char *why) {
    put_str("diff-helper: ");
    put_str(why);
    put_str("\n");
    sys3(SYS_exit_group, 2, 0, 0);
    for (;;) {}
}

/* ---- buffered I/O ---- */

static u8 inbuf[1 << 16];
static unsigned in_pos, in_len;
static u8 outbuf[1 << 16];
static unsigned out_len;

static void flush_out(void) {
    unsigned off = 0;
    while (off < out_len) {
        int n = sys3(SYS_write, 1, (int)(outbuf + off), (int)(out_len - off));
        if (n <= 0) die("write to stdout failed");
        off += (unsigned)n;
    }
    out_len = 0;
}

static void out_bytes(const void *p, unsigned n) {
    const u8 *q = p;
    while (n) {
        if (out_len == sizeof outbuf) flush_out();
        unsigned k = sizeof outbuf - out_len;
        if (k > n) k = n;
        memcpy(outbuf + out_len, q, k);
        out_len += k;
        q += k;
        n -= k;
    }
}

static void out_u8(u32 v) { u8 b = (u8)v; out_bytes(&b, 1); }
static void out_u16(u32 v) { u16 b = (u16)v; out_bytes(&b, 2); }
static void out_u32(u32 v) { out_bytes(&v, 4); }

static int in_fill(void) {
    flush_out(); /* never wait for input while holding results the other side waits for */
    int n = sys3(SYS_read, 0, (int)inbuf, sizeof inbuf);
    if (n < 0) die("read from stdin failed");
    in_pos = 0;
    in_len = (unsigned)n;
    return n;
}

static void in_bytes(void *p, unsigned n) {
    u8 *q = p;
    while (n) {
        if (in_pos == in_len && in_fill() == 0) die("unexpected end of input");
        unsigned k = in_len - in_pos;
        if (k > n) k = n;
        memcpy(q, inbuf + in_pos, k);
        in_pos += k;
        q += k;
        n -= k;
    }
}

static u32 in_u8(void) { u8 b; in_bytes(&b, 1); return b; }
static u32 in_u16(void) { u16 b; in_bytes(&b, 2); return b; }
static u32 in_u32(void) { u32 b; in_bytes(&b, 4); return b; }

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
int lar_lsl(int selector, int *lsl);

static u32 host_sel[6];    /* ES CS SS DS FS GS */

struct sigcontext32 {
    u16 gs, gsh, fs, fsh, es, esh, ds, dsh;
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 trapno, err, eip;
    u16 cs, csh;
    u32 eflags, esp_at_signal;
    u16 ss, ssh;
    u32 fpstate, oldmask, cr2;
};

static struct {
    u32 signo, trapno, err, cr2, eip, eflags;
    u32 regs[8];            /* EAX ECX EDX EBX ESP EBP ESI EDI */
    u32 sel[6];             /* ES CS SS DS FS GS */
} res;

static void handler(int sig, void *info, void *ucv) {
    (void)info;
    struct sigcontext32 *sc = (struct sigcontext32 *)((u8 *)ucv + 20);
    if (!in_case) die("fault outside a test case");
    in_case = 0;
    res.signo = (u32)sig;
    res.trapno = sc->trapno;
    res.err = sc->err;
    res.cr2 = sc->cr2;
    res.eip = sc->eip;
    res.eflags = sc->eflags;
    res.regs[0] = sc->eax; res.regs[1] = sc->ecx; res.regs[2] = sc->edx; res.regs[3] = sc->ebx;
    res.regs[4] = sc->esp; res.regs[5] = sc->ebp; res.regs[6] = sc->esi; res.regs[7] = sc->edi;
    res.sel[0] = sc->es; res.sel[1] = sc->cs; res.sel[2] = sc->ss;
    res.sel[3] = sc->ds; res.sel[4] = sc->fs; res.sel[5] = sc->gs;
    /* Resume the dispatcher with the host's own segments and flags. */
    sc->eip = (u32)case_resume;
    sc->esp = saved_esp;
    sc->eflags = 0x202;
    sc->es = (u16)host_sel[0]; sc->cs = (u16)host_sel[1]; sc->ss = (u16)host_sel[2];
    sc->ds = (u16)host_sel[3]; sc->fs = (u16)host_sel[4]; sc->gs = (u16)host_sel[5];
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
    if (sys3(SYS_sigaltstack, (int)&ss, 0, 0) != 0) die("sigaltstack failed");
    static const int sigs[] = {4 /*ILL*/, 5 /*TRAP*/, 7 /*BUS*/, 8 /*FPE*/, 11 /*SEGV*/};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct ksigaction sa;
        sa.handler = (void *)handler;
        sa.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER;
        sa.restorer = (void *)sig_restorer;
        sa.mask[0] = 0xffffffffu; /* block everything else while handling */
        sa.mask[1] = 0xffffffffu;
        if (sys6(SYS_rt_sigaction, sigs[i], (int)&sa, 0, 8, 0, 0) != 0)
            die("rt_sigaction failed");
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

static u8 *code_rw;          /* writable view of the code page */
static u32 *data = (u32 *)DATA_ADDR;
static u32 pattern[DATA_SIZE / 4];

static void map_areas(void) {
    int fd = sys3(SYS_memfd_create, (int)"diff-code", 0, 0);
    if (fd < 0) die("memfd_create failed");
    if (sys3(SYS_ftruncate, fd, PAGE, 0) != 0) die("ftruncate failed");
    int r = sys6(SYS_mmap2, CODE_ADDR, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (r != (int)CODE_ADDR) die("cannot map the code page at 0x10000000");
    r = sys6(SYS_mmap2, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if ((unsigned)r >= 0xfffff000u) die("cannot map the writable view of the code page");
    code_rw = (u8 *)r;
    r = sys6(SYS_mmap2, DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r != (int)DATA_ADDR) die("cannot map the data area at 0x20000000");
    memset(code_rw, 0xcc, PAGE);
}

#define TAG_CASE 1u
#define TAG_FPU 2u

int helper_main(void) {
    map_areas();
    read_selectors(host_sel);
    install_handlers();

    if (in_u32() != 0x31434644u) die("bad input magic (want DFC1)");
    if (in_u32() != DATA_SIZE) die("data size mismatch");
    in_bytes(pattern, DATA_SIZE);
    memcpy(data, pattern, DATA_SIZE);

    out_u32(0x31524644u); /* DFR1 */
    out_u32(CODE_ADDR);
    out_u32(DATA_ADDR);
    out_u32(DATA_SIZE);
    for (int i = 0; i < 6; i++) out_u32(host_sel[i]);
    int lsl;
    int lar = lar_lsl((int)host_sel[1], &lsl);
    out_u32((u32)lar); out_u32((u32)lsl);
    lar = lar_lsl((int)host_sel[3], &lsl);
    out_u32((u32)lar); out_u32((u32)lsl);

    u32 prev_off = 0, prev_len = 0;
    u8 fpu[108];
    for (;;) {
        u32 tag = in_u8();
        if (tag == 0) break;
        if (!(tag & TAG_CASE)) die("bad case tag");
        u32 off = in_u16();
        u32 len = in_u8();
        if (off >= PAGE || len > 64) die("bad code placement");
        memset(code_rw + prev_off, 0xcc, prev_len);
        u8 code[64];
        in_bytes(code, len);
        /* Bytes past the page end are not written: the fetch there must fault. */
        u32 keep = off + len > PAGE ? PAGE - off : len;
        memcpy(code_rw + off, code, keep);
        prev_off = off;
        prev_len = keep;
        u32 r[8];
        for (int i = 0; i < 8; i++) r[i] = in_u32();
        u32 fl = in_u32();
        case_regs[0] = r[7]; case_regs[1] = r[6]; case_regs[2] = r[5]; case_regs[3] = 0;
        case_regs[4] = r[3]; case_regs[5] = r[2]; case_regs[6] = r[1]; case_regs[7] = r[0];
        case_regs[8] = (fl & 0x00250fd5u) | 2u; /* arithmetic flags, DF, AC, ID; never TF */
        case_esp = r[4];
        case_entry = CODE_ADDR + off;
        u32 np = in_u8();
        for (u32 i = 0; i < np; i++) {
            u32 po = in_u16();
            u32 pl = in_u8();
            if (po + pl > DATA_SIZE) die("patch outside the data area");
            in_bytes((u8 *)data + po, pl);
        }
        if (tag & TAG_FPU) __asm__ volatile("fninit");
        run_case();
        if (tag & TAG_FPU) __asm__ volatile("fnsave %0\n\tfninit" : "=m"(fpu));

        out_u8(tag);
        out_u8(res.signo);
        out_u8(res.trapno);
        out_u8(0);
        out_u32(res.err);
        out_u32(res.cr2);
        out_u32(res.eip);
        out_u32(res.eflags);
        for (int i = 0; i < 8; i++) out_u32(res.regs[i]);
        for (int i = 0; i < 6; i++) out_u16(res.sel[i]);
        u32 nd = 0;
        for (u32 i = 0; i < DATA_SIZE / 4; i++) nd += data[i] != pattern[i];
        out_u16(nd);
        for (u32 i = 0; i < DATA_SIZE / 4; i++) {
            if (data[i] != pattern[i]) {
                out_u16(i);
                out_u32(data[i]);
                data[i] = pattern[i];
            }
        }
        if (tag & TAG_FPU) out_bytes(fpu, sizeof fpu);
    }
    flush_out();
    return 0;
}
