# shellcheck shell=bash disable=SC2034
# Case 14: the API socket on a running Linux guest: pause and resume. The
# inner /init prints a numbered tick every second. A driver script in the
# outer VM (outer-init runs $dir/driver next to husk) uses api-client (the
# outer VM has no curl) to PATCH /vm Paused after tick 3, checks that GET /
# says Paused, that the vCPU exit counters stand still and no tick appears
# for 22 s (longer than the guest's 20 s soft-lockup threshold), resumes,
# then flushes the metrics file. Checks: every call answered as expected,
# the guest carries on to its last tick and powers off, no soft-lockup
# report (husk tells KVM the guest was stopped: KVM_KVMCLOCK_CTRL), and the
# events show started, paused, resumed, shutdown.
CASE_DESC="API: PATCH /vm Paused for 22 s, then Resumed; no ticks, no exits, no soft lockup; FlushMetrics"
CASE_TIMEOUT=180
CASE_ARGS=(--api-sock /tmp/husk-api.sock --events /dev/stderr --metrics /tmp/husk-metrics.json)

case_prepare() {
	local dir=$1
	cp "$BUILD_DIR/tests/api-client" "$dir/api-client"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/driver" <<'DRIVER'
dir=$1 log=$2
C="$dir/api-client /tmp/husk-api.sock"
say() { echo "| DRIVER $*"; }
exits() { $C GET /metrics | sed -n 's/.*"vcpu":{\([^}]*\)}.*/\1/p'; }
until grep -q "^GUEST-TICK 3 " "$log"; do usleep 200000; done
say "pause: $($C PATCH /vm '{"state":"Paused"}')"
say "state: $($C GET /)"
t1=$(grep -c "^GUEST-TICK" "$log")
m1=$(exits)
sleep 22
m2=$(exits)
t2=$(grep -c "^GUEST-TICK" "$log")
if [ -n "$m1" ] && [ "$m1" = "$m2" ]; then say "EXITS-STILL yes"; else say "EXITS-STILL no [$m1] [$m2]"; fi
say "TICKS-WHILE-PAUSED $((t2 - t1))"
say "resume: $($C PATCH /vm '{"state":"Resumed"}')"
say "state: $($C GET /)"
until grep -q "^GUEST-TICK 6 " "$log"; do usleep 200000; done
say "flush: $($C PUT /actions '{"action_type":"FlushMetrics"}')"
say "METRICS-FILE $(head -c 200 /tmp/husk-metrics.json)"
DRIVER
}

case_init() {
	cat <<'INIT'
i=0
while [ $i -lt 9 ]; do
	i=$((i + 1))
	echo "GUEST-TICK $i $(cut -d' ' -f1 /proc/uptime)"
	sleep 1
done
poweroff -f
INIT
}

case_check() {
	expect_rc 0
	expect_output '^DRIVER pause: 204' "204 for PATCH /vm Paused"
	expect_output '^DRIVER state: 200 .*"state":"Paused"' "GET / saying Paused"
	expect_output '^DRIVER EXITS-STILL yes' "vCPU exit counters standing still while paused"
	expect_output '^DRIVER TICKS-WHILE-PAUSED 0$' "no guest tick while paused"
	expect_output '^DRIVER resume: 204' "204 for PATCH /vm Resumed"
	expect_output '^DRIVER state: 200 .*"state":"Running"' "GET / saying Running"
	expect_output '^DRIVER flush: 204' "204 for FlushMetrics"
	expect_output '^DRIVER METRICS-FILE \{"utc_timestamp_ms"' "a metrics line in the file"
	expect_output '^GUEST-TICK 9 ' "the guest's last tick after the resume"
	expect_output '"event":"paused"' "the paused event"
	expect_output '"event":"resumed"' "the resumed event"
	expect_output '"event":"shutdown","reason":"guest powered off","exit_status":0' "the shutdown event"
	expect_no_output 'soft lockup' "a soft-lockup report after the pause"
}
