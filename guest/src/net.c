/*
 * net.c - just enough IPv4 over the lguest network device (lguest.c) to
 * test and measure it:
 *
 *   ARP        answers who-has for our address, learns every sender, and
 *              asks (three times a second, for up to ten seconds) before
 *              sending to an address it does not know;
 *   ICMP       answers echo requests; "ping IP [COUNT]" sends them, one
 *              a tick apart, and prints what came back;
 *   UDP        echoes every datagram sent to port 7;
 *              "net send MB IP" sends MB MiB to IP's port 9 as 1472-byte
 *              datagrams carrying sequence numbers, then an end marker;
 *              "net recv" counts what reaches port 9 until the end marker
 *              and prints the bytes, the time and the datagrams lost.
 *   "net stat" prints the device's counters.
 *
 * Our address is ip=A.B.C.D on the command line, else 10.0.0.(slot + 1):
 * on a LAN the first guest is 10.0.0.1, the second 10.0.0.2; on a TAP
 * device our slot is 1, so we are 10.0.0.2 and the host side is 10.0.0.1.
 * Commands on the command line run in order after boot ("ping 10.0.0.1 5
 * poweroff"); a ping with no answer at all, or a "net recv" that saw a
 * datagram lost, crashes the guest so that bin/lguest run exits 1.
 * The whole stack polls: the idle loop calls net_poll() after every wake.
 */
#include "guest.h"

#define ETH_ARP   0x0806
#define ETH_IP    0x0800
#define IP_ICMP   1
#define IP_UDP    17
#define PORT_ECHO 7
#define PORT_DISCARD 9
#define PAYLOAD_MAX 1472                /* 1514 - 14 - 20 - 8 */

static int net_up = -1;                 /* -1 unprobed, 0 absent, 1 up */
static u8 my_mac[6];
static u32 my_ip;                       /* network byte order kept as a host value: a.b.c.d = a<<24|... */
static u8 frame[1536] __attribute__((aligned(4)));
static u8 out[1536] __attribute__((aligned(4)));

static struct { u32 ip; u8 mac[6]; } arp_cache[16];
static u32 arp_next;

/* Echo replies we are waiting for, and the recv counter. */
static volatile u32 ping_id, ping_seq_seen;
static struct {
	int active, done;
	u32 first_tick, last_tick, datagrams, expected, lost;
	u64 bytes;
} rx;

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 get32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static void put16(u8 *p, u16 v) { p[0] = v >> 8; p[1] = v & 0xFF; }
static void put32(u8 *p, u32 v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v & 0xFF; }

static u16 csum(const u8 *p, u32 n)
{
	u32 sum = 0;
	for (; n > 1; n -= 2, p += 2)
		sum += (u32)(p[0] << 8 | p[1]);
	if (n)
		sum += (u32)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (u16)~sum;
}

static void print_ip(const char *before, u32 ip)
{
	printk("%s%u.%u.%u.%u", before, ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

static int parse_ip(const char **p, u32 *ip)
{
	const char *s = *p;
	u32 v = 0;
	while (*s == ' ')
		s++;
	for (int part = 0; part < 4; part++) {
		u32 x = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			x = x * 10 + (u32)(*s++ - '0');
			digits++;
		}
		if (!digits || x > 255 || (part < 3 && *s++ != '.'))
			return -1;
		v = v << 8 | x;
	}
	if (*s != ' ' && *s != '\0')
		return -1;
	*ip = v;
	*p = s;
	return 0;
}

static int net_ready(void)
{
	if (net_up < 0) {
		u32 slot;
		const char *ip = cmdline_option("ip=");
		net_up = lguest_net_init(my_mac, &slot) == 0;
		if (net_up) {
			my_ip = 0x0A000000u | (slot + 1);
			if (ip && parse_ip(&ip, &my_ip))
				printk("net: bad ip= on the command line; using the default\n");
			print_ip("net: address ", my_ip);
			printk("/24\n");
		}
	}
	return net_up;
}

static void arp_learn(u32 ip, const u8 *mac)
{
	for (u32 i = 0; i < ARRAY_SIZE(arp_cache); i++)
		if (arp_cache[i].ip == ip) {
			memcpy(arp_cache[i].mac, mac, 6);
			return;
		}
	arp_cache[arp_next].ip = ip;
	memcpy(arp_cache[arp_next].mac, mac, 6);
	arp_next = (arp_next + 1) % ARRAY_SIZE(arp_cache);
}

static const u8 *arp_lookup(u32 ip)
{
	for (u32 i = 0; i < ARRAY_SIZE(arp_cache); i++)
		if (arp_cache[i].ip == ip && ip)
			return arp_cache[i].mac;
	return NULL;
}

static void eth_header(u8 *f, const u8 *dst, u16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
}

static void arp_send(u16 op, const u8 *dst_mac, u32 dst_ip)
{
	static const u8 bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	static const u8 zero[6];
	u8 *a = out + 14;
	eth_header(out, op == 1 ? bcast : dst_mac, ETH_ARP);
	put16(a, 1);            /* Ethernet */
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, my_mac, 6);
	put32(a + 14, my_ip);
	memcpy(a + 18, op == 1 ? zero : dst_mac, 6);
	put32(a + 24, dst_ip);
	lguest_net_send(out, 14 + 28 + 18);     /* padded to Ethernet's 60 */
}

/* Builds the IPv4 header of `len` payload bytes in `out`; returns the payload pointer. */
static u8 *ip_header(const u8 *dst_mac, u32 dst_ip, u8 proto, u32 len)
{
	static u16 ident;
	u8 *ip = out + 14;
	eth_header(out, dst_mac, ETH_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (u16)(20 + len));
	put16(ip + 4, ident++);
	put16(ip + 6, 0x4000);          /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, my_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, csum(ip, 20));
	return ip + 20;
}

static void udp_send(const u8 *dst_mac, u32 dst_ip, u16 sport, u16 dport, const u8 *data, u32 len, int retry)
{
	u8 *u = ip_header(dst_mac, dst_ip, IP_UDP, 8 + len);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (u16)(8 + len));
	put16(u + 6, 0);                /* no checksum: allowed over IPv4 */
	if (data != u + 8)
		memcpy(u + 8, data, len);
	/* A bulk sender waits for the receiver's buffers rather than drop (a full
	 * LAN peer answers a send with used_len 0); echo replies do not wait. */
	u32 n = 14 + 20 + 8 + len;
	if (!lguest_net_send(out, n) || !retry)
		return;
	static u8 again[1536];          /* net_poll() below may build answers in `out` */
	memcpy(again, out, n);
	for (u32 tries = 0; tries < (u32)retry; tries++) {
		net_poll();
		if (!lguest_net_send(again, n))
			return;
	}
}

static void handle_ip(const u8 *f, u32 n)
{
	const u8 *ip = f + 14;
	u32 hl = (ip[0] & 0xF) * 4, total, src, dst;
	if (n < 14 + 20 || (ip[0] >> 4) != 4 || hl < 20)
		return;
	total = get16(ip + 2);
	if (total < hl || 14 + total > n)
		return;
	src = get32(ip + 12);
	dst = get32(ip + 16);
	if (dst != my_ip)
		return;
	arp_learn(src, f + 6);
	const u8 *p = ip + hl;
	u32 plen = total - hl;
	if (ip[9] == IP_ICMP && plen >= 8) {
		if (p[0] == 8) {                        /* echo request: answer it */
			u8 *r = ip_header(f + 6, src, IP_ICMP, plen);
			memcpy(r, p, plen);
			r[0] = 0;
			put16(r + 2, 0);
			put16(r + 2, csum(r, plen));
			lguest_net_send(out, 14 + 20 + plen);
		} else if (p[0] == 0 && get16(p + 4) == ping_id) {
			ping_seq_seen = get16(p + 6);
		}
	} else if (ip[9] == IP_UDP && plen >= 8) {
		u16 sport = get16(p), dport = get16(p + 2), ulen = get16(p + 4);
		if (ulen < 8 || ulen > plen)
			return;
		if (dport == PORT_ECHO) {
			u8 copy[PAYLOAD_MAX];
			memcpy(copy, p + 8, ulen - 8);
			udp_send(f + 6, src, PORT_ECHO, sport, copy, ulen - 8, 0);
		} else if (dport == PORT_DISCARD && rx.active && ulen >= 12) {
			u32 seq = get32(p + 8);
			if (seq == 0xFFFFFFFFu) {       /* the end marker: the count sent follows */
				if (!rx.done && ulen >= 16) {
					rx.expected = get32(p + 12);
					rx.done = 1;
				}
				return;
			}
			if (!rx.datagrams)
				rx.first_tick = ticks;
			rx.last_tick = ticks;
			rx.datagrams++;
			rx.bytes += ulen - 8;
		}
	}
}

void net_poll(void)
{
	int n;
	if (net_up != 1)
		return;
	while ((n = lguest_net_receive(frame)) > 0) {
		u16 type = get16(frame + 12);
		if (type == ETH_ARP && n >= 14 + 28) {
			const u8 *a = frame + 14;
			u32 sender = get32(a + 14), target = get32(a + 24);
			if (get16(a) != 1 || get16(a + 2) != ETH_IP)
				continue;
			if (sender)
				arp_learn(sender, a + 8);
			if (get16(a + 6) == 1 && target == my_ip)
				arp_send(2, a + 8, sender);
		} else if (type == ETH_IP) {
			handle_ip(frame, n);
		}
	}
}

/* Waits for up to `t` ticks or until `done()` says so, answering the network meanwhile. */
static int wait_ticks(u32 t, int (*done)(void))
{
	u32 start = ticks;
	for (;;) {
		net_poll();
		if (done && done())
			return 1;
		if (ticks - start >= t)
			return 0;
		pv.irq_disable();
		if (lguest_net_pending())
			pv.irq_enable();
		else
			pv.safe_halt();
	}
}

static u32 resolving;
static int resolved(void) { return arp_lookup(resolving) != NULL; }

static const u8 *arp_resolve(u32 ip)
{
	resolving = ip;
	for (int i = 0; i < 30 && !resolved(); i++) {
		arp_send(1, NULL, ip);
		wait_ticks(HZ / 3, resolved);
	}
	return arp_lookup(ip);
}

static u32 ping_want;
static int ping_answered(void) { return ping_seq_seen == ping_want; }

static int ping(u32 ip, u32 count)
{
	const u8 *mac = arp_resolve(ip);
	u32 got = 0, total_ticks = 0, max_ticks = 0;
	if (!mac) {
		print_ip("ping: no ARP answer from ", ip);
		printk("\n");
		return 0;
	}
	u8 dst[6];
	memcpy(dst, mac, 6);
	ping_id = (ping_id + 1) & 0xFFFF;
	ping_seq_seen = 0;
	for (u32 seq = 1; seq <= count; seq++) {
		u8 *icmp = ip_header(dst, ip, IP_ICMP, 8 + 32);
		icmp[0] = 8;
		icmp[1] = 0;
		put16(icmp + 2, 0);
		put16(icmp + 4, (u16)ping_id);
		put16(icmp + 6, (u16)seq);
		for (int i = 0; i < 32; i++)
			icmp[8 + i] = (u8)(seq + i);
		put16(icmp + 2, csum(icmp, 8 + 32));
		ping_want = seq;
		u32 t0 = ticks;
		lguest_net_send(out, 14 + 20 + 8 + 32);
		if (wait_ticks(HZ, ping_answered)) {
			u32 t = ticks - t0;
			got++;
			total_ticks += t;
			if (t > max_ticks)
				max_ticks = t;
			wait_ticks(1, NULL);            /* one a tick */
		}
	}
	print_ip("ping ", ip);
	printk(": %u sent, %u received, %u lost; rtt avg %u ms, max %u ms (10 ms clock)\n", count, got,
	       count - got, got ? total_ticks * (1000 / HZ) / got : 0, max_ticks * (1000 / HZ));
	return (int)got;
}

static void net_send(u32 mb, u32 ip)
{
	const u8 *mac = arp_resolve(ip);
	u64 bytes = (u64)mb << 20, sent = 0;
	u32 seq = 0, t0;
	if (!mac) {
		print_ip("net send: no ARP answer from ", ip);
		printk("\n");
		return;
	}
	u8 dst[6];
	memcpy(dst, mac, 6);
	t0 = ticks;
	while (sent < bytes) {
		u32 n = bytes - sent < PAYLOAD_MAX ? (u32)(bytes - sent) : PAYLOAD_MAX;
		if (n < 4)
			n = 4;
		u8 *u = ip_header(dst, ip, IP_UDP, 8 + n);   /* the payload in place: no copy */
		put32(u + 8, seq++);
		udp_send(dst, ip, PORT_DISCARD, PORT_DISCARD, u + 8, n, 100000);
		sent += n;
	}
	for (int i = 0; i < 3; i++) {           /* the end marker, three times */
		u8 end[8];
		put32(end, 0xFFFFFFFFu);
		put32(end + 4, seq);
		udp_send(dst, ip, PORT_DISCARD, PORT_DISCARD, end, 8, 100000);
	}
	u32 ms = (ticks - t0) * (1000 / HZ);
	printk("net send: %u datagrams, %u KB in %u ms, %u dropped sends\n", seq, (u32)(sent >> 10), ms,
	       lguest_net_stats.tx_dropped);
}

static int rx_done(void) { return rx.done; }

static void net_recv(int strict)
{
	memset(&rx, 0, sizeof(rx));
	rx.active = 1;
	printk("net recv: waiting on UDP port %d\n", PORT_DISCARD);
	while (!wait_ticks(100 * HZ, rx_done))
		;
	rx.active = 0;
	rx.lost = rx.expected > rx.datagrams ? rx.expected - rx.datagrams : 0;
	u32 ms = (rx.last_tick - rx.first_tick) * (1000 / HZ);
	printk("net recv: %u datagrams, %u KB in %u ms (%u Mbit/s), %u lost\n", rx.datagrams, (u32)(rx.bytes >> 10),
	       ms, ms ? (u32)(rx.bytes >> 10) * 8 / ms * 1024 / 1000 : 0, rx.lost);
	if (strict && rx.lost)
		panic("net recv: %u of %u datagrams lost", rx.lost, rx.expected);
}

static void net_stat(void)
{
	struct lguest_net_stats *s = &lguest_net_stats;
	printk("net: tx %u frames %u KB, %u dropped; rx %u frames %u KB, %u bad; %u interrupts\n", s->tx_frames,
	       (u32)(s->tx_bytes >> 10), s->tx_dropped, s->rx_frames, (u32)(s->rx_bytes >> 10), s->rx_bad, s->irqs);
}

/* One command: "ping IP [N]", "net send MB IP", "net recv", "net stat". 1 = ran, 0 = failed, -1 = not ours. */
static int run(const char *line, int strict)
{
	u32 ip, n;
	if (!strncmp(line, "ping ", 5)) {
		const char *p = line + 5;
		if (parse_ip(&p, &ip)) {
			printk("ping: usage: ping IP [COUNT]\n");
			return 0;
		}
		n = 4;
		while (*p == ' ')
			p++;
		if (*p >= '0' && *p <= '9' && parse_decimal(&p, &n))
			n = 4;
		if (!net_ready()) {
			printk("ping: no network device\n");
			return 0;
		}
		int got = ping(ip, n);
		if (strict && !got)
			panic("ping: no answer from %u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
		return 1;
	}
	if (strncmp(line, "net ", 4))
		return -1;
	line += 4;
	if (!net_ready()) {
		printk("net: no network device\n");
		return 0;
	}
	if (!strncmp(line, "send ", 5)) {
		const char *p = line + 5;
		if (parse_decimal(&p, &n) || parse_ip(&p, &ip)) {
			printk("net: usage: net send MB IP\n");
			return 0;
		}
		net_send(n, ip);
	} else if (!strncmp(line, "recv", 4)) {
		net_recv(strict);
	} else if (!strncmp(line, "stat", 4)) {
		net_stat();
	} else {
		printk("net: usage: net send MB IP | net recv | net stat\n");
		return 0;
	}
	return 1;
}

int net_selftest(char *why, int size)
{
	if (!boot.lguest || !net_ready()) {
		snprintk(why, size, "no network device");
		return -1;
	}
	if (!lguest_net_own_slot_holds(my_mac)) {
		snprintk(why, size, "our MAC is not in our slot of the peer map");
		return 0;
	}
	if (!lguest_net_buffers_armed()) {
		snprintk(why, size, "a receive buffer is not armed");
		return 0;
	}
	snprintk(why, size, "our MAC in our slot, receive buffers bound");
	return 1;
}

int net_command(const char *line)
{
	return run(line, 0) < 0 ? -1 : 0;
}

/* The network commands on the command line, in order; and the stack comes up if there is a device. */
void net_modes(void)
{
	const char *p = boot.cmdline;
	char cmd[64];

	net_ready();
	while (*p) {
		while (*p == ' ')
			p++;
		int words = !strncmp(p, "ping ", 5) ? 3 : !strncmp(p, "net send ", 9) ? 4
			  : !strncmp(p, "net ", 4) ? 2 : 0;
		if (words) {
			/* Take the command's words; a ping's count is optional (a number). */
			u32 n = 0;
			const char *q = p;
			for (int w = 0; w < words && *q; w++) {
				if (w == 2 && words == 3 && !(*q >= '0' && *q <= '9'))
					break;
				while (*q && *q != ' ')
					q++;
				while (*q == ' ' && w + 1 < words)
					q++;
			}
			n = (u32)(q - p) < sizeof(cmd) - 1 ? (u32)(q - p) : sizeof(cmd) - 1;
			memcpy(cmd, p, n);
			while (n && cmd[n - 1] == ' ')
				n--;
			cmd[n] = '\0';
			run(cmd, 1);
			p = q;
			continue;
		}
		while (*p && *p != ' ')
			p++;
	}
}
