#!/usr/bin/env python3
"""guestbench.py - boot time and hypercall cost of the guest kernel, measured
side by side with references, runs interleaved (A B C D A B C D ...).

  guestbench.py --lguest runtime/target/lguest/bin/lguest \\
                --guest OUT/lguest-guest.elf --testhost OUT/lguest-testhost.elf \\
                [--runs 3] [--n 1000000] [--qemu-n 100000] [--qemu-loop 400000000] [--json FILE]

Configurations (each run --runs times):
  lguest-run     bin/lguest run --cmdline "hcallbench=N poweroff" GUEST
                 (Felix, the Launcher, the lg module, the guest at ring 1 on our CPU)
  lguest-bare    bin/lguest bare GUEST poweroff, killed at its first line
                 (the same kernel's native path on our bare CPU: JVM + CPU start-up only)
  qemu-bare      qemu-system-i386 -kernel GUEST -append poweroff (native path, TCG)
  qemu-testhost  qemu-system-i386 -kernel TESTHOST -initrd "GUEST hcallbench=N' ..."
                 (the same guest under guest/testhost, a C stand-in host, on TCG)

"first line" is the time from starting the command to the guest's first
console line ("lguest-guest: booting ..."), as lines.py sees it.  Hypercall
cost is (time of "HCALLBENCH P end" - time of "HCALLBENCH P begin") / N for
the last round (the earlier rounds warm up the JIT), and the instructions'
worth divides it by the time per instruction of the calibration loop of the
same round and run.  On our CPU RDTSC counts retired guest instructions, so
the "insns" the guest prints are exact; on qemu RDTSC is the host's TSC, so
the loop's instruction count is taken from the code (5 per iteration).
"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = ["qemu-system-i386", "-accel", "tcg", "-nographic", "-no-reboot", "-monitor", "none",
        "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
PHASES = ("loop", "flush_async", "get_wallclock")


def lines(cmd, until_first=False, timeout=600):
    opts = (["--until-first"] if until_first else []) + ["--timeout", str(timeout)]
    r = subprocess.run([sys.executable, os.path.join(HERE, "lines.py")] + opts + ["--"] + cmd,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def analyse(res):
    out = {"rc": res["rc"], "wall_s": res["wall_s"]}
    first = [t for t, s in res["lines"] if "lguest-guest:" in s]
    out["first_line_s"] = first[0] if first else None
    rounds, cur = [], None
    for t, s in res["lines"]:
        w = s[s.find("HCALLBENCH"):].split() if "HCALLBENCH" in s else []
        if len(w) >= 2 and w[1] == "round":
            cur = {}
            rounds.append(cur)
        elif len(w) >= 3 and cur is not None and w[1] in PHASES:
            if w[2] == "begin":
                cur[w[1]] = {"begin": t}
            elif w[2] == "end":
                kv = dict(x.split("=") for x in w[3:])
                cur[w[1]].update(end=t, n=int(kv["n"]), tsc=int(kv["insns"]))
    if rounds:
        out["rounds"] = rounds
    return out


def per_call(r, tsc_counts_insns):
    """ns per call and instructions' worth, from one round."""
    loop = r["loop"]
    loop_s = loop["end"] - loop["begin"]
    loop_insns = loop["tsc"] if tsc_counts_insns else 5 * loop["n"]
    ns_per_insn = loop_s / loop_insns * 1e9
    res = {"loop_mips": round(loop_insns / loop_s / 1e6, 1)}
    for p in PHASES[1:]:
        d = r[p]
        ns = (d["end"] - d["begin"]) / d["n"] * 1e9
        res[p] = {"ns_per_call": round(ns, 1), "insn_worth": round(ns / ns_per_insn, 1),
                  "phase_s": round(d["end"] - d["begin"], 4)}
        if tsc_counts_insns:
            res[p]["guest_insns_per_call"] = round(d["tsc"] / d["n"], 2)
        else:
            res[p]["tsc_ticks_per_call"] = round(d["tsc"] / d["n"], 1)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lguest", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--testhost", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000000, help="hypercalls per phase on our hypervisor")
    ap.add_argument("--qemu-n", type=int, default=100000, help="hypercalls per phase under testhost on qemu")
    ap.add_argument("--qemu-loop", type=int, default=400000000, help="calibration loop iterations on qemu")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    cfg = {
        "lguest-run": ([a.lguest, "run", "--cmdline", "hcallbench=%d poweroff" % a.n, a.guest], False, True),
        "lguest-bare": ([a.lguest, "bare", a.guest, "poweroff"], True, False),
        "qemu-bare": (QEMU + ["-m", "64", "-kernel", a.guest, "-append", "poweroff"], False, False),
        "qemu-testhost": (QEMU + ["-m", "256", "-kernel", a.testhost, "-initrd",
                                  "%s hcallbench=%d hcallloop=%d poweroff" % (a.guest, a.qemu_n, a.qemu_loop)],
                          False, True),
    }
    raw = {k: [] for k in cfg}
    for i in range(a.runs):
        for name, (cmd, until_first, _) in cfg.items():
            r = analyse(lines(cmd, until_first))
            raw[name].append(r)
            msg = "run %d %-14s first line %6.3f s  wall %7.3f s  rc %s" % (
                i + 1, name, r["first_line_s"] or float("nan"), r["wall_s"], r["rc"])
            if "rounds" in r:
                pc = per_call(r["rounds"][-1], name.startswith("lguest"))
                msg += "  flush_async %.1f ns  get_wallclock %.1f ns" % (
                    pc["flush_async"]["ns_per_call"], pc["get_wallclock"]["ns_per_call"])
            print(msg, flush=True)
    summary = {}
    for name, rs in raw.items():
        fl = [r["first_line_s"] for r in rs if r["first_line_s"] is not None]
        s = {"first_line_min_s": min(fl), "first_line_median_s": statistics.median(fl)}
        if cfg[name][2]:
            pcs = [per_call(r["rounds"][-1], name.startswith("lguest")) for r in rs]
            s["loop_mips_median"] = statistics.median(p["loop_mips"] for p in pcs)
            for p in PHASES[1:]:
                s[p] = {k: {"min": min(x[p][k] for x in pcs), "median": statistics.median(x[p][k] for x in pcs)}
                        for k in pcs[0][p]}
        summary[name] = s
    print("\n%-14s %14s %14s" % ("config", "first line min", "median"))
    for name, s in summary.items():
        print("%-14s %12.3f s %12.3f s" % (name, s["first_line_min_s"], s["first_line_median_s"]))
    print("\nhypercall round trip (last round of each run; min / median over runs):")
    for name, s in summary.items():
        for p in PHASES[1:]:
            if p in s:
                d = s[p]
                extra = ("  guest insns/call %.2f" % d["guest_insns_per_call"]["median"]
                         if "guest_insns_per_call" in d else "")
                print("%-14s %-14s %9.1f / %9.1f ns   %8.1f / %8.1f insns' worth (loop %.0f MIPS)%s" % (
                    name, p, d["ns_per_call"]["min"], d["ns_per_call"]["median"],
                    d["insn_worth"]["min"], d["insn_worth"]["median"], s["loop_mips_median"], extra))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "raw": raw, "args": vars(a)}, f, indent=1)
        print("\nwrote", a.json)


if __name__ == "__main__":
    main()
