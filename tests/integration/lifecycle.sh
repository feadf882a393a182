#!/bin/bash
# How a VM ends: signals, guest reset, halt, debug-exit, VMM errors. Uses the
# tiny kernels of tests/integration/tiny/ (flat 64-bit ELFs, built with the
# tests), which print "tiny: NAME" on COM1 and write the boot-marker port first.
#
#   lifecycle.sh CASE     CASE is one of the names in --list
#   lifecycle.sh --list
#
# Every case asserts the exit status, a stop line on stderr naming the reason,
# that the guest's "tiny: NAME" line reached stdout and that husk logged the
# boot marker. sigterm-testguest uses the real test guest instead (2 vCPUs,
# all checks, then hold=60000) and signals it 0.2 s after its boot marker.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name | kernel | husk flags | how it ends | expected status | ERE on stderr
CASES=$(
	cat <<'EOF'
sigterm-grace    | loop   | --shutdown-timeout 1 | TERM | 0 | did not power off within 1 s
sigterm-twice    | loop   |         | TERMTERM | 0 | received Terminated, stopping
sigterm-now      | loop   | --shutdown-timeout 0 | TERM | 0 | stopped by signal
sigint           | loop   |         | INT  | 0   | stopped by signal
sigterm-2cpus    | loop   | --cpus 2 --shutdown-timeout 0 | TERM | 0 | stopped by signal
sighup           | loop   |         | HUP  | 0   | stopped by signal
sigterm-testguest| testguest | --test-devices --cpus 2 --memory 64M --shutdown-timeout 0 --cmdline hold=60000 | TERM | 0 | stopped by signal
console-escape   | loop   |         | ESC  | 0   | stopped from the console
debug-exit-42    | exit42 | --test-devices | -    | 42  | debug-exit
debug-exit-0x1ff | exit511| --test-devices | -    | 255 | debug-exit
reset-i8042      | i8042  |         | -    | 0   | guest reboot \(i8042 reset\)
triple-fault     | triple |         | -    | 0   | guest reset \(triple fault\)
halt             | halt   |         | -    | 0   | guest halted
kvm-error        | badfetch|        | -    | 2   | [Rr][Ii][Pp][ =:]+(0x)?0*[dD]0000000
EOF
)

if [[ "${1:-}" = --list ]]; then
	sed -n 's/^\([^ |]*\) *|.*/\1/p' <<<"$CASES"
	exit 0
fi
(($# == 1)) || fail "usage: lifecycle.sh CASE | --list"
name=$1
TEST_NAME="lifecycle/$name"
line=$(grep -E "^$name *\|" <<<"$CASES" | head -n1) || fail "no such case $name"
IFS='|' read -r _ kernel flags how want_rc want_re <<<"$line"
trim() { sed 's/^ *//; s/ *$//' <<<"$1"; }
kernel=$(trim "$kernel") how=$(trim "$how") want_rc=$(trim "$want_rc") want_re=$(trim "$want_re")
read -r -a flags <<<"$flags"

need_husk
if [[ "$kernel" = testguest ]]; then
	# the real test guest: all its checks, then hold=MS keeps it up
	kfile=$TESTGUEST_ELF
	want_out=boot-marker
else
	kfile=$TINY_DIR/$kernel.elf
	want_out="tiny: $kernel"
fi
need_file "$kfile" "$kernel kernel"
need_kvm
make_workdir
out=$WORK/stdout err=$WORK/stderr

args=(--kernel "$kfile" "${flags[@]}")
log "husk ${args[*]}"
start=$(date +%s%N)
if [[ "$how" = ESC ]]; then
	# Ctrl-A x on the console (a pipe goes through the same escape filter as a terminal)
	mkfifo "$WORK/stdin"
	"$HUSK" "${args[@]}" <"$WORK/stdin" >"$out" 2>"$err" &
	pid=$!
	exec 3>"$WORK/stdin"
else
	"$HUSK" "${args[@]}" </dev/null >"$out" 2>"$err" &
	pid=$!
fi

# wait_exit SECONDS: wait for husk to end; sets RC (124 if it did not).
wait_exit() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		RC=124
	else
		RC=0
		wait "$pid" || RC=$?
	fi
}

problems=()
if [[ "$how" != - ]]; then
	deadline=$((SECONDS + 30))
	until grep -q 'boot marker' "$err" || ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); do
		sleep 0.05
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		problems+=("husk ended before it was sent SIG$how")
		wait_exit 1
	else
		grep -q 'boot marker' "$err" || problems+=("no boot marker within 30 s; sending SIG$how anyway")
		sleep 0.2 # let the guest spin a little
		sig_at=$(date +%s%N)
		case "$how" in
		ESC) printf '\001x' >&3 ;;
		TERMTERM) kill -TERM "$pid"; sleep 0.3; kill -TERM "$pid" ;;
		*) kill "-$how" "$pid" ;;
		esac
		wait_exit 5
		((RC == 124)) && problems+=("husk still running 5 s after SIG$how")
		log "SIG$how -> exit in $((($(date +%s%N) - sig_at) / 1000000)) ms"
	fi
else
	wait_exit 30
	((RC == 124)) && problems+=("husk did not stop within 30 s")
fi
log "exit status $RC after $((($(date +%s%N) - start) / 1000000)) ms"

((RC == want_rc)) || problems+=("exit status $RC, expected $want_rc")
grep -q "$want_out" "$out" || problems+=("no '$want_out' on stdout (the guest did not run)")
grep -qE '^husk: .*boot marker after [0-9.]+ ms' "$err" || problems+=("no boot marker line on stderr")
grep -qE "$want_re" "$err" || problems+=("stderr does not match /$want_re/ (the stop reason)")

if ((${#problems[@]})); then
	show_file stdout "$out" 40
	show_file stderr "$err" 60
	for p in "${problems[@]}"; do echo "[$TEST_NAME] FAIL: $p" >&2; done
	exit 1
fi
grep -E '^husk: ' "$err" | tail -n 5 >&2 || true
log PASS
