#!/usr/bin/env bash
# bench/run-bench.sh - the benchmarks behind the README's "Performance" section.
#
#   bench/run-bench.sh [--scale N] [--runs R] [--parts cpu,hcall,cputime,disk,net,console] [--out DIR]
#
#   cpu    the shared CPU workload (BENCH_DIR, default ../shared/bench beside the repository) on
#          native, qemu-system-i386 (paging off/on) and our CPU
#          ("bin/lguest bare", paging off/on), and the same workload inside an
#          lguest guest (ring 1, shadow paging: "bin/lguest run" of
#          lguest-bench.elf) and inside the same guest under guest/testhost on
#          qemu-system-i386: one run.py invocation, so all of it interleaved
#   hcall  start-to-first-console-line and the hypercall round trip
#          (guestbench.py: bin/lguest run, bin/lguest bare, qemu, testhost)
#   cputime  the cpu part's configurations again, timed by CPU time (user +
#          sys of the whole process) instead of wall time (cputime.py)
#   disk   guest disk MB/s against dd on the same file (diskbench.py)
#   net    inter-guest LAN throughput; TAP round trip and throughput both
#          ways, where root may make a network namespace (netbench.py)
#   console  console bytes/s against a host program's (conbench.py)
#
# Needs: ./build.sh done (runtime/target/lguest), gcc -m32, binutils, python3,
# qemu-system-i386.  Results (logs, JSON, date, load, git revision) go to
# DIR (default bench/out/YYYYMMDD-HHMMSS).  The defaults are the README's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=8 RUNS=3 PARTS=cpu,hcall,cputime,disk,net,console OUT=""
while [ $# -gt 0 ]; do
    case $1 in
        --scale) SCALE=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --parts) PARTS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        *) sed -n '2,26s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
LGUEST=$ROOT/runtime/target/lguest/bin/lguest
[ -x "$LGUEST" ] || { echo "run-bench.sh: no $LGUEST; run ./build.sh first" >&2; exit 1; }
command -v qemu-system-i386 >/dev/null || { echo "run-bench.sh: qemu-system-i386 not installed (apt-get install qemu-system-x86)" >&2; exit 1; }
# The shared benchmark beside the repository (../shared/bench), unless BENCH_DIR says otherwise.
if [ -z "${BENCH_DIR:-}" ]; then
    BENCH_DIR="$ROOT/../shared/bench"
    [ -d "$BENCH_DIR" ] || BENCH_DIR=/work/shared/bench
fi
[ -f "$BENCH_DIR/run.py" ] || { echo "run-bench.sh: no shared bench at $BENCH_DIR (set BENCH_DIR)" >&2; exit 1; }
OUT=${OUT:-$ROOT/bench/out/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The shared bench is read-only: build a private copy (its own build.sh).
SB=$ROOT/bench/out/shared-bench
rm -rf "$SB" && mkdir -p "$SB" && cp -r "$BENCH_DIR"/. "$SB"/ && chmod -R u+w "$SB"
(cd "$SB" && ./build.sh) >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
# The guest kernel, plus lguest-bench.elf with the very bench_core.o the bare kernel links.
GB=$ROOT/bench/out/guest
BENCH_CORE_O=$SB/out/bench_core.o "$ROOT/guest/build.sh" "$GB" >>"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log"; exit 1; }

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "git: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo ' (modified)')"
    echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "JAVA_HOME: ${JAVA_HOME:-unset (bin/lguest picks a JDK 25 under /usr/lib/jvm)}"
    echo "qemu: $(qemu-system-i386 --version | head -1)"
    echo "scale $SCALE, runs $RUNS, parts $PARTS"
} | tee "$OUT/env.txt"
load() { echo "$1: $(uptime | sed 's/.*load average/load average/')" | tee -a "$OUT/env.txt"; }

QEMU="qemu-system-i386 -accel tcg -nographic -no-reboot -monitor none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
case ,$PARTS, in *,cpu,*)
    load "cpu start"
    python3 "$SB/run.py" --scale "$SCALE" --runs "$RUNS" --only qemu-sys,qemu-sys-pg \
        --emu "ours=$LGUEST bare {kernel} scale={scale}" \
        --emu "ours-pg=$LGUEST bare {kernel} scale={scale} paging" \
        --emu "guest=$LGUEST run --cmdline 'bench scale={scale} poweroff' $GB/lguest-bench.elf" \
        --emu "guest-qemu=$QEMU -m 256 -kernel $GB/lguest-testhost.elf -initrd '$GB/lguest-bench.elf bench scale={scale} poweroff'" \
        --json "$OUT/cpu-scale$SCALE.json" 2>&1 | tee "$OUT/cpu-scale$SCALE.log"
    load "cpu end"
    python3 "$ROOT/bench/report.py" "$OUT/cpu-scale$SCALE.json" | tee "$OUT/cpu-report.txt"
esac
case ,$PARTS, in *,hcall,*)
    load "hcall start"
    python3 "$ROOT/bench/guestbench.py" --lguest "$LGUEST" --guest "$GB/lguest-guest.elf" \
        --testhost "$GB/lguest-testhost.elf" --runs "$RUNS" --n 2000000 --json "$OUT/hcall.json" 2>&1 |
        tee "$OUT/hcall.log"
    load "hcall end"
esac
case ,$PARTS, in *,cputime,*)
    K=$SB/out/bench-kernel.elf
    NATIVE=()
    if "$SB/out/bench-native" 0 >/dev/null 2>&1; then
        NATIVE=("native=$SB/out/bench-native $SCALE")
    else
        echo "native: not runnable on this host (it cannot execute i386 programs); ratios are against qemu-sys" |
            tee -a "$OUT/env.txt"
    fi
    load "cputime start"
    python3 "$ROOT/bench/cputime.py" --runs "$RUNS" --json "$OUT/cputime-scale$SCALE.json" \
        "${NATIVE[@]}" \
        "qemu-sys=$QEMU -m 128 -kernel $K -append 'scale=$SCALE'" \
        "qemu-sys-pg=$QEMU -m 128 -kernel $K -append 'scale=$SCALE paging'" \
        "ours=$LGUEST bare $K scale=$SCALE" \
        "ours-pg=$LGUEST bare $K scale=$SCALE paging" \
        "guest=$LGUEST run --cmdline 'bench scale=$SCALE poweroff' $GB/lguest-bench.elf" 2>&1 |
        tee "$OUT/cputime-scale$SCALE.log"
    load "cputime end"
esac
case ,$PARTS, in *,disk,*)
    load "disk start"
    python3 "$ROOT/bench/diskbench.py" --lguest "$LGUEST" --mb 64 --runs "$RUNS" --dir "$OUT" \
        --json "$OUT/disk.json" 2>&1 | tee "$OUT/disk.log"
    load "disk end"
esac
case ,$PARTS, in *,net,*)
    load "net start"
    python3 "$ROOT/bench/netbench.py" --lguest "$LGUEST" --mb 64 --runs "$RUNS" \
        --json "$OUT/net.json" 2>&1 | tee "$OUT/net.log"
    load "net end"
esac
case ,$PARTS, in *,console,*)
    load "console start"
    python3 "$ROOT/bench/conbench.py" --lguest "$LGUEST" --kb 4096 --runs "$RUNS" \
        --json "$OUT/console.json" 2>&1 | tee "$OUT/console.log"
    load "console end"
esac
echo "results in $OUT"
