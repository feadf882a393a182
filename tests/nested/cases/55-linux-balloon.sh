# shellcheck shell=bash disable=SC2034
# Linux's virtio_balloon on husk's balloon (docs/balloon.md), 512 MiB of RAM,
# --balloon amount_mib=0 with statistics every second and free page
# reporting. The inner guest fills 192 MiB of tmpfs, holds, deletes it and
# waits: free page reporting gives the freed memory back. A wrapper around
# husk in the outer VM (balwrap) reads husk's RssShmem at each step, then
# sets the target to 128 MiB (PATCH /balloon), waits for the guest's
# actual_pages to reach it, reads the statistics, and sets it back to 0.
# The guest watches its own MemFree go down and up again.
# Checks: RssShmem fell by at least 150 MiB after the delete (reporting);
# the inflate shows in actual_pages and in the guest's MemFree (down by at
# least 100 MiB, then back within 32 MiB): the pages a guest takes for its
# balloon are mostly ones it never touched, so they were not resident to
# begin with; the statistics carry the guest's total_memory; the guest
# powers off cleanly.
CASE_DESC="Linux virtio_balloon: free page reporting returns freed RAM; inflate/deflate by PATCH; statistics"
CASE_TIMEOUT=300
CASE_INITRD=initrd
CASE_REQUIRES="--balloon"
CASE_CMDLINE+=" quiet"
# shellcheck disable=SC2054 # the commas belong to --balloon
CASE_ARGS=(--memory 512M --api-sock /tmp/bal-api.sock
	--balloon amount_mib=0,stats_polling_interval_s=1,free_page_reporting=on)
CASE_HUSK_WRAPPER=(sh @CASEDIR@/balwrap @CASEDIR@)

case_prepare() {
	local dir=$1 mods f
	cp "$BUILD_DIR/tests/api-client" "$dir/api-client"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/balwrap" <<'WRAP'
# balwrap CASEDIR husk ARGS...: husk, driven through the guest's phases.
dir=$1
shift
log=$(ls /tmp/*.log | grep linux-balloon | head -n 1)
C="$dir/api-client /tmp/bal-api.sock"
say() { echo "$*"; echo "balwrap: $*" >/dev/console; }
"$@" &
pid=$!
# until LINE: the guest printed a line starting with it (up to 120 s)
until_line() {
	i=0
	until grep -q "^$1" "$log" 2>/dev/null; do
		usleep 200000
		i=$((i + 1))
		[ $i -lt 600 ] || { say "BAL-TIMEOUT waiting for $1"; return 1; }
	done
}
rss() { awk '$1 == "RssShmem:" { print $2 }' /proc/$pid/status; }
# until_actual N: the driver says it holds N pages (up to 120 s)
until_actual() {
	i=0
	until $C GET /balloon/statistics | grep -q "\"actual_pages\":$1,"; do
		kill -0 $pid 2>/dev/null || { say "BAL-TIMEOUT husk ended waiting for actual_pages $1"; return 1; }
		usleep 500000
		i=$((i + 1))
		[ $i -lt 240 ] || { say "BAL-TIMEOUT waiting for actual_pages $1"; return 1; }
	done
}
until_line BAL-FILLED && say "BAL-RSS-FILLED=$(rss)"
until_line BAL-REPORTED && say "BAL-RSS-REPORTED=$(rss)"
say "BAL-PATCH-128: $($C PATCH /balloon '{"amount_mib":128}')"
until_actual 32768 && say "BAL-HOST-INFLATED rss $(rss)"
until_line BAL-GUEST-INFLATED
say "BAL-STATS: $($C GET /balloon/statistics | tr -d '\n')"
say "BAL-PATCH-0: $($C PATCH /balloon '{"amount_mib":0}')"
until_actual 0 && say "BAL-HOST-DEFLATED"
wait $pid
rc=$?
say "BAL-EXIT $rc"
exit $rc
WRAP
	mods=$(mktemp -d)
	: >"$dir/body"
	while read -r f; do
		f=$(basename "${f%%.ko*}")
		nested_ko_cat "$(nested_module_file "$f")" >"$mods/$f.ko"
		echo "insmod /$f.ko" >>"$dir/body"
	done < <(nested_resolve_modules virtio_pci virtio_balloon)
	cat >>"$dir/body" <<'INIT'
free_kb() { awk '$1 == "MemFree:" { print $2 }' /proc/meminfo; }
i=0
while [ -z "$(ls /sys/bus/virtio/drivers/virtio_balloon 2>/dev/null | grep virtio)" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "BAL-BOUND=$(ls /sys/bus/virtio/drivers/virtio_balloon | grep -c virtio)"
mkdir -p /mnt
mount -t tmpfs -o size=300m none /mnt
dd if=/dev/zero of=/mnt/f bs=1M count=192 2>/dev/null
echo "BAL-FILLED free=$(free_kb)"
sleep 3
rm /mnt/f
sleep 10	# reporting waits 2 s after a free, then hands over what it found
base=$(free_kb)
echo "BAL-REPORTED free=$base"
# the host inflates to 128 MiB: MemFree goes down by at least 100 MiB
i=0
while [ "$(free_kb)" -gt $((base - 102400)) ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
echo "BAL-GUEST-INFLATED free=$(free_kb) after ${i}s"
# and back to within 32 MiB of where it was
i=0
while [ "$(free_kb)" -lt $((base - 32768)) ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
echo "BAL-GUEST-DEFLATED free=$(free_kb) after ${i}s"
sleep 3	# the wrapper reads actual_pages 0 before the VM is gone
echo "BAL-DROP-KB=$((base - $(free_kb)))"
poweroff -f
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

case_check() {
	local filled reported
	expect_rc 0
	expect_value BAL-BOUND 1
	filled=$(guest_value BAL-RSS-FILLED)
	reported=$(guest_value BAL-RSS-REPORTED)
	[[ -n "$filled" && -n "$reported" ]] || check_fail "no RssShmem readings"
	((filled - reported >= 150 * 1024)) ||
		check_fail "RssShmem went from $filled to $reported KiB after the delete: want 150 MiB back"
	expect_output '^BAL-PATCH-128: 204' "204 for PATCH /balloon 128 MiB"
	expect_output '^BAL-HOST-INFLATED' "actual_pages reaching 32768"
	expect_output '^BAL-GUEST-INFLATED free=.* after [0-9]*s' "the guest's MemFree going down"
	expect_output '^BAL-STATS: .*"total_memory":[1-9]' "the guest's statistics"
	expect_output '^BAL-PATCH-0: 204' "204 for PATCH /balloon 0"
	expect_output '^BAL-HOST-DEFLATED' "actual_pages back to 0"
	expect_output '^BAL-GUEST-DEFLATED' "the guest's MemFree coming back"
	expect_no_output 'BAL-TIMEOUT' "a step that timed out"
	expect_no_output 'after 120s' "the guest's wait for the balloon timing out"
	expect_no_output 'BUG:|Oops|WARNING:' "a kernel complaint"
}
