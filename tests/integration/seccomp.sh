#!/bin/bash
# Seccomp per thread role on a running husk (docs/security.md).
#
#   seccomp.sh --list
#   seccomp.sh CASE
#
#   threads      the test guest drives virtio-blk with the API up:
#                every thread of husk (vCPUs, device threads, watchdog, HTTP,
#                main) shows "Seccomp: 2", and the guest's checks pass
#   off          --no-seccomp: every thread shows "Seccomp: 0"
#   log          --seccomp log with the vcpu self-test: the forbidden call is let
#                through, the guest finishes, husk exits 0
#   role-ROLE    HUSK_SECCOMP_SELFTEST=ROLE (vcpu, device, main, api, watchdog,
#                migration): that thread calls uname after entering its filter;
#                husk exits 148 with one line naming the role and the call
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES=(threads off log role-vcpu role-device role-main role-api role-watchdog role-migration)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: seccomp.sh --list | CASE"
case=$1
need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"
need_kvm
make_workdir
SOCK=$WORK/api.sock

# seccomp_of PID: "comm mode" for each of its threads (one that ends meanwhile: left out)
seccomp_of() {
	local t comm mode
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		mode=$(awk '/^Seccomp:/ {print $2}' "$t/status" 2>/dev/null) || continue
		[[ -n "$comm" && -n "$mode" ]] && echo "$comm $mode"
	done
	return 0
}

# threads_case WANT ARGS...: run the guest (blk) held up, check every thread shows WANT.
threads_case() {
	local want=$1 pid modes
	shift
	truncate -s 128M "$WORK/disk.img"
	"$HUSK" --test-devices --kernel "$TESTGUEST_ELF" --api-sock "$SOCK" \
		--disk "path=$WORK/disk.img" --cmdline "tests=virtio-blk hold=4000" \
		"$@" </dev/null >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null || true"
	# the device threads live while the guest drives them: sample from the
	# guest's first line (the VM runs: every thread has entered its role) to its summary
	modes=""
	for _ in $(seq 1000); do
		grep -q "boot-marker" "$WORK/out" 2>/dev/null && modes+=$(seccomp_of "$pid")$'\n'
		grep -q "passed, .* failed" "$WORK/out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	modes=$(sort -u <<<"$modes" | grep -v '^ *$')
	wait_pid "$pid" 30
	console_copy "$WORK/out" "$WORK/console"
	if ((RC != 0)) || ! grep -qx "1 passed, 0 failed" "$WORK/console"; then
		show_file "husk stdout" "$WORK/out"
		show_file "husk stderr" "$WORK/err"
		fail "husk exited $RC, or the guest's checks did not pass"
	fi
	log "threads: $(tr '\n' ',' <<<"$modes")"
	for role in vcpu0 blk husk-watchdog MHD husk; do
		grep -q "^$role" <<<"$modes" || fail "no $role thread seen: $modes"
	done
	if grep -v " $want\$" <<<"$modes" | grep -q .; then
		fail "threads not in seccomp mode $want: $(grep -v " $want\$" <<<"$modes" | tr '\n' ',')"
	fi
}

# role_case ROLE: the self-test in ROLE ends husk with 148 and the report.
role_case() {
	local role=$1 pid
	local line="seccomp: the $role thread made a forbidden system call: uname (63); exiting with status 148"
	local tests=virtio-rng
	if [[ "$role" = migration ]]; then
		HUSK_SECCOMP_SELFTEST=$role "$HUSK" --test-devices --kernel "$TESTGUEST_ELF" \
			--api-sock "$SOCK" --cmdline "tests=$tests hold=20000" \
			</dev/null >"$WORK/out" 2>"$WORK/err" &
		pid=$!
		on_exit "kill -KILL $pid 2>/dev/null || true"
		# a peer that takes the connection and says nothing: the thread starts
		python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); time.sleep(30)' "$WORK/peer.sock" &
		on_exit "kill $! 2>/dev/null || true"
		for _ in $(seq 100); do [[ -S "$SOCK" && -S "$WORK/peer.sock" ]] && break; sleep 0.1; done
		expect PUT /migration "{\"destination_url\":\"unix:$WORK/peer.sock\"}" 204
		wait_pid "$pid" 30
	else
		HUSK_SECCOMP_SELFTEST=$role run_husk 60 "$WORK/out" "$WORK/err" --test-devices \
			--kernel "$TESTGUEST_ELF" --api-sock "$SOCK" --cmdline "tests=$tests"
	fi
	if ((RC != 148)) || ! grep -qF "husk: $line" "$WORK/err" || (($(wc -l <"$WORK/err") > 8)); then
		show_file "husk stderr" "$WORK/err"
		fail "role $role: exit $RC, want 148 and '$line'"
	fi
	[[ ! -e "$SOCK" ]] || log "note: the API socket file stays after a seccomp kill"
	log "role $role: exit 148: $(grep -F 'seccomp:' "$WORK/err")"
}

case "$case" in
threads) threads_case 2 ;;
off) threads_case 0 --no-seccomp ;;
log)
	HUSK_SECCOMP_SELFTEST=vcpu run_husk 60 "$WORK/out" "$WORK/err" --seccomp log \
		--test-devices --kernel "$TESTGUEST_ELF" --cmdline "tests=virtio-rng"
	console_copy "$WORK/out" "$WORK/console"
	if ((RC != 0)) || ! grep -qx "1 passed, 0 failed" "$WORK/console" ||
		grep -q "seccomp:" "$WORK/err"; then
		show_file "husk stderr" "$WORK/err"
		fail "--seccomp log: exit $RC, want 0 and the guest's checks passed"
	fi
	log "--seccomp log: the vCPU's uname went through, exit 0"
	;;
role-*) role_case "${case#role-}" ;;
*) fail "unknown case $case (see --list)" ;;
esac
