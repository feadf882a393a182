# shellcheck shell=bash disable=SC2034
# As testguest-net with two queue pairs (--net ...,queues=2, a multi-queue
# tap): VQ_PAIRS_SET 2 through the control queue, one UDP stream per pair.
# Skipped until husk --help mentions --net.
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="test guest: virtio-net with 2 queue pairs (MQ, CTRL_VQ), a stream on each"
CASE_ARGS=(--cpus 2 --net "tap=tg0,queues=2")
nested_testguest_case virtio-net-mq net_count=100

case_prepare() {
	nested_stage_testguest "$1"
	net_stage_peer "$1"
}

case_check() {
	net_testguest_check virtio-net-mq
	expect_output '^virtio-net: .*, 2 pair\(s\) of ' "two queue pairs in use"
	expect_output '^virtio-net: pair 1: rx [0-9]+ frames, tx [1-9]' "frames sent on pair 1"
}
