#!/bin/sh
# Builds the two oracles of the differential tests into OUTDIR, and finds
# out which of them this machine can use:
#   OUTDIR/diff-helper         the native helper, a static 32-bit Linux program
#                              without libc (helper.c, entry.S, protocol.c, lar_lsl.S);
#   OUTDIR/oracle-kernel.elf   the oracle kernel, a multiboot kernel that runs
#                              the same protocol under qemu-system-i386
#                              (oracle/, protocol.c, lar_lsl.S);
#   OUTDIR/host-runs-i386      "yes" when this machine executes i386 programs
#                              (then the helper is the oracle), else "no: why".
# Which oracle a run uses is decided in one place, Oracles.java, from these.
# Fails with a clear message when gcc cannot target i386.
set -e
OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
CC=${CC:-gcc}
LD=${LD:-ld}
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
if "$probe" 2>"$probe.log"; then
  echo yes > "$OUT/host-runs-i386"
else
  echo "no: a static i386 program failed to run here ($(tr -d '\n' < "$probe.log"))" > "$OUT/host-runs-i386"
fi
rm -f "$probe" "$probe.c" "$probe.log"

# The native helper (built everywhere, so that a build error shows on every machine).
"$CC" $CFLAGS -I"$HERE" $LDFLAGS "$HERE/entry.S" "$HERE/lar_lsl.S" "$HERE/helper.c" "$HERE/protocol.c" -o "$OUT/diff-helper.tmp"
mv "$OUT/diff-helper.tmp" "$OUT/diff-helper"

# The oracle kernel.
KCFLAGS="-m32 -march=i686 -O2 -ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
 -fno-asynchronous-unwind-tables -fcf-protection=none -mgeneral-regs-only -Wall -Wextra -Werror"
mkdir -p "$OUT/oracle-obj"
"$CC" $KCFLAGS -c "$HERE/oracle/boot.S" -o "$OUT/oracle-obj/boot.o"
"$CC" $KCFLAGS -c "$HERE/oracle/oracle.c" -o "$OUT/oracle-obj/oracle.o"
"$CC" $KCFLAGS -c "$HERE/protocol.c" -o "$OUT/oracle-obj/protocol.o"
"$CC" $KCFLAGS -c "$HERE/lar_lsl.S" -o "$OUT/oracle-obj/lar_lsl.o"
"$LD" -m elf_i386 $(ld -m elf_i386 --no-warn-rwx-segments --version >/dev/null 2>&1 && echo --no-warn-rwx-segments) -T "$HERE/oracle/oracle.ld" -o "$OUT/oracle-kernel.elf" \
  "$OUT/oracle-obj/boot.o" "$OUT/oracle-obj/oracle.o" "$OUT/oracle-obj/protocol.o" "$OUT/oracle-obj/lar_lsl.o"
echo "native: diff-helper and oracle-kernel.elf built; host runs i386 programs: $(cat "$OUT/host-runs-i386")"
