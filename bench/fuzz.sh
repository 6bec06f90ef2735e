#!/usr/bin/env bash
# fuzz.sh - the long versions of the hostile-guest fuzzers (CI runs each at a tenth or a hundredth of this).
#
#   bench/fuzz.sh [HYPERCALLS] [INSTRUCTIONS] [ACTIONS]
#
#   HYPERCALLS    random hypercalls made by hostile-fuzz guests (default 1000000; CI 100000)
#   INSTRUCTIONS  guest instructions retired by hostile-insnfuzz guests running random code at
#                 ring 1 and ring 3 (default 100000000; CI 10000000), and at least INSTRUCTIONS/1000
#                 random-code cases (CI 10000)
#   ACTIONS       hostile virtio and DMA actions each (default 1000000; CI 100000)
#
# Every fuzzer prints its seed; LGUEST_FUZZ_SEED=N repeats a run. Each run ends with its figures:
# calls or instructions per second, how the guests ended (kills by reason), and for the instruction
# fuzz how the random-code cases ended (the exception reflected to the guest, ran to the end, timer).
# Output: bench/out/fuzz-DATE.txt as well as the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
HYPERCALLS=${1:-1000000}
INSTRUCTIONS=${2:-100000000}
ACTIONS=${3:-1000000}
CASES=$((INSTRUCTIONS / 1000))
if [ -z "${JAVA_HOME:-}" ]; then
    for candidate in /usr/lib/jvm/*25*; do [ -x "$candidate/bin/javac" ] && export JAVA_HOME=$candidate && break; done
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
seed=()
[ -n "${LGUEST_FUZZ_SEED:-}" ] && seed=(-Dlguest.fuzz.seed="$LGUEST_FUZZ_SEED")
mkdir -p bench/out
out=bench/out/fuzz-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "fuzz.sh: $HYPERCALLS hypercalls, $INSTRUCTIONS instructions ($CASES cases at least), $ACTIONS virtio and DMA actions; output in $out"
mvn -B -pl bundles/launcher -am verify -DskipITs -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest='IsolationTest#random*,VirtioFuzzTest,DmaFuzzTest' \
    -Dlguest.fuzz.hypercalls="$HYPERCALLS" -Dlguest.fuzz.instructions="$INSTRUCTIONS" -Dlguest.fuzz.cases="$CASES" \
    -Dlguest.fuzz.actions="$ACTIONS" "${seed[@]}" 2>&1 \
    | grep -E '^(IsolationTest|DmaFuzzTest|VirtioFuzzTest|  |\[ERROR\]|Tests run|BUILD)' | tee "$out"
