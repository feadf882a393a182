# shellcheck shell=bash disable=SC2034
# As testguest-blk-mq on the thread engine (engine=sync: preadv/pwritev,
# fdatasync and fallocate from a small thread pool instead of io_uring),
# with husk logging which engine each disk got.
# shellcheck source-path=SCRIPTDIR source=blk.inc
source "$(dirname "${BASH_SOURCE[0]}")/blk.inc"
CASE_DESC="test guest: virtio-blk on the thread engine (engine=sync), 2 queues, image checked"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--cpus 2 --log-level debug --disk path=@CASEDIR@/disk.img,queues=2,engine=sync)
nested_testguest_case virtio-blk blk_queues=2

# blk.inc's checks, then the engine's name
eval "$(declare -f case_check | sed '1s/^case_check/blk_case_check/')"
case_check() {
	blk_case_check
	expect_output '^husk: disk0: .*, 2 queues, sync engine' "husk's 'disk0: ... sync engine' line"
}
