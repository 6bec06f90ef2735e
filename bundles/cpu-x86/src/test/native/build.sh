#!/bin/sh
# Builds the differential-test helper (a static 32-bit Linux program without
# libc) into OUTDIR/diff-helper. Fails with a clear message when the machine's
# gcc cannot produce and run i386 code.
set -e
OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
CC=${CC:-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "native/build.sh: '$CC' not found: the differential tests need gcc with i386 (-m32) support" >&2
  exit 1
fi
CFLAGS="-m32 -march=i686 -O2 -g -ffreestanding -fno-builtin -fno-stack-protector -fno-pie -fno-asynchronous-unwind-tables -Wall -Wextra"
LDFLAGS="-m32 -nostdlib -static -fno-pie -no-pie -Wl,--build-id=none"
probe="$OUT/m32-probe"
printf 'void _start(void){__asm__ volatile("movl $1,%%eax; xorl %%ebx,%%ebx; int $0x80");}\n' > "$probe.c"
if ! "$CC" $CFLAGS $LDFLAGS "$probe.c" -o "$probe" 2>"$probe.log"; then
  echo "native/build.sh: '$CC' cannot target i386 (-m32): install gcc-multilib. Compiler said:" >&2
  cat "$probe.log" >&2
  exit 1
fi
if ! "$probe"; then
  echo "native/build.sh: this machine cannot run static 32-bit i386 programs (kernel without IA32 emulation?)" >&2
  exit 1
fi
rm -f "$probe" "$probe.c" "$probe.log"
"$CC" $CFLAGS $LDFLAGS "$HERE/entry.S" "$HERE/helper.c" -o "$OUT/diff-helper.tmp"
mv "$OUT/diff-helper.tmp" "$OUT/diff-helper"
