/*
 * user.c - ring 3: loading the tiny user program and serving its system
 * calls.
 *
 * The program (user/user.c, built separately and linked at 0x08048000) is
 * embedded in the kernel image as a flat binary.  We copy it into fresh
 * user pages, map a page holding a magic word for its TLS segment, install
 * that segment with pv.load_tls (LOAD_TLS under lguest), and enter it with
 * run_user().  Its stack is the demand-paged zone just below PAGE_OFFSET,
 * so its first push already takes a page fault from ring 3.
 *
 * System calls come in through int 0x80, a DPL-3 trap gate: under lguest
 * the Host installs it directly in the real IDT, so a system call goes
 * from ring 3 to our ring-1 handler without leaving the Guest.  The calls
 * follow Linux numbering: 1 exit(code), 4 write(fd, buf, len), 13 time()
 * (here: the tick count), 20 getpid(); and one of our own, 200 report(n),
 * with which the program hands the selftest its findings before it tries
 * to read kernel memory (and is killed for it).
 */
#include "guest.h"

#define USER_BASE   0x08048000
#define USER_TLS    0x08000000u
#define TLS_MAGIC   0x7157AB1E

extern u8 user_image_start[], user_image_end[];
struct user_result user_result;

/* Is [buf, buf+len) user memory that is mapped right now?  (Checked so a
 * bad pointer gets EFAULT instead of a kernel page fault.) */
static int user_range_ok(u32 buf, u32 len)
{
	u32 p;
	if (buf >= PAGE_OFFSET || len > PAGE_OFFSET - buf || len > 1024)
		return 0;
	for (p = buf & ~(PAGE_SIZE - 1); p < buf + len; p += PAGE_SIZE) {
		u32 *pte = lookup_pte(p);
		if (!pte || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
			return 0;
	}
	return 1;
}

void syscall_dispatch(struct trap_frame *f)
{
	user_result.syscalls++;
	if ((f->cs & 3) == 3)
		user_result.from_ring3++;

	switch (f->eax) {
	case 1:                                 /* exit(code) */
		user_return((int)f->ebx);
	case 4: {                               /* write(fd, buf, len) */
		u32 buf = f->ecx, len = f->edx, i;
		if (!user_range_ok(buf, len)) {
			f->eax = (u32)-14;      /* EFAULT */
			return;
		}
		pv.console_write((const char *)buf, len);
		for (i = 0; i < len && user_result.out_len < (int)sizeof(user_result.out) - 1; i++)
			user_result.out[user_result.out_len++] = ((const char *)buf)[i];
		f->eax = len;
		return;
	}
	case 13:                                /* time(): ticks */
		f->eax = ticks;
		return;
	case 20:                                /* getpid() */
		f->eax = 1;
		return;
	case 200:                               /* report(findings) */
		user_result.report = (int)f->ebx;
		user_result.reported = 1;
		f->eax = 0;
		return;
	default:
		f->eax = (u32)-38;              /* ENOSYS */
	}
}

int user_run_selftest_program(void)
{
	u32 size = user_image_end - user_image_start;
	u32 pages = (size + PAGE_SIZE - 1) / PAGE_SIZE + 1, i, p;
	struct desc tls[3] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };

	memset(&user_result, 0, sizeof(user_result));

	/* Map program and TLS pages in one batch (one FLUSH_ASYNC on lguest). */
	pv.lazy_mmu_begin();
	for (i = 0; i < pages; i++) {
		u32 off = i * PAGE_SIZE, n = off < size ? size - off : 0;
		p = alloc_page();
		memcpy(__va(p), user_image_start + off, n > PAGE_SIZE ? PAGE_SIZE : n);
		map_page(USER_BASE + off, p, PTE_P | PTE_W | PTE_U);
	}
	p = alloc_page();
	*(u32 *)__va(p) = TLS_MAGIC;
	map_page(USER_TLS, p, PTE_P | PTE_W | PTE_U);
	pv.lazy_mmu_end();

	/* TLS entry 6: a flat-limit DPL-3 data segment based at USER_TLS. */
	tls[0].a = 0xffff | (USER_TLS << 16);
	tls[0].b = ((USER_TLS >> 16) & 0xff) | (0xf3 << 8) | 0xf0000 | (0xc << 20) |
		   (USER_TLS & 0xff000000);
	pv.load_tls(gdt, tls);

	user_result.exit_code = run_user(USER_BASE, USTACK_TOP);
	return user_result.exit_code;
}
