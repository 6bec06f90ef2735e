/*
 * blk.c - disk commands over the lguest block device (lguest.c):
 *
 *   blk write SEED N    fill sectors 0..N-1 with a pattern made from SEED
 *   blk verify SEED N   read them back; a wrong sector crashes the guest
 *                       with its number (bin/lguest run then exits 1)
 *   blk flush           have the host put what was written on stable storage
 *   blk raw-write N     write sectors 0..N-1 as they are (no pattern: the
 *   blk raw-read N      protocol's own speed, for bench/diskbench.py)
 *
 * From the kernel command line ("blk write 7 256 poweroff") or typed at the
 * console.  Each sector holds 127 pattern words, a function of the seed,
 * the sector number and the word's place, and their sum in the last word,
 * so a sector that landed in the wrong place, a torn sector and a stale one
 * are all caught.  Requests go 128 sectors (64 KB, 16 pages) at a time.
 */
#include "guest.h"

u32 lguest_block_init(void);
int lguest_block_rw(int write, u32 sector, u32 count, void *buf);
int lguest_block_flush(void);

static u32 blk_sectors;
static int blk_probed;
#define BATCH 128                       /* sectors a request: 64 KB, the protocol's most */
static u32 blk_buf[BATCH * 128] __attribute__((aligned(4096)));

/* Before a power-off: a disk that was used gets its writes put on stable storage. */
void blk_sync(void)
{
	if (blk_probed && blk_sectors && lguest_block_flush() == 0)
		printk("blk: flushed\n");
}

static u32 pattern_word(u32 seed, u32 sector, u32 i)
{
	u32 x = seed * 0x9E3779B1u + sector * 0x85EBCA6Bu + i * 0xC2B2AE35u + 0x27D4EB2Fu;
	x ^= x >> 15;
	x *= 0x2C1B3C6Du;
	x ^= x >> 12;
	return x;
}

static void fill_sector(u32 *w, u32 seed, u32 sector)
{
	u32 sum = 0, i;
	for (i = 0; i < 127; i++) {
		w[i] = pattern_word(seed, sector, i);
		sum += w[i];
	}
	w[127] = sum;
}

static int blk_ready(void)
{
	if (!blk_probed) {
		blk_probed = 1;
		blk_sectors = lguest_block_init();
	}
	if (!blk_sectors) {
		printk("blk: no block device\n");
		return 0;
	}
	return 1;
}

/* Whether there is a disk of at least n sectors; says why not. */
static int blk_fits(u32 n)
{
	if (!blk_ready())
		return 0;
	if (n > blk_sectors) {
		printk("blk: %u sectors asked, the disk has %u\n", n, blk_sectors);
		return 0;
	}
	return 1;
}

static void blk_write(u32 seed, u32 n)
{
	u32 s, k;
	for (s = 0; s < n; s += k) {
		k = n - s < BATCH ? n - s : BATCH;
		for (u32 j = 0; j < k; j++)
			fill_sector(blk_buf + 128 * j, seed, s + j);
		if (lguest_block_rw(1, s, k, blk_buf))
			panic("blk write: I/O error at sector %u", s);
	}
	printk("blk: wrote %u sectors (seed %u)\n", n, seed);
}

static void blk_verify(u32 seed, u32 n)
{
	u32 s, k, want[128];
	for (s = 0; s < n; s += k) {
		k = n - s < BATCH ? n - s : BATCH;
		memset(blk_buf, 0xAB, k * 512);
		if (lguest_block_rw(0, s, k, blk_buf))
			panic("blk verify: I/O error at sector %u", s);
		for (u32 j = 0; j < k; j++) {
			fill_sector(want, seed, s + j);
			for (u32 i = 0; i < 128; i++)
				if (blk_buf[128 * j + i] != want[i])
					panic("blk verify: sector %u is wrong (word %u: %x, expected %x)",
					      s + j, i, blk_buf[128 * j + i], want[i]);
		}
	}
	printk("blk: verified %u sectors (seed %u)\n", n, seed);
}

static void blk_raw(int write, u32 n)
{
	u32 s, k;
	for (s = 0; s < n; s += k) {
		k = n - s < BATCH ? n - s : BATCH;
		if (lguest_block_rw(write, s, k, blk_buf))
			panic("blk raw-%s: I/O error at sector %u", write ? "write" : "read", s);
	}
	printk("blk: raw %s %u sectors\n", write ? "wrote" : "read", n);
}

/* "write SEED N", "verify SEED N", "flush", "raw-write N", "raw-read N" (what follows "blk "); 0 when it ran. */
int blk_command(const char *args)
{
	int write;
	u32 seed, n;

	if (!strncmp(args, "flush", 5) && (args[5] == ' ' || args[5] == '\0')) {
		if (!blk_ready())
			return -1;
		if (lguest_block_flush())
			panic("blk flush: I/O error");
		printk("blk: flushed\n");
		return 0;
	}
	if (!strncmp(args, "raw-write ", 10) || !strncmp(args, "raw-read ", 9)) {
		write = args[4] == 'w';
		args += write ? 10 : 9;
		if (parse_decimal(&args, &n)) {
			printk("blk: N is a decimal number\n");
			return -1;
		}
		if (!blk_fits(n))
			return -1;
		blk_raw(write, n);
		return 0;
	}
	if (!strncmp(args, "write ", 6)) {
		write = 1;
		args += 6;
	} else if (!strncmp(args, "verify ", 7)) {
		write = 0;
		args += 7;
	} else {
		printk("blk: usage: blk write SEED N | blk verify SEED N | blk flush | blk raw-write N | blk raw-read N\n");
		return -1;
	}
	if (parse_decimal(&args, &seed) || parse_decimal(&args, &n)) {
		printk("blk: SEED and N are decimal numbers\n");
		return -1;
	}
	if (!blk_fits(n))
		return -1;
	if (write)
		blk_write(seed, n);
	else
		blk_verify(seed, n);
	return 0;
}

/* The selftest's check: two reads of sectors 0..7 agree, then a flush. Changes nothing on the disk. */
int blk_selftest(char *why, int size)
{
	static u32 again[1024] __attribute__((aligned(4096)));
	u32 n;

	if (!blk_probed) {
		blk_probed = 1;
		blk_sectors = boot.lguest ? lguest_block_init() : 0;
	}
	if (!blk_sectors) {
		snprintk(why, size, "no block device");
		return -1;
	}
	n = blk_sectors < 8 ? blk_sectors : 8;
	if (lguest_block_rw(0, 0, n, blk_buf) || lguest_block_rw(0, 0, n, again)) {
		snprintk(why, size, "a read of sectors 0..%u failed", n - 1);
		return 0;
	}
	if (memcmp(blk_buf, again, n * 512)) {
		snprintk(why, size, "two reads of sectors 0..%u differ", n - 1);
		return 0;
	}
	if (lguest_block_flush()) {
		snprintk(why, size, "the flush failed");
		return 0;
	}
	snprintk(why, size, "%u sectors; reads agree, flush done", blk_sectors);
	return 1;
}

/* Each "blk ..." command on the kernel command line, in order. */
void blk_modes(void)
{
	const char *p = boot.cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, "blk ", 4))
			blk_command(p + 4);
		while (*p && *p != ' ')
			p++;
	}
}
