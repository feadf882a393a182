#!/bin/bash
# Drive rate limits (Firecracker's RateLimiter on a drive; docs/ratelimit.md)
# against the test guest's blk-bench (bench_ms=2000 a phase).
#
#   ratelimit.sh --list
#   ratelimit.sh CASE
#
#   ops        ops bucket 50 per 100 ms (500/s): randread-4k-qd1 and -qd32
#              within 10% of 500 IOPS; GET /vm/config shows the limiter
#   bandwidth  bandwidth bucket 4 MiB per 40 ms (100 MiB/s): seqread-128k and
#              seqwrite-128k within 10% of 100 MiB/s (the guest prints whole
#              MiB/s, and rounds down: a low limit would read 10% low)
#   patch      500 ops/s, then PATCH /drives/disk0 to 1000 ops/s as the qd1
#              phase ends: qd1 within 10% of 500, qd32 within 10% of 1000; then
#              PATCH to no limit: 128 KiB writes run above 150 MiB/s, which
#              1000 ops/s (125 MiB/s) would not allow
#   net        a NIC with tx_rate_limiter and rx_rate_limiter of 100 frames per
#              20 ms (5000/s) against the guest's net-bench and tg-netpeer in a
#              namespace: 64-byte UDP both ways within 10% of 5000 pps, 1400-byte
#              RX at most 10% above it; PATCH /network-interfaces/net0 lifts TX
#              after the first phase: the 1400-byte TX phase runs above 7500 pps
#   refusals   bad limiters in PATCH and in the config file: 400 / exit 1 with
#              one line naming the key; PATCH of a drive that is not there,
#              or of path_on_host: 400
# Prints the table of set and measured rates.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=net-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/net-lib.sh"

CASES=(ops bandwidth patch net refusals)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: ratelimit.sh --list | CASE"
case=$1
need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"
make_workdir
SOCK=$WORK/api.sock

# config LIMITER: a config file with one drive limited by LIMITER (JSON)
config() {
	truncate -s 64M "$WORK/disk.img"
	cat >"$WORK/vm.json" <<EOF
{
  "boot-source": { "kernel_image_path": "$TESTGUEST_ELF",
                   "boot_args": "tests=blk-bench bench_ms=2000" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 },
  "drives": [ { "drive_id": "disk0", "path_on_host": "$WORK/disk.img",
                "is_root_device": false, "is_read_only": false,
                "rate_limiter": $1 } ]
}
EOF
}

start() {
	"$HUSK" --config "$WORK/vm.json" --api-sock "$SOCK" --test-devices --no-rng \
		--serial "file:$WORK/con" </dev/null >"$WORK/out" 2>"$WORK/err" &
	PID=$!
	on_exit "kill -KILL $PID 2>/dev/null || true"
}

# bench NAME: the guest's number for NAME (waits for it, 30 s)
bench() {
	for _ in $(seq 600); do
		v=""
		[[ -f "$WORK/con" ]] && v=$(tr -d '\r' <"$WORK/con" | awk -v n="$1" '$1 == "BENCH" && $2 == n {print $3}')
		[[ -n "$v" ]] && { echo "$v"; return 0; }
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	show_file console "$WORK/con"
	show_file stderr "$WORK/err"
	fail "no BENCH $1 line"
}

# within NAME SET MEASURED: |measured - set| <= 10% of set
within() {
	local name=$1 set=$2 got=$3
	printf '%-18s set %8s  measured %8s\n' "$name" "$set" "$got" >&2
	((got * 10 >= set * 9 && got * 10 <= set * 11)) || fail "$name: $got, want $set +-10%"
}

finish() {
	wait_pid "$PID" 60
	console_copy "$WORK/con" "$WORK/console"
	((RC == 0)) && grep -qx "1 passed, 0 failed" "$WORK/console" ||
		{ show_file console "$WORK/console"; show_file stderr "$WORK/err"; fail "exit $RC"; }
}

case "$case" in
ops)
	need_kvm
	config '{"ops": {"size": 50, "refill_time": 100}}'
	start
	for _ in $(seq 300); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
	expect GET /vm/config "" 200 '"rate_limiter":{"ops":{"size":50,"refill_time":100}}'
	within randread-4k-qd1 500 "$(bench randread-4k-qd1)"
	within randread-4k-qd32 500 "$(bench randread-4k-qd32)"
	finish
	;;
bandwidth)
	need_kvm
	config '{"bandwidth": {"size": 4194304, "refill_time": 40}}'
	start
	within seqread-128k 100 "$(bench seqread-128k)"
	within seqwrite-128k 100 "$(bench seqwrite-128k)"
	finish
	;;
patch)
	need_kvm
	config '{"ops": {"size": 50, "refill_time": 100}}'
	start
	qd1=$(bench randread-4k-qd1)
	expect PATCH /drives/disk0 '{"drive_id":"disk0","rate_limiter":{"ops":{"size":100,"refill_time":100}}}' 204
	within randread-4k-qd1 500 "$qd1"
	within randread-4k-qd32 1000 "$(bench randread-4k-qd32)"
	expect PATCH /drives/disk0 '{"drive_id":"disk0","rate_limiter":null}' 204
	expect GET /vm/config "" 200 '"rate_limiter":null'
	seq=$(bench seqwrite-128k)
	# above what 1000 ops/s allow (125) by a margin a loaded host still clears (178 seen)
	((seq > 150)) || fail "with the limit gone, seqwrite-128k only $seq MiB/s (1000 ops/s allow 125)"
	log "no limit: seqwrite-128k $seq MiB/s"
	finish
	;;
net)
	need_kvm
	[[ "$(id -u)" = 0 ]] || skip "needs root (network namespace, tap)"
	need_file "$NET_PEER" "tg-netpeer"
	net_setup || fail "could not set up the namespace and tap"
	# lib.sh's exit hooks replace net-lib's trap: the namespace and the peer go with them
	on_exit net_teardown
	net_peer "$WORK/peer.log" || fail "tg-netpeer did not start"
	limit='{"ops": {"size": 100, "refill_time": 20}}'
	cat >"$WORK/vm.json" <<EOF
{
  "boot-source": { "kernel_image_path": "$TESTGUEST_ELF",
                   "boot_args": "tests=net-bench bench_ms=2000" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 },
  "network-interfaces": [ { "iface_id": "net0", "host_dev_name": "tg0",
                            "rx_rate_limiter": $limit, "tx_rate_limiter": $limit } ]
}
EOF
	ip netns exec "$NET_NS" "$HUSK" --config "$WORK/vm.json" --api-sock "$SOCK" \
		--test-devices --no-rng --serial "file:$WORK/con" </dev/null >"$WORK/out" 2>"$WORK/err" &
	PID=$!
	on_exit "kill -KILL $PID 2>/dev/null || true"
	for _ in $(seq 300); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
	expect GET /vm/config "" 200 '"tx_rate_limiter":{"ops":{"size":100,"refill_time":20}}'
	expect PATCH /network-interfaces/net0 '{"iface_id":"net0","rx_rate_limiter":{"ops":{"size":1}}}' 400 'refill_time is required'
	expect PATCH /network-interfaces/net1 '{"iface_id":"net1"}' 400 'no such interface'
	within net-tx-64-pps 5000 "$(bench net-tx-64-pps)"
	# TX unlimited from here: the 1400-byte TX phase runs well above the old limit
	expect PATCH /network-interfaces/net0 '{"iface_id":"net0","tx_rate_limiter":null}' 204
	expect GET /vm/config "" 200 '"tx_rate_limiter":null'
	within net-rx-64-pps 5000 "$(bench net-rx-64-pps)"
	tx=$(bench net-tx-1400-pps)
	((tx > 7500)) || fail "net-tx-1400-pps $tx with TX unlimited, want > 7500"
	log "TX lifted: net-tx-1400-pps $tx"
	# a limit is a ceiling: this phase must not pass it; a loaded CI host has
	# delivered 1400-byte frames below it (3286-3456 pps) where idle ones gave 5040
	rx=$(bench net-rx-1400-pps)
	printf '%-18s set %8s  measured %8s (at most)\n' net-rx-1400-pps 5000 "$rx" >&2
	((rx * 10 <= 5000 * 11)) || fail "net-rx-1400-pps: $rx, above 5000 +10%"
	finish
	;;
refusals)
	# the config file: exit 1, one line naming the key
	config '{"ops": {"size": 50}}'
	run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/vm.json" --test-devices
	((RC == 1)) && grep -q 'drives\[0\].rate_limiter.ops: refill_time is required' "$WORK/err" ||
		{ show_file stderr "$WORK/err"; fail "a limiter without refill_time: exit $RC"; }
	config '{"ops": {"size": -1, "refill_time": 100}}'
	run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/vm.json" --test-devices
	((RC == 1)) && grep -q 'rate_limiter.ops.size: expected an integer >= 0' "$WORK/err" ||
		{ show_file stderr "$WORK/err"; fail "a negative size: exit $RC"; }
	config '{"iops": {"size": 1, "refill_time": 100}}'
	run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/vm.json" --test-devices
	((RC == 1)) && grep -q 'rate_limiter.iops: unknown key' "$WORK/err" ||
		{ show_file stderr "$WORK/err"; fail "an unknown bucket: exit $RC"; }
	# the API, before InstanceStart
	"$HUSK" --api-sock "$SOCK" </dev/null >"$WORK/out" 2>"$WORK/err" &
	PID=$!
	on_exit "kill -KILL $PID 2>/dev/null || true"
	for _ in $(seq 300); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
	truncate -s 1M "$WORK/d.img"
	expect PUT /drives/d '{"drive_id":"d","path_on_host":"'"$WORK"'/d.img","is_root_device":false,"is_read_only":false,"rate_limiter":{"bandwidth":{"size":1000,"refill_time":10}}}' 204
	expect PATCH /drives/d '{"drive_id":"d","rate_limiter":{"ops":{"size":"x","refill_time":1}}}' 400 'rate_limiter.ops.size: expected an integer'
	expect PATCH /drives/d '{"drive_id":"d","rate_limiter":{"ops":{"size":1,"refill_time":36000000000}}}' 400 'refill_time above an hour'
	expect PATCH /drives/d '{"drive_id":"e","rate_limiter":null}' 400 'the id in the path'
	expect PATCH /drives/e '{"drive_id":"e"}' 400 'no such drive'
	expect PATCH /drives/d '{"drive_id":"d","path_on_host":"/x"}' 400 'not supported yet'
	expect PATCH /drives/d '{"drive_id":"d","rate_limiter":{"ops":{"size":5,"refill_time":100}}}' 204
	expect GET /vm/config "" 200 '"rate_limiter":{"ops":{"size":5,"refill_time":100}}'
	log "refusals: config file, PATCH (bad bucket, wrong id, no drive, path swap)"
	;;
*) fail "unknown case $case (see --list)" ;;
esac
