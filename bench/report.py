#!/usr/bin/env python3
"""report.py - ratios from a run.py JSON (bench/run-bench.sh's cpu part).

  report.py results.json

For each pair (A over B) it prints the ratio of the best (min) work times,
the median of the per-run ratios (run i of A over run i of B: those ran
next to each other, so they share the machine's load at that moment), and
the same per bench kernel (min times).  It also checks every config's
checksums against the shared bench's reference totals.
"""
import json, statistics, sys

REFERENCE_TOTAL = {0: "0x9a41ccef", 1: "0x0cbe7d9b", 2: "0x8a427c43", 4: "0xdccf2a91", 8: "0xa69c5a52"}
PAIRS = [("ours", "qemu-sys"), ("ours-pg", "qemu-sys-pg"), ("ours-pg", "ours"),
         ("guest", "ours"), ("guest", "ours-pg"), ("guest-qemu", "qemu-sys-pg"),
         ("ours", "native"), ("qemu-sys", "native"), ("guest", "native")]


def main():
    d = json.load(open(sys.argv[1]))
    s, raw = d["summary"], d["raw"]
    scale = s["scale"]
    cf = s["configs"]
    print("scale %d, %d runs" % (scale, s["runs"]))
    print("\nwork time (s):")
    for name, c in cf.items():
        runs = " ".join("%.2f" % r["work_s"] for r in raw[name])
        print("  %-12s min %8.3f  median %8.3f   runs: %s" % (name, c["work_min_s"], c["work_median_s"], runs))
    print("\nchecksums (total vs the shared bench's reference for scale %d: %s):" % (scale, REFERENCE_TOTAL.get(scale, "?")))
    for name in cf:
        totals = sorted({r["checksums"].get("total") for r in raw[name]}, key=str)
        ok = REFERENCE_TOTAL.get(scale) in totals and len(totals) == 1
        same = all(r["checksums_match_native"] for r in raw[name])
        base = "native's" if "native" in cf else "qemu-sys's"
        print("  %-12s %s  %s, all kernels equal to %s: %s" % (name, totals, "ok" if ok else "MISMATCH", base, same))
    if "native" not in cf:
        print("\nnative: not runnable on this host (it cannot execute i386 programs); ratios are against qemu-sys")
    kernels = list(cf[next(iter(cf))]["kernel_min_s"].keys())
    print("\nratios        min/min  median of per-run   " + " ".join("%7s" % k for k in kernels))
    for a, b in PAIRS:
        if a not in cf or b not in cf:
            continue
        rmin = cf[a]["work_min_s"] / cf[b]["work_min_s"]
        rrun = statistics.median(x["work_s"] / y["work_s"] for x, y in zip(raw[a], raw[b]))
        per = " ".join("%7.2f" % (cf[a]["kernel_min_s"][k] / cf[b]["kernel_min_s"][k]) for k in kernels)
        print("  %-24s %6.2f  %8.2f           %s" % (a + " / " + b, rmin, rrun, per))


if __name__ == "__main__":
    main()
