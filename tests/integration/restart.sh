#!/bin/bash
# --on-reboot restart: a guest reboot builds the VM again in the same husk.
#
#   restart.sh            run every case
#   restart.sh NAME...    run these cases (ctest runs one per test)
#   restart.sh --list     print the case names
#
# The test guest with finish=reset reboots (i8042 pulse) after its checks.
# exit: without the flag a reboot ends husk with status 0 after one boot.
# restart: with it, the guest boots again and again on the same console
#   file (every boot's marker and verdict in it); SIGTERM after the third
#   boot ends husk with 0; the events file has started, shutdown,
#   restarted in turn.
# loop: hold=0: more than 10 reboots within 60 s are a boot loop: husk
#   stops with status 2, says so in one line and in an "error" event.
# restored: a VM restored from a snapshot and rebooted boots its kernel
#   afresh (its memory check starts again from pass 1).
# bad: --on-reboot sometimes is a usage error (exit 1, one line).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="exit restart loop restored bad"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

# console FILE: the guest's console as plain lines. Never fails: a grep -q that
# stops reading early must not fail the pipeline through tr's SIGPIPE.
console() { tr -d '\r' <"$1" 2>/dev/null || true; }
boots() { console "$1" | grep -c '^boot-marker$' || true; }
events() { sed -n 's/.*"event":"\([^"]*\)".*/\1/p' "$1" | tr '\n' ' '; }

case_exit() {
	run_husk 60 "$WORK/out" "$WORK/err" --test-devices --serial "file:$WORK/con" \
		--kernel "$TESTGUEST_ELF" --cmdline "tests=serial finish=reset"
	((RC == 0)) || fail "exit $RC"
	[[ $(boots "$WORK/con") = 1 ]] || fail "$(boots "$WORK/con") boots, want 1"
	grep -q "guest reboot (i8042 reset)" "$WORK/err" || fail "no reboot logged"
}

case_restart() {
	local pid n
	"$HUSK" --on-reboot restart --test-devices --serial "file:$WORK/con" \
		--events "$WORK/ev" --kernel "$TESTGUEST_ELF" \
		--cmdline "tests=serial,irq finish=reset hold=400" </dev/null >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null || true"
	for _ in $(seq 200); do
		n=$(console "$WORK/con" | grep -c '^2 passed, 0 failed$' || true)
		((n >= 3)) && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null || true
	RC=0
	wait "$pid" || RC=$?
	((RC == 0)) || { show_file stderr "$WORK/err"; fail "exit $RC"; }
	n=$(boots "$WORK/con")
	((n >= 3)) || { show_file console "$WORK/con"; fail "$n boots, want at least 3"; }
	[[ "$(events "$WORK/ev")" = "started shutdown restarted started shutdown restarted started "* ]] ||
		fail "events: $(events "$WORK/ev")"
	log "$n boots on one console; $(grep -c 'restarting the VM' "$WORK/err") restarts"
}

case_loop() {
	run_husk 60 "$WORK/out" "$WORK/err" --on-reboot restart --test-devices \
		--serial "file:$WORK/con" --events "$WORK/ev" --kernel "$TESTGUEST_ELF" \
		--cmdline "tests=serial finish=reset"
	((RC == 2)) || fail "exit $RC, want 2"
	[[ $(boots "$WORK/con") = 11 ]] || fail "$(boots "$WORK/con") boots, want 11"
	grep -q "rebooted 11 times within 60 s: a boot loop" "$WORK/err" || fail "no boot loop line"
	grep -q '"event":"error"' "$WORK/ev" || fail "no error event"
}

case_restored() {
	local sock=$WORK/api.sock pid
	"$HUSK" --api-sock "$sock" --test-devices --serial "file:$WORK/con0" \
		--kernel "$TESTGUEST_ELF" --memory 128M \
		--cmdline "tests=memory mem_passes=40 finish=reset" </dev/null >"$WORK/out0" 2>"$WORK/err0" &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null || true"
	for _ in $(seq 200); do
		console "$WORK/con0" 2>/dev/null | grep -q '^memory: pass 3 of' && break
		sleep 0.05
	done
	curl -sf --unix-socket "$sock" -X PATCH http://localhost/vm -d '{"state":"Paused"}' ||
		fail "pause"
	curl -sf --unix-socket "$sock" -X PUT http://localhost/snapshot/create \
		-d "{\"snapshot_path\":\"$WORK/vm.snap\",\"mem_file_path\":\"$WORK/vm.mem\"}" ||
		fail "snapshot"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	"$HUSK" --restore "$WORK/vm.snap" --restore-mem "$WORK/vm.mem" --resume --on-reboot restart \
		--serial "file:$WORK/con1" </dev/null >"$WORK/out1" 2>"$WORK/err1" &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null || true"
	for _ in $(seq 400); do
		(($(boots "$WORK/con1") >= 1)) && break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
	(($(boots "$WORK/con1") >= 1)) || { show_file console "$WORK/con1"; show_file stderr "$WORK/err1"; fail "the restored VM did not boot afresh"; }
	console "$WORK/con1" | grep -q "^memory: pass 40 of 40$" ||
		{ show_file console "$WORK/con1"; show_file stderr "$WORK/err1"; fail "the restored run did not finish first"; }
	console "$WORK/con1" | sed -n '/^boot-marker$/,$p' | grep -q '^memory: pass 1 of' ||
		fail "the rebooted VM did not start its memory check again"
}

case_bad() {
	run_husk 10 "$WORK/out" "$WORK/err" --on-reboot sometimes --kernel "$TESTGUEST_ELF"
	((RC == 1)) || fail "exit $RC, want 1"
	[[ "$(cat "$WORK/err")" = "husk: --on-reboot sometimes: expected exit or restart" ]] ||
		fail "got: $(cat "$WORK/err")"
}

need_husk
need_file "$TESTGUEST_ELF" "test guest"
[[ "${1:-}" = bad ]] || need_kvm
make_workdir
# shellcheck disable=SC2086 # the case names have no blanks
(($#)) || set -- $CASES
for c in "$@"; do
	"case_$c"
	log "ok $c"
done
