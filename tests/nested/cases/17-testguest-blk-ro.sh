# shellcheck shell=bash disable=SC2034
# The test guest's virtio-blk-ro check on a read-only disk: VIRTIO_BLK_F_RO
# offered, a write fails with IOERR or UNSUPP and changes nothing; the image
# (the final virtio-blk pattern, made by tg-blkpattern) must be unchanged
# (md5 from inside the outer VM).
# The readonly=on key follows husk.h's husk_disk_config.readonly.
CASE_DESC="test guest: read-only virtio-blk refuses writes, image unchanged"
CASE_TIMEOUT=120
CASE_REQUIRES="--disk"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--disk path=@CASEDIR@/ro.img,readonly=on)
CASE_POST="md5sum ro.img"
nested_testguest_case virtio-blk-ro

case_prepare() {
	nested_stage_testguest "$1"
	"$BUILD_DIR/firmware/tg-blkpattern" 1048576 >"$1/ro.img"
}

case_check() {
	expect_rc 0
	expect_output '^ok virtio-blk-ro' "ok virtio-blk-ro"
	expect_post "^$(nested_blk_pattern_md5 1048576)  ro.img" "ro.img unchanged (md5)"
}
