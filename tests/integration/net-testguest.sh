#!/bin/bash
# husk's test guest against husk's virtio-net (mirrors the nested cases
# tests/nested/cases/4[0-3]-testguest-net*.sh on machines with /dev/kvm).
#
#   net-testguest.sh --list
#   net-testguest.sh net|net-mq|net-mrg|net-plain|net-mmio
#
#   net        --net tap=tg0: tests=virtio-net (ARP, 4 pings, 200 UDP echoes,
#              polling then MSI-X with EVENT_IDX)
#   net-mq     --cpus 2 --net tap=tg0,queues=2: tests=virtio-net-mq
#   net-mrg    as net with 256-byte mergeable RX buffers (net_rxbuf=256)
#   net-plain  as net without MRG_RXBUF, CSUM or EVENT_IDX
#   net-mmio   as net with --virtio-transport mmio
# The tap lives in a private network namespace (tests/integration/net-lib.sh)
# with 10.77.0.1/24 and tg-netpeer; husk runs inside it. Asserts exit status
# 0, "ok CHECK", "1 passed, 0 failed", in-order echoes with 0 lost. Skips
# without /dev/kvm, without root, and while husk --help does not mention
# --net (the device is still to land).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=net-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/net-lib.sh"

CASES=(net net-mq net-mrg net-plain net-mmio)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: net-testguest.sh --list | CASE"
case=$1

need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"
need_file "$NET_PEER" "tg-netpeer"

requires() {
	local help w
	help=$("$HUSK" --help 2>&1 || true)
	for w in "$@"; do
		grep -qF -- "$w" <<<"$help" || skip "husk --help does not mention $w (not there yet)"
	done
}

tests=virtio-net extra="net_count=200" mq="" args=()
case "$case" in
net) args=(--net tap=tg0) ;;
net-mq)
	tests=virtio-net-mq mq=multi_queue
	args=(--cpus 2 --net "tap=tg0,queues=2")
	;;
net-mrg) args=(--net tap=tg0); extra+=" net_rxbuf=256" ;;
net-plain) args=(--net tap=tg0); extra+=" net_mrg=0 net_csum=0 virtio_event_idx=0" ;;
net-mmio) args=(--virtio-transport mmio --net tap=tg0) ;;
*) fail "unknown case $case (see --list)" ;;
esac
requires --net
[[ "$case" != net-mmio ]] || requires --virtio-transport
need_kvm
[[ "$(id -u)" = 0 ]] || skip "needs root (network namespace, tap)"
make_workdir
net_setup "$mq" || fail "could not set up the namespace and tap"
net_peer "$WORK/peer.log" || fail "tg-netpeer did not start"
HUSK_PREFIX=(ip netns exec "$NET_NS")
run_husk 120 "$WORK/out" "$WORK/err" --test-devices --kernel "$TESTGUEST_ELF" \
	--cmdline "tests=$tests $extra" "${args[@]}"
console_copy "$WORK/out" "$WORK/console"
show=0
((RC == 0)) || { log "husk exited $RC, expected 0"; show=1; }
grep -qx "ok $tests" "$WORK/console" || { log "no 'ok $tests' line"; show=1; }
grep -qx "1 passed, 0 failed" "$WORK/console" || { log "no '1 passed, 0 failed'"; show=1; }
grep -q "datagrams echoed in order, 0 lost" "$WORK/console" || { log "no in-order echo line"; show=1; }
case "$case" in
net-mq) grep -q '^virtio-net: .*, 2 pair(s) of ' "$WORK/console" || { log "not 2 queue pairs"; show=1; } ;;
net-mrg) grep -q '^virtio-net: rx merged [1-9]' "$WORK/console" || { log "no merged frames"; show=1; } ;;
esac
if ((show)); then
	show_file "husk stdout" "$WORK/out"
	show_file "husk stderr" "$WORK/err"
	show_file "tg-netpeer" "$WORK/peer.log"
	fail "net-testguest $case"
fi
log "ok: $(grep -E '^virtio-net: host' "$WORK/console" | tr '\n' ' ')"
