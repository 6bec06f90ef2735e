#!/bin/sh
# build.sh OUTDIR - build every system-test kernel (src/test/kernels/*.c) into
# OUTDIR/NAME.elf: a multiboot v1 ELF32 linked at 1 MiB with the shared
# library in lib/. Needs a gcc that can target i386 (-m32) and GNU ld with
# the elf_i386 emulation; fails with a clear message otherwise.
set -e
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=$1
mkdir -p "$OUT/obj"
CC=${CC:-gcc}
LD=${LD:-ld}
CFLAGS="-m32 -march=i686 -O1 -mgeneral-regs-only -ffreestanding -fno-builtin \
 -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
 -fcf-protection=none -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter -I$SRC/lib"

# Can this toolchain produce and link i386 code at all?
probe="$OUT/obj/probe"
printf 'int probe(void) { return 0; }\n' > "$probe.c"
if ! $CC $CFLAGS -c "$probe.c" -o "$probe.o" 2> "$probe.err"; then
    echo "ERROR: $CC cannot compile for i386 (-m32). The system-test kernels need a gcc" >&2
    echo "       that targets i386 (on Debian/Ubuntu: gcc with multilib support)." >&2
    sed 's/^/       /' "$probe.err" >&2
    exit 1
fi
if ! $LD -m elf_i386 -e probe -o "$probe.elf" "$probe.o" 2> "$probe.err"; then
    echo "ERROR: $LD cannot link elf_i386 objects (needs GNU ld with the elf_i386 emulation)." >&2
    sed 's/^/       /' "$probe.err" >&2
    exit 1
fi

# The kernels are one RWX load segment on purpose; quieten newer ld about it.
LDFLAGS=""
if $LD -m elf_i386 --no-warn-rwx-segments -e probe -o "$probe.elf" "$probe.o" 2>/dev/null; then
    LDFLAGS="--no-warn-rwx-segments"
fi

$CC $CFLAGS -c "$SRC/lib/entry.S" -o "$OUT/obj/entry.o"
$CC $CFLAGS -c "$SRC/lib/lib.c" -o "$OUT/obj/lib.o"
n=0
for c in "$SRC"/*.c; do
    name=$(basename "$c" .c)
    $CC $CFLAGS -c "$c" -o "$OUT/obj/$name.o"
    $LD -m elf_i386 $LDFLAGS -T "$SRC/lib/kernel.ld" -o "$OUT/$name.elf" \
        "$OUT/obj/entry.o" "$OUT/obj/lib.o" "$OUT/obj/$name.o"
    n=$((n + 1))
done
echo "kernels: built $n into $OUT"
