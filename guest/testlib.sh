# testlib.sh - shared by test-bare.sh and test-lguest.sh (sourced, not run).
#
# boot NAME INPUT EXPECTED-PASS-LIST QEMU-ARGS...
#   Runs qemu-system-i386 with the serial port on stdio, feeds INPUT to the
#   console once the kernel prints "waiting for console input" (bytes sent
#   earlier could be lost before the UART is set up), and checks the console
#   log: every name in EXPECTED-PASS-LIST has a "PASS name" line, no line
#   starts with FAIL, the summary says 0 failed, and qemu exited with status
#   1 (the kernel's power-off through isa-debug-exit).
status=0

boot() {
	name=$1 input=$2 expect=$3
	shift 3
	log=$(mktemp)
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	timeout 120 qemu-system-i386 -accel tcg -nographic -no-reboot -monitor none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		"$@" <"$fifo" >"$log" 2>&1 &
	qpid=$!
	exec 3>"$fifo"
	if [ -n "$input" ]; then
		i=0
		while [ $i -lt 600 ] && ! grep -q 'waiting for console input' "$log"; do
			sleep 0.1
			i=$((i + 1))
		done
		printf "$input" >&3
	fi
	wait $qpid
	rc=$?
	exec 3>&-
	tr -d '\r' <"$log" | sed 's/^.*lguest-guest: booting/lguest-guest: booting/' |
		sed 's/^.*host: lguest test host/host: lguest test host/' |
		sed -n '/^\(host: lguest test host\|lguest-guest: booting\)/,$p' >"$log.clean"
	ok=1
	[ "$rc" = 1 ] || { echo "  qemu exit status $rc, expected 1 (power off)"; ok=0; }
	for t in $expect; do
		grep -qx "PASS $t" "$log.clean" || { echo "  missing: PASS $t"; ok=0; }
	done
	if grep -q '^FAIL' "$log.clean"; then
		grep '^FAIL' "$log.clean" | sed 's/^/  /'
		ok=0
	fi
	grep -qx 'selftest: [0-9]* passed, 0 failed' "$log.clean" || { echo "  no clean summary line"; ok=0; }
	if [ $ok = 1 ]; then
		echo "ok   $name: $(grep -c '^PASS' "$log.clean") PASS lines"
		[ -n "${VERBOSE:-}" ] && sed 's/^/  | /' "$log.clean"
	else
		echo "FAIL $name; console output:"
		sed 's/^/  | /' "$log.clean"
		status=1
	fi
	rm -f "$log" "$log.clean" "$fifo"
}

# crashboot NAME QEMU-ARGS...: the kernel was told "crashtest": it must panic,
# print the message and end with qemu exit status 3 (bare: port 0xF4 <- 1;
# test host: LHCALL_CRASH with a message other than "Power down").
crashboot() {
	name=$1
	shift
	log=$(mktemp)
	timeout 60 qemu-system-i386 -accel tcg -nographic -no-reboot -monitor none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" \
		</dev/null >"$log" 2>&1
	rc=$?
	if [ "$rc" = 3 ] && grep -q 'PANIC: crash requested on the command line' "$log"; then
		echo "ok   $name: panic reported, qemu exit status 3"
	else
		echo "FAIL $name (qemu exit status $rc):"
		tr -d '\r' <"$log" | tail -5 | sed 's/^/  | /'
		status=1
	fi
	rm -f "$log"
}
