# shellcheck shell=bash disable=SC2034
# virtio-net on virtio-pci against Linux's virtio_net driver: husk creates tap0
# in the outer VM (--net tap=tap0), the outer kernel brings up its IPv6
# link-local address on it. The inner guest loads virtio_pci, virtio_net and
# their dependencies, sets eth0 up, waits for its own link-local address, then
# pings the all-nodes group (ff02::1) through eth0 with small and 4000-byte
# echoes (fragments: several frames per echo both ways). Checks: eth0 has the
# MAC husk derives for "husk-tap0", index 0 (stable), the link is up, a reply
# came from an address that is not the guest's own (the outer kernel's, across
# the tap), no virtio_net errors in the guest's log, and a clean power-off.
# No IPv4 address is needed on the tap (the harness has no pre-run hook).
CASE_DESC="virtio-net on a tap: Linux's virtio_net pings the outer VM over IPv6 link-local"
CASE_TIMEOUT=120
CASE_INITRD=initrd
CASE_REQUIRES="--net"
CASE_ARGS=(--net tap=tap0)

case_prepare() {
	local dir=$1 mods f
	mods=$(mktemp -d)
	: >"$dir/body"
	while read -r f; do
		f=$(basename "${f%%.ko*}")
		nested_ko_cat "$(nested_module_file "$f")" >"$mods/$f.ko"
		echo "insmod /$f.ko" >>"$dir/body"
	done < <(nested_resolve_modules "${NET_TRANSPORT_MODULE:-virtio_pci}" virtio_net)
	cat >>"$dir/body" <<'INIT'
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link set lo up
ip link set eth0 up
echo "NET-MAC=$(cat /sys/class/net/eth0/address)"
echo "NET-FEATURES=$(cat /sys/class/net/eth0/device/features 2>/dev/null)"
echo "NET-QUEUES=$(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
own=
i=0
while [ -z "$own" ] && [ $i -lt 100 ]; do
	own=$(ip -6 addr show dev eth0 scope link 2>/dev/null | grep -v tentative |
		sed -n 's/.*inet6 \(fe80[^/]*\).*/\1/p')
	sleep 0.1
	i=$((i + 1))
done
echo "NET-OPER=$(cat /sys/class/net/eth0/operstate) NET-OWN=$own"
# The outer kernel's own link-local address on the new tap may still be
# tentative (IPv6 DAD, slow under TCG): ping again until it answers.
n=0
while :; do
	ping6 -c 4 -w 10 -I eth0 ff02::1 >/tmp/ping 2>&1
	peer=$(grep 'bytes from' /tmp/ping | grep -v "from $own" | head -n 1)
	if [ -n "$peer" ] || [ $n -ge 5 ]; then
		break
	fi
	n=$((n + 1))
	sleep 1
done
ping6 -c 2 -w 10 -s 4000 -I eth0 ff02::1 >/tmp/ping-big 2>&1
sed 's/^/PING: /' /tmp/ping /tmp/ping-big
[ -n "$peer" ] && echo "NET-PEER-REPLY $peer"
big=$(grep '4008 bytes from' /tmp/ping-big | grep -v "from $own" | head -n 1)
[ -n "$big" ] && echo "NET-PEER-BIG-REPLY $big"
sed -n 's/^ *eth0: */NET-DEV eth0 /p' /proc/net/dev
dmesg | grep -iE 'virtio_net|virtio[0-9]|eth0|queue pairs' | sed 's/^/NET-DMESG: /'
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

case_check() {
	expect_rc 0
	# net_default_mac("husk-tap0", 0): FNV-1a, locally administered, unicast
	expect_value NET-MAC 26:fd:6a:5f:09:06
	expect_output '^NET-OPER=up ' "eth0 is up (VIRTIO_NET_S_LINK_UP)"
	expect_output '^NET-PEER-REPLY ' "an echo reply from the outer VM across the tap"
	expect_output '^NET-PEER-BIG-REPLY ' "a 4000-byte echo reply (fragmented) from the outer VM"
	expect_no_output '^NET-DMESG: .*([Ee]rror|bad|[Ff]ail)' "virtio_net errors in the guest's log"
}
