# shellcheck shell=bash disable=SC2034
# As linux-blk over --virtio-transport mmio: the guest loads virtio_mmio,
# which binds the devices husk describes in the DSDT (LNRO0005).
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="Linux on 2 virtio-blk disks (mmio): ext4 mounted, file written, found in the images"
CASE_ARGS=(--virtio-transport mmio)
lblk_two_disks

case_prepare() { lblk_two_disks_prepare "$1" virtio_mmio virtio_blk; }
case_check() {
	lblk_two_disks_check
	expect_no_output 'ACPI (Error|Warning)|virtio_mmio.*(probe|failed)' "ACPI or virtio_mmio errors"
}
