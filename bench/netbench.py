#!/usr/bin/env python3
"""netbench.py - the network device: inter-guest LAN and TAP throughput, TAP round trip.

Usage: netbench.py --lguest BIN/lguest [--mb 32] [--runs 3] [--json OUT] [--no-tap]

LAN (two guests in one process, bin/lguest run ... --and ...):
  receiver  --net lan:bench --cmdline "net recv poweroff"
  sender    --net lan:bench --cmdline "net send MB 10.0.0.1 poweroff"
  The figure is the receiver's own: MiB of UDP payload between its first
  and last datagram on the guest's 10 ms clock (guest/src/net.c). The
  sender waits for free receive buffers, so nothing is lost.

TAP (needs root, /dev/net/tun and iproute2; skipped otherwise): one guest on
tap:lgbench0 in a network namespace of its own (10.0.0.2), the host side
10.0.0.1 there; every packet stays in the namespace.
  rtt       a UDP client in the namespace, 2000 round trips to the guest's
            echo port after 200 to warm up; beside it, in the same run, the
            same client against a UDP echo server that is a host process on
            the namespace's loopback: the ratio is ours / that.
  to-guest  the host sends MB MiB as 1472-byte datagrams as fast as it can
            to the guest's "net recv"; the guest reports what arrived and
            what was lost (a real link would drop too).
  from-guest  the guest's "net send MB 10.0.0.1"; a host receiver times
            first to last datagram.
"""
import argparse, json, os, re, statistics, subprocess, sys, time

RECV = re.compile(r"net recv: (\d+) datagrams, (\d+) KB in (\d+) ms \((\d+) Mbit/s\), (\d+) lost")


def lan(lguest, mb):
    cmd = [lguest, "run", "--mem", "32M", "--net", "lan:bench", "--cmdline", "net recv poweroff",
           "--and", "--mem", "32M", "--net", "lan:bench", "--cmdline", "net send %d 10.0.0.1 poweroff" % mb]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    m = RECV.search(p.stdout)
    if p.returncode != 0 or not m:
        sys.exit("netbench: LAN run failed (rc %d):\n%s" % (p.returncode, p.stdout[-3000:]))
    kb, ms, lost = int(m.group(2)), int(m.group(3)), int(m.group(5))
    return {"mbit_s": kb * 1024 * 8 / 1e6 / (ms / 1000.0), "kb": kb, "ms": ms, "lost": lost}


def sh(*args, check=True):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=check)


CLIENT_RTT = r"""
import socket, sys, time, statistics
host, port, n, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
msg = b"x" * 64
times = []
for i in range(warm + n):
    t = time.perf_counter_ns()
    s.sendto(msg, (host, port))
    while True:
        d, a = s.recvfrom(2048)
        if d == msg: break
    if i >= warm: times.append((time.perf_counter_ns() - t) / 1000.0)
times.sort()
print("%.1f %.1f" % (statistics.median(times), times[int(len(times) * 0.99)]))
"""

ECHO_SERVER = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 7007))
while True:
    d, a = s.recvfrom(2048); s.sendto(d, a)
"""

BLAST = r"""
import socket, struct, sys
n = int(sys.argv[1]) << 20
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = bytearray(1472); seq = 0; sent = 0
while sent < n:
    k = min(1472, n - sent)
    struct.pack_into(">I", payload, 0, seq)
    s.sendto(payload[:max(k, 4)], ("10.0.0.2", 9)); seq += 1; sent += k
import time
for i in range(3):
    time.sleep(0.2); s.sendto(struct.pack(">II", 0xFFFFFFFF, seq), ("10.0.0.2", 9))
"""

SINK = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.0.0.1", 9)); s.settimeout(60)
print("ready", flush=True)
first = last = None; got = 0; count = 0
while True:
    d, a = s.recvfrom(2048)
    seq = struct.unpack(">I", d[:4])[0]
    if seq == 0xFFFFFFFF: break
    now = time.perf_counter()
    if first is None: first = now
    last = now; got += len(d); count += 1
print("%d %d %.6f" % (count, got, (last - first) if first else 0))
"""


class TapGuest:
    def __init__(self, lguest):
        self.ns = "lgbench-%d" % os.getpid()
        self.tap = "lgbench0"
        sh("ip", "netns", "add", self.ns)
        self.p = subprocess.Popen([lguest, "run", "--mem", "32M", "--net", "tap:%s,netns=%s" % (self.tap, self.ns)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  bufsize=1)
        self.lines = []
        self.wait_for("net: address 10.0.0.2")
        for c in (["addr", "add", "10.0.0.1/24", "dev", self.tap], ["link", "set", self.tap, "up"],
                  ["link", "set", "lo", "up"]):
            sh("ip", "-n", self.ns, *c)
        self.wait_for("lguest-guest: ready")

    def wait_for(self, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip())
            if text in line:
                return line
        sys.exit("netbench: the TAP guest never printed %r:\n%s" % (text, "\n".join(self.lines[-30:])))

    def type(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def run_in_ns(self, *args, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, **kw)

    def close(self):
        try:
            self.type("poweroff")
            self.p.wait(timeout=30)
        except Exception:
            self.p.kill()
        sh("ip", "netns", "del", self.ns, check=False)


def tap_round(g, mb):
    r = {}
    out = g.run_in_ns("python3", "-c", CLIENT_RTT, "10.0.0.2", "7", "2000", "200").stdout.split()
    r["rtt_median_us"], r["rtt_p99_us"] = float(out[0]), float(out[1])
    server = subprocess.Popen(["ip", "netns", "exec", g.ns, "python3", "-c", ECHO_SERVER])
    time.sleep(0.3)
    out = g.run_in_ns("python3", "-c", CLIENT_RTT, "127.0.0.1", "7007", "2000", "200").stdout.split()
    server.kill()
    server.wait()
    r["host_rtt_median_us"] = float(out[0])
    r["rtt_ratio"] = r["rtt_median_us"] / r["host_rtt_median_us"]

    g.type("net recv")
    g.wait_for("net recv: waiting")
    g.run_in_ns("python3", "-c", BLAST, str(mb))
    m = RECV.search(g.wait_for("net recv: "))
    kb, ms = int(m.group(2)), int(m.group(3))
    sent = (mb << 20) // 1472 + 1
    r["to_guest_mbit_s"] = kb * 1024 * 8 / 1e6 / (ms / 1000.0) if ms else 0.0
    r["to_guest_loss_pct"] = 100.0 * int(m.group(5)) / sent

    sink = subprocess.Popen(["ip", "netns", "exec", g.ns, "python3", "-c", SINK], stdout=subprocess.PIPE, text=True)
    sink.stdout.readline()
    g.type("net send %d 10.0.0.1" % mb)
    count, got, secs = sink.stdout.readline().split()
    sink.wait()
    r["from_guest_mbit_s"] = int(got) * 8 / 1e6 / float(secs) if float(secs) > 0 else 0.0
    g.wait_for("net send: ")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lguest", required=True)
    ap.add_argument("--mb", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--no-tap", action="store_true")
    a = ap.parse_args()
    result = {"mb": a.mb, "lan": [], "tap": []}
    for i in range(a.runs):
        r = lan(a.lguest, a.mb)
        result["lan"].append(r)
        print("lan round %d: %.0f Mbit/s (%d KB in %d ms, %d lost)" % (i + 1, r["mbit_s"], r["kb"], r["ms"], r["lost"]))
    tap_ok = (not a.no_tap and os.geteuid() == 0 and os.path.exists("/dev/net/tun")
              and subprocess.run(["ip", "-V"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0)
    if tap_ok:
        g = TapGuest(a.lguest)
        try:
            for i in range(a.runs):
                r = tap_round(g, a.mb)
                result["tap"].append(r)
                print("tap round %d: rtt median %.0f us (p99 %.0f; host echo %.0f us: %.1fx), to guest %.0f Mbit/s "
                      "(%.1f%% lost), from guest %.0f Mbit/s" % (i + 1, r["rtt_median_us"], r["rtt_p99_us"],
                      r["host_rtt_median_us"], r["rtt_ratio"], r["to_guest_mbit_s"], r["to_guest_loss_pct"],
                      r["from_guest_mbit_s"]))
        finally:
            g.close()
    else:
        print("tap: skipped (%s)" % ("--no-tap" if a.no_tap else "needs root, /dev/net/tun and iproute2"))
    best = max(r["mbit_s"] for r in result["lan"])
    print("lan: best %.0f Mbit/s, median %.0f Mbit/s (target 1000)" % (
        best, statistics.median(r["mbit_s"] for r in result["lan"])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
