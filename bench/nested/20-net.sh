# shellcheck shell=bash disable=SC2034
# net-bench (UDP 64- and 1400-byte payloads, guest to host and host to
# guest) against tg-netpeer on the outer VM's tap address: husk --net tap=tg0
# (io_uring), then QEMU virtio-net-pci on a tap with vhost=off. The tap setup
# and tg-netpeer are the nested net cases' (tests/nested/cases/net.inc), done
# once for each VMM's tap.
# shellcheck source-path=SCRIPTDIR source=bench.inc
source "$(dirname "${BASH_SOURCE[0]}")/bench.inc"
# shellcheck source=../../tests/nested/cases/net.inc
source "$REPO_DIR/tests/nested/cases/net.inc"
CASE_DESC="bench: net-bench, husk then QEMU (vhost=off), tap in the outer VM"
CASE_TIMEOUT=$((BENCH_MS * 6 / 1000 + 120))
CASE_ARGS=(--no-rng --memory 256M --metrics @CASEDIR@/metrics.json --net tap=tg0)
nested_testguest_case net-bench "bench_ms=$BENCH_MS"
NET_PRE=$CASE_PRE
CASE_PRE="$(bench_sampler husk)
$NET_PRE"
CASE_POST="kill \$(cat pids) 2>/dev/null; sleep 1; cat net-up.log peer.log
$BENCH_SAMPLER_STOP
$BENCH_HUSK_METRICS
i=0
while [ -e /sys/class/net/tg0 ] && [ \$i -lt 100 ]; do usleep 100000; i=\$((i + 1)); done
$(bench_sampler qemu)
$NET_PRE
echo qemu-begin
$BENCH_QEMU_COMMON -append 'tests=net-bench bench_ms=$BENCH_MS' \
-netdev tap,id=n0,ifname=tg0,script=no,downscript=no,vhost=off \
-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= </dev/null 2>&1
echo qemu-rc=\$?
echo qemu-end
$BENCH_SAMPLER_STOP
kill \$(cat pids) 2>/dev/null; sleep 1; cat net-up.log peer.log"

case_prepare() {
	bench_stage "$1"
	net_stage_peer "$1"
}
case_check() { bench_check; }
