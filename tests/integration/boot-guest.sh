#!/bin/bash
# Boot husk's test guest and check its verdict.
#
#   boot-guest.sh elf|bzimage CPUS MEMORY [--tests LIST] [--initrd] [--hugepages]
#                 [--serial stdio|file|none] [--expect-fail] [--timeout S]
#
# Runs husk --kernel <guest> --cpus CPUS --memory MEMORY
#   --cmdline "[tests=LIST ]expect_mem=MEMORY expect_cpus=CPUS"
# with stdin from /dev/null and asserts:
#   - exit status 0 and stdout (the serial console) has "boot-marker", the line
#     "cmdline: <exactly the command line given>", one "ok NAME" per check,
#     no "fail" line and the summary "N passed, 0 failed" (N = number of ok lines);
#   - husk logged "guest boot marker after X ms" on stderr.
# --serial file: the console goes to a file (checked as above), stdout stays empty.
# --serial none: no console at all; only the exit status 0 is checked.
# --serial pty: husk names its pty on stderr; the test reads the guest's output
#   from that /dev/pts/N (checked as above; the guest gets hold=3000 so that
#   the pty is still there when the test opens it) and stdout stays empty.
# --initrd: also pass a small initrd (the boot must still pass).
# --hugepages: reserve MEMORY worth of 2 MiB huge pages (root only; the old
#   /proc/sys/vm/nr_hugepages is restored on exit), boot with --hugepages. Skips
#   when not root or when the kernel cannot find the pages.
# --expect-fail: tell the guest one vCPU more than it has (expect_cpus=CPUS+1,
#   tests=smp by default): the smp check must fail, the guest must report
#   "fail smp: ..." and "0 passed, 1 failed", and husk must exit 1 (the guest's
#   verdict through the debug-exit port).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 3)) || fail "usage: boot-guest.sh elf|bzimage CPUS MEMORY [options]"
format=$1 cpus=$2 memory=$3
shift 3
tests="" initrd=0 serial=stdio expect_fail=0 timeout_s=120 hugepages=0
while (($#)); do
	case "$1" in
	--tests) tests=$2; shift ;;
	--initrd) initrd=1 ;;
	--hugepages) hugepages=1 ;;
	--serial) serial=$2; shift ;;
	--expect-fail) expect_fail=1 ;;
	--timeout) timeout_s=$2; shift ;;
	*) fail "unknown option $1" ;;
	esac
	shift
done

case "$format" in
elf) kernel=$TESTGUEST_ELF ;;
bzimage) kernel=$TESTGUEST_BZIMAGE ;;
*) fail "format must be elf or bzimage, not $format" ;;
esac
need_husk
need_file "$kernel" "test guest ($format)"
need_kvm
make_workdir

guest_cpus=$cpus
if ((expect_fail)); then
	guest_cpus=$((cpus + 1))
	[[ -n "$tests" ]] || tests=smp
fi
cmdline="expect_mem=$memory expect_cpus=$guest_cpus"
[[ -z "$tests" ]] || cmdline="tests=$tests $cmdline"
[[ "$serial" != pty ]] || cmdline="$cmdline hold=3000"

args=(--test-devices --kernel "$kernel" --cpus "$cpus" --memory "$memory" --cmdline "$cmdline")
if ((initrd)); then
	# Some recognisable bytes, not page aligned in size.
	head -c 300001 /dev/urandom >"$WORK/initrd.img"
	args+=(--initrd "$WORK/initrd.img")
fi
if ((hugepages)); then
	nr=/proc/sys/vm/nr_hugepages
	[[ -w "$nr" ]] || skip "--hugepages needs root to reserve huge pages ($nr)"
	old_nr=$(cat "$nr")
	need=$(($(size_bytes "$memory") >> 21))
	on_exit 'echo "$old_nr" >"$nr"'
	echo $((old_nr + need)) >"$nr"
	free_now=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	((free_now >= need)) || skip "the kernel found only $free_now free huge pages of the $need needed"
	log "reserved $need huge pages (nr_hugepages $old_nr -> $(cat "$nr"))"
	args+=(--hugepages)
fi
console=$WORK/stdout
case "$serial" in
stdio) ;;
file)
	console=$WORK/serial.log
	args+=(--serial "file:$console")
	;;
none) args+=(--serial none) ;;
pty)
	console=$WORK/pty.log
	args+=(--serial pty)
	;;
*) fail "--serial must be stdio, file, none or pty" ;;
esac

log "husk ${args[*]}"
if [[ "$serial" = pty ]]; then
	start=$(date +%s%N)
	timeout -k 5 "$timeout_s" "$HUSK" "${args[@]}" </dev/null >"$WORK/stdout" 2>"$WORK/stderr" &
	pid=$!
	pts=""
	for _ in $(seq 200); do
		pts=$(grep -oE '/dev/pts/[0-9]+' "$WORK/stderr" | head -n1 || true)
		[[ -z "$pts" ]] || break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [[ -n "$pts" ]]; then
		log "reading the console from $pts"
		timeout "$timeout_s" cat "$pts" >"$console" 2>/dev/null &
		reader=$!
	else
		: >"$console"
	fi
	RC=0
	wait "$pid" || RC=$?
	ELAPSED_MS=$((($(date +%s%N) - start) / 1000000))
	if [[ -n "$pts" ]]; then
		sleep 0.2
		kill "$reader" 2>/dev/null || true
		wait "$reader" 2>/dev/null || true
	else
		problems_pre="husk named no /dev/pts/N on stderr within 10 s"
	fi
else
	run_husk "$timeout_s" "$WORK/stdout" "$WORK/stderr" "${args[@]}"
fi
log "exit status $RC after ${ELAPSED_MS} ms"

problems=()
check() { problems+=("$*"); }
[[ -z "${problems_pre:-}" ]] || check "$problems_pre"

want_rc=0
((expect_fail)) && want_rc=1
((RC == 124)) && check "husk did not stop within ${timeout_s} s"
((RC == want_rc)) || check "exit status $RC, expected $want_rc"

if [[ "$serial" = none ]]; then
	[[ ! -s "$WORK/stdout" ]] || check "--serial none but husk wrote to stdout"
elif [[ ! -f "$console" ]]; then
	check "no console output file $console"
else
	if [[ "$serial" != stdio && -s "$WORK/stdout" ]]; then
		check "--serial $serial but the guest's output also reached stdout"
	fi
	tr -d '\r' <"$console" >"$WORK/console"
	grep -q 'boot-marker' "$WORK/console" || check "no 'boot-marker' line on the console"
	grep -qxF "cmdline: $cmdline" "$WORK/console" ||
		check "no line 'cmdline: $cmdline' (the exact command line) on the console"
	nok=$(grep -c '^ok ' "$WORK/console" || true)
	nfail=$(grep -c '^fail ' "$WORK/console" || true)
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/console" | tail -n1 || true)
	if ((expect_fail)); then
		grep -q '^fail smp' "$WORK/console" || check "the smp check did not fail with expect_cpus=$guest_cpus"
		[[ "$summary" = "$nok passed, $nfail failed" && $nfail -ge 1 ]] ||
			check "summary '$summary' does not match $nok ok / $nfail fail lines"
	else
		((nfail == 0)) || check "$nfail check(s) failed: $(grep '^fail ' "$WORK/console" | tr '\n' ';')"
		((nok >= 1)) || check "no 'ok NAME' line"
		[[ "$summary" = "$nok passed, 0 failed" ]] ||
			check "summary line is '$summary', expected '$nok passed, 0 failed'"
		if [[ -n "$tests" ]]; then
			IFS=, read -r -a want <<<"$tests"
			for t in "${want[@]}"; do
				grep -qE "^ok $t( |$)" "$WORK/console" || check "no 'ok $t' line"
			done
		fi
	fi
fi
grep -qE '^husk: .*boot marker after [0-9.]+ ms' "$WORK/stderr" ||
	check "husk did not log 'guest boot marker after X ms' on stderr"

if ((${#problems[@]})); then
	[[ -f "$console" && "$console" != "$WORK/stdout" ]] && show_file "console ($console)" "$console"
	show_file "stdout" "$WORK/stdout"
	show_file "stderr" "$WORK/stderr"
	for p in "${problems[@]}"; do echo "[$TEST_NAME] FAIL: $p" >&2; done
	exit 1
fi
[[ ! -f "$WORK/console" ]] || show_file "console" "$WORK/console" 40
grep -E '^husk: ' "$WORK/stderr" >&2 || true
log "PASS (${nok:-no} checks, ${ELAPSED_MS} ms)"
