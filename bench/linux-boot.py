#!/usr/bin/env python3
"""linux-boot.py - Linux 4.9 boot timeline, instruction count and idle memory:
our platform (lguest on the emulated i686 CPU, `bin/lguest run`) against
qemu-system-i386 (TCG) booting the same bzImage natively.

Usage:
  linux-boot.py [--rounds N] [--lguest BIN] [--qemu BIN] [--bzimage F]
                [--vmlinux F] [--initrd F] [--extra "lpj=1000000"]
                [--plugin insncount.so] [--idle S] [--no-timeline]
                [--no-count] [--no-mem] [--json OUT.json] [--txt OUT.txt]

Defaults: the distribution at runtime/target/lguest of this repository, the kernel,
vmlinux and initramfs of ../shared/linux next to it, 5 rounds, --extra lpj=1000000
(the SAME extra kernel arguments are given to both sides; --extra "" for none),
plugin out/insncount.so next to this script (built from
../shared/bench/tools/insncount.c with gcc if missing), 20 s idle.

What it does (stdlib only):
 1. Timeline, N interleaved rounds (ours, qemu, ours, qemu, ...):
      ours: bin/lguest run --stats --initrd INITRD --cmdline "autotest EXTRA" BZIMAGE
            (the Launcher itself adds console=ttyS0 8250.share_irqs=1)
      qemu: qemu-system-i386 -accel tcg -cpu pentium3 -m 64 -nographic -no-reboot
            -kernel BZIMAGE -initrd INITRD -append "console=ttyS0 autotest EXTRA"
    Every output line (stdout+stderr merged, stdin /dev/null) is timestamped as
    lines.py does (perf_counter from just before the process is started). Marks:
      a = first line containing "Linux version"   b = "LGUEST-LINUX: init reached"
      c = process exit (after the guest's power-off)
    Best and median per side, per-round ratios ours/qemu and their median.
    Ours' --stats line gives guest instructions, exits and hypercalls.
 2. Instruction count: qemu once more with `-plugin insncount.so -d plugin`
    (its "insns: N" = every guest instruction incl. SeaBIOS/option ROM);
    ours = median of the --stats counts of the timeline rounds.
 3. Idle memory: VmRSS (/proc/PID/status) of
      ours: bin/lguest run --initrd INITRD [--cmdline EXTRA] VMLINUX [--and (same)]...
            with 1 and with 3 guests (no autotest: each sits at its busybox shell);
      qemu: the qemu command above without autotest;
    stdin is a pipe this script keeps open (never written). Sampled once the
    first guest's shell prompt is seen, the process's CPU use has dropped below
    20 % of one CPU (all guests idle) and --idle seconds have passed. Ours per
    guest = (RSS3 - RSS1) / 2. After the process is stopped (SIGTERM to its
    session) its output is checked: every guest must have reached its shell.
    For ours it also records `jcmd GC.heap_info` and the RSS after `jcmd GC.run`
    when jcmd is found next to the java binary.
 Load averages before and after. Every process started is stopped at the end.
"""
import argparse, datetime, json, os, re, resource, select, shutil, signal, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lines import timed_lines  # noqa: E402  (the one line timestamper, bench/lines.py)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")

HERE = os.path.dirname(os.path.abspath(__file__))
CLK = os.sysconf("SC_CLK_TCK")


def timeline(argv, timeout=300.0):
    """Run argv; return rc, wall_s and [[t, line], ...] (the lines.py approach),
    plus the run's own CPU seconds and the CPU seconds the rest of the host used
    meanwhile (others_cpu_s: a contamination indicator; 2 CPUs = 2 s per s)."""
    st0, ru0 = proc_stat(), resource.getrusage(resource.RUSAGE_CHILDREN)
    res = timed_lines(argv, timeout)
    res.pop("first_line_s", None)
    st1, ru1 = proc_stat(), resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    busy = ((st1[0] - st1[1]) - (st0[0] - st0[1])) / CLK
    res["own_cpu_s"] = round(own, 3)
    res["others_cpu_s"] = round(max(0.0, busy - own), 3)
    return res


def proc_stat():
    """(total ticks, idle+iowait ticks) of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4]


def host_busy(seconds=2.0):
    """Percent of all host CPUs busy over `seconds` (from /proc/stat): others' load."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = snap()
    time.sleep(seconds)
    t1, i1 = snap()
    return round(100.0 * (1 - (i1 - i0) / max(1, t1 - t0)), 1)


def first(lines, needle):
    for t, text in lines:
        if needle in text:
            return t
    return None


STATS = re.compile(r"lguest run: guest \d+ \([^)]*\): ([0-9.]+) s, (\d+) instructions, (\d+) exits, (\d+) hypercalls")


def marks(r):
    m = {"a_linux_version_s": first(r["lines"], "Linux version"),
         "b_init_reached_s": first(r["lines"], "LGUEST-LINUX: init reached"),
         "c_exit_s": r["wall_s"],
         "power_down_s": first(r["lines"], "reboot: Power down"),
         "rc": r["rc"], "own_cpu_s": r["own_cpu_s"], "others_cpu_s": r["others_cpu_s"],
         "autotest_done": first(r["lines"], "LGUEST-LINUX: autotest done") is not None}
    for _, text in r["lines"]:
        s = STATS.search(text)
        if s:
            m["stats"] = {"guest_s": float(s.group(1)), "instructions": int(s.group(2)),
                          "exits": int(s.group(3)), "hypercalls": int(s.group(4)), "line": text}
    if "killed" in r:
        m["killed"] = r["killed"]
    m["lines"] = r["lines"]  # the raw timestamped console (+stderr) lines
    return m


# ---------------------------------------------------------------- memory

def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except OSError:
        return None


def main_pid(p):
    """bin/lguest execs java, qemu is itself: the Popen pid is the process to measure."""
    return p.pid


def jcmd_for(pid):
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None
    j = os.path.join(os.path.dirname(exe), "jcmd")
    return j if os.access(j, os.X_OK) else None


def idle_rss(argv, prompt, n_guests, idle_s, boot_timeout=240.0, java=False):
    out_path = "/tmp/linuxbench/mem-%d-%d.out" % (os.getpid(), int(time.time() * 1000))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    out = open(out_path, "wb")
    t0 = time.perf_counter()
    # stdin: a pipe we keep open and never write, so the guest's shell waits forever
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                         start_new_session=True)
    pid = main_pid(p)
    res = {"argv": argv, "guests": n_guests, "samples": []}
    try:
        # 1. the first guest's prompt
        t_prompt = None
        while time.perf_counter() - t0 < boot_timeout and p.poll() is None:
            with open(out_path, "rb") as f:
                if prompt in f.read():
                    t_prompt = time.perf_counter() - t0
                    break
            time.sleep(0.25)
        res["first_prompt_s"] = t_prompt and round(t_prompt, 3)
        if t_prompt is None:
            res["error"] = "no shell prompt within %.0f s (rc %s)" % (boot_timeout, p.poll())
            return res
        # 2. until the whole process is idle (< 20 % of one CPU over 1 s)
        t_idle = None
        while time.perf_counter() - t0 < boot_timeout and p.poll() is None:
            c0 = cpu_ticks(pid)
            time.sleep(1.0)
            c1 = cpu_ticks(pid)
            res["samples"].append([round(time.perf_counter() - t0, 2), rss_kib(pid), (c1 - c0) / CLK])
            if (c1 - c0) / CLK < 0.2:
                t_idle = time.perf_counter() - t0
                break
        res["idle_from_s"] = t_idle and round(t_idle, 3)
        if t_idle is None:
            res["error"] = "never idle within %.0f s" % boot_timeout
            return res
        # 3. idle for idle_s, sampling
        while time.perf_counter() - t0 - t_idle < idle_s and p.poll() is None:
            c0 = cpu_ticks(pid)
            time.sleep(1.0)
            c1 = cpu_ticks(pid)
            res["samples"].append([round(time.perf_counter() - t0, 2), rss_kib(pid), (c1 - c0) / CLK])
        res["rss_kib"] = rss_kib(pid)
        res["sampled_at_s"] = round(time.perf_counter() - t0, 3)
        res["cpu_s_total"] = cpu_ticks(pid) / CLK
        if java:
            j = jcmd_for(pid)
            if j:
                try:
                    hi = subprocess.run([j, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=30)
                    res["heap_info"] = hi.stdout.strip().splitlines()[1:3]
                    subprocess.run([j, str(pid), "GC.run"], capture_output=True, text=True, timeout=60)
                    time.sleep(3)
                    res["rss_after_gc_run_kib"] = rss_kib(pid)
                    hi = subprocess.run([j, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=30)
                    res["heap_info_after_gc_run"] = hi.stdout.strip().splitlines()[1:3]
                except Exception as e:  # informative only
                    res["jcmd_error"] = repr(e)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        try:
            p.stdin.close()
        except OSError:
            pass
        out.close()
        with open(out_path, "rb") as f:
            text = f.read().decode("latin-1")
        res["rc_after_stop"] = p.returncode
        res["shells_seen"] = text.count("built-in shell (ash)")
        res["all_guests_reached_shell"] = res["shells_seen"] >= n_guests
        res["output_tail"] = text[-600:]
        os.unlink(out_path)
    return res


# ---------------------------------------------------------------- main

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def best(xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def fmt(x, f="%.3f"):
    return "-" if x is None else f % x


def main():
    ap = argparse.ArgumentParser(description="Linux boot: ours vs qemu-system-i386")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lguest", default=os.path.join(REPO, "runtime/target/lguest/bin/lguest"))
    ap.add_argument("--qemu", default="qemu-system-i386")
    ap.add_argument("--bzimage", default=os.path.join(SHARED, "linux/bzImage"))
    ap.add_argument("--vmlinux", default=os.path.join(SHARED, "linux/vmlinux"))
    ap.add_argument("--initrd", default=os.path.join(SHARED, "linux/initramfs.cpio.gz"))
    ap.add_argument("--extra", default="lpj=1000000", help='extra kernel arguments for BOTH sides ("" for none)')
    ap.add_argument("--plugin", default=os.path.join(HERE, "out", "insncount.so"))
    ap.add_argument("--plugin-src", default=os.path.join(SHARED, "bench/tools/insncount.c"))
    ap.add_argument("--idle", type=float, default=20.0)
    ap.add_argument("--no-timeline", action="store_true")
    ap.add_argument("--no-count", action="store_true")
    ap.add_argument("--no-mem", action="store_true")
    ap.add_argument("--json", default=os.path.join(HERE, "results", datetime.date.today().isoformat(), "linux-boot.json"))
    ap.add_argument("--txt", default=None)
    a = ap.parse_args()
    if a.txt is None:
        a.txt = os.path.splitext(a.json)[0] + ".txt"
    extra = a.extra.split()
    ours_cmd = [a.lguest, "run", "--stats", "--initrd", a.initrd, "--cmdline", " ".join(["autotest"] + extra), a.bzimage]
    qemu_base = [a.qemu, "-accel", "tcg", "-cpu", "pentium3", "-m", "64", "-nographic", "-no-reboot",
                 "-kernel", a.bzimage, "-initrd", a.initrd]
    qemu_cmd = qemu_base + ["-append", " ".join(["console=ttyS0", "autotest"] + extra)]

    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except Exception as e:
            return repr(e)

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        pass
    R = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
         "host": {"nproc": os.cpu_count(), "cpu": cpu, "qemu": ver([a.qemu, "--version"]),
                  "uname": " ".join(os.uname())},
         "extra_kernel_args": a.extra, "rounds": a.rounds,
         "commands": {"ours": ours_cmd, "qemu": qemu_cmd},
         "loadavg_before": os.getloadavg(), "host_busy_pct_before": host_busy()}
    print("start %s  load %s" % (R["started"], " ".join("%.2f" % x for x in R["loadavg_before"])), flush=True)

    # 1. timeline
    if not a.no_timeline:
        rounds = []
        for i in range(a.rounds):
            o = marks(timeline(ours_cmd))
            q = marks(timeline(qemu_cmd))
            rounds.append({"ours": o, "qemu": q})
            print("round %d  ours a %s b %s c %s rc %s insns %s others %.1f s | qemu a %s b %s c %s rc %s others %.1f s" % (
                i + 1, fmt(o["a_linux_version_s"]), fmt(o["b_init_reached_s"]), fmt(o["c_exit_s"]), o["rc"],
                o.get("stats", {}).get("instructions"), o["others_cpu_s"],
                fmt(q["a_linux_version_s"]), fmt(q["b_init_reached_s"]), fmt(q["c_exit_s"]), q["rc"], q["others_cpu_s"]), flush=True)
        R["timeline_rounds"] = rounds
        summ = {}
        for k in ("a_linux_version_s", "b_init_reached_s", "c_exit_s"):
            ov = [r["ours"][k] for r in rounds]
            qv = [r["qemu"][k] for r in rounds]
            ratios = [(x / y) if (x is not None and y) else None for x, y in zip(ov, qv)]
            summ[k] = {"ours_best": best(ov), "ours_median": med(ov), "qemu_best": best(qv), "qemu_median": med(qv),
                       "ratios": [r and round(r, 3) for r in ratios], "ratio_median": med(ratios),
                       "ratio_of_bests": (best(ov) / best(qv)) if best(ov) and best(qv) else None}
        st = [r["ours"].get("stats") for r in rounds if r["ours"].get("stats")]
        summ["ours_stats_median"] = {k: med([s[k] for s in st]) for k in ("guest_s", "instructions", "exits", "hypercalls")} if st else None
        summ["ours_stats_all"] = [{k: s[k] for k in ("guest_s", "instructions", "exits", "hypercalls")} for s in st]
        summ["others_cpu_s_per_round"] = [[r["ours"]["others_cpu_s"], r["qemu"]["others_cpu_s"]] for r in rounds]
        summ["own_cpu_s_per_round"] = [[r["ours"]["own_cpu_s"], r["qemu"]["own_cpu_s"]] for r in rounds]
        summ["all_ok"] = all(r[s]["rc"] == 0 and r[s]["autotest_done"] for r in rounds for s in ("ours", "qemu"))
        R["timeline"] = summ

    # 2. instruction count (qemu with the plugin; time not used)
    if not a.no_count:
        if not os.path.exists(a.plugin):
            os.makedirs(os.path.dirname(a.plugin), exist_ok=True)
            subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", a.plugin, a.plugin_src], check=True)
        qc = qemu_cmd + ["-plugin", a.plugin, "-d", "plugin"]
        r = timeline(qc)
        n = None
        for _, text in r["lines"]:
            m = re.search(r"insns: (\d+)", text)
            if m:
                n = int(m.group(1))
        cnt = {"qemu_cmd": qc, "qemu_rc": r["rc"], "qemu_wall_s_with_plugin_not_used": r["wall_s"],
               "qemu_autotest_done": first(r["lines"], "LGUEST-LINUX: autotest done") is not None,
               "qemu_insns": n}
        if not a.no_timeline and R["timeline"].get("ours_stats_median"):
            cnt["ours_insns_median"] = R["timeline"]["ours_stats_median"]["instructions"]
            cnt["ratio_ours_over_qemu"] = (cnt["ours_insns_median"] / n) if n else None
        R["instructions"] = cnt
        print("insns: qemu %s  ours(median) %s" % (n, cnt.get("ours_insns_median")), flush=True)

    # 3. idle memory
    if not a.no_mem:
        g = ["--initrd", a.initrd] + (["--cmdline", a.extra] if extra else []) + [a.vmlinux]
        mem = {}
        for n in (1, 3):
            argv = [a.lguest, "run"] + g
            for _ in range(n - 1):
                argv += ["--and"] + g
            mem["ours_%d" % n] = idle_rss(argv, b"/ # ", n, a.idle, java=True)
            print("mem ours %d guest(s): %s KiB" % (n, mem["ours_%d" % n].get("rss_kib")), flush=True)
        qargv = qemu_base + ["-append", " ".join(["console=ttyS0"] + extra)]
        mem["qemu"] = idle_rss(qargv, b"/ # ", 1, a.idle)
        print("mem qemu: %s KiB" % mem["qemu"].get("rss_kib"), flush=True)
        r1, r3, rq = mem["ours_1"].get("rss_kib"), mem["ours_3"].get("rss_kib"), mem["qemu"].get("rss_kib")
        if r1 and r3:
            mem["ours_per_guest_kib"] = (r3 - r1) / 2
        if r1 and r3 and rq:
            mem["ratio_ours_per_guest_over_qemu"] = mem["ours_per_guest_kib"] / rq
            mem["ratio_ours_1guest_over_qemu"] = r1 / rq
        R["memory"] = mem

    R["loadavg_after"] = os.getloadavg()
    R["host_busy_pct_after"] = host_busy()
    R["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(R, f, indent=1)
    txt = report(R)
    with open(a.txt, "w") as f:
        f.write(txt)
    print(txt)


def report(R):
    L = []
    L.append("Linux 4.9 boot: ours (bin/lguest run) vs qemu-system-i386 TCG")
    L.append("started %s, finished %s; load avg before %s, after %s" % (
        R["started"], R["finished"], " ".join("%.2f" % x for x in R["loadavg_before"]),
        " ".join("%.2f" % x for x in R["loadavg_after"])))
    L.append("host CPU busy (all CPUs, 2 s sample, nothing of ours running): before %s %%, after %s %%" % (
        R.get("host_busy_pct_before"), R.get("host_busy_pct_after")))
    L.append("host: %s CPUs, %s; %s" % (R["host"]["nproc"], R["host"]["cpu"], R["host"]["qemu"]))
    L.append("extra kernel args on both sides: %r" % R["extra_kernel_args"])
    L.append("ours: " + " ".join(R["commands"]["ours"]))
    L.append("qemu: " + " ".join(R["commands"]["qemu"]))
    if "timeline" in R:
        T = R["timeline"]
        L.append("")
        L.append("Timeline, %d interleaved rounds (s from process start); all rc 0 + autotest done: %s" % (R["rounds"], T["all_ok"]))
        L.append("%-22s %9s %9s %9s %9s %9s %9s  %s" % ("mark", "ours best", "ours med", "qemu best", "qemu med",
                                                      "ratio med", "best/best", "per-round ratios"))
        for k, name in (("a_linux_version_s", "a 'Linux version'"), ("b_init_reached_s", "b init reached"),
                        ("c_exit_s", "c exit (power-off)")):
            s = T[k]
            L.append("%-22s %9s %9s %9s %9s %9s %9s  %s" % (name, fmt(s["ours_best"]), fmt(s["ours_median"]),
                                                           fmt(s["qemu_best"]), fmt(s["qemu_median"]),
                                                           fmt(s["ratio_median"], "%.2f"), fmt(s["ratio_of_bests"], "%.2f"),
                                                           " ".join(fmt(x, "%.2f") for x in s["ratios"])))
        if T.get("ours_stats_median"):
            m = T["ours_stats_median"]
            L.append("ours --stats (median): guest %.3f s, %d instructions, %d exits, %d hypercalls" % (
                m["guest_s"], m["instructions"], m["exits"], m["hypercalls"]))
            L.append("ours --stats per round: " + "; ".join("%.3f s %d insns %d exits %d hc" % (
                s["guest_s"], s["instructions"], s["exits"], s["hypercalls"]) for s in T["ours_stats_all"]))
        L.append("CPU s used by the run itself [ours, qemu] per round: %s" % T["own_cpu_s_per_round"])
        L.append("CPU s used by OTHER host processes during each run [ours, qemu] (contamination): %s" % T["others_cpu_s_per_round"])
    if "instructions" in R:
        C = R["instructions"]
        L.append("")
        L.append("Guest instructions to power-off: ours %s (median of --stats), qemu %s (insncount plugin, rc %s, autotest done %s); ratio %s" % (
            C.get("ours_insns_median"), C["qemu_insns"], C["qemu_rc"], C["qemu_autotest_done"],
            fmt(C.get("ratio_ours_over_qemu"), "%.2f")))
    if "memory" in R:
        M = R["memory"]
        L.append("")
        L.append("Idle memory (VmRSS after >= idle period at the shell):")
        for k in ("ours_1", "ours_3", "qemu"):
            m = M[k]
            L.append("  %-7s %s MiB (all guests at shell: %s, prompt at %s s, idle from %s s, sampled %s s)%s%s" % (
                k, fmt(m.get("rss_kib") and m["rss_kib"] / 1024, "%.1f"), m.get("all_guests_reached_shell"),
                m.get("first_prompt_s"), m.get("idle_from_s"), m.get("sampled_at_s"),
                ("; after jcmd GC.run %.1f MiB" % (m["rss_after_gc_run_kib"] / 1024)) if m.get("rss_after_gc_run_kib") else "",
                ("; ERROR " + m["error"]) if m.get("error") else ""))
            if m.get("heap_info"):
                L.append("          heap: " + " | ".join(x.strip() for x in m["heap_info"]))
        if "ours_per_guest_kib" in M:
            L.append("  ours per guest (RSS3-RSS1)/2 = %.1f MiB" % (M["ours_per_guest_kib"] / 1024))
        if "ratio_ours_per_guest_over_qemu" in M:
            L.append("  ratio ours-per-guest / qemu-per-process = %.2f; ours-1-guest / qemu = %.2f" % (
                M["ratio_ours_per_guest_over_qemu"], M["ratio_ours_1guest_over_qemu"]))
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
