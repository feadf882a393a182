# shellcheck shell=bash disable=SC2034
# Snapshot and restore of a running Linux guest, killed in between, then
# clones. The inner guest (virtio-blk, virtio-net, tmpfs) writes 256 KiB of
# random bytes to a tmpfs file and into the ext4 on /dev/vda (mounted, a
# line appended to /mnt/d/ticks every second), opens a TCP connection to a
# busybox nc listener in the outer VM (10.77.0.1:7778) and sends "line N"
# every 0.1 s over it, and prints a tick every second. A wrapper around
# husk (snapwrap, in the outer VM) pauses the VM after tick 6, takes a Full
# snapshot through the API, SIGKILLs husk, keeps a copy of the disk as it
# was, waits 2 s, and restores the snapshot in a new husk (--restore
# --resume), giving the tap its address again (husk made tg0, which died
# with it). When that guest has powered off, three clones of the snapshot
# run at once, each on its own tap (--restore-net net0=tgN) and disk copy
# (--restore-disk), and the outer VM pings each through its tap.
# Checks: the restored guest goes on ticking to 16 (its uptime carries on),
# the tmpfs file and the file on ext4 still hold the same bytes, every tick
# line reached the file system and e2fsck finds it clean, the TCP
# connection survived (the listener got lines 1..200, in order, none
# missing), each clone answered ping, and the guest powers off cleanly.
# (The guest's own vmgenid driver is not checked: Debian's cloud kernel is
# built without CONFIG_VIRT_DRIVERS. snapshot.sh checks the new ID.)
NET_PRE_MORE="sleep 100000 | nc -l -p 7778 >tcp.out 2>nc.log &
echo \$! >>pids"
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
# shellcheck source-path=SCRIPTDIR source=stream.inc
source "$(dirname "${BASH_SOURCE[0]}")/stream.inc"
CASE_DESC="Linux: snapshot, SIGKILL, restore: ticks, tmpfs, ext4 and a TCP stream carry on; 3 clones ping"
CASE_TIMEOUT=400
CASE_INITRD=initrd
CASE_REQUIRES="--restore"
CASE_CMDLINE+=" quiet"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--api-sock /tmp/snap-api.sock --disk path=@CASEDIR@/snap.img --net tap=tg0)
CASE_HUSK_WRAPPER=(sh @CASEDIR@/snapwrap @CASEDIR@)
CASE_OUTER_TOOLS=(e2fsck)
CASE_PRE="gunzip snap.img.gz; $CASE_PRE"
CASE_POST="$CASE_POST
echo \"TCP-LINES \$(wc -l <tcp.out)\"
awk '\$1 != \"line\" || \$2 != NR { print \"TCP-GAP at \" NR \": \" \$0; exit }' tcp.out
tail -n 1 tcp.out
e2fsck -fn snap.img >fsck.log 2>&1; echo \"FSCK-RC=\$?\"; tail -n 1 fsck.log
rm -f snap.img snap0.img clone*.img /tmp/snap.snap /tmp/snap.mem"

case_prepare() {
	local dir=$1
	stream_stage_wrapper "$dir"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/snapwrap" <<'WRAP'
# snapwrap CASEDIR husk ARGS...: husk; after tick 6 snapshot it, SIGKILL it, restore it.
dir=$1
shift
husk=$1
log=$(ls /tmp/*.log | grep linux-snapshot | head -n 1)
C="$dir/api-client /tmp/snap-api.sock"
WRAP=snapwrap
. "$dir/wrap-lib"
"$@" &
pid=$!
wait_tick 6
say "SNAP pause: $($C PATCH /vm '{"state":"Paused"}')"
say "SNAP create: $($C PUT /snapshot/create '{"snapshot_type":"Full","snapshot_path":"/tmp/snap.snap","mem_file_path":"/tmp/snap.mem"}')"
kill -KILL $pid
wait $pid
say "SNAP-KILLED"
cp "$dir/snap.img" "$dir/snap0.img"	# the disk as the snapshot knows it
sleep 2
"$husk" --restore /tmp/snap.snap --restore-mem /tmp/snap.mem --resume --api-sock /tmp/snap-api2.sock &
pid=$!
i=0
while [ ! -e /sys/class/net/tg0 ] && [ $i -lt 200 ]; do usleep 100000; i=$((i + 1)); done
ip addr add 10.77.0.1/24 dev tg0
ip link set tg0 up
say "SNAP-RESTORED (tg0 after $i polls)"
stall_watch $pid 150 SNAP "$log" /tmp/snap-api2.sock
wait $pid
rc=$?
kill $WATCHER 2>/dev/null
say "SNAP-RESTORED-EXIT $rc"
# three clones at once, each on its own tap and disk copy; ping each
pids=
for n in 1 2 3; do
	cp "$dir/snap0.img" "$dir/clone$n.img"
	"$husk" --restore /tmp/snap.snap --restore-mem /tmp/snap.mem --resume \
		--restore-net net0=tg$n --restore-disk "disk0=$dir/clone$n.img" \
		--serial "file:/tmp/clone$n.log" >/tmp/clone$n.err 2>&1 &
	pids="$pids $!"
done
for n in 1 2 3; do
	i=0
	while [ ! -e /sys/class/net/tg$n ] && [ $i -lt 200 ]; do usleep 100000; i=$((i + 1)); done
	[ -e /sys/class/net/tg$n ] || say "CLONE $n: no tg$n: $(cat /tmp/clone$n.err)"
	ip addr add 10.77.0.1/24 dev tg$n
	ip link set tg$n up
done
for n in 1 2 3; do
	if ping -c 2 -w 20 -I tg$n 10.77.0.2 >/tmp/ping$n 2>&1; then
		say "CLONE-PING tg$n ok"
	else
		say "CLONE-PING tg$n failed: $(tail -n 2 /tmp/ping$n | tr '\n' ' ')"
	fi
done
for n in 1 2 3; do
	echo "CLONE $n: $(grep -c '^GUEST-TICK' /tmp/clone$n.log) ticks; $(grep 'restored in' /tmp/clone$n.err)"
done
# shellcheck disable=SC2086 # one word per pid
kill -KILL $pids 2>/dev/null
exit $rc
WRAP
	stream_guest_prepare "$dir" SNAP snap.img
}

case_check() {
	expect_rc 0
	stream_guest_check SNAP
	expect_output '^SNAP pause: 204' "204 for PATCH /vm Paused"
	expect_output '^SNAP create: 204' "204 for PUT /snapshot/create"
	expect_output '^SNAP-KILLED' "the first husk killed"
	expect_output '^SNAP-RESTORED' "the restored husk's tap"
	for n in 1 2 3; do
		expect_output "^CLONE-PING tg$n ok" "clone $n answering ping on tg$n"
	done
}
