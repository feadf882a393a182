# shellcheck shell=bash disable=SC2034
# Replication of a running Linux guest to a husk --standby in the outer VM,
# and a failover when the primary is killed. The inner guest (virtio-blk, virtio-net, tmpfs) writes 256 KiB of
# random bytes to a tmpfs file and into the ext4 on /dev/vda (mounted, a
# line appended to /mnt/d/ticks every second), opens a TCP connection to a
# busybox nc listener in the outer VM (10.77.0.1:7778) and sends "line N"
# every 0.1 s over it, and prints a tick every second. A wrapper around
# husk (repwrap, in the outer VM) starts a standby husk --incoming
# unix:/tmp/rep.sock --standby with its own tap (tg1) and its own disk image
# (rep-standby.img), PUT /replication (every 100 ms) after tick 3, and kills
# the primary with SIGKILL after tick 7 and its first checkpoint; when tg0 is gone the outer VM gives
# tg1 the address.
# Checks: the standby takes over (failover event) within its timeout and
# goes on ticking to 16 (uptime carries on), the tmpfs file and the file on
# ext4 hold the same bytes, every tick line is in the standby's image and
# e2fsck finds it clean, the TCP connection survived the failover (the
# listener got lines 1..200, in order, none missing: the frames sent after
# the last checkpoint were held, never seen outside), and the guest powers
# off cleanly.
NET_PRE_MORE="sleep 100000 | nc -l -p 7778 >tcp.out 2>nc.log &
echo \$! >>pids"
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
# shellcheck source-path=SCRIPTDIR source=stream.inc
source "$(dirname "${BASH_SOURCE[0]}")/stream.inc"
CASE_DESC="Linux: replication to a standby, primary killed: ticks, tmpfs, ext4 and a TCP stream carry on"
CASE_TIMEOUT=400
CASE_INITRD=initrd
CASE_REQUIRES="--standby"
CASE_CMDLINE+=" quiet"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--api-sock /tmp/rep-api.sock --events /tmp/rep-src.ev --disk path=@CASEDIR@/rep.img --net tap=tg0)
CASE_HUSK_WRAPPER=(sh @CASEDIR@/repwrap @CASEDIR@)
CASE_OUTER_TOOLS=(e2fsck)
CASE_PRE="gunzip rep.img.gz; cp rep.img rep-standby.img; $CASE_PRE"
CASE_POST="$CASE_POST
echo \"TCP-LINES \$(wc -l <tcp.out)\"
awk '\$1 != \"line\" || \$2 != NR { print \"TCP-GAP at \" NR \": \" \$0; exit }' tcp.out
tail -n 1 tcp.out
cat nc.log
e2fsck -fn rep-standby.img >fsck.log 2>&1; echo \"FSCK-RC=\$?\"; tail -n 1 fsck.log
rm -f rep.img rep-standby.img"

case_prepare() {
	local dir=$1
	stream_stage_wrapper "$dir"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/repwrap" <<'WRAP'
# repwrap CASEDIR husk ARGS...: husk; replicate it to a standby after tick 3, kill it after tick 7 and a checkpoint.
dir=$1
shift
husk=$1
log=$(ls /tmp/*.log | grep linux-replicate | head -n 1)
C="$dir/api-client /tmp/rep-api.sock"
WRAP=repwrap
. "$dir/wrap-lib"
"$husk" --incoming unix:/tmp/rep.sock --standby --failover-timeout 1000 \
	--restore-net net0=tg1 --restore-disk "disk0=$dir/rep-standby.img" \
	--events /tmp/rep-dst.ev 2>/tmp/rep-dst.err &
dpid=$!
"$@" &
pid=$!
wait_tick 3
mac0=$(cat /sys/class/net/tg0/address)	# tg1 takes it over (see 51-linux-migrate.sh)
say "REP put: $($C PUT /replication '{"destination_url":"unix:/tmp/rep.sock","interval_ms":100}')"
wait_tick 7
# and a checkpoint past the first sync (under TCG that sync once took over 4 s)
i=0
until $C GET /replication | grep -q '"epoch":[1-9]'; do
	usleep 200000
	i=$((i + 1))
	[ $i -lt 300 ] || break
done
say "REP get: $($C GET /replication)"
kill -KILL $pid
wait $pid
say "REP-PRIMARY-KILLED"
i=0
while [ -e /sys/class/net/tg0 ] && [ $i -lt 100 ]; do usleep 50000; i=$((i + 1)); done
ip link set tg1 address "$mac0"
ip addr add 10.77.0.1/24 dev tg1
ip link set tg1 up
say "REP-TG1 (tg0 gone after $i polls, $(cat /sys/class/net/tg1/address))"
stall_watch $dpid 150 REP "$log"
wait $dpid
rc=$?
kill $WATCHER 2>/dev/null
say "REP-STANDBY-EXIT $rc"
cat /tmp/rep-dst.err
grep -h failover /tmp/rep-dst.ev | sed 's/^/REP-EVENT /'
exit $rc
WRAP

	stream_guest_prepare "$dir" REP rep.img
}

# The wrapper's lines share the guest's console stream and may land mid-line:
# they are matched anywhere on a line, the guest's own from its start.
case_check() {
	expect_rc 0
	stream_guest_check REP
	expect_output 'REP put: 204' "204 for PUT /replication"
	expect_output 'REP get: .*"state":"active"' "replication active before the kill"
	expect_output 'REP-PRIMARY-KILLED' "the primary killed"
	expect_output 'standby: took over from unix:/tmp/rep.sock at checkpoint [0-9]+' \
		"the standby taking over"
	expect_output 'REP-EVENT .*"event":"failover","epoch":[0-9]+' "a failover event"
	expect_output 'REP-TG1' "the standby's tap"
}
