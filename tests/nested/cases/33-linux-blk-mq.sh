# shellcheck shell=bash disable=SC2034
# A Linux guest with 2 vCPUs on a disk with queues=2 (VIRTIO_BLK_F_MQ): blk-mq
# makes 2 hardware queues (/sys/block/vda/mq/0 and 1); two dd writers, one
# pinned to each vCPU, write the 3 MiB file at 0 and at 16 MiB at the same
# time; both regions read back right in the guest (page cache dropped) and in
# the image (outer VM), and both queues' MSI-X vectors (virtio0-req.0 and
# .1 in /proc/interrupts) fired: the device completed requests on both.
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="Linux with 2 vCPUs on a 2-queue virtio-blk disk: 2 hw queues, parallel writers"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--cpus 2 --disk path=@CASEDIR@/mq.img,queues=2)
CASE_PRE="truncate -s 32M mq.img"
# shellcheck disable=SC2016 # expanded by the outer VM's sh
CASE_POST='for s in 0 256; do
	echo "IMAGE-AT-$s=$(dd if=mq.img bs=65536 skip=$s count=48 2>/dev/null | md5sum | cut -d" " -f1)"
done
rm -f mq.img'

case_prepare() {
	# shellcheck disable=SC2016 # expanded by the inner guest's sh
	lblk_initrd "$1" "$LBLK_SH_FUNCS"'
wait_disk vda
disk_facts vda
echo "MQ-QUEUES=$(ls /sys/block/vda/mq | wc -l)"
for q in /sys/block/vda/mq/*; do echo "MQ-${q##*/}-CPUS=$(cat $q/cpu_list)"; done
taskset -c 0 dd if=/data.bin of=/dev/vda bs=65536 seek=0 conv=fsync 2>/dev/null &
p0=$!
taskset -c 1 dd if=/data.bin of=/dev/vda bs=65536 seek=256 conv=fsync 2>/dev/null &
p1=$!
wait $p0
r0=$?
wait $p1
echo "WRITERS-RC=$r0,$?"
drop_caches
for s in 0 256; do
	echo "GUEST-AT-$s=$(dd if=/dev/vda bs=65536 skip=$s count=48 2>/dev/null | md5sum | cut -d" " -f1)"
done
awk "/virtio[0-9]+-req\\.[0-9]+\$/ { n = \$2 + \$3; q = \$NF; sub(/.*-req\\./, \"\", q); print \"MQ-IRQ-\" q \"=\" n }" /proc/interrupts
echo "NESTED-LBLK-DONE"' virtio_pci virtio_blk
}

case_check() {
	local want s
	want=$(lblk_data_md5)
	expect_rc 0
	expect_value MQ-QUEUES 2
	expect_value MQ-0-CPUS 0
	expect_value MQ-1-CPUS 1
	expect_value WRITERS-RC 0,0
	for s in 0 256; do
		expect_value "GUEST-AT-$s" "$want"
		expect_post "^IMAGE-AT-$s=$want\$" "the file at block $s of mq.img (md5 $want)"
	done
	expect_value_between MQ-IRQ-0 1 100000000
	expect_value_between MQ-IRQ-1 1 100000000
	expect_output '^NESTED-LBLK-DONE' "the guest's last step"
}
