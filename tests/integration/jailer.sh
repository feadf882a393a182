#!/bin/bash
# husk-jailer (docs/jailer.md): husk jailed, unprivileged, in its cgroups.
#
#   jailer.sh --list
#   jailer.sh CASE
#
#   run          the test guest (copied into a jail made beforehand) under a
#                jailed husk as uid/gid 41234: the process's uid and gid, its
#                root holds only the jail (husk, its libraries, the kernel,
#                /dev/kvm, /dev/net/tun), /etc/passwd is unreachable, it sits in
#                the v1 cgroups cpu and pids with cpu.shares and pids.max
#                written, no-file is the limit asked for; the guest's check passes
#   api          --api-sock inside the jail: the socket appears in the jail's
#                root, GET / names --id, the kernel is linked in afterwards and
#                InstanceStart boots it (Firecracker's way)
#   limits       husk's own cgroup (<parent>/<id>/vm, the jail uid's, under the
#                jailer's root-owned <parent>/<id>): PATCH /vm/limits writes
#                cpu.cfs_quota_us and memory.limit_in_bytes there, refuses a
#                memory limit below guest RAM; a spinning guest under 20% gets
#                at most 30% of a CPU and is throttled; null lifts the limit
#   cgroup-v2    --cgroup-version 2: the process sits in the cgroup2 hierarchy's
#                <parent>/<id> with the value written
#   netns        --netns: husk runs in that network namespace
#   pid-ns       --new-pid-ns --daemonize: the jailer returns at once, husk.pid in
#                the jail holds husk's pid, husk is PID 1 in its namespace
#   bad-flags    each bad flag: one line, exit 1, nothing made
#   cleanup      a step that fails after the jail and cgroups exist (a value
#                the kernel refuses): one line, exit 1, no directory or
#                cgroup left behind
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES=(run api limits cgroup-v2 netns pid-ns bad-flags cleanup)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: jailer.sh --list | CASE"
case=$1
JAILER=${JAILER:-$(dirname "$HUSK")/husk-jailer}
need_husk
[[ -x "$JAILER" ]] || fail "husk-jailer not found: $JAILER"
need_file "$TESTGUEST_ELF" "test guest (ELF)"
((EUID == 0)) || skip "the jailer needs root"
JUID=41234
ID=it-$$-$RANDOM
make_workdir
BASE=$WORK/jail
JAIL=$BASE/husk/$ID
ROOT=$JAIL/root
PARENT=husk-it
CGROOT=/sys/fs/cgroup

# cg_dirs: every cgroup directory this test's id has, in any hierarchy
cg_dirs() { find "$CGROOT" -maxdepth 4 -type d -name "$ID" 2>/dev/null || true; }
on_exit 'for d in $(cg_dirs); do rmdir "$d/vm" "$d" 2>/dev/null || true; done
	for d in $CGROOT/*/$PARENT $CGROOT/unified/$PARENT; do rmdir "$d" 2>/dev/null || true; done'

# prepare: the jail made beforehand with the test guest in it
prepare() {
	mkdir -p "$ROOT"
	cp "$TESTGUEST_ELF" "$ROOT/k.elf"
	chmod 644 "$ROOT/k.elf"
}

# jailed ARGS...: run the jailer in the background (JPID), husk's args after --
jailed() {
	"$JAILER" --id "$ID" --exec-file "$HUSK" --uid "$JUID" --gid "$JUID" \
		--chroot-base-dir "$BASE" "$@" </dev/null >"$WORK/out" 2>"$WORK/err" &
	JPID=$!
	on_exit "kill -KILL $JPID 2>/dev/null || true"
}

# husk_pid: the jailed husk's pid (the jailer execs it: same pid)
wait_running() {
	for _ in $(seq 100); do
		grep -q boot-marker "$WORK/out" 2>/dev/null && return 0
		kill -0 "$JPID" 2>/dev/null || break
		sleep 0.1
	done
	show_file stdout "$WORK/out"
	show_file stderr "$WORK/err"
	fail "the jailed husk did not start its guest"
}

# nothing_left: no jail directory, no cgroup of this id
nothing_left() {
	[[ ! -e "$BASE/husk/$ID" ]] || fail "$1: the jail $BASE/husk/$ID was left: $(find "$BASE" | head)"
	[[ -z "$(cg_dirs)" ]] || fail "$1: cgroups left: $(cg_dirs)"
}

case_run() {
	local status cg
	prepare
	jailed --cgroup cpu.shares=321 --cgroup pids.max=77 --parent-cgroup "$PARENT" \
		--resource-limit no-file=999 -- --kernel /k.elf --test-devices --no-rng \
		--serial stdio --cmdline "tests=memory hold=3000"
	wait_running
	status=/proc/$JPID/status
	grep -qE "^Uid:\s+$JUID\s+$JUID\s+$JUID\s+$JUID" "$status" ||
		fail "uid: $(grep ^Uid: "$status")"
	grep -qE "^Gid:\s+$JUID\s+$JUID\s+$JUID\s+$JUID" "$status" ||
		fail "gid: $(grep ^Gid: "$status")"
	grep -qE '^Groups:\s*$' "$status" || fail "supplementary groups kept: $(grep ^Groups: "$status")"
	[[ "$(cat /proc/$JPID/comm)" = husk ]] || fail "comm $(cat /proc/$JPID/comm)"
	# its root is the jail: what it sees at / is what the jail holds
	[[ "$(ls /proc/$JPID/root | tr '\n' ' ')" = "cgroup dev husk k.elf lib lib64 " ]] ||
		fail "its / holds: $(ls /proc/$JPID/root | tr '\n' ' ')"
	[[ ! -e /proc/$JPID/root/etc/passwd ]] || fail "/etc/passwd is reachable from the jail"
	[[ -c /proc/$JPID/root/dev/kvm && -c /proc/$JPID/root/dev/net/tun ]] ||
		fail "no /dev/kvm or /dev/net/tun in the jail"
	[[ "$(stat -c %u:%g /proc/$JPID/root/dev/kvm)" = "$JUID:$JUID" ]] || fail "/dev/kvm's owner"
	cg=$(cat /proc/$JPID/cgroup)
	grep -q ":cpu:/$PARENT/$ID/vm\$" <<<"$cg" || fail "not in cpu:/$PARENT/$ID/vm: $cg"
	grep -q ":pids:/$PARENT/$ID/vm\$" <<<"$cg" || fail "not in pids:/$PARENT/$ID/vm: $cg"
	[[ "$(cat $CGROOT/cpu/$PARENT/$ID/cpu.shares)" = 321 ]] || fail "cpu.shares not written"
	[[ "$(cat $CGROOT/pids/$PARENT/$ID/pids.max)" = 77 ]] || fail "pids.max not written"
	grep -qE '^Max open files\s+999\s+999' /proc/$JPID/limits || fail "no-file: $(grep 'open files' /proc/$JPID/limits)"
	wait_pid "$JPID" 60
	console_copy "$WORK/out" "$WORK/console"
	if ((RC != 0)) || ! grep -qx "1 passed, 0 failed" "$WORK/console"; then
		show_file stdout "$WORK/out"
		show_file stderr "$WORK/err"
		fail "the jailed guest: exit $RC"
	fi
	log "husk ran as $JUID:$JUID in $ROOT, cgroups $(grep -E ':(cpu|pids):' <<<"$cg" | tr '\n' ' ')"
}

case_api() {
	SOCK=$ROOT/api.sock
	jailed --parent-cgroup "$PARENT" -- --api-sock /api.sock --test-devices --no-rng
	for _ in $(seq 100); do [[ -S "$SOCK" ]] && break; sleep 0.1; done
	[[ -S "$SOCK" ]] || { show_file stderr "$WORK/err"; fail "no API socket in the jail"; }
	expect GET / "" 200 "\"id\":\"$ID\""
	ln "$TESTGUEST_ELF" "$ROOT/k.elf" 2>/dev/null || cp "$TESTGUEST_ELF" "$ROOT/k.elf"
	chmod 644 "$ROOT/k.elf"
	expect PUT /boot-source '{"kernel_image_path":"/k.elf","boot_args":"tests=memory"}' 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	wait_pid "$JPID" 60
	console_copy "$WORK/out" "$WORK/console"
	((RC == 0)) && grep -qx "1 passed, 0 failed" "$WORK/console" ||
		{ show_file stderr "$WORK/err"; fail "the guest started through the jailed API: exit $RC"; }
	log "API in the jail: GET / says id $ID; the guest booted"
}

case_cgroup_v2() {
	local v2
	v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[[ -n "$v2" ]] || skip "no cgroup2 hierarchy mounted"
	prepare
	jailed --cgroup-version 2 --parent-cgroup "$PARENT" --cgroup cgroup.max.descendants=3 \
		-- --kernel /k.elf --test-devices --no-rng --cmdline "tests=memory hold=2000"
	wait_running
	grep -qx "$JPID" "$v2/$PARENT/$ID/vm/cgroup.procs" || fail "not in $v2/$PARENT/$ID/vm"
	[[ "$(cat "$v2/$PARENT/$ID/cgroup.max.descendants")" = 3 ]] || fail "value not written"
	wait_pid "$JPID" 60
	((RC == 0)) || { show_file stderr "$WORK/err"; fail "exit $RC"; }
	log "cgroup v2: in $v2/$PARENT/$ID"
}

case_netns() {
	local ns=husk-it-$$
	ip netns add "$ns"
	on_exit "ip netns del $ns"
	prepare
	jailed --netns "/var/run/netns/$ns" -- --kernel /k.elf --test-devices --no-rng \
		--cmdline "tests=memory hold=2000"
	wait_running
	[[ "$(stat -L -c %i /proc/$JPID/ns/net)" = "$(stat -L -c %i /var/run/netns/$ns)" ]] ||
		fail "husk is not in the network namespace $ns"
	wait_pid "$JPID" 60
	((RC == 0)) || { show_file stderr "$WORK/err"; fail "exit $RC"; }
	log "husk ran in netns $ns"
}

case_pid_ns() {
	local pid
	prepare
	RC=0
	timeout 20 "$JAILER" --id "$ID" --exec-file "$HUSK" --uid "$JUID" --gid "$JUID" \
		--chroot-base-dir "$BASE" --new-pid-ns --daemonize -- --kernel /k.elf \
		--test-devices --no-rng --serial file:/console --cmdline "tests=memory hold=3000" \
		</dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
	((RC == 0)) || { show_file stderr "$WORK/err"; fail "the jailer exited $RC"; }
	for _ in $(seq 50); do [[ -s "$ROOT/husk.pid" ]] && break; sleep 0.1; done
	pid=$(cat "$ROOT/husk.pid")
	on_exit "kill -KILL $pid 2>/dev/null || true"
	[[ "$(cat /proc/"$pid"/comm)" = husk ]] || fail "husk.pid $pid is not husk"
	grep -qE "^NSpid:\s+$pid\s+1$" /proc/"$pid"/status ||
		fail "not PID 1 in a new namespace: $(grep NSpid /proc/"$pid"/status)"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	grep -q "1 passed, 0 failed" "$ROOT/console" || fail "the guest did not finish: $(cat "$ROOT/console")"
	log "daemonized in a new PID namespace: pid $pid (1 inside)"
}

case_limits() {
	local vm_cpu=$CGROOT/cpu/$PARENT/$ID/vm vm_mem=$CGROOT/memory/$PARENT/$ID/vm t0 t1 c0 c1 pct
	SOCK=$ROOT/api.sock
	prepare
	jailed --parent-cgroup "$PARENT" --cgroup cpu.shares=1024 \
		--cgroup memory.limit_in_bytes=4294967296 -- --api-sock /api.sock --test-devices --no-rng
	for _ in $(seq 100); do [[ -S "$SOCK" ]] && break; sleep 0.1; done
	[[ -S "$SOCK" ]] || { show_file stderr "$WORK/err"; fail "no API socket in the jail"; }
	grep -q ":cpu:/$PARENT/$ID/vm\$" /proc/$JPID/cgroup || fail "not in $PARENT/$ID/vm: $(cat /proc/$JPID/cgroup)"
	# the jailer's level stays root's; husk's own level is the jail uid's
	[[ "$(stat -c %u "$CGROOT/cpu/$PARENT/$ID/cpu.cfs_quota_us")" = 0 ]] || fail "the jailer's limits are not root's"
	[[ "$(stat -c %u "$vm_cpu/cpu.cfs_quota_us")" = "$JUID" ]] || fail "husk's cpu.cfs_quota_us is not $JUID's"
	expect GET /vm/limits "" 200 '"cpu_percent":null'
	expect PATCH /vm/limits '{"memory_mib":100}' 400 "less than the guest's RAM"
	expect PATCH /vm/limits '{"cpu_percent":-1}' 400 'expected 0 to'
	expect PATCH /vm/limits '{"cpus":1}' 400 'unknown key'
	expect PATCH /vm/limits '{"cpu_percent":20,"memory_mib":1024}' 204
	expect GET /vm/limits "" 200 '"cpu_percent":20,"memory_mib":1024'
	[[ "$(cat "$vm_cpu/cpu.cfs_quota_us")" = 20000 ]] || fail "cpu.cfs_quota_us $(cat "$vm_cpu/cpu.cfs_quota_us")"
	[[ "$(cat "$vm_mem/memory.limit_in_bytes")" = "$((1024 << 20))" ]] || fail "memory limit $(cat "$vm_mem/memory.limit_in_bytes")"
	# a guest that spins for 3 s gets about a fifth of a CPU
	expect PUT /boot-source '{"kernel_image_path":"/k.elf","boot_args":"tests=memory hold=3000"}' 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in $(seq 200); do grep -q "1 passed" "$WORK/out" && break; sleep 0.05; done
	t0=$(date +%s%N) c0=$(awk '{print $14 + $15}' /proc/$JPID/stat)
	sleep 2
	t1=$(date +%s%N) c1=$(awk '{print $14 + $15}' /proc/$JPID/stat)
	pct=$(( (c1 - c0) * (1000000000 / $(getconf CLK_TCK)) * 100 / (t1 - t0) ))
	grep -qE '^nr_throttled [1-9]' "$vm_cpu/cpu.stat" || fail "never throttled: $(cat "$vm_cpu/cpu.stat")"
	((pct <= 30)) || fail "husk used $pct% of a CPU under a 20% limit"
	expect PATCH /vm/limits '{"cpu_percent":null}' 204
	[[ "$(cat "$vm_cpu/cpu.cfs_quota_us")" = -1 ]] || fail "cpu limit not lifted"
	wait_pid "$JPID" 60
	((RC == 0)) || { show_file stderr "$WORK/err"; fail "exit $RC"; }
	log "limits: 20% set, husk used $pct% of a CPU while the guest spun; memory 1024 MiB written"
}

# bad ARGS... : one line, exit 1, nothing made
bad() {
	RC=0
	"$JAILER" "$@" </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
	if ((RC != 1)) || (($(wc -l <"$WORK/err") != 1)) || ! grep -q '^husk-jailer: ' "$WORK/err"; then
		show_file stderr "$WORK/err"
		fail "husk-jailer $*: exit $RC, want 1 and one line"
	fi
	nothing_left "husk-jailer $*"
	[[ ! -e "$BASE" ]] || fail "husk-jailer $*: $BASE was made"
	log "$(cat "$WORK/err")"
}

case_bad_flags() {
	local ok=(--id "$ID" --exec-file "$HUSK" --uid "$JUID" --gid "$JUID" --chroot-base-dir "$BASE")
	bad --exec-file "$HUSK" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad --id "$ID" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad --id "$ID" --exec-file "$HUSK" --gid 1 --chroot-base-dir "$BASE"
	bad --id 'bad/id' --exec-file "$HUSK" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad --id "$(printf 'a%.0s' {1..65})" --exec-file "$HUSK" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad --id "$ID" --exec-file "$WORK/nope" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad --id "$ID" --exec-file "$WORK" --uid 1 --gid 1 --chroot-base-dir "$BASE"
	bad "${ok[@]}" --uid -1
	bad "${ok[@]}" --uid 4294967295
	bad "${ok[@]}" --gid x
	bad "${ok[@]}" --chroot-base-dir relative/dir
	bad "${ok[@]}" --cgroup-version 3
	bad "${ok[@]}" --cgroup cpu.shares
	bad "${ok[@]}" --cgroup noseparator=1
	bad "${ok[@]}" --cgroup ../cpu.shares=1
	bad "${ok[@]}" --parent-cgroup ../up
	bad "${ok[@]}" --parent-cgroup /abs
	bad "${ok[@]}" --resource-limit fsize
	bad "${ok[@]}" --resource-limit cpu=1
	bad "${ok[@]}" --resource-limit no-file=0
	bad "${ok[@]}" --netns "$WORK/no-such-netns"
	bad "${ok[@]}" --bogus
	bad "${ok[@]}" stray
	bad "${ok[@]}" --uid
}

case_cleanup() {
	local ok=(--id "$ID" --exec-file "$HUSK" --uid "$JUID" --gid "$JUID" --chroot-base-dir "$BASE"
		--parent-cgroup "$PARENT")
	# the jail is made, then the kernel refuses the value
	bad "${ok[@]}" --cgroup cpu.shares=321 --cgroup pids.max=lots
	# a controller no hierarchy has
	bad "${ok[@]}" --cgroup cpu.shares=321 --cgroup nosuch.value=1
	# a file that is not a network namespace: joined after the jail and cgroups exist
	touch "$WORK/not-a-netns"
	bad "${ok[@]}" --cgroup cpu.shares=321 --netns "$WORK/not-a-netns"
	# a jail made beforehand keeps what it had, loses what the jailer put in
	prepare
	RC=0
	"$JAILER" "${ok[@]}" --cgroup pids.max=lots </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
	((RC == 1)) || fail "exit $RC"
	[[ "$(ls "$ROOT")" = k.elf ]] || fail "the prepared jail holds: $(ls "$ROOT")"
	[[ -z "$(cg_dirs)" ]] || fail "cgroups left: $(cg_dirs)"
}

case "$case" in
run) need_kvm; case_run ;;
api) need_kvm; case_api ;;
limits) need_kvm; case_limits ;;
cgroup-v2) need_kvm; case_cgroup_v2 ;;
netns) need_kvm; case_netns ;;
pid-ns) need_kvm; case_pid_ns ;;
bad-flags) case_bad_flags ;;
cleanup) case_cleanup ;;
*) fail "unknown case $case (see --list)" ;;
esac
