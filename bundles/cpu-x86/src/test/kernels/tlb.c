/* tlb.c - what a CR3 reload, INVLPG and CR4.PGE do to cached translations.
 *
 * Why: lguest switches page tables with CR3 on every guest entry and exit
 * and maps the Switcher with global pages; a processor whose TLB keeps too
 * much (stale non-global entries after CR3) corrupts guests, one that keeps
 * too little hides bugs in code that forgets INVLPG. Each check maps linear
 * 0x40000000+ onto frame A, reads it (filling the TLB), rewrites the PTE to
 * frame B *without* INVLPG, performs one operation, and reads again,
 * printing A or B:
 *  - non-global PTE, CR3 reload            -> B (required)
 *  - global PTE with CR4.PGE, CR3 reload   -> A (the global translation
 *    survives; this is what real processors do, and what this check asks
 *    for: qemu's TCG flushes global entries on a CR3 write, so this file's
 *    expected output is written by hand, not recorded from qemu)
 *  - the same global PTE after INVLPG       -> B (required)
 *  - global PTE, CR4.PGE cleared and set    -> B (required)
 *  - G bit set but CR4.PGE clear, CR3 reload -> B (required)
 *  - after a #PF on a not-present page, or a write #PF on a read-only page,
 *    the PTE fixed without INVLPG is used by the retry (required)
 *  - a global 4 MiB page (CR4.PSE): survives a CR3 reload -> A (as above,
 *    hand-written), dropped by an INVLPG of any address inside it -> B
 *    (required)
 */
#include "sys.h"

static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static volatile u8 frames[2][4096] __attribute__((aligned(4096)));

#define VA(i) (0x40000000u + (i) * 0x1000u)

static const char *which(u32 v)
{
    return v == 0xaaaaaaaau ? "A" : v == 0xbbbbbbbbu ? "B" : "?";
}

/* map page i onto frame A with extra PTE bits, read it, remap onto B */
static u32 prime(int i, u32 bits)
{
    pt_test[i] = (u32)frames[0] | 0x3 | bits;
    invlpg(VA(i));
    u32 a = *(volatile u32 *)VA(i);
    pt_test[i] = (u32)frames[1] | 0x3 | bits;
    return a;
}

void kmain(void)
{
    puts("KERNEL tlb\n");
    paging_build();
    pgdir[0x40000000u >> 22] = (u32)pt_test | 3;
    for (int j = 0; j < 1024; j++) {
        ((u32 *)frames[0])[j] = 0xaaaaaaaau;
        ((u32 *)frames[1])[j] = 0xbbbbbbbbu;
    }
    paging_on();
    write_cr4(read_cr4() | 0x80);                         /* PGE */

    u32 a = prime(0, 0);
    write_cr3((u32)pgdir);
    kprintf("nonglobal-cr3-reload: first=%s then=%s\n", which(a), which(*(volatile u32 *)VA(0)));

    a = prime(1, 0x100);
    write_cr3((u32)pgdir);
    kprintf("global-pge1-cr3-reload: first=%s then=%s\n", which(a), which(*(volatile u32 *)VA(1)));
    invlpg(VA(1));
    kprintf("global-pge1-after-invlpg: %s\n", which(*(volatile u32 *)VA(1)));

    a = prime(2, 0x100);
    write_cr3((u32)pgdir);
    write_cr4(read_cr4() & ~0x80u);
    write_cr4(read_cr4() | 0x80u);
    kprintf("global-pge-toggle: first=%s then=%s\n", which(a), which(*(volatile u32 *)VA(2)));

    write_cr4(read_cr4() & ~0x80u);
    a = prime(3, 0x100);
    write_cr3((u32)pgdir);
    kprintf("global-bit-pge0-cr3-reload: first=%s then=%s\n", which(a), which(*(volatile u32 *)VA(3)));

    /* a #PF drops the translation it faulted on: a PTE fixed afterwards needs no INVLPG
     * (not-present entries are never cached; a write to a read-only page that faulted
     * does not fault again once the PTE allows it) - demand paging relies on this */
    pt_test[4] = 0;
    invlpg(VA(4));
    TRY("", "movl 0x40004000, %%eax", "");
    kprintf("np-fault-then-present: first=%s", T_count ? vecname(T_log[0].vec) : "ok");
    pt_test[4] = (u32)frames[1] | 0x3;
    TRY("", "movl 0x40004000, %%eax", "");
    kprintf(" then=%s\n", T_count ? vecname(T_log[0].vec) : "ok");
    write_cr0(read_cr0() | 0x10000u);                     /* WP: supervisor writes obey R/W */
    pt_test[5] = (u32)frames[1] | 0x1;                    /* read-only */
    invlpg(VA(5));
    (void)*(volatile u32 *)VA(5);                         /* cache the read-only translation */
    TRY("", "movl %%eax, 0x40005000", "");
    kprintf("ro-fault-then-writable: first=%s", T_count ? vecname(T_log[0].vec) : "ok");
    pt_test[5] = (u32)frames[1] | 0x3;
    TRY("movl $0xbbbbbbbb, %%eax", "movl %%eax, 0x40005000", "");
    kprintf(" then=%s\n", T_count ? vecname(T_log[0].vec) : "ok");
    write_cr0(read_cr0() & ~0x10000u);

    /* 4 MiB global pages: an INVLPG anywhere inside the page drops it */
    write_cr4(read_cr4() | 0x90);                         /* PSE, PGE */
    {
        volatile u32 *pa = (volatile u32 *)0x00401000, *pb = (volatile u32 *)0x00801000;
        volatile u32 *pde = &pgdir[0x40400000u >> 22];
        *pa = 0xaaaaaaaau;
        *pb = 0xbbbbbbbbu;
        *pde = 0x00400000 | 0x183;                        /* G, PS, W, P */
        invlpg(0x40401000);
        a = *(volatile u32 *)0x40401000;
        *pde = 0x00800000 | 0x183;
        write_cr3((u32)pgdir);
        kprintf("global-4m-cr3-reload: first=%s then=%s\n", which(a), which(*(volatile u32 *)0x40401000));
        invlpg(0x40733000);                               /* another 4 KiB of the same 4 MiB page */
        kprintf("global-4m-invlpg-elsewhere-in-page: %s\n", which(*(volatile u32 *)0x40401000));
        *pde = 0;
        invlpg(0x40400000);
    }
    write_cr4(read_cr4() & ~0x90u);

    paging_off();
    puts("DONE\n");
}
