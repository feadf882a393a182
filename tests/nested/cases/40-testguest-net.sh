# shellcheck shell=bash disable=SC2034
# The test guest's virtio-net check against husk's virtio-net (PCI, one
# queue pair) on a tap husk creates: ARP, four pings, 100 numbered UDP
# datagrams echoed by tg-netpeer on the outer VM's tap address, polling then
# MSI-X with EVENT_IDX. Skipped until husk --help mentions --net.
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="test guest: virtio-net ARP, ping, UDP echo on a tap (polling, MSI-X)"
CASE_ARGS=(--net tap=tg0)
nested_testguest_case virtio-net net_count=100

case_prepare() {
	nested_stage_testguest "$1"
	net_stage_peer "$1"
}

case_check() { net_testguest_check virtio-net; }
