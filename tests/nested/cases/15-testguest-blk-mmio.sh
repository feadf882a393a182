# shellcheck shell=bash disable=SC2034
# As testguest-blk, over husk's virtio-mmio transport: the test guest finds
# the disk from virtio_mmio.device= on its command line and takes interrupts
# through the IOAPIC. Skipped until husk --help mentions --disk and
# --virtio-transport.
# shellcheck source-path=SCRIPTDIR source=blk.inc
source "$(dirname "${BASH_SOURCE[0]}")/blk.inc"
CASE_DESC="test guest: virtio-blk over virtio-mmio (IOAPIC interrupts), image checked"
CASE_REQUIRES="--disk --virtio-transport"
CASE_ARGS=(--virtio-transport mmio --disk path=@CASEDIR@/disk.img)
nested_testguest_case virtio-blk
