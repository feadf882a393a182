# shellcheck shell=bash disable=SC2034
# Live migration of a running Linux guest between two husk processes in the
# outer VM. The inner guest (virtio-blk, virtio-net, tmpfs) writes 256 KiB of
# random bytes to a tmpfs file and into the ext4 on /dev/vda (mounted, a
# line appended to /mnt/d/ticks every second), opens a TCP connection to a
# busybox nc listener in the outer VM (10.77.0.1:7778) and sends "line N"
# every 0.1 s over it, and prints a tick every second. A wrapper around
# husk (migwrap, in the outer VM) starts a destination husk --incoming
# unix:/tmp/mig.sock on another tap (--restore-net net0=tg1) and the same
# disk image after tick 6, then PUT /migration on the source's API; the
# source exits 0, tg0 goes with it and the outer VM gives tg1 the address.
# Checks: the source says it migrated and exits 0, the destination goes on
# ticking to 16 (its uptime carries on), the tmpfs file and the file on
# ext4 still hold the same bytes, every tick line reached the file system
# (written by both processes in turn) and e2fsck finds it clean, the TCP
# connection survived (the listener got lines 1..200, in order, none
# missing, no reset), both event files say migration-completed, and the
# guest powers off cleanly.
NET_PRE_MORE="sleep 100000 | nc -l -p 7778 >tcp.out 2>nc.log &
echo \$! >>pids"
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="Linux: live migration to a second husk: ticks, tmpfs, ext4 and a TCP stream carry on"
CASE_TIMEOUT=400
CASE_INITRD=initrd
CASE_REQUIRES="--incoming"
CASE_CMDLINE+=" quiet"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--api-sock /tmp/mig-api.sock --events /tmp/mig-src.ev --disk path=@CASEDIR@/mig.img --net tap=tg0)
CASE_HUSK_WRAPPER=(sh @CASEDIR@/migwrap @CASEDIR@)
CASE_OUTER_TOOLS=(e2fsck)
CASE_PRE="gunzip mig.img.gz; $CASE_PRE"
CASE_POST="$CASE_POST
echo \"TCP-LINES \$(wc -l <tcp.out)\"
awk '\$1 != \"line\" || \$2 != NR { print \"TCP-GAP at \" NR \": \" \$0; exit }' tcp.out
tail -n 1 tcp.out
cat nc.log
e2fsck -fn mig.img >fsck.log 2>&1; echo \"FSCK-RC=\$?\"; tail -n 1 fsck.log
rm -f mig.img"

case_prepare() {
	local dir=$1 mods f
	net_stage_peer "$dir"
	cp "$BUILD_DIR/tests/api-client" "$dir/api-client"
	cp "$(dirname "${BASH_SOURCE[0]}")/stall-watch.sh.in" "$dir/stall-watch"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/migwrap" <<'WRAP'
# migwrap CASEDIR husk ARGS...: husk; after tick 6 migrate it to a second husk.
dir=$1
shift
husk=$1
log=$(ls /tmp/*.log | grep linux-migrate | head -n 1)
C="$dir/api-client /tmp/mig-api.sock"
say() { echo "$*"; echo "migwrap: $*" >/dev/console; }
. "$dir/stall-watch"
"$@" &
pid=$!
i=0
until grep -q '^GUEST-TICK 6 ' "$log" 2>/dev/null; do
	usleep 200000
	i=$((i + 1))
	[ $i -lt 1500 ] || break
done
# the host side keeps its MAC across the move, as a gateway or bridge would:
# with tg1's own, the guest's ARP cache points at a MAC nobody answers to
# and its TCP stream stalls until the entry expires (minutes, with backoff)
mac0=$(cat /sys/class/net/tg0/address)
"$husk" --incoming unix:/tmp/mig.sock --restore-net net0=tg1 --events /tmp/mig-dst.ev \
	2>/tmp/mig-dst.err &
dpid=$!
i=0
while [ ! -S /tmp/mig.sock ] && [ $i -lt 200 ]; do usleep 50000; i=$((i + 1)); done
say "MIG put: $($C PUT /migration '{"destination_url":"unix:/tmp/mig.sock","downtime_ms":300}')"
wait $pid
say "MIG-SOURCE-EXIT $?"
i=0
while [ ! -e /sys/class/net/tg1 ] && [ $i -lt 200 ]; do usleep 100000; i=$((i + 1)); done
ip link set tg1 address "$mac0"
ip addr add 10.77.0.1/24 dev tg1
ip link set tg1 up
say "MIG-TG1 (after $i polls, $(cat /sys/class/net/tg1/address))"
stall_watch $dpid 150 MIG "$log"
wait $dpid
rc=$?
kill $WATCHER 2>/dev/null
say "MIG-DEST-EXIT $rc"
cat /tmp/mig-dst.err
grep -h migration-completed /tmp/mig-src.ev /tmp/mig-dst.ev | sed 's/^/MIG-EVENT /'
exit $rc
WRAP

	rm -f "$dir/mig.img" "$dir/mig.img.gz"
	truncate -s 32M "$dir/mig.img"
	mke2fs -q -F -t ext4 -L husk-mig "$dir/mig.img" >/dev/null ||
		nested_die "mke2fs on $dir/mig.img failed"
	gzip -1 "$dir/mig.img"
	mods=$(mktemp -d)
	: >"$dir/body"
	while read -r f; do
		f=$(basename "${f%%.ko*}")
		nested_ko_cat "$(nested_module_file "$f")" >"$mods/$f.ko"
		echo "insmod /$f.ko" >>"$dir/body"
	done < <(nested_resolve_modules virtio_pci virtio_blk virtio_net)
	cat >>"$dir/body" <<'INIT'
i=0
while { [ ! -e /sys/class/net/eth0 ] || [ ! -e /dev/vda ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link set lo up
ip addr add 10.77.0.2/24 dev eth0
ip link set eth0 up
mkdir -p /mnt
mount -t tmpfs none /mnt
dd if=/dev/urandom of=/mnt/f bs=1024 count=256 2>/dev/null
echo "MIG-TMPFS-MD5=$(md5sum </mnt/f | cut -d' ' -f1)"
mkdir -p /mnt/d
mount -t ext4 /dev/vda /mnt/d && cp /mnt/f /mnt/d/f && sync && echo "MIG-DISK-WRITTEN"
ping -c 2 -w 60 10.77.0.1 >/dev/null && echo "MIG-PING-OK"
(i=0; while [ $i -lt 200 ]; do i=$((i + 1)); echo "line $i"; sleep 0.1; done) |
	nc 10.77.0.1 7778 &
nc=$!
i=0
while [ $i -lt 16 ]; do
	i=$((i + 1))
	echo "GUEST-TICK $i $(cut -d' ' -f1 /proc/uptime)"
	echo "tick $i" >>/mnt/d/ticks
	sleep 1
done
wait $nc && echo "MIG-NC-DONE"
echo "MIG-TMPFS-AFTER=$(md5sum </mnt/f | cut -d' ' -f1)"
echo "MIG-DISK-AFTER=$(md5sum </mnt/d/f | cut -d' ' -f1)"
echo "MIG-TICK-LINES=$(wc -l </mnt/d/ticks)"
umount /mnt/d && echo "MIG-UMOUNT-OK"
poweroff -f
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

# The wrapper's lines share the guest's console stream and may land mid-line:
# they are matched anywhere on a line, the guest's own from its start.
case_check() {
	local md5
	md5=$(guest_value MIG-TMPFS-MD5)
	expect_rc 0
	expect_output '^MIG-DISK-WRITTEN' "the disk written before the migration"
	expect_output '^MIG-PING-OK' "the outer VM answering pings"
	expect_output 'MIG put: 204' "204 for PUT /migration"
	expect_output 'migrated to unix:/tmp/mig.sock in [0-9]+ ms' "the source saying it migrated"
	expect_output 'MIG-SOURCE-EXIT 0' "the source exiting 0"
	expect_output 'migration from unix:/tmp/mig.sock received' "the destination receiving the VM"
	expect_output 'MIG-TG1' "the destination's tap"
	expect_output '^GUEST-TICK 16 ' "the migrated guest's last tick"
	expect_output 'MIG-EVENT .*"event":"migration-completed","downtime_ms"' \
		"migration-completed in the event files"
	[[ -n "$md5" ]] || check_fail "no MIG-TMPFS-MD5 line"
	expect_value MIG-TMPFS-AFTER "$md5"
	expect_value MIG-DISK-AFTER "$md5"
	expect_value MIG-TICK-LINES 16
	expect_output '^MIG-UMOUNT-OK' "the file system unmounted"
	expect_post '^FSCK-RC=0' "e2fsck finding the file system clean"
	expect_output '^MIG-NC-DONE' "the TCP sender done"
	expect_post '^TCP-LINES 200$' "all 200 lines over the TCP connection"
	expect_no_output '^TCP-GAP' "a line missing or out of order in the TCP stream" post.log
	expect_no_output 'soft lockup|rcu_sched self-detected stall|BUG:|Oops' \
		"a kernel complaint after the migration"
}
