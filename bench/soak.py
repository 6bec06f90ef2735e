#!/usr/bin/env python3
"""soak.py - many guests doing console and disk I/O in one platform for a long time.

    python3 bench/soak.py [--guests 16] [--minutes 60] [--mem 32M] [--sectors 512]

Starts the distribution (runtime/target/lguest, from a copy) with GUESTS guests of
our kernel, each with its own disk image, and keeps every guest busy: each round
types, for each guest, "blk write SEED N", "blk verify SEED N" (a wrong sector
crashes the guest with its number), "blk flush" and a line of text for the echo.
Every minute it runs a full GC in the platform (jcmd GC.run) and records the heap
in use after it (GC.heap_info), the process's VmRSS and threads, and how many
guests run. At the end it prints the curve, the disk and console bytes the
guests moved, and whether the heap after GC stayed flat: within 5% of its median
over the samples after the first five minutes (the warm-up: classes, compiled
blocks, caches). Exit status 1 when a guest died or the heap grew.
Output: the terminal and bench/out/soak-DATE.txt.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(ROOT, "runtime", "target", "lguest")


def java_tool(name):
    home = os.environ.get("JAVA_HOME") or ""
    for base in [home] + sorted(d for d in (os.path.join("/usr/lib/jvm", x) for x in os.listdir("/usr/lib/jvm")) if "25" in d):
        tool = os.path.join(base, "bin", name)
        if base and os.access(tool, os.X_OK):
            return tool
    sys.exit(f"soak.py: no {name} from a JDK 25 (set JAVA_HOME)")


class Platform:
    def __init__(self, home):
        env = dict(os.environ)
        env.setdefault("JAVA_HOME", os.path.dirname(os.path.dirname(java_tool("java"))))
        self.proc = subprocess.Popen([os.path.join(home, "bin", "lguest")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def after(self, command, marker, timeout=60):
        """Sends a command; once a line starting with marker follows it (and half a second more), the lines from there."""
        with self.lock:
            start = len(self.lines)
        self.send(command)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = self.lines[start:]
            at = [i for i, l in enumerate(got) if l.startswith(marker)]
            if at:
                time.sleep(0.5)
                with self.lock:
                    return self.lines[start + at[0]:]
            time.sleep(0.1)
        raise RuntimeError(f"no answer to {command!r} in {timeout} s; the platform said:\n" + "\n".join(self.lines[-20:]))

    def guests(self):
        """name -> (id, state) from lguest:list."""
        table = {}
        for l in self.after("lguest:list", "ID ")[1:]:
            m = re.match(r"^(\d+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(.*)$", l)
            if not m:
                break
            table[m.group(2)] = (int(m.group(1)), m.group(3).strip())
        return table


def heap_after_gc(jcmd, pid):
    subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, text=True, timeout=120)
    info = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"used (\d+)K", info)
    return int(m.group(1)) / 1024 if m else float("nan")


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", type=int, default=16)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--mem", default="32M")
    ap.add_argument("--sectors", type=int, default=512, help="sectors written and verified per round (512 = 256 KiB)")
    ap.add_argument("--round-seconds", type=float, default=4.0)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(DIST, "bin", "lguest")):
        sys.exit("soak.py: build the distribution first (./build.sh)")
    jcmd = java_tool("jcmd")
    home = tempfile.mkdtemp(prefix="lguest-soak-")
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    report_path = os.path.join(ROOT, "bench", "out", time.strftime("soak-%Y%m%dT%H%M%SZ.txt", time.gmtime()))
    report = open(report_path, "w")

    def say(text):
        print(text, flush=True)
        report.write(text + "\n")
        report.flush()

    platform = None
    try:
        shutil.copytree(DIST, home, dirs_exist_ok=True)
        with open(os.path.join(home, "conf", "org.lguest.lg.cfg"), "w") as f:
            f.write(f"maxGuests={max(16, args.guests + 1)}\n")
        images = []
        for i in range(args.guests):
            image = os.path.join(home, f"disk{i}.img")
            with open(image, "wb") as f:
                f.truncate(max(args.sectors * 512, 1 << 20))
            images.append(image)
        platform = Platform(home)
        pid = platform.proc.pid  # bin/lguest execs java
        time.sleep(3)
        say(f"soak.py: {args.guests} guests of {args.mem}, {args.sectors} sectors written, verified and flushed "
            f"per guest every {args.round_seconds} s, for {args.minutes} min; platform pid {pid}")
        for i in range(args.guests):
            platform.send(f"lguest:start --mem {args.mem} --name soak{i} --disk {images[i]}")
        deadline = time.time() + 300
        while True:
            table = platform.guests()
            running = [n for n, (_, s) in table.items() if n.startswith("soak") and s == "running"]
            if len(running) == args.guests:
                break
            if time.time() > deadline:
                raise RuntimeError(f"only {len(running)} of {args.guests} guests running after 5 minutes: {table}")
            time.sleep(2)
        ids = {n: table[n][0] for n in running}
        time.sleep(5)  # the guests reach their echo loop
        say(f"{'minute':>6} {'heap after GC MiB':>18} {'VmRSS MiB':>10} {'threads':>8} {'guests running':>15} {'rounds':>7}")
        samples = []
        t0 = time.time()
        next_sample = t0
        rounds = 0
        failed = None
        while time.time() - t0 < args.minutes * 60 + 1:
            now = time.time()
            if now >= next_sample:
                heap = heap_after_gc(jcmd, pid)
                table = platform.guests()
                alive = sum(1 for n in ids if table.get(n, (0, ""))[1] == "running")
                minute = (now - t0) / 60
                samples.append((minute, heap))
                say(f"{minute:6.1f} {heap:18.1f} {status(pid, 'VmRSS') / 1024:10.0f} {status(pid, 'Threads'):8d} "
                    f"{alive:15d} {rounds:7d}")
                if alive < len(ids):
                    failed = "guests ended: " + ", ".join(f"{n} {table.get(n, (0, 'gone'))[1]}" for n in ids
                                                          if table.get(n, (0, ""))[1] != "running")
                    break
                next_sample += 60
            seed = rounds + 1
            for name, gid in ids.items():
                platform.send(f'lguest:input {gid} "blk write {seed} {args.sectors}"')
                platform.send(f'lguest:input {gid} "blk verify {seed} {args.sectors}"')
                platform.send(f'lguest:input {gid} "blk flush"')
                platform.send(f'lguest:input {gid} "soak round {seed} of {name}: console still echoes"')
            rounds += 1
            time.sleep(max(0.0, args.round_seconds - (time.time() - now)))
        moved = {}
        for name, gid in ids.items():
            for l in platform.after(f"lguest:stats {gid}", "Domain:")[1:]:
                m = re.match(r"^\s+(\S+)\.(\w*[bB]ytes\w*)=(\d+)$", l)
                if m:
                    key = re.sub(r"\d+", "", m.group(1)) + "." + m.group(2)
                    moved[key] = moved.get(key, 0) + int(m.group(3))
        say("bytes moved by all guests (from lguest:stats, summed): " +
            ", ".join(f"{k} {v / 1e6:.1f} MB" if v >= 1e6 else f"{k} {v / 1e3:.1f} kB" for k, v in sorted(moved.items())))
        steady = [h for m, h in samples if m >= 5] or [h for _, h in samples]
        median = statistics.median(steady)
        spread = (max(steady) - min(steady)) / median if median else float("inf")
        flat = spread <= 0.05
        say(f"heap after GC from minute 5: median {median:.1f} MiB, min {min(steady):.1f}, max {max(steady):.1f}: "
            f"spread {100 * spread:.1f}% of the median ({'flat within 5%' if flat else 'NOT flat within 5%'})")
        if failed:
            say("soak.py: FAILED: " + failed)
        say(f"report: {report_path}")
        return 0 if flat and not failed else 1
    finally:
        if platform:
            try:
                platform.send("exit")
                platform.proc.wait(timeout=30)
            except Exception:
                platform.proc.kill()
        shutil.rmtree(home, ignore_errors=True)
        report.close()


if __name__ == "__main__":
    sys.exit(main())
