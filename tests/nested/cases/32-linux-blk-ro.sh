# shellcheck shell=bash disable=SC2034
# A Linux guest on a read-only disk (ro=on, VIRTIO_BLK_F_RO): it sees
# /sys/block/vda/ro = 1, a dd onto /dev/vda fails, reading the disk gives the
# image's content, and the image is unchanged afterwards (md5 inside the
# outer VM against the host's).
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="Linux on a ro=on virtio-blk disk: ro in sysfs, writes fail, image unchanged"
LBLK_RO_SIZE=4194304
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--disk path=@CASEDIR@/ro.img,ro=on)
CASE_POST="echo \"IMAGE-MD5=\$(md5sum <ro.img | cut -d' ' -f1)\"; rm -f ro.img"

lblk_ro_image() { nested_pseudo_random "$LBLK_RO_SIZE" husk-linux-blk-ro; }

case_prepare() {
	lblk_ro_image >"$1/ro.img"
	# shellcheck disable=SC2016 # expanded by the inner guest's sh
	lblk_initrd "$1" "$LBLK_SH_FUNCS"'
wait_disk vda
disk_facts vda
dd if=/data.bin of=/dev/vda bs=4096 count=16 conv=fsync 2>/tmp/dd.err
echo "DD-WRITE-RC=$?"
sed "s/^/dd: /" /tmp/dd.err
drop_caches
echo "GUEST-MD5=$(md5sum </dev/vda | cut -d" " -f1)"
echo "NESTED-LBLK-DONE"' virtio_pci virtio_blk
}

case_check() {
	local want
	want=$(lblk_ro_image | md5sum | cut -d' ' -f1)
	expect_rc 0
	expect_value DISK-vda-RO 1
	expect_value DISK-vda-SIZE $((LBLK_RO_SIZE / 512))
	expect_output '^DD-WRITE-RC=[1-9]' "the dd onto /dev/vda failing"
	expect_value GUEST-MD5 "$want"
	expect_output '^NESTED-LBLK-DONE' "the guest's last step"
	expect_post "^IMAGE-MD5=$want\$" "ro.img unchanged (md5 $want)"
}
