# shellcheck shell=bash disable=SC2034
# Linux on husk's virtio-net: the inner guest loads virtio_net and its
# dependencies, configures eth0 (10.77.0.2/24), pings the outer VM's tap
# address, fetches a 4 MiB file from busybox httpd there (the tg-blkpattern
# bytes, md5 known) and sends 4 MiB of random bytes to a busybox nc listener
# there (md5 compared with what the outer VM received). Prints the virtio
# features Linux negotiated (HOST_TSO4, bit 11, must be on: the transfers
# then ran with TSO; there is no ethtool in busybox). Skipped until husk
# --help mentions --net. (The listener's stdin never ends: a listener that
# shut its side down would make the sender's nc quit before all was sent.)
NET_PRE_MORE="sleep 100000 | nc -l -p 7778 >up.bin 2>nc.log &
echo \$! >>pids
httpd -f -p 10.77.0.1:8080 -h www &
echo \$! >>pids"
# shellcheck source-path=SCRIPTDIR source=net.inc
source "$(dirname "${BASH_SOURCE[0]}")/net.inc"
CASE_DESC="Linux virtio_net: ping, 4 MiB each way over HTTP / nc (md5), TSO negotiated"
CASE_INITRD=initrd
CASE_ARGS=(--memory 512M --net tap=tg0)
CASE_POST="$CASE_POST; md5sum up.bin"
NET_FILE_SIZE=4194304

case_prepare() {
	local dir=$1 mods f
	net_stage_peer "$dir"
	mkdir -p "$dir/www"
	"$BUILD_DIR/firmware/tg-blkpattern" "$NET_FILE_SIZE" >"$dir/www/big" ||
		nested_die "tg-blkpattern failed (build it: cmake --build $BUILD_DIR)"
	mods=$(mktemp -d)
	: >"$dir/body"
	while read -r f; do
		f=$(basename "${f%%.ko*}")
		nested_ko_cat "$(nested_module_file "$f")" >"$mods/$f.ko"
		echo "insmod /$f.ko" >>"$dir/body"
	done < <(nested_resolve_modules virtio_pci virtio_net)
	cat >>"$dir/body" <<'INIT'
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link set lo up
ip addr add 10.77.0.2/24 dev eth0
ip link set eth0 up
f=$(cat /sys/class/net/eth0/device/features)
echo "NET-FEATURES=$f"
echo "NET-TSO4=$(echo "$f" | cut -c12) NET-MRG=$(echo "$f" | cut -c16)"
ping -c 3 -w 30 10.77.0.1 && echo "NET-PING-OK"
wget -q -O /tmp/down http://10.77.0.1:8080/big &&
	echo "NET-DOWN-MD5=$(md5sum </tmp/down | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/up bs=65536 count=64 2>/dev/null
echo "NET-UP-MD5=$(md5sum </tmp/up | cut -d' ' -f1)"
nc 10.77.0.1 7778 </tmp/up && echo "NET-UP-SENT"
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

case_check() {
	local down up
	down=$(nested_blk_pattern_md5 "$NET_FILE_SIZE")
	up=$(sed -n 's/^NET-UP-MD5=//p' output.log | tail -n 1)
	expect_rc 0
	expect_output '^NET-TSO4=1 ' "HOST_TSO4 negotiated by virtio_net"
	expect_output '^NET-PING-OK' "ping to the outer VM's tap address"
	expect_output "^NET-DOWN-MD5=$down\$" "the 4 MiB download with md5 $down"
	expect_output '^NET-UP-SENT' "the 4 MiB upload sent"
	[[ -n "$up" ]] || check_fail "no NET-UP-MD5 line"
	expect_post "^$up  up.bin" "the upload received intact (md5 $up)"
}
