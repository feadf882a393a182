#!/bin/bash
# Snapshot and restore of a running test guest, as a user would drive them.
#
#   snapshot.sh            run every case
#   snapshot.sh NAME...    run these cases (ctest runs one per test)
#   snapshot.sh --list     print the case names
#
# Each case boots the test guest with --api-sock, waits until its memory
# check (mem_passes=60: 60 times, write all of guest RAM with a pattern and
# verify it, several seconds) is at its third pass, pauses it, takes a Full snapshot, kills husk with SIGKILL
# and restores the files in a new process. The restored guest must finish
# the check it was in the middle of: "N passed, 0 failed" and exit 0 (the
# verdict through --test-devices); the first console must not hold
# "ok memory" (the snapshot really was taken mid-check).
#
# full: 2 vCPUs, --restore --resume.
# clones: with a disk and virtio-rng in use (tests=virtio-blk,virtio-rng
#   first), two clones restored at once, the second on a copy of the disk
#   (--restore-disk disk0=COPY): both pass.
# net: a started virtio-net (tests=virtio-net,memory,virtio-net) on a tap
#   in a private namespace with tg-netpeer: the restored guest finishes the
#   memory check, then its second net check echoes every datagram.
# api: the snapshot is loaded by PUT /snapshot/load on a fresh
#   husk --api-sock (resume_vm); an override naming no NIC or drive of the
#   snapshot is a 400 that names it and husk keeps serving. The restored
#   guest writes to the snapshot's console file (emptied first).
# paused: --restore with --api-sock and no --resume: GET / says Paused and
#   the guest's console does not move for a second; a snapshot of the
#   restored VM shows a new VM generation ID (16 bytes at 0xf7000) in its
#   memory file; PATCH Resumed lets it finish.
# diff: with machine-config track_dirty_pages, a Diff is a 400 while the
#   VM runs and before any Full snapshot; a Full one at pass 3, resumed, a
#   Diff at pass 6; husk-snapshot merge puts the Diff onto a copy of the
#   Full memory file and the Diff's state restored over it finishes the
#   check (from pass 7); over the Full memory file alone it does not.
# diff-idle: a Diff of a guest idling for a second after a Full snapshot
#   holds less than 2 MiB of its 512 MiB.
# uffd: the snapshot restored with its pages served by husk-uffd (the Uffd
#   memory backend), from the command line (--restore-uffd) and the API
#   (mem_backend Uffd); a socket nobody serves is a 400.
# start-script: scripts/snapshot-start.sh boots a template to its ready
#   line, snapshots it and runs three clones from it, each to exit 0.
# refusals: a truncated state file, one byte changed, a memory file of
#   another size, a missing memory file: each exit 1 with one line naming
#   the file, and no console file is left behind.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="full clones net api paused refusals diff diff-idle uffd start-script"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

MEM=512
PASSES=60
NET_PEER=${NET_PEER:-$BUILD_DIR/firmware/tg-netpeer}

# console FILE: the guest's console as plain lines. Never fails: a grep -q that
# stops reading early must not fail the pipeline through tr's SIGPIPE.
console() { tr -d '\r' <"$1" 2>/dev/null || true; }

# boot_guest CMDLINE CPUS MACHINE_EXTRA [HUSK ARGS...]: boot the test guest
# through the API (MACHINE_EXTRA: more machine-config keys, ",\"k\":v").
# Its console is $WORK/con0.
boot_guest() {
	local cmdline=$1 cpus=$2 extra=$3
	shift 3
	start_husk "$WORK/api0.sock" "$WORK/out0" "$WORK/err0" --test-devices \
		--serial "file:$WORK/con0" "$@"
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"expect_mem=${MEM}M expect_cpus=$cpus mem_passes=$PASSES $cmdline\"}" 204
	expect PUT /machine-config "{\"vcpu_count\":$cpus,\"mem_size_mib\":$MEM$extra}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
}

# wait_pass N: until the memory check's pass N has begun.
wait_pass() {
	for _ in $(seq 600); do
		console "$WORK/con0" | grep -q "^memory: pass $1 of" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	show_file console "$WORK/con0"
	show_file stderr "$WORK/err0"
	fail "the guest never reached its memory check's pass $1"
}

# snap TYPE NAME: pause, snapshot to $WORK/NAME.snap and $WORK/NAME.mem.
snap() {
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /snapshot/create "{\"snapshot_type\":\"$1\",\"snapshot_path\":\"$WORK/$2.snap\",\"mem_file_path\":\"$WORK/$2.mem\"}" 204
	[[ -s "$WORK/$2.snap" ]] || fail "no state file"
	[[ $(stat -c %s "$WORK/$2.mem") = $((MEM << 20)) ]] || fail "$2.mem is not $MEM MiB"
}

kill_husk() {
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	if console "$WORK/con0" | grep -qx "ok memory"; then
		fail "the memory check ended before the snapshot: nothing was tested"
	fi
}

# boot_and_snapshot CMDLINE CPUS [HUSK ARGS...]: boot the test guest, wait
# until its memory check is at its third pass, pause, snapshot to
# $WORK/vm.snap + $WORK/vm.mem, kill -9.
boot_and_snapshot() {
	local cmdline=$1 cpus=$2
	shift 2
	boot_guest "$cmdline" "$cpus" "" "$@"
	wait_pass 3
	snap Full vm
	kill_husk
}

# restored_passed CONSOLE ERR: the restored guest finished its checks.
restored_passed() {
	local con=$1 err=$2
	if ((RC != 0)) || ! console "$con" | grep -qx "ok memory" ||
		! console "$con" | grep -qx "memory: pass $PASSES of $PASSES" ||
		! console "$con" | grep -qE '^[0-9]+ passed, 0 failed$'; then
		show_file "first console" "$WORK/con0"
		show_file "restored console" "$con"
		show_file "restored stderr" "$err"
		fail "the restored guest did not pass (exit $RC)"
	fi
}

case_full() {
	boot_and_snapshot "" 2
	run_husk 120 "$WORK/out1" "$WORK/err1" --restore "$WORK/vm.snap" --restore-mem "$WORK/vm.mem" \
		--resume --serial "file:$WORK/con1"
	restored_passed "$WORK/con1" "$WORK/err1"
	log "snapshot at: $(console "$WORK/con0" | grep '^memory: pass' | tail -n 1);" \
		"the restored guest went on from $(console "$WORK/con1" | grep '^memory: pass' | head -n 1)"
}

case_clones() {
	truncate -s 4M "$WORK/disk.img"
	boot_and_snapshot "tests=virtio-blk,virtio-rng,memory blk_serial=disk0" 1 \
		--disk "path=$WORK/disk.img"
	cp "$WORK/disk.img" "$WORK/copy.img"
	"$HUSK" --restore "$WORK/vm.snap" --restore-mem "$WORK/vm.mem" --resume \
		--serial "file:$WORK/con1" </dev/null >"$WORK/out1" 2>"$WORK/err1" &
	local a=$!
	on_exit "kill -KILL $a 2>/dev/null || true"
	"$HUSK" --restore "$WORK/vm.snap" --restore-mem "$WORK/vm.mem" --resume \
		--serial "file:$WORK/con2" --restore-disk "disk0=$WORK/copy.img" \
		</dev/null >"$WORK/out2" 2>"$WORK/err2" &
	local b=$!
	on_exit "kill -KILL $b 2>/dev/null || true"
	wait_pid "$a" 120
	restored_passed "$WORK/con1" "$WORK/err1"
	wait_pid "$b" 120
	restored_passed "$WORK/con2" "$WORK/err2"
	console "$WORK/con1" | grep -qx "3 passed, 0 failed" || fail "clone 1: not 3 passed"
}

case_net() {
	[[ "$(id -u)" = 0 ]] || skip "needs root (network namespace, tap)"
	need_file "$NET_PEER" "tg-netpeer"
	# shellcheck source-path=SCRIPTDIR source=net-lib.sh
	source "$INT_SRC_DIR/net-lib.sh"
	net_setup || fail "could not set up the namespace and tap"
	# net_setup chained itself into the EXIT trap, which on_exit (start_husk)
	# replaces: register the teardown as a hook too, or tg-netpeer outlives
	# the script and holds ctest's pipes open
	on_exit net_teardown
	net_peer "$WORK/peer.log" || fail "tg-netpeer did not start"
	HUSK_PREFIX=(ip netns exec "$NET_NS")
	boot_and_snapshot "tests=virtio-net,memory,virtio-net net_count=200" 1 --net tap=tg0
	run_husk 120 "$WORK/out1" "$WORK/err1" --restore "$WORK/vm.snap" --restore-mem "$WORK/vm.mem" \
		--resume --serial "file:$WORK/con1"
	restored_passed "$WORK/con1" "$WORK/err1"
	console "$WORK/con1" | grep -qx "ok virtio-net" || fail "the second net check did not pass"
	console "$WORK/con1" | grep -q "datagrams echoed in order, 0 lost" ||
		fail "no in-order echo line after the restore"
}

case_api() {
	local load
	boot_and_snapshot "" 1
	start_husk "$WORK/api1.sock" "$WORK/out1" "$WORK/err1"
	load="\"snapshot_path\":\"$WORK/vm.snap\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$WORK/vm.mem\"}"
	expect PUT /snapshot/load "{$load,\"network_overrides\":[{\"iface_id\":\"eth9\",\"host_dev_name\":\"tap9\"}]}" \
		400 'the snapshot has no interface \"eth9\"'
	expect PUT /snapshot/load "{$load,\"drive_overrides\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"/x\"}]}" \
		400 'the snapshot has no drive \"rootfs\"'
	expect GET / "" 200 '"state":"Not started"'
	cp "$WORK/con0" "$WORK/con0.first"
	expect PUT /snapshot/load "{$load,\"resume_vm\":true}" 204
	wait_pid "$PID" 120
	# the restored VM's console is the snapshot's (the API has no override)
	restored_passed "$WORK/con0" "$WORK/err1"
	if console "$WORK/con0" | grep -q "^memory: pass 1 of"; then
		fail "the console file was not emptied for the restored guest"
	fi
}

case_paused() {
	local before a b
	boot_and_snapshot "" 1
	start_husk "$WORK/api1.sock" "$WORK/out1" "$WORK/err1" --restore "$WORK/vm.snap" \
		--restore-mem "$WORK/vm.mem" --serial "file:$WORK/con1"
	expect GET / "" 200 '"state":"Paused"'
	before=$(stat -c %s "$WORK/con1")
	sleep 1
	[[ $(stat -c %s "$WORK/con1") = "$before" ]] || fail "the paused guest printed"
	# the restored VM is a new generation: its ID (16 bytes at 0xf7000) changed
	expect PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$WORK/again.snap\",\"mem_file_path\":\"$WORK/again.mem\"}" 204
	a=$(od -An -tx1 -j $((0xf7000)) -N 16 "$WORK/vm.mem" | tr -d ' \n')
	b=$(od -An -tx1 -j $((0xf7000)) -N 16 "$WORK/again.mem" | tr -d ' \n')
	[[ ${#a} = 32 && "$a" != 00000000000000000000000000000000 ]] || fail "no generation ID: '$a'"
	[[ "$a" != "$b" ]] || fail "the restored VM kept generation ID $a"
	log "VM generation ID $a, restored as $b"
	expect PATCH /vm '{"state":"Resumed"}' 204
	wait_pid "$PID" 120
	restored_passed "$WORK/con1" "$WORK/err1"
}

# refuse WHY ARGS...: husk --restore exits 1 with one line containing WHY.
refuse() {
	local why=$1
	shift
	run_husk 30 "$WORK/rout" "$WORK/rerr" --resume --serial "file:$WORK/rcon" "$@"
	[[ $RC = 1 ]] || { show_file stderr "$WORK/rerr"; fail "$*: exit $RC, want 1"; }
	[[ $(wc -l <"$WORK/rerr") = 1 ]] || { show_file stderr "$WORK/rerr"; fail "$*: not one line"; }
	grep -qF -- "$why" "$WORK/rerr" || { show_file stderr "$WORK/rerr"; fail "$*: no '$why'"; }
	[[ ! -e "$WORK/rcon" ]] || fail "$*: the console file was left behind"
}

case_refusals() {
	local size
	boot_and_snapshot "" 1
	size=$(stat -c %s "$WORK/vm.snap")
	head -c $((size - 7)) "$WORK/vm.snap" >"$WORK/short.snap"
	refuse "short.snap" --restore "$WORK/short.snap" --restore-mem "$WORK/vm.mem"
	cp "$WORK/vm.snap" "$WORK/bad.snap"
	printf '\x5a' | dd of="$WORK/bad.snap" bs=1 seek=$((size / 2)) conv=notrunc status=none
	refuse "checksum" --restore "$WORK/bad.snap" --restore-mem "$WORK/vm.mem"
	truncate -s $(((MEM << 20) - 4096)) "$WORK/small.mem"
	refuse "the snapshot's VM has" --restore "$WORK/vm.snap" --restore-mem "$WORK/small.mem"
	refuse "No such file" --restore "$WORK/vm.snap" --restore-mem "$WORK/none.mem"
}

case_diff() {
	local snap_tool=$BUILD_DIR/husk-snapshot last
	need_file "$snap_tool" "husk-snapshot"
	boot_guest "" 1 ',"track_dirty_pages":true'
	expect PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$WORK/x.snap\",\"mem_file_path\":\"$WORK/x.mem\"}" \
		400 "must be paused first"
	wait_pass 3
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$WORK/x.snap\",\"mem_file_path\":\"$WORK/x.mem\"}" \
		400 "take a Full one first"
	snap Full base
	expect PATCH /vm '{"state":"Resumed"}' 204
	wait_pass 6
	snap Diff diff
	kill_husk
	# the Diff holds what changed, and only that
	[[ $(du -k "$WORK/diff.mem" | cut -f1) -gt 0 ]] || fail "the Diff's memory file is empty"
	cp "$WORK/base.mem" "$WORK/merged.mem"
	"$snap_tool" merge "$WORK/merged.mem" "$WORK/diff.mem" >"$WORK/merge.out" 2>&1 ||
		{ cat "$WORK/merge.out" >&2; fail "husk-snapshot merge failed"; }
	log "$(cat "$WORK/merge.out")"
	run_husk 120 "$WORK/out1" "$WORK/err1" --restore "$WORK/diff.snap" --restore-mem "$WORK/merged.mem" \
		--resume --serial "file:$WORK/con1"
	restored_passed "$WORK/con1" "$WORK/err1"
	# it went on from where the Diff was taken, not from the Full one
	last=$(console "$WORK/con0" | sed -n 's/^memory: pass \([0-9]*\) of.*/\1/p' | tail -n 1)
	((last >= 6)) || fail "the Diff was taken at pass $last"
	# not anchored: a snapshot taken mid-line splits that line between the consoles
	console "$WORK/con1" | grep -q "pass $((last + 1)) of" ||
		{ show_file restored "$WORK/con1"; fail "the restored guest did not go on from pass $last"; }
	# the Diff's state over the base's memory alone: the guest finds its RAM of pass 3
	run_husk 120 "$WORK/out2" "$WORK/err2" --restore "$WORK/diff.snap" --restore-mem "$WORK/base.mem" \
		--resume --serial "file:$WORK/con2"
	if ((RC == 0)) && console "$WORK/con2" | grep -qE '^[0-9]+ passed, 0 failed$'; then
		fail "the Diff's state passed on the base memory alone: the Diff carried nothing"
	fi
	# a Diff of a VM that does not track dirty pages is refused
	boot_guest "" 1 ""
	wait_pass 2
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$WORK/y.snap\",\"mem_file_path\":\"$WORK/y.mem\"}" \
		400 "does not track dirty pages"
	[[ ! -e "$WORK/y.snap" && ! -e "$WORK/y.mem" ]] || fail "a refused Diff left files"
	kill_husk
}

# A Diff of an idle guest holds little: what its timer interrupts and
# devices touched, not its RAM.
case_diff_idle() {
	local kib
	start_husk "$WORK/api0.sock" "$WORK/out0" "$WORK/err0" --test-devices \
		--serial "file:$WORK/con0"
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"tests=irq,memory hold=6000\"}" 204
	expect PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":$MEM,\"track_dirty_pages\":true}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in $(seq 300); do
		console "$WORK/con0" | grep -qx "2 passed, 0 failed" && break
		sleep 0.05
	done
	console "$WORK/con0" | grep -qx "2 passed, 0 failed" || fail "the guest did not pass its checks"
	snap Full base
	expect PATCH /vm '{"state":"Resumed"}' 204
	sleep 1
	snap Diff diff
	kib=$(du -k "$WORK/diff.mem" | cut -f1)
	log "Diff of an idle guest after 1 s: $kib KiB on disk (RAM $MEM MiB)"
	((kib < 2048)) || fail "the Diff of an idle guest holds $kib KiB"
	expect PATCH /vm '{"state":"Resumed"}' 204
	wait_pid "$PID" 60
	((RC == 0)) || fail "the guest exited $RC after the snapshots"
}

# uffd_handler SOCK MEM: husk-uffd in the background (HPID); waits for its socket.
uffd_handler() {
	"$BUILD_DIR/husk-uffd" "$1" "$2" >"$WORK/uffd.out" 2>&1 &
	HPID=$!
	on_exit "kill $HPID 2>/dev/null || true"
	for _ in $(seq 100); do
		[[ -S "$1" ]] && return 0
		sleep 0.05
	done
	fail "husk-uffd did not listen on $1"
}

case_uffd() {
	local load
	need_file "$BUILD_DIR/husk-uffd" "husk-uffd"
	boot_and_snapshot "" 2
	# the command line: pages come from the handler, not from a file husk opens
	uffd_handler "$WORK/uffd.sock" "$WORK/vm.mem"
	run_husk 120 "$WORK/out1" "$WORK/err1" --restore "$WORK/vm.snap" \
		--restore-uffd "$WORK/uffd.sock" --resume --serial "file:$WORK/con1"
	restored_passed "$WORK/con1" "$WORK/err1"
	wait_pid "$HPID" 10
	((RC == 0)) || { cat "$WORK/uffd.out" >&2; fail "husk-uffd exited $RC"; }
	grep -q "served [1-9][0-9]* faults" "$WORK/uffd.out" || fail "husk-uffd served nothing"
	log "$(tail -n 1 "$WORK/uffd.out")"
	# the API: mem_backend Uffd; a socket nobody serves is a 400
	start_husk "$WORK/api1.sock" "$WORK/out2" "$WORK/err2"
	load="\"snapshot_path\":\"$WORK/vm.snap\",\"resume_vm\":true,\"mem_backend\":{\"backend_type\":\"Uffd\""
	expect PUT /snapshot/load "{$load,\"backend_path\":\"$WORK/none.sock\"}}" 400 \
		"mem_backend Uffd: $WORK/none.sock: No such file or directory"
	uffd_handler "$WORK/uffd2.sock" "$WORK/vm.mem"
	expect PUT /snapshot/load "{$load,\"backend_path\":\"$WORK/uffd2.sock\"}}" 204
	wait_pid "$PID" 120
	restored_passed "$WORK/con0" "$WORK/err2"
}

# scripts/snapshot-start.sh: a template booted to its ready line, three
# clones from its snapshot, each restored and run to a pass.
case_start_script() {
	"$REPO_DIR/scripts/snapshot-start.sh" --kernel "$TESTGUEST_ELF" --clones 3 \
		--cmdline "tests=memory mem_passes=12" --memory 128M --dir "$WORK/ss" \
		-- --test-devices >"$WORK/ss.out" 2>&1 || { cat "$WORK/ss.out" >&2; fail "snapshot-start.sh failed"; }
	[[ $(grep -c '^clone [0-9]: restored in [0-9.]* ms, exit 0' "$WORK/ss.out") = 3 ]] ||
		{ cat "$WORK/ss.out" >&2; fail "not three clones restored and passing"; }
	log "$(tr '\n' ';' <"$WORK/ss.out")"
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
