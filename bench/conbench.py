#!/usr/bin/env python3
"""conbench.py - console bytes per second, a guest's against a host program's, interleaved.

Usage: conbench.py --lguest BIN/lguest [--kb 4096] [--runs 3] [--json OUT]

Each round, in turn:
  guest   bin/lguest run --cmdline "conbench=KB poweroff": the guest writes
          KB kilobytes of 64-byte lines through its console device (SEND_DMA
          of 256 bytes at a time to key 0, the console model, the terminal
          back end on this process's stdout, a pipe to this script). Timed
          from its "CONBENCH begin" line to its "CONBENCH end" line as this
          script reads them, so start-up is excluded.
  host    the same number of bytes in 64-byte lines written by a host
          program (python3) to a pipe to this script, timed the same way.
"""
import argparse, json, statistics, subprocess, sys, time

HOST_WRITER = r"""
import sys
kb = int(sys.argv[1])
line = b"x" * 63 + b"\n"
chunk = line * 64
out = sys.stdout.buffer
out.write(b"CONBENCH begin\n"); out.flush()
for i in range(kb // 4):
    out.write(chunk)
out.write(b"CONBENCH end\n"); out.flush()
"""


def timed(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    begin = end = None
    got = 0
    tail = []
    for line in p.stdout:
        now = time.perf_counter()
        if begin is not None and end is None:
            got += len(line)
        if line.startswith(b"CONBENCH begin"):
            begin = now
        elif line.startswith(b"CONBENCH end"):
            end = now
        tail = (tail + [line])[-5:]
    rc = p.wait()
    if rc != 0 or begin is None or end is None:
        sys.exit("conbench: %s failed (rc %d): %r" % (cmd[0], rc, tail))
    return got, end - begin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lguest", required=True)
    ap.add_argument("--kb", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    rates = {"guest": [], "host": []}
    for r in range(a.runs):
        g, gs = timed([a.lguest, "run", "--mem", "32M", "--cmdline", "conbench=%d poweroff" % a.kb])
        h, hs = timed([sys.executable, "-c", HOST_WRITER, str(a.kb)])
        rates["guest"].append(g / gs)
        rates["host"].append(h / hs)
        print("round %d: guest %.1f MB/s (%d bytes in %.3f s), host %.1f MB/s" % (
            r + 1, g / gs / 1e6, g, gs, h / hs / 1e6), flush=True)
    best_g, best_h = max(rates["guest"]), max(rates["host"])
    per = statistics.median(x / y for x, y in zip(rates["guest"], rates["host"]))
    print("console: guest best %.1f MB/s, host best %.1f MB/s; guest / host: best %.3f, per-round median %.3f" % (
        best_g / 1e6, best_h / 1e6, best_g / best_h, per))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"kb": a.kb, "bytes_per_s": rates}, f, indent=1)


if __name__ == "__main__":
    main()
