# shellcheck shell=bash disable=SC2034
# The test guest's virtio-blk check against husk's virtio-blk (PCI): pattern
# over the whole 4 MiB disk, FLUSH, DISCARD, WRITE_ZEROES, GET_ID (husk's
# default serial is the disk's id, "disk0"), read past the end, polling and
# MSI-X rounds; the host then checks the image's md5. Skipped until husk
# --help mentions --disk.
# shellcheck source-path=SCRIPTDIR source=blk.inc
source "$(dirname "${BASH_SOURCE[0]}")/blk.inc"
CASE_DESC="test guest: virtio-blk (PCI) read/write/flush/discard/zeroes, image checked"
CASE_ARGS=(--disk path=@CASEDIR@/disk.img)
nested_testguest_case virtio-blk blk_serial=disk0
