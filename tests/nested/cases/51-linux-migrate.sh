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
# shellcheck source-path=SCRIPTDIR source=stream.inc
source "$(dirname "${BASH_SOURCE[0]}")/stream.inc"
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
	local dir=$1
	stream_stage_wrapper "$dir"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/migwrap" <<'WRAP'
# migwrap CASEDIR husk ARGS...: husk; after tick 6 migrate it to a second husk.
dir=$1
shift
husk=$1
log=$(ls /tmp/*.log | grep linux-migrate | head -n 1)
C="$dir/api-client /tmp/mig-api.sock"
WRAP=migwrap
. "$dir/wrap-lib"
"$@" &
pid=$!
wait_tick 6
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

	stream_guest_prepare "$dir" MIG mig.img
}

# The wrapper's lines share the guest's console stream and may land mid-line:
# they are matched anywhere on a line, the guest's own from its start.
case_check() {
	expect_rc 0
	stream_guest_check MIG
	expect_output 'MIG put: 204' "204 for PUT /migration"
	expect_output 'migrated to unix:/tmp/mig.sock in [0-9]+ ms' "the source saying it migrated"
	expect_output 'MIG-SOURCE-EXIT 0' "the source exiting 0"
	expect_output 'migration from unix:/tmp/mig.sock received' "the destination receiving the VM"
	expect_output 'MIG-TG1' "the destination's tap"
	expect_output 'MIG-EVENT .*"event":"migration-completed","downtime_ms"' \
		"migration-completed in the event files"
}
