/*
 * The dispatcher both oracles run: read the data-area pattern, answer with
 * the oracle's header, then for each case place its code, load its data
 * patches, run it at ring 3 (through the platform), and report the ending,
 * the registers and the data dwords that differ from the pattern (restoring
 * them for the next case). Format: README-difftest.md.
 */
#include "protocol.h"

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

/* ---- buffered I/O over the platform ---- */

static u8 inbuf[1 << 16];
static unsigned in_pos, in_len;
static u8 outbuf[1 << 16];
static unsigned out_len;

static void flush_out(void) {
    if (out_len) plat_write(outbuf, out_len);
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
    int n = plat_read(inbuf, sizeof inbuf);
    in_pos = 0;
    in_len = (unsigned)n;
    return n;
}

static void in_bytes(void *p, unsigned n) {
    u8 *q = p;
    while (n) {
        if (in_pos == in_len && in_fill() == 0) plat_die("unexpected end of input");
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

/* ---- the loop ---- */

static u32 *const data = (u32 *)DATA_ADDR;
static u32 pattern[DATA_SIZE / 4];

#define TAG_CASE 1u
#define TAG_FPU 2u

int dispatch(void) {
    u32 sel[6];
    plat_selectors(sel);
    memset(code_rw, 0xcc, PAGE);

    if (in_u32() != 0x31434644u) plat_die("bad input magic (want DFC1)");
    if (in_u32() != DATA_SIZE) plat_die("data size mismatch");
    in_bytes(pattern, DATA_SIZE);
    memcpy(data, pattern, DATA_SIZE);

    out_u32(0x31524644u); /* DFR1 */
    out_u32(CODE_ADDR);
    out_u32(DATA_ADDR);
    out_u32(DATA_SIZE);
    for (int i = 0; i < 6; i++) out_u32(sel[i]);
    int lsl;
    int lar = lar_lsl((int)sel[1], &lsl);
    out_u32((u32)lar); out_u32((u32)lsl);
    lar = lar_lsl((int)sel[3], &lsl);
    out_u32((u32)lar); out_u32((u32)lsl);

    u32 prev_off = 0, prev_len = 0;
    u8 fpu[108];
    struct outcome res;
    for (;;) {
        u32 tag = in_u8();
        if (tag == 0) break;
        if (!(tag & TAG_CASE)) plat_die("bad case tag");
        u32 off = in_u16();
        u32 len = in_u8();
        if (off >= PAGE || len > 64) plat_die("bad code placement");
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
        u32 pusha[8] = {r[7], r[6], r[5], 0, r[3], r[2], r[1], r[0]};
        u32 eflags = (fl & 0x00250fd5u) | 2u; /* arithmetic flags, DF, AC, ID; never TF */
        u32 np = in_u8();
        for (u32 i = 0; i < np; i++) {
            u32 po = in_u16();
            u32 pl = in_u8();
            if (po + pl > DATA_SIZE) plat_die("patch outside the data area");
            in_bytes((u8 *)data + po, pl);
        }
        if (tag & TAG_FPU) __asm__ volatile("fninit");
        memset(&res, 0, sizeof res);
        plat_run_case(pusha, eflags, r[4], CODE_ADDR + off, &res);
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
