#!/bin/bash
# Continuous replication to a husk --standby and failover (docs/migration.md,
# "Replication"), as a user would drive it.
#
#   replicate.sh            run every case
#   replicate.sh NAME...    run these cases (ctest runs one per test)
#   replicate.sh --list     print the case names
#
# The primary boots the test guest (256 MiB, 2 vCPUs) with --api-sock; when
# its memory check (mem_passes: write all of guest RAM with a pattern and
# verify it, again and again) is at pass 3, PUT /replication starts
# checkpoints (every 100 ms) to a husk --incoming unix:PATH --standby.
#
# failover: the primary killed with SIGKILL mid-check: the standby takes
#   over within its failover timeout and finishes the check with 0 failed;
#   its events say failover (checkpoint, ms since it); GET /replication on
#   the primary said active with checkpoints acknowledged before the kill.
# disk: a disk replicated onto the standby's own image (filled with random
#   bytes first): the guest checks its disk (writes while replicated) between
#   two memory checks; the primary killed in the second: the standby's image
#   equals the primary's (md5), and the standby finishes the check.
# cancel: PUT /replication/cancel: the standby exits 0 without running the
#   VM ("the primary ended replication"), the primary finishes the check.
# standby-dies: the standby killed: the primary's GET /replication says
#   failed, it emits replication-failed and finishes its check unprotected.
# refusals: PUT /replication with a bad interval or an unknown key, to a
#   plain --incoming (not a standby), and a migration to a --standby: each
#   a clear refusal, the primary runs on; --standby or --failover-timeout
#   without --incoming: exit 1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="failover disk cancel standby-dies refusals"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

MEM=256
PASSES=12

# start_standby [ARGS...]: husk --incoming unix:$WORK/rep.sock --standby. Sets DPID.
start_standby() {
	rm -f "$WORK"/dst.* "$WORK/rep.sock"
	"$HUSK" --incoming "unix:$WORK/rep.sock" --standby --test-devices \
		--serial "file:$WORK/dst.con" --events "$WORK/dst.ev" "$@" \
		</dev/null >"$WORK/dst.out" 2>"$WORK/dst.err" &
	DPID=$!
	on_exit "kill -KILL $DPID 2>/dev/null || true"
	for _ in $(seq 100); do
		[[ -S "$WORK/rep.sock" ]] && return 0
		sleep 0.05
	done
	show_file "standby stderr" "$WORK/dst.err"
	fail "the standby never listened"
}

console() { { tr -d '\r' <"$1"; } 2>/dev/null || true; }

# wait_line FILE REGEX: until the console FILE has a line matching REGEX.
wait_line() {
	for _ in $(seq 1200); do
		console "$1" | grep -qE "$2" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	show_file console "$1" 30
	fail "no line /$2/ in $1"
}

# boot_primary CMDLINE [HUSK ARGS...]: the test guest through the API.
boot_primary() {
	local cmdline=$1
	shift
	rm -f "$WORK"/src.*
	start_husk "$WORK/api0.sock" "$WORK/src.out" "$WORK/src.err" --test-devices \
		--serial "file:$WORK/src.con" --events "$WORK/src.ev" "$@"
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"expect_mem=${MEM}M expect_cpus=2 mem_passes=$PASSES $cmdline\"}" 204
	expect PUT /machine-config "{\"vcpu_count\":2,\"mem_size_mib\":$MEM}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
}

# wait_epoch N: GET /replication until N checkpoints are acknowledged.
wait_epoch() {
	for _ in $(seq 400); do
		api GET /replication
		if [[ "$BODY" =~ \"epoch\":([0-9]+) ]] && ((BASH_REMATCH[1] >= $1)); then
			return 0
		fi
		[[ "$BODY" = *'"state":"active"'* ]] || break
		sleep 0.05
	done
	show_file "primary stderr" "$WORK/src.err"
	fail "checkpoint $1 never acknowledged: $BODY"
}

# passed CONSOLE ERR: that guest finished every pass of its check(s), 0 failed.
passed() {
	if ((RC != 0)) || ! console "$1" | grep -qx "ok memory" ||
		! console "$1" | grep -qE '^[0-9]+ passed, 0 failed$'; then
		show_file "primary console" "$WORK/src.con" 20
		show_file console "$1" 20
		show_file stderr "$2"
		fail "the guest did not finish its check (exit $RC)"
	fi
}

kill_primary() {
	if console "$WORK/src.con" | grep -qE '^[0-9]+ passed'; then
		fail "the check ended on the primary: nothing was left to take over"
	fi
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
}

taken_over() {
	wait_pid "$DPID" 120
	passed "$WORK/dst.con" "$WORK/dst.err"
	grep -qE '"event":"failover","epoch":[0-9]+,"since_checkpoint_ms":[0-9]+' "$WORK/dst.ev" ||
		{ show_file events "$WORK/dst.ev"; fail "no failover event"; }
	log "$(grep -o 'took over .*' "$WORK/dst.err")"
}

case_failover() {
	start_standby
	boot_primary ""
	wait_line "$WORK/src.con" "^memory: pass 3 of"
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\",\"interval_ms\":100}" 204
	wait_epoch 5
	log "GET /replication: $BODY"
	kill_primary
	taken_over
}

case_disk() {
	local a b
	head -c 4M /dev/urandom >"$WORK/standby.img"
	truncate -s 4M "$WORK/disk.img"
	start_standby --restore-disk "disk0=$WORK/standby.img"
	boot_primary "tests=memory,virtio-blk,memory blk_serial=disk0" --disk "path=$WORK/disk.img"
	wait_line "$WORK/src.con" "^memory: pass 3 of"
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\",\"interval_ms\":100}" 204
	wait_line "$WORK/src.con" "^ok virtio-blk"
	wait_line "$WORK/src.con" "^memory: pass 2 of"
	wait_epoch 3
	api GET /replication
	log "GET /replication: $BODY"
	[[ "$BODY" =~ \"disk_bytes\":[1-9] ]] || fail "no disk writes mirrored: $BODY"
	kill_primary
	taken_over
	a=$(md5sum <"$WORK/disk.img")
	b=$(md5sum <"$WORK/standby.img")
	[[ "$a" = "$b" ]] || fail "the standby's image differs from the primary's"
}

case_cancel() {
	start_standby
	boot_primary ""
	wait_line "$WORK/src.con" "^memory: pass 3 of"
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\"}" 204
	wait_epoch 2
	expect PATCH /vm '{"state":"Paused"}' 400 "the VM is being replicated"
	expect PUT /replication/cancel "" 204
	wait_pid "$DPID" 30
	((RC == 0)) || { show_file stderr "$WORK/dst.err"; fail "the standby exited $RC"; }
	grep -q "the primary ended replication" "$WORK/dst.err" || fail "the standby does not say why"
	[[ ! -s "$WORK/dst.con" ]] || { show_file "standby console" "$WORK/dst.con" 10; show_file "standby stderr" "$WORK/dst.err"; fail "the standby ran the guest"; }
	api GET /replication
	[[ "$BODY" = *'"state":"cancelled"'* ]] || fail "GET /replication: $BODY"
	wait_pid "$PID" 120
	passed "$WORK/src.con" "$WORK/src.err"
	grep -q '"event":"replication-stopped"' "$WORK/src.ev" || fail "no replication-stopped event"
}

case_standby_dies() {
	start_standby
	boot_primary ""
	wait_line "$WORK/src.con" "^memory: pass 3 of"
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\"}" 204
	wait_epoch 2
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null || true
	for _ in $(seq 100); do
		api GET /replication
		[[ "$BODY" = *'"state":"failed"'* ]] && break
		sleep 0.05
	done
	[[ "$BODY" = *'"state":"failed"'* ]] || fail "GET /replication: $BODY"
	log "GET /replication: $BODY"
	wait_pid "$PID" 120
	passed "$WORK/src.con" "$WORK/src.err"
	grep -q '"event":"replication-failed"' "$WORK/src.ev" || fail "no replication-failed event"
}

case_refusals() {
	boot_primary ""
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\",\"interval_ms\":5}" 400 \
		"interval_ms: expected an integer 10..60000"
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/rep.sock\",\"downtime_ms\":5}" 400 \
		"downtime_ms: unknown key"
	expect GET /replication "" 200 '"state":"none"'
	# a plain --incoming refuses a replication stream, a --standby a migration
	"$HUSK" --incoming "unix:$WORK/mig.sock" </dev/null >/dev/null 2>"$WORK/in.err" &
	local in=$!
	for _ in $(seq 100); do [[ -S "$WORK/mig.sock" ]] && break; sleep 0.05; done
	expect PUT /replication "{\"destination_url\":\"unix:$WORK/mig.sock\"}" 204
	wait_pid "$in" 30
	((RC == 1)) && grep -q "give --standby to take it" "$WORK/in.err" ||
		{ cat "$WORK/in.err" >&2; fail "a plain --incoming took replication (exit $RC)"; }
	for _ in $(seq 100); do
		api GET /replication
		[[ "$BODY" = *'"state":"failed"'* ]] && break
		sleep 0.05
	done
	[[ "$BODY" = *"give --standby to take it"* ]] || fail "GET /replication: $BODY"
	start_standby
	expect PUT /migration "{\"destination_url\":\"unix:$WORK/rep.sock\"}" 204
	wait_pid "$DPID" 30
	((RC == 1)) && grep -q "a migration, not replication" "$WORK/dst.err" ||
		{ cat "$WORK/dst.err" >&2; fail "a --standby took a migration (exit $RC)"; }
	kill -0 "$PID" || fail "the primary died"
	run_husk 10 "$WORK/o" "$WORK/e" --standby --kernel "$TESTGUEST_ELF"
	((RC == 1)) && grep -q -- "--standby: only with --incoming URL" "$WORK/e" ||
		{ cat "$WORK/e" >&2; fail "--standby without --incoming: $RC"; }
	run_husk 10 "$WORK/o" "$WORK/e" --incoming "unix:$WORK/x.sock" --failover-timeout 500
	((RC == 1)) && grep -q -- "--failover-timeout: only with --standby" "$WORK/e" ||
		{ cat "$WORK/e" >&2; fail "--failover-timeout without --standby: $RC"; }
}

need_husk
need_file "$TESTGUEST_ELF" "test guest"
command -v curl >/dev/null || skip "curl is not installed"
need_kvm
make_workdir
# shellcheck disable=SC2086 # the case names have no blanks
(($#)) || set -- $CASES
for c in "$@"; do
	"case_${c//-/_}"
	log "ok $c"
done
