# shellcheck shell=bash disable=SC2034
# A Linux guest on two virtio-blk disks over virtio-pci: vda holds an ext4
# made on the host, vdb is blank and formatted by the guest's own mke2fs
# (serial= checked in /sys/block/vdb/serial). A 3 MiB pseudo-random file is
# copied onto both, synced and re-read; after poweroff the host side (debugfs
# inside the outer VM) finds it in both images byte for byte (md5) and
# e2fsck finds both file systems clean. Details: linuxblk.inc.
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="Linux on 2 virtio-blk disks (pci): ext4 mounted, file written, found in the images"
lblk_two_disks

case_prepare() { lblk_two_disks_prepare "$1" virtio_pci virtio_blk; }
case_check() { lblk_two_disks_check; }
