#!/bin/sh
# record-expected.sh - rebuild the system-test kernels and re-record their
# expected serial output (expected/NAME.txt) from qemu-system-i386 (TCG).
#
# Run by hand after changing a kernel, then review `git diff expected/`:
#     sh src/test/kernels/record-expected.sh        (from bundles/cpu-x86)
# CI never runs this; it only needs the committed expected files.
#
# Kernels listed in expected/HANDWRITTEN check behaviour qemu's TCG does not
# model (segment limit checks, global TLB entries); their expected files are
# written by hand from the Intel SDM and are never overwritten here. For
# those the script only shows how qemu's output differs, for information.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${TMPDIR:-/tmp}/systest-record.$$
trap 'rm -rf "$OUT"' EXIT
command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 not found" >&2; exit 1; }
sh "$HERE/build.sh" "$OUT"

run_qemu() {
    # SeaBIOS may print to the same serial port first: keep from "KERNEL " on.
    timeout 60 qemu-system-i386 -accel tcg -m 128 -nographic -no-reboot -monitor none \
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$1" -append "$(basename "$1" .elf)" </dev/null \
        | tr -d '\r' | sed -n '/KERNEL /,$p' | sed '1s/^.*KERNEL /KERNEL /'
}

status=0
for elf in "$OUT"/*.elf; do
    name=$(basename "$elf" .elf)
    run_qemu "$elf" > "$OUT/$name.txt" || true
    if ! tail -n 1 "$OUT/$name.txt" | grep -qx DONE; then
        echo "$name: qemu run did not reach DONE; not recorded:" >&2
        tail -n 5 "$OUT/$name.txt" >&2
        status=1
        continue
    fi
    if grep -q "^$name " "$HERE/expected/HANDWRITTEN" 2>/dev/null; then
        echo "$name: hand-written expected output kept; qemu differs by:"
        diff "$HERE/expected/$name.txt" "$OUT/$name.txt" | sed 's/^/    /' || true
        continue
    fi
    cp "$OUT/$name.txt" "$HERE/expected/$name.txt"
    echo "$name: recorded $(wc -l < "$HERE/expected/$name.txt") lines"
done
exit $status
