# shellcheck shell=bash disable=SC2034
# As testguest-blk with two request queues (VIRTIO_BLK_F_MQ): the guest runs
# one request stream per queue and fails unless it uses exactly 2
# (blk_queues=2), each with its own MSI-X vector in the interrupt round.
# shellcheck source-path=SCRIPTDIR source=blk.inc
source "$(dirname "${BASH_SOURCE[0]}")/blk.inc"
CASE_DESC="test guest: virtio-blk with 2 queues, one stream each, image checked"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--cpus 2 --disk path=@CASEDIR@/disk.img,queues=2)
nested_testguest_case virtio-blk blk_queues=2
