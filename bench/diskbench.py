#!/usr/bin/env python3
"""diskbench.py - guest disk throughput against dd on the same file, interleaved.

Usage: diskbench.py --lguest BIN/lguest [--mb 64] [--runs 3] [--dir DIR] [--json OUT]

Each round, in turn:
  guest-write   bin/lguest run --disk IMG --cmdline "blk write 1 N poweroff"
  guest-read    bin/lguest run --disk IMG --cmdline "blk verify 1 N poweroff"
  raw-write     bin/lguest run --disk IMG --cmdline "blk raw-write N poweroff"
  raw-read      bin/lguest run --disk IMG --cmdline "blk raw-read N poweroff"
  dd-write      dd if=/dev/zero of=IMG bs=4k count=... conv=notrunc
  dd-read       dd if=IMG of=/dev/null bs=4k
The guest's time is taken from its own console lines (from "block: ..."
to "blk: wrote/verified ..."), so JVM and boot start-up are excluded; it
includes the guest making (write) or checking (verify) its pattern on the
emulated CPU, 64 KiB per request, one request in flight (the 2.6.23 block
protocol). The raw modes move the same requests without a pattern: the
device's own speed. dd uses the same 4 KiB blocks on the same file; both go through
the host's page cache (no fsync on either side).
"""
import argparse, json, os, statistics, subprocess, sys, time


def guest(lguest, img, cmd, done_word):
    t0 = time.perf_counter()
    p = subprocess.Popen([lguest, "run", "--disk", img, "--cmdline", cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    start = end = None
    lines = []
    for line in p.stdout:
        now = time.perf_counter() - t0
        lines.append(line.rstrip())
        if line.startswith("block: ") and start is None:
            start = now
        if line.startswith(done_word):
            end = now
    rc = p.wait()
    if rc != 0 or start is None or end is None:
        sys.exit("diskbench: guest run failed (rc %d):\n%s" % (rc, "\n".join(lines[-20:])))
    return end - start


def dd(args):
    t0 = time.perf_counter()
    subprocess.run(["dd"] + args + ["status=none"], check=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lguest", required=True)
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="bench/out")
    ap.add_argument("--json")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    img = os.path.join(a.dir, "diskbench.img")
    size = a.mb << 20
    sectors = size // 512
    with open(img, "wb") as f:
        f.truncate(size)
    blocks = size // 4096
    times = {"guest-write": [], "guest-read": [], "raw-write": [], "raw-read": [], "dd-write": [], "dd-read": []}
    for r in range(a.runs):
        times["guest-write"].append(guest(a.lguest, img, "blk write 1 %d poweroff" % sectors, "blk: wrote"))
        times["guest-read"].append(guest(a.lguest, img, "blk verify 1 %d poweroff" % sectors, "blk: verified"))
        times["raw-write"].append(guest(a.lguest, img, "blk raw-write %d poweroff" % sectors, "blk: raw wrote"))
        times["raw-read"].append(guest(a.lguest, img, "blk raw-read %d poweroff" % sectors, "blk: raw read"))
        times["dd-write"].append(dd(["if=/dev/zero", "of=" + img, "bs=4k", "count=%d" % blocks, "conv=notrunc"]))
        times["dd-read"].append(dd(["if=" + img, "of=/dev/null", "bs=4k"]))
        print("round %d: %s" % (r + 1, "  ".join("%s %.3f s" % (k, v[-1]) for k, v in times.items())), flush=True)
    mbs = {k: [a.mb / t for t in v] for k, v in times.items()}
    print("\n%d MiB, %d rounds; MB/s = MiB / s: best (median)" % (a.mb, a.runs))
    for k, v in mbs.items():
        print("  %-12s %8.1f (%8.1f)" % (k, max(v), statistics.median(v)))
    for g, d in (("guest-write", "dd-write"), ("guest-read", "dd-read"), ("raw-write", "dd-write"),
                 ("raw-read", "dd-read")):
        per = statistics.median(x / y for x, y in zip(mbs[g], mbs[d]))
        print("  %s / %s: best %.4f, per-round median %.4f" % (g, d, max(mbs[g]) / max(mbs[d]), per))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"mb": a.mb, "runs": a.runs, "seconds": times}, f, indent=1)
    os.remove(img)


if __name__ == "__main__":
    main()
