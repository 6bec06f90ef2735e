/*
 * The case protocol shared by the two oracles of the differential tests:
 * the native helper (helper.c, a 32-bit Linux program that runs each case
 * on the host processor) and the oracle kernel (oracle/, a multiboot kernel
 * that runs each case under qemu-system-i386). Both read cases and write
 * outcomes in the format of README-difftest.md; dispatch() in protocol.c is
 * that loop, and each oracle supplies the few platform pieces below.
 */
#ifndef DIFF_PROTOCOL_H
#define DIFF_PROTOCOL_H

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define CODE_ADDR 0x10000000u
#define DATA_ADDR 0x20000000u
#define DATA_SIZE 0x2000u
#define PAGE 4096u

/* How one case ended. */
struct outcome {
    u32 signo, trapno, err, cr2, eip, eflags;
    u32 regs[8];            /* EAX ECX EDX EBX ESP EBP ESI EDI */
    u32 sel[6];             /* ES CS SS DS FS GS */
};

/* ---- supplied by the platform ---- */

/* A writable view of the code page (which the case sees read-only at CODE_ADDR). */
extern u8 *code_rw;
/* Reads at least 1 and at most max bytes of input; 0 at end of input. */
int plat_read(u8 *buf, unsigned max);
/* Writes all n bytes of output. */
void plat_write(const u8 *buf, unsigned n);
/* Stops the oracle with a message (never returns). */
void plat_die(const char *why) __attribute__((noreturn));
/* The selectors a case starts with (ES CS SS DS FS GS). */
void plat_selectors(u32 sel6[6]);
/*
 * Runs one case at ring 3: regs in PUSHA order (EDI ESI EBP ESP EBX EDX ECX
 * EAX; the ESP slot unused), eflags as given, ESP = esp, EIP = entry. Fills
 * *res from the exception that ended it.
 */
void plat_run_case(const u32 pusha_regs[8], u32 eflags, u32 esp, u32 entry, struct outcome *res);

/* LAR/LSL of a selector: the LAR result or -1, and the LSL result or -1 in *lsl. */
int lar_lsl(int selector, int *lsl);

/* ---- provided by protocol.c ---- */

void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n);
/* Runs the protocol on the platform's input and output until the end tag; returns 0. */
int dispatch(void);

#endif
