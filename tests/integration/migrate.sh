#!/bin/bash
# Live migration of a running test guest between two husk processes
# (docs/migration.md), as a user would drive it.
#
#   migrate.sh            run every case
#   migrate.sh NAME...    run these cases (ctest runs one per test)
#   migrate.sh --list     print the case names
#
# The source boots the test guest (256 MiB, 2 vCPUs) with --api-sock; its
# memory check (mem_passes: write all of guest RAM with a pattern, verify
# it, again and again) is at its third pass when PUT /migration starts.
#
# unix: to husk --incoming unix:PATH. The destination finishes the check
#   ("N passed, 0 failed", exit 0 through --test-devices), the source exits
#   0 without having finished it, both event files hold migration-completed
#   with its figures, the source's says why it stopped.
# tcp: the same over tcp:127.0.0.1:PORT.
# auth: over TCP with --migration-secret (a mutual HMAC challenge): a
#   source with another secret is refused (the destination exits 1, "the
#   peers' secrets differ"; the source's GET /migration says failed and why), a source without one too ("the source did not authenticate");
#   with the same secret on both sides the guest migrates.
# postcopy: mode postcopy: the switch after one pass, the destination
#   finishes the check with 0 failed while its pages come (faults asked for
#   first), the source exits 0 once it has sent them all.
# postcopy-source-dies: the source killed with SIGKILL after the switch:
#   the destination cannot go on (its pages are gone) and exits 2 with one
#   line saying so, instead of hanging.
# disk: the guest checks its disk (an image both processes name), migrates
#   mid-check and checks the disk again on the destination: the source let
#   go of the image's lock at the hand-over and the destination took it
#   (a third husk on the image is refused while the destination runs).
# paused: a paused VM migrates and stays paused on the destination
#   (GET / says Paused, its console does not move) until PATCH Resumed.
# dest-dies: a destination that reads 1 MB and dies: the source's GET
#   /migration says failed, it emits migration-failed and finishes its
#   check itself.
# cancel: a destination that reads 64 KiB a second; PATCH /vm and a second
#   PUT /migration are 400 while it runs; PUT /migration/cancel: state
#   cancelled, the source finishes its check.
# timeout: the same slow destination with timeout_s 1: failed, "timeout_s".
# source-dies: the source killed with SIGKILL mid-stream: the destination
#   exits 1 with one line, leaves no socket, and never ran the guest.
# bad-streams: a real stream captured by a stand-in destination
#   (mig-peer.py), then sent to husk --incoming cut short, with one byte
#   flipped in a page, with another version, and as garbage: each time the
#   destination exits 1 with one line naming the fault and tells the sender
#   why (ERROR), and no socket file is left.
# refusals: PUT /migration without a URL, with a bad one, a mode neither
#   precopy nor postcopy, an unknown key, before the VM runs, to a socket
#   nobody serves: 400; --incoming with --kernel or --restore, or on a
#   regular file: exit 1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="unix tcp auth postcopy postcopy-source-dies disk paused dest-dies cancel timeout source-dies bad-streams refusals"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

MEM=256
PASSES=${MIG_PASSES:-60}
PEER="$INT_SRC_DIR/mig-peer.py"

# start_dest URL NAME [ARGS...]: husk --incoming URL in the background,
# console $WORK/NAME.con, events $WORK/NAME.ev. Sets DPID.
start_dest() {
	local url=$1 name=$2
	shift 2
	[[ "$url" != unix:* ]] || rm -f "${url#unix:}"	# never wait on a stale one
	"$HUSK" --incoming "$url" --test-devices --serial "file:$WORK/$name.con" \
		--events "$WORK/$name.ev" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
	DPID=$!
	on_exit "kill -KILL $DPID 2>/dev/null || true"
	if [[ "$url" = unix:* ]]; then
		for _ in $(seq 100); do
			[[ -S "${url#unix:}" ]] && return 0
			sleep 0.05
		done
		show_file "destination stderr" "$WORK/$name.err"
		fail "the destination never listened on $url"
	fi
	for _ in $(seq 100); do
		grep -q "waiting for a migration" "$WORK/$name.err" && return 0
		sleep 0.05
	done
	fail "the destination never listened on $url"
}

console() { { tr -d '\r' <"$1"; } 2>/dev/null || true; }

# boot_source [EXTRA_CMDLINE [HUSK ARGS...]]: the test guest through the API,
# at its memory check's pass 3 when this returns. Console $WORK/src.con,
# events $WORK/src.ev.
boot_source() {
	local extra=${1:-}
	shift || true
	start_husk "$WORK/api0.sock" "$WORK/src.out" "$WORK/src.err" --test-devices \
		--serial "file:$WORK/src.con" --events "$WORK/src.ev" "$@"
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"expect_mem=${MEM}M expect_cpus=2 mem_passes=$PASSES $extra\"}" 204
	expect PUT /machine-config "{\"vcpu_count\":2,\"mem_size_mib\":$MEM}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in $(seq 600); do
		console "$WORK/src.con" | grep -q "^memory: pass 3 of" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	show_file console "$WORK/src.con"
	fail "the guest never reached its memory check's pass 3"
}

# passed CONSOLE ERR [PASSES]: that guest finished every pass of its check.
passed() {
	local con=$1 err=$2 passes=${3:-$PASSES}
	if ((RC != 0)) || ! console "$con" | grep -qx "ok memory" ||
		! console "$con" | grep -qx "memory: pass $passes of $passes" ||
		! console "$con" | grep -qE '^[0-9]+ passed, 0 failed$'; then
		show_file "source console" "$WORK/src.con" 20
		show_file "console" "$con" 20
		show_file "stderr" "$err"
		fail "the guest did not finish its check (exit $RC)"
	fi
}

# migrated URL: PUT /migration to URL; the source exits 0 mid-check, the
# destination (already started as "dst") finishes it.
migrated() {
	expect PUT /migration "{\"destination_url\":\"$1\",\"downtime_ms\":50}" 204
	wait_pid "$PID" 60
	((RC == 0)) || { show_file "source stderr" "$WORK/src.err"; fail "the source exited $RC"; }
	grep -q "migrated to $1" "$WORK/src.err" || fail "the source does not say it migrated"
	if console "$WORK/src.con" | grep -qx "ok memory"; then
		fail "the check ended on the source: nothing was migrated mid-check"
	fi
	wait_pid "$DPID" 60
	passed "$WORK/dst.con" "$WORK/dst.err"
	for ev in "$WORK/src.ev" "$WORK/dst.ev"; do
		grep -qE '"event":"migration-completed","downtime_ms":[0-9]+,"total_ms":[0-9]+,"bytes":[0-9]+,"rounds":[0-9]+' "$ev" ||
			{ show_file events "$ev"; fail "no migration-completed event in $ev"; }
	done
	grep -q '"reason":"migrated to its destination","exit_status":0' "$WORK/src.ev" ||
		fail "the source's shutdown event does not say it migrated"
	log "$(grep -o 'migrated to .* in .*' "$WORK/src.err"); the destination went on from" \
		"$(console "$WORK/dst.con" | grep '^memory: pass' | head -n 1)"
}

case_unix() {
	start_dest "unix:$WORK/mig.sock" dst
	boot_source
	migrated "unix:$WORK/mig.sock"
	[[ ! -e "$WORK/mig.sock" ]] || fail "the destination left its socket file"
}

case_tcp() {
	local port=$((20000 + RANDOM % 30000))
	start_dest "tcp:127.0.0.1:$port" dst
	boot_source
	migrated "tcp:127.0.0.1:$port"
}

case_auth() {
	local port=$((20000 + RANDOM % 30000))
	printf 'a shared secret of the two hosts\n' >"$WORK/secret"
	printf 'the wrong secret, also long enough\n' >"$WORK/wrong"
	# a source that knows another secret: refused, runs on
	start_dest "tcp:127.0.0.1:$port" dst --migration-secret "$WORK/secret"
	boot_source "" --migration-secret "$WORK/wrong"
	expect PUT /migration "{\"destination_url\":\"tcp:127.0.0.1:$port\"}" 204
	wait_pid "$DPID" 30
	((RC == 1)) && grep -q "authentication failed: the peers' secrets differ" "$WORK/dst.err" ||
		{ show_file stderr "$WORK/dst.err"; fail "wrong secret: exit $RC"; }
	for _ in $(seq 100); do
		api GET /migration
		[[ "$BODY" = *'"state":"failed"'* ]] && break
		sleep 0.05
	done
	[[ "$BODY" = *"authentication"* ]] || fail "the source's GET /migration: $BODY"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	# a source without a secret: refused
	port=$((port + 1))
	start_dest "tcp:127.0.0.1:$port" dst --migration-secret "$WORK/secret"
	boot_source
	expect PUT /migration "{\"destination_url\":\"tcp:127.0.0.1:$port\"}" 204
	wait_pid "$DPID" 30
	((RC == 1)) && grep -q "the source did not authenticate" "$WORK/dst.err" ||
		{ show_file stderr "$WORK/dst.err"; fail "no secret: exit $RC"; }
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	# both know it: migrated
	port=$((port + 1))
	start_dest "tcp:127.0.0.1:$port" dst --migration-secret "$WORK/secret"
	boot_source "" --migration-secret "$WORK/secret"
	migrated "tcp:127.0.0.1:$port"
}

case_postcopy() {
	start_dest "unix:$WORK/mig.sock" dst
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"mode\":\"postcopy\"}" 204
	wait_pid "$PID" 60
	((RC == 0)) || { show_file "source stderr" "$WORK/src.err"; fail "the source exited $RC"; }
	grep -q "postcopy: the destination runs the VM" "$WORK/src.err" || fail "no post-copy switch"
	wait_pid "$DPID" 60
	passed "$WORK/dst.con" "$WORK/dst.err"
	grep -q "postcopy: every page in place" "$WORK/dst.err" ||
		{ show_file stderr "$WORK/dst.err"; fail "the destination never had every page"; }
	log "$(grep -o 'switch .*' "$WORK/src.err"); $(grep -o 'every page in place.*' "$WORK/dst.err")"
}

case_postcopy_source_dies() {
	start_dest "unix:$WORK/mig.sock" dst
	MEM=1024 boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"mode\":\"postcopy\"}" 204
	for _ in $(seq 600); do
		grep -q "postcopy: the destination runs the VM" "$WORK/src.err" && break
		sleep 0.01
	done
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	wait_pid "$DPID" 60
	if grep -q "postcopy: every page in place" "$WORK/dst.err"; then
		log "every page had come before the kill: nothing to test this time"
		return
	fi
	((RC == 2)) || { show_file stderr "$WORK/dst.err"; fail "the destination exited $RC, want 2"; }
	grep -q "the VM cannot go on" "$WORK/dst.err" || { show_file stderr "$WORK/dst.err"; fail "no reason"; }
}

case_disk() {
	truncate -s 4M "$WORK/disk.img"
	start_dest "unix:$WORK/mig.sock" dst
	boot_source "tests=virtio-blk,memory,virtio-blk blk_serial=disk0" --disk "path=$WORK/disk.img"
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"downtime_ms\":50}" 204
	wait_pid "$PID" 60
	((RC == 0)) || { show_file "source stderr" "$WORK/src.err"; fail "the source exited $RC"; }
	for _ in $(seq 100); do
		console "$WORK/dst.con" | grep -q "^memory: pass" && break
		sleep 0.05
	done
	run_husk 10 "$WORK/o3" "$WORK/e3" --kernel "$TESTGUEST_ELF" --disk "path=$WORK/disk.img"
	if ((RC != 1)) || ! grep -q "in use by another process" "$WORK/e3"; then
		cat "$WORK/e3" >&2
		fail "a third husk opened the destination's disk (exit $RC)"
	fi
	wait_pid "$DPID" 60
	passed "$WORK/dst.con" "$WORK/dst.err"
	console "$WORK/src.con" | grep -qx "ok virtio-blk" || fail "the source's disk check did not pass"
	console "$WORK/dst.con" | grep -qx "ok virtio-blk" || fail "the destination's disk check did not pass"
	console "$WORK/dst.con" | grep -qx "3 passed, 0 failed" || fail "not 3 passed"
}

case_paused() {
	local before
	start_dest "unix:$WORK/mig.sock" dst --api-sock "$WORK/api1.sock"
	boot_source
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	wait_pid "$PID" 60
	((RC == 0)) || fail "the source exited $RC"
	SOCK=$WORK/api1.sock
	for _ in $(seq 100); do
		[[ -S "$SOCK" ]] && break
		sleep 0.05
	done
	expect GET / "" 200 '"state":"Paused"'
	before=$(stat -c %s "$WORK/dst.con")
	sleep 0.5
	[[ $(stat -c %s "$WORK/dst.con") = "$before" ]] || fail "the paused destination ran"
	expect PATCH /vm '{"state":"Resumed"}' 204
	wait_pid "$DPID" 60
	passed "$WORK/dst.con" "$WORK/dst.err"
}

# src_finishes: the source went on and finished the check itself.
src_finishes() {
	wait_pid "$PID" 60
	passed "$WORK/src.con" "$WORK/src.err"
	grep -q '"event":"migration-failed"' "$WORK/src.ev" ||
		{ show_file events "$WORK/src.ev"; fail "no migration-failed event"; }
}

# wait_state STATE: GET /migration until it says STATE.
wait_state() {
	for _ in $(seq 300); do
		api GET /migration
		[[ "$BODY" = *"\"state\":\"$1\""* ]] && return 0
		sleep 0.05
	done
	fail "GET /migration never said $1: $BODY"
}

case_dest_dies() {
	python3 "$PEER" die-after "$WORK/mig.sock" 1048576 &
	on_exit "kill -KILL $! 2>/dev/null || true"
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	wait_state failed
	log "GET /migration: $BODY"
	[[ "$BODY" = *'"error":"sending guest RAM: the stream was cut'* ]] || fail "no reason: $BODY"
	src_finishes
}

case_cancel() {
	python3 "$PEER" slow "$WORK/mig.sock" &
	on_exit "kill -KILL $! 2>/dev/null || true"
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	expect GET /migration "" 200 '"state":"active"'
	expect PATCH /vm '{"state":"Paused"}' 400 "a migration is in progress"
	expect PUT /snapshot/create "{\"snapshot_path\":\"$WORK/s\",\"mem_file_path\":\"$WORK/m\"}" \
		400 "a migration is in progress"
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 400 "already in progress"
	expect PUT /migration/cancel "" 204
	wait_state cancelled
	expect PUT /migration/cancel "" 400 "no migration is in progress"
	src_finishes
}

case_timeout() {
	python3 "$PEER" slow "$WORK/mig.sock" &
	on_exit "kill -KILL $! 2>/dev/null || true"
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"timeout_s\":1}" 204
	wait_state failed
	[[ "$BODY" = *"not done after timeout_s 1 s"* ]] || fail "no timeout reason: $BODY"
	src_finishes
}

# dest_refused WHY: the destination exited 1 with one line holding WHY, no socket left.
dest_refused() {
	wait_pid "$DPID" 30
	((RC == 1)) || { show_file stderr "$WORK/dst.err"; fail "the destination exited $RC, want 1"; }
	grep -q -- "$1" "$WORK/dst.err" || { show_file stderr "$WORK/dst.err"; fail "no '$1' line"; }
	[[ ! -e "$WORK/mig.sock" ]] || fail "the destination left its socket file"
	if console "$WORK/dst.con" | grep -q "memory"; then
		fail "the refused destination ran the guest"
	fi
	log "destination: $(grep -v 'waiting for a migration' "$WORK/dst.err" | head -n 1)"
}

case_source_dies() {
	start_dest "unix:$WORK/mig.sock" dst
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	dest_refused "the stream was cut"
}

# sent ANSWER_SUBSTRING WHY ARGS...: send the captured stream, changed by ARGS.
sent() {
	local answer=$1 why=$2
	shift 2
	rm -f "$WORK/dst.con"
	start_dest "unix:$WORK/mig.sock" dst
	python3 "$PEER" send "$WORK/mig.sock" "$WORK/stream" "$@" >"$WORK/answer"
	dest_refused "$why"
	grep -q -- "$answer" "$WORK/answer" || { cat "$WORK/answer" >&2; fail "the sender was told: $(cat "$WORK/answer")"; }
}

case_bad_streams() {
	local page
	python3 "$PEER" capture "$WORK/mig.sock" "$WORK/stream" &
	local cap=$!
	on_exit "kill -KILL $cap 2>/dev/null || true"
	boot_source
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	wait "$cap" || fail "the capture failed"
	wait_state failed
	[[ "$BODY" = *"the destination refused the VM: captured"* ]] || fail "source: $BODY"
	src_finishes
	# the first PAGES record: after the hello and STATE_PRE
	page=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",d[24:32])[0]; print(16+16+n+16+16+100)' "$WORK/stream")
	sent "answer 7 migration stream" "the stream was cut" --truncate 5000000
	sent "answer 7 migration stream" "checksum mismatch (a corrupt stream)" --flip "$page"
	sent "answer 7 migration stream" "stream version 9, this husk speaks version 1" --version 9
	printf 'GET / HTTP/1.1\r\n\r\n' >"$WORK/garbage"
	cp "$WORK/garbage" "$WORK/stream"
	sent "answer 7" "not a husk migration stream"
}

# exit1_with TEXT: the last run_husk exited 1 with TEXT in $WORK/e.
exit1_with() {
	((RC == 1)) || { cat "$WORK/e" >&2; fail "exit $RC, want 1 ($1)"; }
	grep -q -- "$1" "$WORK/e" || { cat "$WORK/e" >&2; fail "no '$1'"; }
}

case_refusals() {
	start_husk "$WORK/api0.sock" "$WORK/src.out" "$WORK/src.err"
	expect PUT /migration '{"destination_url":"unix:/nonexistent/x"}' 400 \
		"not supported before starting"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	boot_source
	expect PUT /migration '{}' 400 "destination_url: required"
	expect PUT /migration '{"destination_url":"ftp://x"}' 400 "expected unix:PATH or tcp:HOST:PORT"
	expect PUT /migration '{"destination_url":"tcp::80"}' 400 "a host is required"
	expect PUT /migration '{"destination_url":"tcp:127.0.0.1:0"}' 400 "port must be 1..65535"
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"mode\":\"xcopy\"}" \
		400 "mode: expected \\\"precopy\\\" or \\\"postcopy\\\""
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"speed\":1}" 400 \
		"speed: unknown key"
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/mig.sock\",\"downtime_ms\":0}" 400 \
		"downtime_ms: expected an integer 1..60000"
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/none.sock\"}" 400 \
		"unix:$WORK/none.sock: No such file or directory"
	expect GET /migration "" 200 '"state":"none"'
	expect PUT /migration/cancel "" 400 "no migration is in progress"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	run_husk 10 "$WORK/o" "$WORK/e" --incoming "unix:$WORK/x.sock" --kernel "$TESTGUEST_ELF"
	exit1_with "--kernel cannot be given with it"
	run_husk 10 "$WORK/o" "$WORK/e" --incoming "unix:$WORK/x.sock" --restore "$WORK/s"
	exit1_with "--restore cannot be given with it"
	touch "$WORK/file"
	run_husk 10 "$WORK/o" "$WORK/e" --incoming "unix:$WORK/file"
	exit1_with "exists and is not a socket"
	[[ -f "$WORK/file" ]] || fail "--incoming removed a regular file"
	run_husk 10 "$WORK/o" "$WORK/e" --incoming "tcp:nohost.invalid:1"
	((RC == 1)) || fail "--incoming on an unknown host: $RC"
	[[ $(wc -l <"$WORK/e") = 1 ]] || { cat "$WORK/e" >&2; fail "not one line"; }
}

need_husk
need_file "$TESTGUEST_ELF" "test guest"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
need_kvm
make_workdir
# shellcheck disable=SC2086 # the case names have no blanks
(($#)) || set -- $CASES
for c in "$@"; do
	"case_${c//-/_}"
	log "ok $c"
done
