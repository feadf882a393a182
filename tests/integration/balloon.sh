#!/bin/bash
# virtio-balloon (docs/balloon.md) against the test guest's virtio-balloon
# check (firmware/testguest/virtio_balloon.c), 512 MiB of RAM.
#
#   balloon.sh --list
#   balloon.sh CASE
#
#   inflate    --balloon amount_mib=128 with statistics every second and free
#              page reporting: the guest fills 128 MiB and holds; husk's
#              resident guest RAM (RssShmem) then drops by at least 120 MiB
#              when the guest inflates; metrics count 32768 pages and 128 MiB
#              given back; GET /balloon/statistics shows the target, actual
#              and the guest's own numbers (total_memory, free_memory);
#              PATCH /balloon {"amount_mib": 0} makes the guest deflate, and
#              every page it gets back reads as zero; 4 MiB reported free read
#              as zero too; the guest passes
#   mmio       the same check over virtio-mmio (no hold, no RSS reading)
#   snapshot   a VM paused after inflating is snapshotted, killed and
#              restored: the restored device has the same target and actual
#              and its statistics; PATCH /balloon there makes the guest
#              deflate (pages read as zero) and pass
#   api        PUT /balloon before boot, GET /balloon and /vm/config show it;
#              refusals with 400 and one line: no balloon, more than RAM,
#              free_page_hinting, PUT after boot, statistics turned on or
#              off after boot; PATCH /balloon/statistics changes the interval
#   refusals   --balloon without amount_mib, a bad value, an unknown key, more
#              than RAM, with --restore; the config file's balloon with a
#              bad key: exit 1 with one line each
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES=(inflate mmio snapshot api refusals)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: balloon.sh --list | CASE"
case=$1
need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"
make_workdir
MEM=512

# boot BALLOON CMDLINE [ARGS...]: the test guest with --balloon BALLOON and
# the balloon check, through the command line (its API socket: $WORK/api.sock).
boot() {
	local bal=$1 cmd=$2
	shift 2
	start_husk "$WORK/api.sock" "$WORK/out" "$WORK/err" --test-devices --no-rng \
		--memory ${MEM}M --balloon "$bal" --serial "file:$WORK/con" \
		-k "$TESTGUEST_ELF" --cmdline "tests=virtio-balloon $cmd" "$@"
}

# console FILE: the guest's console as plain lines (never fails).
console() { tr -d '\r' <"$1" 2>/dev/null || true; }

# wait_line REGEX: until the guest's console has a line matching it (30 s).
wait_line() {
	for _ in $(seq 600); do
		console "$WORK/con" | grep -qE "$1" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	console_copy "$WORK/con" "$WORK/con.txt"; show_file console "$WORK/con.txt"
	show_file stderr "$WORK/err"
	fail "the guest never printed /$1/"
}

# rss_shmem: husk's resident shared memory (the memfd of guest RAM), KiB
rss_shmem() { awk '$1 == "RssShmem:" { print $2 }' "/proc/$PID/status"; }

# json_num KEY: the number KEY holds in $BODY
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$BODY"; }

# passed: husk exited 0 after the guest's verdict line
passed() {
	wait_pid "$PID" 60
	((RC == 0)) && console "$WORK/con" | grep -qx "1 passed, 0 failed" ||
		{ console_copy "$WORK/con" "$WORK/con.txt"; show_file console "$WORK/con.txt"; show_file stderr "$WORK/err"; fail "exit $RC"; }
}

case "$case" in
inflate)
	need_kvm
	boot amount_mib=128,stats_polling_interval_s=1,free_page_reporting=on \
		"balloon_wait=30 balloon_hold=1500"
	wait_line '^virtio-balloon: filled 32768 pages'
	sleep 0.5
	before=$(rss_shmem)
	wait_line '^virtio-balloon: inflated 32768 pages \(128 MiB\)$'
	after=$(rss_shmem)
	log "RssShmem: ${before} KiB filled, ${after} KiB inflated ($(((before - after) / 1024)) MiB back)"
	((before - after >= 120 * 1024)) || fail "RssShmem fell by $(((before - after) / 1024)) MiB, want >= 120"
	expect GET /metrics "" 200 '"balloon":{"target_pages":32768,"actual_pages":32768,"inflated_pages":32768'
	[[ "$(json_num discarded_bytes)" -ge $((128 << 20)) ]] || fail "metrics: discarded_bytes $(json_num discarded_bytes)"
	for _ in $(seq 50); do	# the guest's statistics come with its next refill
		api GET /balloon/statistics
		[[ "$BODY" = *total_memory* ]] && break
		sleep 0.1
	done
	[[ "$CODE" = 200 && "$BODY" = *'"target_pages":32768,"actual_pages":32768,"target_mib":128,"actual_mib":128'* ]] ||
		fail "GET /balloon/statistics: $CODE $BODY"
	total=$(json_num total_memory)
	free=$(json_num free_memory)
	((total > 500 << 20 && total <= MEM << 20 && free > 0 && free < total)) ||
		fail "the guest's statistics: total_memory $total, free_memory $free"
	expect PATCH /balloon '{"amount_mib":0}' 204
	wait_line '^virtio-balloon: deflated 32768 pages, 32768 read as zero$'
	wait_line '^virtio-balloon: reported 4096 KiB free, 4096 KiB read as zero$'
	expect GET /balloon "" 200 '"amount_mib":0'
	passed
	;;
mmio)
	need_kvm
	boot amount_mib=16,stats_polling_interval_s=1,free_page_reporting=on,deflate_on_oom=on \
		"balloon_wait=0" --virtio-transport mmio
	passed
	console "$WORK/con" | grep -qE '^virtio-balloon: mmio .*features 0x26$' ||
		{ console_copy "$WORK/con" "$WORK/con.txt"; show_file console "$WORK/con.txt"; fail "not over virtio-mmio with all three features"; }
	console "$WORK/con" | grep -qx 'virtio-balloon: reported 4096 KiB free, 4096 KiB read as zero' ||
		fail "free page reporting over virtio-mmio"
	;;
snapshot)
	need_kvm
	boot amount_mib=64,stats_polling_interval_s=1 "balloon_wait=60"
	wait_line '^virtio-balloon: inflated 16384 pages'
	for _ in $(seq 50); do
		api GET /balloon/statistics
		[[ "$BODY" = *total_memory* ]] && break
		sleep 0.1
	done
	total=$(json_num total_memory)
	[[ -n "$total" ]] || fail "no statistics before the snapshot: $BODY"
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$WORK/vm.snap\",\"mem_file_path\":\"$WORK/vm.mem\"}" 204
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	: >"$WORK/con"
	start_husk "$WORK/api.sock" "$WORK/out" "$WORK/err" --restore "$WORK/vm.snap" \
		--restore-mem "$WORK/vm.mem" --resume
	expect GET /balloon/statistics "" 200 '"target_pages":16384,"actual_pages":16384'
	[[ "$(json_num total_memory)" = "$total" ]] || fail "the restored statistics: $BODY"
	expect GET /balloon "" 200 '"amount_mib":64,"deflate_on_oom":false,"stats_polling_interval_s":1'
	expect PATCH /balloon '{"amount_mib":0}' 204
	wait_line '^virtio-balloon: deflated 16384 pages, 16384 read as zero$'
	passed
	;;
api)
	need_kvm
	start_husk "$WORK/api.sock" "$WORK/out" "$WORK/err" --test-devices --no-rng \
		--serial "file:$WORK/con"
	expect GET /balloon "" 400 'No balloon device configured.'
	expect PATCH /balloon '{"amount_mib":1}' 400 'No balloon device configured.'
	expect PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":$MEM}" 204
	expect PUT /balloon '{"amount_mib":600,"deflate_on_oom":false}' 400 'more than the VM'
	expect PUT /balloon '{"amount_mib":8,"deflate_on_oom":false,"free_page_hinting":true}' 400 'not supported'
	expect PUT /balloon '{"amount_mib":8}' 400 'deflate_on_oom: required'
	expect PUT /balloon '{"amount_mib":8,"deflate_on_oom":true,"stats_polling_interval_s":2}' 204
	expect PATCH /balloon '{"amount_mib":32}' 204
	expect GET /balloon "" 200 '{"amount_mib":32,"deflate_on_oom":true,"stats_polling_interval_s":2,"free_page_reporting":false,"free_page_hinting":false}'
	expect GET /vm/config "" 200 '"balloon":{"amount_mib":32,"deflate_on_oom":true'
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"tests=virtio-balloon balloon_wait=30\"}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	wait_line '^virtio-balloon: inflated 8192 pages'
	expect PUT /balloon '{"amount_mib":8,"deflate_on_oom":true}' 400 'after starting'
	expect PATCH /balloon '{"amount_mib":513}' 400 'more than the VM'
	expect PATCH /balloon '{"amount":1}' 400 'amount: unknown key'
	expect PATCH /balloon/statistics '{"stats_polling_interval_s":0}' 400 'cannot be turned off'
	expect PATCH /balloon/statistics '{"stats_polling_interval_s":1}' 204
	expect GET /balloon "" 200 '"stats_polling_interval_s":1'
	expect PATCH /balloon '{"amount_mib":16}' 204
	wait_line '^virtio-balloon: deflated 4096 pages, 4096 read as zero$'
	passed
	# a balloon without statistics: none to read, none to turn on
	rm -f "$WORK/con"
	start_husk "$WORK/api2.sock" "$WORK/out" "$WORK/err" --test-devices --no-rng \
		--memory ${MEM}M --balloon amount_mib=4 -k "$TESTGUEST_ELF" \
		--cmdline "tests=virtio-balloon balloon_wait=30" --serial "file:$WORK/con"
	wait_line '^virtio-balloon: inflated 1024 pages'
	expect GET /balloon/statistics "" 400 'not enabled'
	expect PATCH /balloon/statistics '{"stats_polling_interval_s":1}' 400 'cannot be turned on'
	expect PATCH /balloon '{"amount_mib":0}' 204
	passed
	;;
refusals)
	refuse() {
		local want=$1
		shift
		run_husk 20 "$WORK/out" "$WORK/err" "$@"
		((RC == 1)) && [[ $(wc -l <"$WORK/err") = 1 ]] && grep -q -- "$want" "$WORK/err" ||
			{ show_file stderr "$WORK/err"; fail "$*: exit $RC, want 1 and one line with '$want'"; }
	}
	refuse 'amount_mib= is required' --balloon deflate_on_oom=on -k "$TESTGUEST_ELF"
	refuse 'amount_mib=x: expected a size in MiB' --balloon amount_mib=x -k "$TESTGUEST_ELF"
	refuse "unknown key 'hint'" --balloon amount_mib=1,hint=on -k "$TESTGUEST_ELF"
	refuse 'stats_polling_interval_s=3601' --balloon amount_mib=1,stats_polling_interval_s=3601 \
		-k "$TESTGUEST_ELF"
	refuse 'more than the VM' --balloon amount_mib=300 --memory 256M -k "$TESTGUEST_ELF"
	refuse '--balloon cannot be given with it' --restore "$WORK/x.snap" --restore-mem "$WORK/x.mem" \
		--resume --balloon amount_mib=1
	cat >"$WORK/vm.json" <<EOF
{ "boot-source": { "kernel_image_path": "$TESTGUEST_ELF" },
  "balloon": { "amount_mib": 1, "deflate_on_oom": false, "stats": 1 } }
EOF
	refuse 'balloon.stats: unknown key' --config "$WORK/vm.json"
	;;
*) fail "unknown case $case (see --list)" ;;
esac
