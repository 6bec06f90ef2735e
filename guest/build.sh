#!/bin/sh
# build.sh OUTDIR - build the guest kernel into OUTDIR/lguest-guest.elf.
#
# With BENCH_CORE_O=/path/to/bench_core.o (the shared CPU benchmark's object,
# built by that benchmark's own build.sh) it also links OUTDIR/lguest-bench.elf:
# the same kernel plus the workload, run by "bench scale=N" on its command
# line (src/bench.c, bench/README.md at the top of the repository).
#
# Needs gcc able to emit 32-bit x86 (-m32) and binutils with elf_i386
# (GNU ld, objcopy).  CC, LD and OBJCOPY may be overridden, e.g. with an
# i686-linux-gnu- cross toolchain.
set -eu

OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-gcc}
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
mkdir -p "$OUT/obj"
OUT=$(cd "$OUT" && pwd)

die() { echo "build.sh: $*" >&2; exit 1; }

# Can this toolchain target i386 at all?
command -v "$CC" >/dev/null 2>&1 || die "no C compiler '$CC' (install gcc, e.g. apt-get install gcc gcc-multilib)"
command -v "$LD" >/dev/null 2>&1 || die "no linker '$LD' (install binutils)"
command -v "$OBJCOPY" >/dev/null 2>&1 || die "no '$OBJCOPY' (install binutils)"
echo 'int probe(void) { return 0; }' > "$OUT/obj/probe.c"
"$CC" -m32 -ffreestanding -c "$OUT/obj/probe.c" -o "$OUT/obj/probe.o" 2>/dev/null ||
	die "'$CC -m32' cannot build 32-bit x86 code: this compiler cannot target i386 (on Debian/Ubuntu: apt-get install gcc-multilib, or set CC to an i686 cross compiler)"
"$LD" -m elf_i386 -r "$OUT/obj/probe.o" -o "$OUT/obj/probe2.o" 2>/dev/null ||
	die "'$LD -m elf_i386' failed: these binutils cannot target i386 (set LD/OBJCOPY to i686 binutils)"

CFLAGS="-m32 -march=i686 -std=gnu11 -O2 -g -Wall -Wextra -Werror \
 -ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
 -fno-asynchronous-unwind-tables -fno-omit-frame-pointer -mgeneral-regs-only \
 -fcf-protection=none -fno-strict-aliasing -I$HERE/src"
ASFLAGS="-m32 -fno-pic -fno-pie -Wa,--noexecstack -I$HERE/src"

# The ring-3 program, as a flat binary.
"$CC" $CFLAGS -c "$HERE/user/user.c" -o "$OUT/obj/user_prog.o"
"$CC" $ASFLAGS -c "$HERE/user/crt0.S" -o "$OUT/obj/user_crt0.o"
"$LD" -m elf_i386 -nostdlib --build-id=none -T "$HERE/user/user.ld" \
	"$OUT/obj/user_crt0.o" "$OUT/obj/user_prog.o" -o "$OUT/user.elf"
"$OBJCOPY" -O binary "$OUT/user.elf" "$OUT/user.bin"

# The kernel.
OBJS=""
for f in boot.S entry.S user_blob.S; do
	o="$OUT/obj/${f%.S}.o"
	"$CC" $ASFLAGS -DUSER_BIN="\"$OUT/user.bin\"" -c "$HERE/src/$f" -o "$o"
	OBJS="$OBJS $o"
done
for f in main.c lguest.c native.c console.c traps.c paging.c timer.c user.c selftest.c lib.c bench.c blk.c net.c; do
	o="$OUT/obj/${f%.c}.o"
	"$CC" $CFLAGS -c "$HERE/src/$f" -o "$o"
	OBJS="$OBJS $o"
done
"$LD" -m elf_i386 -nostdlib --build-id=none -z noexecstack -z max-page-size=4096 \
	-T "$HERE/kernel.ld" $OBJS -o "$OUT/lguest-guest.elf"

echo "build.sh: built $OUT/lguest-guest.elf"

# The hostile kernels (hostile/README.md): the guest's own boot.S and lib.c,
# the hostile library, and one attack each, linked like the guest.
HOSTILE="switcher gdt pfn hcallargs idt flood nohalt early fuzz insnfuzz"
"$CC" $ASFLAGS -c "$HERE/hostile/hentry.S" -o "$OUT/obj/hostile_hentry.o"
"$CC" $CFLAGS -I"$HERE/hostile" -c "$HERE/hostile/hlib.c" -o "$OUT/obj/hostile_hlib.o"
for h in $HOSTILE; do
	"$CC" $CFLAGS -I"$HERE/hostile" -c "$HERE/hostile/$h.c" -o "$OUT/obj/hostile_$h.o"
	"$LD" -m elf_i386 -nostdlib --build-id=none -z noexecstack -z max-page-size=4096 \
		-T "$HERE/kernel.ld" "$OUT/obj/boot.o" "$OUT/obj/lib.o" "$OUT/obj/hostile_hentry.o" \
		"$OUT/obj/hostile_hlib.o" "$OUT/obj/hostile_$h.o" -o "$OUT/hostile-$h.elf"
done
echo "build.sh: built hostile kernels: $(for h in $HOSTILE; do printf 'hostile-%s.elf ' $h; done)"

# The benchmark image: bench_core.o linked in, byte for byte the object the
# shared benchmark links into its bare-machine kernel.  Its memset/memcpy are
# made local so they don't clash with lib.c's (its own calls keep using them).
if [ -n "${BENCH_CORE_O:-}" ]; then
	[ -f "$BENCH_CORE_O" ] || die "BENCH_CORE_O=$BENCH_CORE_O: no such file (build the shared benchmark first: its build.sh makes out/bench_core.o)"
	"$OBJCOPY" --localize-symbol=memset --localize-symbol=memcpy "$BENCH_CORE_O" "$OUT/obj/bench_core.o"
	"$CC" $CFLAGS -DWITH_BENCH_CORE -c "$HERE/src/bench.c" -o "$OUT/obj/bench_with_core.o"
	BENCH_OBJS=$(echo "$OBJS" | sed "s|$OUT/obj/bench.o|$OUT/obj/bench_with_core.o $OUT/obj/bench_core.o|")
	"$LD" -m elf_i386 -nostdlib --build-id=none -z noexecstack -z max-page-size=4096 \
		-T "$HERE/kernel.ld" $BENCH_OBJS -o "$OUT/lguest-bench.elf"
	echo "build.sh: built $OUT/lguest-bench.elf (with $BENCH_CORE_O)"
fi

# The test host (testhost/): plays Launcher and Host so the lguest path can
# run on qemu-system-i386 (see test-lguest.sh).  Not part of the guest.
"$CC" $ASFLAGS -c "$HERE/testhost/host.S" -o "$OUT/obj/host_entry.o"
"$CC" $CFLAGS -c "$HERE/testhost/host.c" -o "$OUT/obj/host.o"
"$LD" -m elf_i386 -nostdlib --build-id=none -z noexecstack -z max-page-size=4096 \
	-T "$HERE/testhost/host.ld" "$OUT/obj/host_entry.o" "$OUT/obj/host.o" \
	-o "$OUT/lguest-testhost.elf"
echo "build.sh: built $OUT/lguest-testhost.elf"
