#!/usr/bin/env python3
"""cputime.py - CPU time (user + sys, all threads) of whole runs, interleaved.

  cputime.py --runs R NAME='COMMAND' NAME='COMMAND' ...

Runs every command R times in turn (A B C A B C ...), each with stdin from
/dev/null and its output kept, and takes the CPU time the process and its
children used (getrusage(RUSAGE_CHILDREN) before and after).  On a shared,
loaded machine wall time depends on how much of a CPU the process got; CPU
time mostly does not, so these ratios complement run.py's.  They count the
whole process: start-up (JVM, qemu, firmware) and, for Java, the JIT
compiler and GC threads next to the guest's.  If the output has a
"BENCH total" line, its checksum is shown too.
"""
import argparse, json, resource, shlex, statistics, subprocess, sys, time


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("configs", nargs="+", metavar="NAME=COMMAND")
    a = ap.parse_args()
    cfg = [(c.partition("=")[0], shlex.split(c.partition("=")[2])) for c in a.configs]
    res = {n: [] for n, _ in cfg}
    for i in range(a.runs):
        for name, cmd in cfg:
            u0, s0 = cpu()
            t0 = time.perf_counter()
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
            wall = time.perf_counter() - t0
            u1, s1 = cpu()
            total = [l.split()[-1] for l in p.stdout.splitlines() if "BENCH total" in l]
            r = {"user_s": round(u1 - u0, 3), "sys_s": round(s1 - s0, 3), "wall_s": round(wall, 3),
                 "rc": p.returncode, "total": total[-1] if total else None}
            res[name].append(r)
            print("run %d %-12s cpu %8.3f s (user %.3f sys %.3f)  wall %8.3f s  total %s" % (
                i + 1, name, r["user_s"] + r["sys_s"], r["user_s"], r["sys_s"], wall, r["total"]), flush=True)
    print("\n%-12s %10s %10s" % ("config", "cpu min s", "median s"))
    summ = {}
    for name, rs in res.items():
        c = [r["user_s"] + r["sys_s"] for r in rs]
        summ[name] = {"cpu_min_s": min(c), "cpu_median_s": statistics.median(c)}
        print("%-12s %10.3f %10.3f" % (name, min(c), statistics.median(c)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summ, "raw": res}, f, indent=1)


if __name__ == "__main__":
    main()
