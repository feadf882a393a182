# shellcheck shell=bash disable=SC2034
# As testguest-net over virtio-mmio (--virtio-transport mmio): the device's
# one IOAPIC pin for every queue in the interrupt round. Skipped until husk
# --help mentions --net and --virtio-transport.
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="test guest: virtio-net over virtio-mmio (polling, IOAPIC pin)"
CASE_REQUIRES="--net --virtio-transport"
CASE_ARGS=(--virtio-transport mmio --net tap=tg0)
nested_testguest_case virtio-net net_count=100

case_prepare() {
	nested_stage_testguest "$1"
	net_stage_peer "$1"
}

case_check() {
	net_testguest_check virtio-net
	expect_output '^virtio-net: mmio ' "the device found on virtio-mmio"
}
