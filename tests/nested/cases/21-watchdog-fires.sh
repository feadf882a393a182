# shellcheck shell=bash disable=SC2034
# The WDAT watchdog fires. The inner guest loads wdat_wdt (timeout 5 s),
# opens /dev/watchdog, writes once and closes it without the magic 'V', so
# the watchdog keeps running and nothing kicks it. It then prints, every
# 0.2 s, the centiseconds of its own uptime since that write. Checks: Linux
# bound the WDAT device, husk logged the fire with the 5 s countdown, the
# last time the guest printed lies between 2.5 s (not fired early; the
# bound is loose because a loaded host may starve the guest between
# prints) and 8 s (fired, not long after 5 s; it would count to 40 s
# otherwise), and husk ended as --watchdog-action reset (the default)
# says: "guest reset (watchdog)", status 0.
CASE_DESC="WDAT watchdog armed and left alone: fires after 5 s, husk resets (exit 0)"
CASE_TIMEOUT=90
CASE_INITRD=initrd
# shellcheck source-path=SCRIPTDIR source=ha.inc
source "$(dirname "${BASH_SOURCE[0]}")/ha.inc"
# the events file an HA supervisor would watch, printed after husk exits
CASE_ARGS+=(--events @CASEDIR@/events.jsonl)
CASE_POST="cat events.jsonl"

case_prepare() {
	HA_MODARGS[wdat_wdt]="timeout=$HA_WDT_TIMEOUT"
	{
		ha_wdat_show
		cat <<'INIT'
cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
echo "NESTED-WDT-ARMING"
echo 1 >/dev/watchdog
t0=$(cs)
while [ $(($(cs) - t0)) -lt 4000 ]; do
	sleep 0.2
	echo "WDT-ELAPSED-CS=$(($(cs) - t0))"
done
echo "NESTED-WDT-NOT-FIRED"
INIT
	} >"$1/body"
	ha_initrd "$1" wdat_wdt
}

case_check() {
	expect_rc 0
	expect_post '"event":"watchdog-fired"' "a watchdog-fired event in the events file"
	expect_post '"event":"shutdown"' "the shutdown event after it"
	ha_wdat_checks
	expect_output 'watchdog did not stop' "the guest kernel's 'watchdog did not stop!' (closed without 'V')"
	expect_output '^husk: (warning: )?guest watchdog fired: not kicked for 5000 ms; resetting the guest' \
		"husk's watchdog line"
	expect_output '^husk: guest reset \(watchdog\)' "husk's 'guest reset (watchdog)' stop line"
	expect_value_between WDT-ELAPSED-CS 250 800
	expect_no_output '^NESTED-WDT-NOT-FIRED' "the watchdog never fired"
}
