/*
 * hostile.h - the shared startup of the hostile test kernels (README.md).
 *
 * Each hostile kernel is the guest's own boot code (../src/boot.S: the
 * multiboot header and the lguest marker entry, linked with ../kernel.ld)
 * plus this small library (hlib.c, hentry.S) plus one attack file that
 * defines hostile_main().  The library does LGUEST_INIT properly, installs
 * handlers for #GP and #PF that can recover from an expected fault, and
 * prints on the console (SEND_DMA to key 0) with the prefix "hostile: ".
 *
 * How a hostile kernel ends tells the test what happened:
 *  - killed by the Host: the Host's reason (what most attacks expect);
 *  - CRASH "hostile: contained: ...": the attack was survived but had no
 *    effect (a fault was reflected to us, a request was ignored);
 *  - CRASH "hostile: ESCAPE: ...": the attack worked; always a Host bug;
 *  - CRASH "hostile: unexpected ...": something the attack did not plan for.
 */
#ifndef HOSTILE_H
#define HOSTILE_H
#include "guest.h"
#include "lguest_abi.h"

/* The attack: called after LGUEST_INIT with the variant words of the command line. */
void hostile_main(void) __attribute__((noreturn));
/* Weak, default 1: return 0 to skip LGUEST_INIT (the "hypercall first" attack). */
int hostile_wants_init(void);

u32 hc(u32 call, u32 a1, u32 a2, u32 a3);
void say(const char *fmt, ...);                  /* "hostile: " + text, to the console */
void contained(const char *fmt, ...) __attribute__((noreturn));
void escape(const char *fmt, ...) __attribute__((noreturn));
void unexpected(const char *fmt, ...) __attribute__((noreturn));
void crash_raw(const char *msg) __attribute__((noreturn));
int variant(const char *word);                   /* the word is on the command line */
u32 decimal(const char *name, u32 otherwise);    /* the decimal value of option name= (e.g. "seed="), else otherwise */

/* A seeded xorshift32 generator, for the fuzzers: the same seed makes the same run. */
void seed_random(u32 seed);                      /* 0 is taken as 1 */
u32 next(void);
u32 below(u32 n);                                /* next() % n */
int hsnprintf(char *buf, int size, const char *fmt, ...);

/* IDT: a gate for vector v to handler h, type 0xE (interrupt) or 0xF (trap). */
void set_gate(u32 v, void (*h)(void), u32 type, u32 dpl);
void gate_words(void (*h)(void), u32 sel, u32 type, u32 dpl, u32 *lo, u32 *hi);

/* The last trap our handlers saw. */
struct trap_seen { u32 vector, err, eip, cs, cr2, count; };
extern volatile struct trap_seen last_trap;

/* Fault-tolerant accesses: 0 if it worked, 1 if it trapped (see last_trap). */
int try_write32(u32 addr, u32 val);
int try_read32(u32 addr, u32 *val);
int try_es_write32(u32 sel, u32 off, u32 val);   /* through %es = sel */
int try_ljmp(u32 sel);                           /* ljmp sel:label; returns CPL seen after, or -1 on a trap */
int try_lcall(u32 sel);                          /* lcall through sel; returns CPL in the target, or -1 */
int try_int3(void);                              /* int $3: CPL of our handler; -1 trapped elsewhere; -2 nothing ran */
int halt_until_trap(u32 n);                      /* up to n HALTs: 1 if a trap ended them (fixup) */

/* Our own page directory: RAM (up to 16 MB) at PAGE_OFFSET, flags 0x63. */
extern u32 hpgdir[1024];
void hostile_paging_init(void);
u32 pfn_ram_end(void);
u32 *hpte(u32 va);                               /* our PTE for va (first 16 MB above PAGE_OFFSET) */                           /* frames of RAM (from the boot block) */

/* Interrupts: vectors 32..63 go to irq_entry (interrupt gates), which counts
 * in irq_hits[] and calls irq_hook (if set) with the IRQ number. */
extern volatile u32 irq_hits[32];
extern void (*volatile irq_hook)(int irq);
void irqs_install(void);

static inline u32 read_cs(void) { u32 v; asm volatile("movl %%cs, %0" : "=r"(v)); return v; }
#endif
