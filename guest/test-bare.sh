#!/bin/sh
# test-bare.sh [ELF] - boot the guest kernel bare (multiboot, native ops) on
# qemu-system-i386 and check its selftests.  Run by hand: CI has no qemu.
#
#   1. "selftest poweroff": console input is checked through the UART's
#      loopback mode.
#   2. "selftest input-expected=hello poweroff", with "hello\n" typed into
#      the serial port: the kernel must echo it and compare it.
# VERBOSE=1 shows the console logs of passing boots too.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ELF=${1:-$HERE/target/lguest-guest.elf}
[ -f "$ELF" ] || { echo "test-bare.sh: no $ELF (run: $HERE/build.sh $HERE/target)"; exit 2; }
command -v qemu-system-i386 >/dev/null || { echo "test-bare.sh: qemu-system-i386 not installed"; exit 2; }
. "$HERE/testlib.sh"

ALL="paging-demand paging-batch user-syscall user-tls user-stack-demand user-timer user-kernel-protected timer-ticks halt-wake console-input"
boot "bare: selftest poweroff" "" "$ALL" \
	-m 128 -kernel "$ELF" -append "selftest poweroff"
boot "bare: selftest input-expected=hello poweroff" 'hello\n' "$ALL" \
	-m 128 -kernel "$ELF" -append "selftest input-expected=hello poweroff"
crashboot "bare: crashtest" -m 128 -kernel "$ELF" -append "crashtest"
[ $status = 0 ] && echo "3 passed, 0 failed" || echo "bare boots failed"
exit $status
