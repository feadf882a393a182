#!/bin/bash
# The API socket (--api-sock), driven by curl --unix-socket as a script would.
#
#   api.sh            run every case
#   api.sh NAME...    run these cases (ctest runs one per test)
#   api.sh --list     print the case names
#
# preboot: husk --api-sock with no kernel waits; the pre-boot calls answer
#   204/200, every row of a bad-request table gets its 4xx and a
#   fault_message while husk keeps serving, InstanceStart on a missing
#   kernel is a 400 naming it (and, without /dev/kvm, on the test guest a
#   400 naming /dev/kvm), the socket is 0600, SIGTERM ends husk with 0, the
#   socket is removed, and the events file holds the "error" events.
#   Runs without /dev/kvm.
# cli-devices: with a --disk and a --net that have no id=, PUT /drives/x
#   and PUT /network-interfaces/x are 204 (they were a SIGSEGV), GET
#   /vm/config names the command-line ones disk0 and net0. Runs without
#   /dev/kvm.
# retry: failed InstanceStarts in a row (a drive whose image is missing,
#   a missing kernel) are each a 400 and leave husk's fd count as it was;
#   then a good config boots the test guest to its verdict. Needs /dev/kvm.
# flow: Firecracker's flow (boot-source, machine-config, drives,
#   InstanceStart) boots the test guest to its verdict; pre-boot calls after
#   boot are 400 and husk keeps serving; FlushMetrics writes a JSON line
#   with the vCPU exit counters; the events file shows started, then
#   shutdown with exit_status 0. Needs /dev/kvm.
# pause: the guest holds for a while after its checks; PATCH /vm Paused
#   makes GET / say Paused and the vCPU exit counters stand still, Resumed
#   lets the guest finish with a passing verdict; events: started, paused,
#   resumed, shutdown, in that order. Needs /dev/kvm.
# shutdown: PUT /actions Shutdown presses the power button; the test guest
#   does not answer it, so husk stops after --shutdown-timeout and exits 0
#   with a shutdown event. Needs /dev/kvm.
# snapshot: on a running test guest, PUT /snapshot/create is a 400 until
#   the VM is Paused; a snapshot into a missing directory is a 400 that
#   leaves no file; a Full snapshot of the paused VM is a 204 that leaves
#   exactly the state and memory files (no temp file); /snapshot/load on
#   the started husk is a 400; husk keeps serving and the resumed guest
#   passes. (tests/integration/snapshot.sh restores them.) Needs /dev/kvm.
# firecracker: Firecracker's launch flags and version: --version's first
#   line names the Firecracker API version (Kata reads its second word),
#   GET /version answers firecracker_version, --http-api-max-payload-size
#   2048 makes a 3000-byte body a 413 naming the limit while a 2000-byte one
#   is parsed; --no-api with --config-file boots the test guest with no
#   socket; a metrics FIFO read by one reader (as go-sdk and Kata read it)
#   gets three FlushMetrics lines with no EOF between them. Runs without
#   /dev/kvm (the boot parts need it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="preboot cli-devices retry flow pause shutdown snapshot firecracker"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

# start_husk ARGS...: husk in the background with the API socket. Sets PID.
start_husk() {
	SOCK=$WORK/api.sock
	rm -f "$SOCK"	# a stale one would be waited on (lib.sh start_husk)
	"$HUSK" --test-devices --api-sock "$SOCK" --events "$WORK/events" "$@" \
		</dev/null >"$WORK/out" 2>"$WORK/err" &
	PID=$!
	for _ in $(seq 100); do
		[[ -S "$SOCK" ]] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	show_file stderr "$WORK/err"
	fail "the API socket never appeared"
}

# wait_husk TIMEOUT_S: wait for husk to exit. Sets RC.
wait_husk() {
	local t=$1
	for _ in $(seq $((t * 10))); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID"
		show_file console "$WORK/out"
		show_file stderr "$WORK/err"
		fail "husk did not exit within $t s"
	fi
	RC=0
	wait "$PID" || RC=$?
}

# events_are NAME...: the "event" fields of the events file, in order.
events_are() {
	local got
	got=$(sed -n 's/.*"event":"\([^"]*\)".*/\1/p' "$WORK/events" | tr '\n' ' ')
	[[ "$got" = "$* " ]] || { show_file events "$WORK/events"; fail "events: '$got', want '$*'"; }
}

boot_guest_config() {	# CMDLINE
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"$1\"}" 204
	expect PUT /machine-config '{"vcpu_count":2,"mem_size_mib":128}' 204
	truncate -s 16M "$WORK/disk.img"
	expect PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$WORK/disk.img\",\"is_root_device\":true,\"is_read_only\":false}" 204
}

BAD_REQUESTS=$(
	cat <<'EOF'
GET    /nope            ;                                      ; 400 ; Invalid request method and/or path
PUT    /boot-source     ;                                      ; 400 ; a JSON body is required
PUT    /boot-source     ; {                                    ; 400 ; invalid JSON
PUT    /boot-source     ; {}                                   ; 400 ; kernel_image_path: required
PUT    /boot-source     ; {"kernel_image_path":1}              ; 400 ; kernel_image_path: expected string
PUT    /machine-config  ; {"vcpu_count":2}                     ; 400 ; mem_size_mib: required
PUT    /machine-config  ; {"vcpu_count":1,"mem_size_mib":8,"smt":true} ; 400 ; smt: true is not supported
PUT    /drives/a        ; {"drive_id":"b","path_on_host":"x"}  ; 400 ; does not match the id
PUT    /drives/a        ; {"drive_id":"a","path_on_host":"x","size":1} ; 400 ; size: unknown key
PUT    /actions         ; {"action_type":"Reboot"}             ; 400 ; action_type: expected
PUT    /actions         ; {"action_type":"SendCtrlAltDel"}     ; 400 ; before starting the microVM
PATCH  /vm              ; {"state":"Paused"}                   ; 400 ; before starting the microVM
PATCH  /vm              ; {"state":"Frozen"}                   ; 400 ; state: expected
PUT    /logger          ; {"log_path":"/nonexistent/dir/l"}    ; 400 ; No such file or directory
PUT    /metrics         ; {"metrics_path":"/nonexistent/dir/m"} ; 400 ; No such file or directory
EOF
)

case_preboot() {
	local kvm=1 mp method path body status msg
	[[ -r /dev/kvm && -w /dev/kvm ]] || kvm=0
	start_husk
	[[ "$(stat -c %a "$SOCK")" = 600 ]] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
	expect GET / "" 200 '"state":"Not started"'
	while IFS=';' read -r mp body status msg; do
		read -r method path <<<"$mp"
		status=${status// /}
		body=$(sed 's/^ *//; s/ *$//' <<<"$body") msg=$(sed 's/^ *//; s/ *$//' <<<"$msg")
		expect "$method" "$path" "$body" "$status" "$msg"
		expect "$method" "$path" "$body" "$status" '"fault_message"'
	done <<<"$BAD_REQUESTS"
	expect GET / "" 200 '"state":"Not started"'
	expect PUT /boot-source '{"kernel_image_path":"/nonexistent/vmlinux"}' 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 400 "/nonexistent/vmlinux: No such file or directory"
	if ((kvm == 0)); then
		boot_guest_config "tests=serial"
		expect PUT /actions '{"action_type":"InstanceStart"}' 400 "/dev/kvm: No such file or directory"
	fi
	expect GET /vm/config "" 200 '"boot-source"'
	expect GET / "" 200 '"state":"Not started"'
	kill -TERM "$PID"
	wait_husk 10
	[[ $RC = 0 ]] || { show_file stderr "$WORK/err"; fail "exit $RC after SIGTERM, want 0"; }
	[[ ! -e "$SOCK" ]] || fail "the socket was not removed"
	if ((kvm == 0)); then events_are error error; else events_are error; fi
}

case_cli-devices() {
	truncate -s 1M "$WORK/cli.img"
	start_husk --disk "path=$WORK/cli.img" --net tap=husk-cli0
	expect PUT /drives/x "{\"drive_id\":\"x\",\"path_on_host\":\"$WORK/cli.img\"}" 204
	expect PUT /network-interfaces/x '{"iface_id":"x","host_dev_name":"husk-x0"}' 204
	expect GET /vm/config "" 200 '"drive_id":"disk0"'
	expect GET /vm/config "" 200 '"iface_id":"net0"'
	expect GET / "" 200 '"state":"Not started"'
	kill -TERM "$PID"
	wait_husk 10
	[[ $RC = 0 ]] || { show_file stderr "$WORK/err"; fail "exit $RC after SIGTERM, want 0"; }
}

fd_count() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# fds_are N WHAT: husk holds N fds (a closing connection may take a moment).
fds_are() {
	for _ in $(seq 20); do
		[[ "$(fd_count)" = "$1" ]] && return 0
		sleep 0.05
	done
	ls -l "/proc/$PID/fd" >&2
	fail "$2: $(fd_count) fds, want $1"
}

case_retry() {
	local fds i
	need_kvm
	start_husk
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"tests=serial\"}" 204
	expect PUT /drives/d "{\"drive_id\":\"d\",\"path_on_host\":\"$WORK/missing.img\"}" 204
	expect GET / "" 200 '"state":"Not started"'
	sleep 0.2
	fds=$(fd_count)
	for i in $(seq 5); do
		expect PUT /actions '{"action_type":"InstanceStart"}' 400 "$WORK/missing.img: No such file or directory"
		fds_are "$fds" "start $i"
	done
	expect PUT /boot-source '{"kernel_image_path":"/nonexistent/vmlinux"}' 204
	for i in $(seq 5); do
		expect PUT /actions '{"action_type":"InstanceStart"}' 400 "/nonexistent/vmlinux: No such file or directory"
		fds_are "$fds" "kernel start $i"
	done
	truncate -s 1M "$WORK/missing.img"
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\",\"boot_args\":\"tests=serial\"}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	wait_husk 60
	[[ $RC = 0 ]] || { show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "exit $RC"; }
	grep -qE "^[0-9]+ passed, 0 failed" "$WORK/out" || { show_file console "$WORK/out"; fail "no verdict"; }
	[[ ! -e "$SOCK" ]] || fail "the socket was not removed"
}

case_flow() {
	need_kvm
	start_husk
	boot_guest_config "expect_mem=128M expect_cpus=2 hold=2000"
	expect PUT /metrics "{\"metrics_path\":\"$WORK/metrics\"}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	expect PUT /boot-source "{\"kernel_image_path\":\"$TESTGUEST_ELF\"}" 400 "after starting the microVM"
	expect PUT /drives/x '{"drive_id":"x","path_on_host":"/x"}' 400 "after starting the microVM"
	expect PUT /actions '{"action_type":"InstanceStart"}' 400 "after starting the microVM"
	expect GET /machine-config "" 200 '"vcpu_count":2'
	expect PUT /actions '{"action_type":"FlushMetrics"}' 204
	expect GET /metrics "" 200 '"exit_io_out"'
	grep -q '"vcpu":{"exit_io_in"' "$WORK/metrics" || { show_file metrics "$WORK/metrics"; fail "no vcpu metrics"; }
	wait_husk 60
	[[ $RC = 0 ]] || { show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "exit $RC"; }
	grep -qE "^[0-9]+ passed, 0 failed" "$WORK/out" || { show_file console "$WORK/out"; fail "no verdict"; }
	events_are started shutdown
	grep -q '"event":"shutdown".*"exit_status":0' "$WORK/events" || fail "shutdown event lacks exit_status 0"
	# the root drive (is_root_device) is /dev/vda, and the guest was told so
	grep -q '^cmdline: .* root=/dev/vda rw' "$WORK/out" ||
		{ show_file console "$WORK/out"; fail "no root=/dev/vda rw on the guest's command line"; }
}

case_firecracker() {
	local big
	"$HUSK" --version >"$WORK/version"
	[[ "$(head -n 1 "$WORK/version" | cut -d' ' -f2)" = v1.17.0 ]] ||
		{ show_file version "$WORK/version"; fail "--version's first line"; }
	start_husk --http-api-max-payload-size 2048
	expect GET /version "" 200 '"firecracker_version":"1.17.0"'
	big=$(printf '%*s' 3000 '' | tr ' ' 'x')
	expect PUT /boot-source "{\"kernel_image_path\":\"$big\"}" 413 "larger than 2048 bytes"
	big=$(printf '%*s' 2000 '' | tr ' ' 'x')
	expect PUT /boot-source "{\"kernel_image_path\":\"$big\"}" 204
	kill -TERM "$PID"
	wait_husk 30
	need_kvm
	cat >"$WORK/vm.json" <<EOF
{ "boot-source": { "kernel_image_path": "$TESTGUEST_ELF", "boot_args": "tests=serial" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 64 } }
EOF
	rm -f "$WORK/none.sock"
	run_husk 60 "$WORK/out" "$WORK/err" --no-api --api-sock "$WORK/none.sock" \
		--config-file "$WORK/vm.json" --test-devices --level Info --show-level
	((RC == 0)) && grep -qE "^[0-9]+ passed, 0 failed" "$WORK/out" ||
		{ show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "--no-api boot: exit $RC"; }
	[[ ! -e "$WORK/none.sock" ]] || fail "--no-api served a socket"
	# a FIFO's reader sees every flush: the sink stays open while the VM lives
	mkfifo "$WORK/metrics.fifo"
	cat "$WORK/metrics.fifo" >"$WORK/metrics.out" &
	local reader=$!
	on_exit "kill $reader 2>/dev/null || true"
	start_husk
	boot_guest_config "expect_mem=128M expect_cpus=2 hold=3000"
	expect PUT /metrics "{\"metrics_path\":\"$WORK/metrics.fifo\"}" 204
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in 1 2 3; do
		expect PUT /actions '{"action_type":"FlushMetrics"}' 204
		sleep 0.2
		kill -0 "$reader" 2>/dev/null || fail "the FIFO's reader saw EOF after a flush"
	done
	[[ $(grep -c '"vcpu":' "$WORK/metrics.out") -ge 3 ]] ||
		{ show_file metrics "$WORK/metrics.out"; fail "the FIFO's reader got fewer than 3 lines"; }
	wait_husk 60
}

case_pause() {
	local a b
	need_kvm
	start_husk
	boot_guest_config "expect_mem=128M expect_cpus=2 hold=3000"
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in $(seq 100); do grep -q "passed, 0 failed" "$WORK/out" && break; sleep 0.1; done
	expect PATCH /vm '{"state":"Paused"}' 204
	expect GET / "" 200 '"state":"Paused"'
	api GET /metrics; a=$(sed 's/"utc_timestamp_ms":[0-9]*//; s/"uptime_ms":[0-9]*//; s/"requests":[0-9]*//; s/"bad_requests":[0-9]*//' <<<"$BODY")
	sleep 1
	api GET /metrics; b=$(sed 's/"utc_timestamp_ms":[0-9]*//; s/"uptime_ms":[0-9]*//; s/"requests":[0-9]*//; s/"bad_requests":[0-9]*//' <<<"$BODY")
	[[ "$a" = "$b" ]] || fail "vCPU counters moved while paused: $a vs $b"
	expect PATCH /vm '{"state":"Resumed"}' 204
	expect GET / "" 200 '"state":"Running"'
	wait_husk 60
	[[ $RC = 0 ]] || { show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "exit $RC"; }
	events_are started paused resumed shutdown
}

case_shutdown() {
	need_kvm
	start_husk --shutdown-timeout 1
	boot_guest_config "expect_mem=128M expect_cpus=2 hold=30000"
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	sleep 1
	expect PUT /actions '{"action_type":"Shutdown"}' 204
	wait_husk 20
	[[ $RC = 0 ]] || { show_file stderr "$WORK/err"; fail "exit $RC"; }
	grep -q "power button" "$WORK/err" || { show_file stderr "$WORK/err"; fail "no power-button press logged"; }
	events_are started shutdown
}

case_snapshot() {
	local snap="{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$WORK/snap/vm.snap\",\"mem_file_path\":\"$WORK/snap/vm.mem\"}"
	need_kvm
	mkdir -p "$WORK/snap"
	start_husk
	boot_guest_config "expect_mem=128M expect_cpus=2 hold=3000"
	expect PUT /actions '{"action_type":"InstanceStart"}' 204
	for _ in $(seq 100); do grep -q "passed, 0 failed" "$WORK/out" && break; sleep 0.1; done
	expect PUT /snapshot/create "$snap" 400 "must be paused first"
	expect PATCH /vm '{"state":"Paused"}' 204
	expect PUT /snapshot/create "${snap/vm.snap/none\/vm.snap}" 400 "No such file or directory"
	[[ -z "$(ls -A "$WORK/snap")" ]] || fail "a failed snapshot left: $(ls -A "$WORK/snap")"
	expect PUT /snapshot/create "$snap" 204
	[[ "$(ls -A "$WORK/snap")" = "$(printf 'vm.mem\nvm.snap')" ]] ||
		fail "the snapshot left: $(ls -A "$WORK/snap" | tr '\n' ' ')"
	expect PUT /snapshot/load "{\"snapshot_path\":\"$WORK/snap/vm.snap\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$WORK/snap/vm.mem\"}}" 400 "only on a fresh husk"
	expect GET / "" 200 '"state":"Paused"'
	expect PATCH /vm '{"state":"Resumed"}' 204
	wait_husk 60
	[[ $RC = 0 ]] || { show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "exit $RC"; }
}

need_husk
need_file "$TESTGUEST_ELF" "test guest"
command -v curl >/dev/null || skip "curl is not installed"
make_workdir
# shellcheck disable=SC2086 # the case names have no blanks
(($#)) || set -- $CASES
for c in "$@"; do
	"case_$c"
	log "ok $c"
done
