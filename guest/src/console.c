/*
 * console.c - printing and reading characters, whatever the console is.
 *
 * Output goes through pv.console_write: the 16550 UART on COM1 when bare,
 * a SEND_DMA to key 0 (the Launcher's console) under lguest.  printk formats
 * into a small buffer first, so each call is one write: under lguest that is
 * one hypercall per line rather than one per character.
 *
 * Input arrives in interrupt handlers (the UART's IRQ 4, or the lguest
 * console's bound DMA buffer and its IRQ), which push bytes into a ring
 * here; the kernel's main loop and the console selftest take them out.
 */
#include <stdarg.h>
#include "guest.h"

int console_irq = -1;

/* ---- formatting: %s %c %d %u %x with optional 0-padding and width ---- */
struct out { char *buf; int size, pos; };

static void put(struct out *o, char c)
{
	if (o->pos < o->size - 1)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_num(struct out *o, u32 v, int base, int neg, int width, char pad)
{
	char tmp[12];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

static int vformat(char *buf, int size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0;
		char pad = ' ';
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = (int)strlen(s);
			while (width-- > len)
				put(&o, ' ');
			while (*s)
				put(&o, *s++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int v = va_arg(ap, int);
			put_num(&o, v < 0 ? -(u32)v : (u32)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(&o, va_arg(ap, u32), 10, 0, width, pad);
			break;
		case 'x':
			put_num(&o, va_arg(ap, u32), 16, 0, width, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '?');
		}
	}
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos < size ? o.pos : size - 1;
}

int snprintk(char *buf, int size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;
	u32 flags;

	va_start(ap, fmt);
	n = vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	flags = pv.save_fl();
	pv.irq_disable();
	pv.console_write(buf, n);
	pv.restore_fl(flags);
}

void panic(const char *fmt, ...)
{
	static char msg[128];
	va_list ap;

	pv.irq_disable();
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("PANIC: %s\n", msg);
	pv.crash(msg);
}

/* ---- input ring: filled by IRQ handlers, drained by the kernel ---- */
static char in_ring[256];
static volatile u32 in_head, in_tail;

void console_input_bytes(const char *s, int n)
{
	while (n--) {
		if (in_head - in_tail < sizeof(in_ring))
			in_ring[in_head++ % sizeof(in_ring)] = *s;
		s++;
	}
}

int console_input_available(void)
{
	return in_head != in_tail;
}

int console_getc(void)
{
	int c = -1;
	u32 flags = pv.save_fl();
	pv.irq_disable();
	if (in_head != in_tail)
		c = (u8)in_ring[in_tail++ % sizeof(in_ring)];
	pv.restore_fl(flags);
	return c;
}
