#!/usr/bin/env python3
"""one-kernel.py: one kernel of the shared CPU bench, alone, ours beside qemu-system-i386.

The shared bench runs its six kernels in one boot, so a kernel's time holds
whatever the JIT still had to compile for it then. This builds a multiboot
kernel that runs only the named kernel (the shared bench_core.c with its
driver loop narrowed to that kernel, in a private copy), then times our CPU
(`bin/lguest bare`) and qemu-system-i386 on it in interleaved rounds at each
scale given. Two scales tell the JIT's warm-up from the steady state: the
time that grows with the scale is the steady state, the rest is warm-up.

    bench/one-kernel.py calls --scales 2,8,32 --runs 3
    bench/one-kernel.py sort --java-opts=-Dlguest.cpu.trace=true

Needs what run-bench.sh needs (./build.sh done, gcc -m32, qemu-system-i386,
the shared bench in ../shared/bench or BENCH_DIR). Prints, per scale, the
work time (BENCH start to BENCH end) of each run, the minimum of each, and
ours / qemu (min over min); fails on a checksum that differs from qemu's.
Whatever else our runs print (the region trace, JVM output) goes to stderr
with the second it came at.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lines import timed_lines  # noqa: E402  (the one line timestamper, bench/lines.py)

KERNELS = ["arith", "memory", "sieve", "crc32", "sort", "calls"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOP = "for (int k = 0; k < 6; k++)"


def build(bench_dir, kernel):
    out = os.path.join(ROOT, "bench", "out", "one-kernel", kernel)
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(bench_dir, out)
    src = os.path.join(out, "bench_core.c")
    text = open(src).read()
    if text.count(LOOP) != 1:
        sys.exit(f"one-kernel.py: the shared bench_core.c has no single '{LOOP}' to narrow")
    k = KERNELS.index(kernel)
    open(src, "w").write(text.replace(LOOP, f"for (int k = {k}; k <= {k}; k++)"))
    subprocess.run(["sh", "./build.sh"], cwd=out, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "out", "bench-kernel.elf")


def work_time(cmd, echo_other=False):
    """Seconds from 'BENCH start' to 'BENCH end', and the kernel's checksum line;
    other lines (such as our region trace) go to stderr when echo_other."""
    at = {}
    for t, text in timed_lines(cmd, timeout=900)["lines"]:
        words = text[text.find("BENCH"):].split()  # qemu's firmware may print before it on the same line
        if echo_other and "BENCH" not in text:
            print(f"{t:8.3f} {text}", file=sys.stderr)
        if len(words) >= 2 and words[0] == "BENCH":
            if words[1] in ("start", "end"):
                at[words[1]] = t
            elif words[1] in KERNELS:
                at["checksum"] = " ".join(words[1:3])
    if "start" not in at or "end" not in at:
        sys.exit(f"one-kernel.py: no BENCH start/end from {' '.join(cmd)}")
    return at["end"] - at["start"], at.get("checksum")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kernel", choices=KERNELS)
    ap.add_argument("--scales", default="8", help="comma-separated scales (default 8)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--java-opts", default="", help="LGUEST_JAVA_OPTS for our runs (write --java-opts=-D...)")
    a = ap.parse_args()
    bench_dir = os.environ.get("BENCH_DIR") or os.path.join(ROOT, "..", "shared", "bench")
    if not os.path.isfile(os.path.join(bench_dir, "bench_core.c")):
        sys.exit(f"one-kernel.py: no shared bench at {bench_dir} (set BENCH_DIR)")
    lguest = os.path.join(ROOT, "runtime", "target", "lguest", "bin", "lguest")
    if not os.access(lguest, os.X_OK):
        sys.exit(f"one-kernel.py: no {lguest}; run ./build.sh first")
    elf = build(bench_dir, a.kernel)
    os.environ["LGUEST_JAVA_OPTS"] = a.java_opts  # for bin/lguest, which timed_lines starts
    qemu = ["qemu-system-i386", "-accel", "tcg", "-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf]  # run-bench.sh's $QEMU
    for scale in [int(s) for s in a.scales.split(",")]:
        times = {"ours": [], "qemu": []}
        checksums = {}
        for _ in range(a.runs):
            for who, cmd in (("ours", [lguest, "bare", elf, f"scale={scale}"]), ("qemu", qemu + ["-append", f"scale={scale}"])):
                t, checksums[who, len(times[who])] = work_time(cmd, echo_other=who == "ours")
                times[who].append(t)
        for who, ts in times.items():
            print(f"{a.kernel} scale {scale} {who:5} min {min(ts):7.3f} s  median {statistics.median(ts):7.3f} s  runs "
                  + " ".join(f"{t:.2f}" for t in ts))
        print(f"{a.kernel} scale {scale} ours/qemu {min(times['ours']) / min(times['qemu']):.2f}  checksum {sorted(set(checksums.values()))}")
        if len(set(checksums.values())) != 1:
            sys.exit(f"one-kernel.py: checksums differ: {checksums}")


if __name__ == "__main__":
    main()
