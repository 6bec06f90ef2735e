/*
 * lib.c - the handful of C library routines a freestanding kernel needs
 * (the compiler may call memset/memcpy on its own), plus reading options
 * from the kernel command line.
 */
#include "guest.h"

void *memset(void *d, int c, u32 n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

/* Whole words with "rep movsl", then the odd bytes: a frame or a sector in a few instructions. */
void *memcpy(void *d, const void *s, u32 n)
{
	void *dst = d;
	u32 words = n >> 2, bytes = n & 3;
	asm volatile("rep movsl" : "+D"(dst), "+S"(s), "+c"(words) : : "memory");
	asm volatile("rep movsb" : "+D"(dst), "+S"(s), "+c"(bytes) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, u32 n)
{
	const u8 *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

u32 strlen(const char *s)
{
	u32 n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, u32 n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

/*
 * A decimal number after any spaces, ending at a space or the end of the
 * text: 0 with the value in *out and *p past it, or -1 (nothing changed).
 * For the commands' arguments (blk.c, net.c).
 */
int parse_decimal(const char **p, u32 *out)
{
	const char *s = *p;
	u32 v = 0;
	int digits = 0;

	while (*s == ' ')
		s++;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (u32)(*s++ - '0');
		digits++;
	}
	if (!digits || (*s != ' ' && *s != '\0'))
		return -1;
	*out = v;
	*p = s;
	return 0;
}

/*
 * The command line is space-separated words.  cmdline_option("input-expected=")
 * returns a pointer to the text after the '=' (ending at the next space or
 * the end); cmdline_flag("selftest") says whether the bare word is present.
 */
const char *cmdline_option(const char *name)
{
	u32 n = strlen(name);
	const char *p = boot.cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n))
			return p + n;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

int cmdline_flag(const char *name)
{
	const char *p = cmdline_option(name);
	return p && (*p == ' ' || *p == '\0');
}
