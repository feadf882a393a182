# shellcheck shell=bash disable=SC2034
# As testguest-net with 256-byte RX buffers (net_rxbuf=256): every frame
# over 244 bytes must arrive in several buffers (MRG_RXBUF, num_buffers).
# Skipped until husk --help mentions --net.
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="test guest: virtio-net with mergeable 256-byte RX buffers"
CASE_ARGS=(--net tap=tg0)
nested_testguest_case virtio-net net_count=100 net_rxbuf=256

case_prepare() {
	nested_stage_testguest "$1"
	net_stage_peer "$1"
}

case_check() {
	net_testguest_check virtio-net
	expect_output '^virtio-net: rx merged [1-9]' "frames merged from several buffers"
}
