#!/usr/bin/env python3
"""lines.py - run a command and timestamp every line it prints.

Usage: lines.py [--until-first] [--timeout S] -- CMD ARGS...

Prints one JSON object on stdout:
  {"rc": exit status, "wall_s": seconds until the command ended,
   "first_line_s": seconds from start to the first non-empty line,
   "lines": [[seconds, text], ...]}
Times are time.perf_counter() differences from just before the process is
started, so they include process start-up (JVM, Felix, qemu, firmware).
--until-first kills the command (its whole session) as soon as the first
non-empty line arrives: for kernels that never end on that machine.
Like the shared bench's timeline.py, stdin is /dev/null and stderr is merged.
"""
import json, os, select, signal, subprocess, sys, time


def main():
    argv = sys.argv[1:]
    until_first, timeout = False, None
    while argv and argv[0] != "--":
        if argv[0] == "--until-first":
            until_first = True
            argv = argv[1:]
        elif argv[0] == "--timeout":
            timeout = float(argv[1])
            argv = argv[2:]
        else:
            sys.exit("lines.py: unknown option " + argv[0])
    argv = argv[1:]
    if not argv:
        sys.exit(__doc__)
    print(json.dumps(timed_lines(argv, timeout, until_first)))


def timed_lines(argv, timeout=None, until_first=False):
    """Run argv (stdin /dev/null, stderr merged); return {"rc", "wall_s",
    "first_line_s", "lines": [[seconds, text], ...]} and "killed" when it was
    (timeout, or the first line with until_first). The command's whole session
    is killed, and a command still running when this returns is killed too."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, bufsize=0, start_new_session=True)
    lines, buf, killed = [], b"", None
    try:
        while True:
            if timeout is not None and killed is None and time.perf_counter() - t0 > timeout:
                killed = "timeout"
                os.killpg(p.pid, signal.SIGKILL)
            ready, _, _ = select.select([p.stdout], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            now = time.perf_counter() - t0
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                # qemu/SeaBIOS may put escape sequences before a line; keep the text
                text = line.decode("latin-1").replace("\r", "")
                text = "".join(ch for ch in text if ch >= " " or ch == "\t").strip()
                if text:
                    lines.append([round(now, 6), text])
                    if until_first and killed is None:
                        killed = "first line"
                        os.killpg(p.pid, signal.SIGKILL)
        rc = p.wait()
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    res = {"rc": rc, "wall_s": round(time.perf_counter() - t0, 6),
           "first_line_s": lines[0][0] if lines else None, "lines": lines}
    if killed:
        res["killed"] = killed
    return res


if __name__ == "__main__":
    main()
