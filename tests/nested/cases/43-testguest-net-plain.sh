# shellcheck shell=bash disable=SC2034
# As testguest-net negotiating neither MRG_RXBUF nor CSUM/GUEST_CSUM nor
# EVENT_IDX (net_mrg=0 net_csum=0 virtio_event_idx=0): whole-frame buffers,
# every checksum computed and verified by the guest. Skipped until husk
# --help mentions --net.
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="test guest: virtio-net without MRG_RXBUF, CSUM or EVENT_IDX"
CASE_ARGS=(--net tap=tg0)
nested_testguest_case virtio-net net_count=100 net_mrg=0 net_csum=0 virtio_event_idx=0

case_prepare() {
	nested_stage_testguest "$1"
	net_stage_peer "$1"
}

case_check() {
	net_testguest_check virtio-net
	expect_output '^virtio-net: rx merged 0, csum verified [1-9][0-9]*, completed 0, data-valid 0; tx offloaded 0' \
		"no offload used, every checksum verified"
}
