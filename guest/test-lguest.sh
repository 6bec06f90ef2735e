#!/bin/sh
# test-lguest.sh [GUEST-ELF] - boot the guest kernel's lguest path on
# qemu-system-i386 under testhost/ (a small stand-in for the 2.6.23
# Launcher and Host, built by build.sh as lguest-testhost.elf) and check
# its selftests.  Run by hand: CI has no qemu.
#
#   1. "selftest poweroff": console-input is skipped (there is no loopback
#      in the DMA console), everything else must pass.
#   2. "selftest input-expected=hello poweroff", with "hello\n" typed into
#      the test host's serial port, which it hands to the Guest through the
#      buffer bound at DMA key 0 and the console IRQ.
# The test host runs with "trace": VERBOSE=1 shows every hypercall.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ELF=${1:-$HERE/target/lguest-guest.elf}
HOST=$(dirname "$ELF")/lguest-testhost.elf
[ -f "$ELF" ] && [ -f "$HOST" ] || { echo "test-lguest.sh: no $ELF or $HOST (run: $HERE/build.sh $HERE/target)"; exit 2; }
command -v qemu-system-i386 >/dev/null || { echo "test-lguest.sh: qemu-system-i386 not installed"; exit 2; }
. "$HERE/testlib.sh"

ALL="paging-demand paging-batch user-syscall user-tls user-stack-demand user-timer user-kernel-protected timer-ticks halt-wake"
boot "lguest: selftest poweroff" "" "$ALL" \
	-m 256 -kernel "$HOST" -append trace -initrd "$ELF selftest poweroff"
boot "lguest: selftest input-expected=hello poweroff" 'hello\n' "$ALL console-input" \
	-m 256 -kernel "$HOST" -append trace -initrd "$ELF selftest input-expected=hello poweroff"
crashboot "lguest: crashtest" -m 256 -kernel "$HOST" -append trace -initrd "$ELF crashtest"
[ $status = 0 ] && echo "3 passed, 0 failed" || echo "lguest boots failed"
exit $status
