#!/usr/bin/env bash
# many-guests.sh N [MEM] - N idle guests of the bundled kernel (default 16M each) in one platform:
# the time to start them all, the process's memory (VmRSS) once they idle, the RAM the guests touched
# (the rest of VmRSS is overhead), and their idle CPU.
# Usage: bench/many-guests.sh 256 16M     (needs runtime/target/lguest; raises maxGuests for the run)
set -euo pipefail
N=${1:-256}
MEM=${2:-16M}
DIST="$(cd "$(dirname "$0")/.." && pwd)/runtime/target/lguest"
HOME_COPY=$(mktemp -d)
trap 'rm -rf "$HOME_COPY"' EXIT
cp -r "$DIST"/. "$HOME_COPY"/
echo "maxGuests=$((N + 1))" > "$HOME_COPY/conf/org.lguest.lg.cfg"
FIFO="$HOME_COPY/in"
mkfifo "$FIFO"
"$HOME_COPY/bin/lguest" < "$FIFO" > "$HOME_COPY/out.txt" 2>&1 &
exec 3> "$FIFO"
sleep 3
PID=$(pgrep -f "lguest.home=$HOME_COPY" | head -1)
echo "platform pid $PID; $N guests of $MEM"
base_rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do
    echo "lguest:start --mem $MEM --name g$i" >&3
done
# Started when the newest lguest:list shows every guest running (grep -c prints 0 and fails on none).
deadline=$(( $(date +%s) + 600 ))
while true; do
    echo "lguest:list" >&3
    sleep 1
    started=$(tac "$HOME_COPY/out.txt" | awk '/^ID /{exit} {print}' | grep -c " running$" || true)
    [ "$started" -ge "$N" ] && break
    if [ "$(date +%s)" -gt "$deadline" ]; then
        echo "many-guests.sh: only $started of $N guests running after 10 minutes; the platform said:" >&2
        tail -20 "$HOME_COPY/out.txt" >&2
        exit 1
    fi
done
t1=$(date +%s.%N)
sleep 20
rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
ticks0=$(awk '{print $14 + $15}' /proc/$PID/stat)
sleep 30
ticks1=$(awk '{print $14 + $15}' /proc/$PID/stat)
hz=$(getconf CLK_TCK)
# The same after a full GC: what the guests hold, without the heap G1 keeps committed ahead of need.
"${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$PID" GC.run >/dev/null
sleep 2
rss_gc=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
# The RAM each guest has touched (balloon.rss, KiB, from lguest:stats): the rest of its share of VmRSS is overhead.
touched=0
for i in 1 $((N / 2)) "$N"; do
    echo "lguest:stats g$i" >&3
    sleep 1
    kib=$(grep -o 'balloon.rss=[0-9]*' "$HOME_COPY/out.txt" | tail -1 | cut -d= -f2)
    touched=$((touched + ${kib:-0}))
done
touched=$((touched / 3))
# Every guest destroyed, a full GC: how much of it the process gives back.
for i in $(seq 1 "$N"); do
    echo "lguest:destroy g$i" >&3
done
sleep 5
"${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$PID" GC.run >/dev/null
sleep 2
rss_after=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
python3 - "$N" "$t0" "$t1" "$base_rss" "$rss" "$ticks0" "$ticks1" "$hz" "$touched" "$rss_after" "$rss_gc" <<'PY'
import sys
n, t0, t1, base, rss, k0, k1, hz, touched, after, rss_gc = sys.argv[1:]
touched = int(touched)
n = int(n); base = int(base); rss = int(rss)
cpu = (int(k1) - int(k0)) / int(hz) / 30.0
print(f"started {n} guests in {float(t1) - float(t0):.1f} s")
per = (rss - base) / 1024 / n
print(f"VmRSS: {base / 1024:.0f} MiB with no guest, {rss / 1024:.0f} MiB with {n}: {per:.1f} MiB per guest")
per_gc = (int(rss_gc) - base) / 1024 / n
print(f"VmRSS after a full GC with the {n} running: {int(rss_gc) / 1024:.0f} MiB: {per_gc:.1f} MiB per guest")
print(f"guest RAM touched: {touched / 1024:.2f} MiB per guest (lguest:stats balloon.rss, 3 guests averaged); "
      f"overhead beyond it {per - touched / 1024:.2f} MiB per guest, {per_gc - touched / 1024:.2f} after a full GC")
print(f"VmRSS after destroying them all and a full GC: {int(after) / 1024:.0f} MiB")
print(f"idle CPU over 30 s: {cpu * 100:.1f}% of a core in all, {cpu * 100 / n:.3f}% per guest")
PY
echo "exit" >&3
exec 3>&-
wait
