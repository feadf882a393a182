# shellcheck shell=bash disable=SC2034
# The WDAT watchdog fires. The inner guest loads wdat_wdt (timeout 5 s),
# opens /dev/watchdog, writes once and closes it without the magic 'V', so
# the watchdog keeps running and nothing kicks it. It then counts seconds.
# Checks: Linux bound the WDAT device, husk logged the fire after 5 s, the
# guest was not stopped before 4 s nor long after 5 s (the last count it
# printed), and husk ended as --watchdog-action reset (the default) says:
# "guest reset (watchdog)", status 0.
CASE_DESC="WDAT watchdog armed and left alone: fires after 5 s, husk resets (exit 0)"
CASE_TIMEOUT=90
CASE_INITRD=initrd
# shellcheck source-path=SCRIPTDIR source=ha.inc
source "$(dirname "${BASH_SOURCE[0]}")/ha.inc"

case_prepare() {
	HA_MODARGS[wdat_wdt]="timeout=$HA_WDT_TIMEOUT"
	{
		ha_wdat_show
		cat <<'INIT'
echo "NESTED-WDT-ARMING"
echo 1 >/dev/watchdog
i=0
while [ $i -lt 40 ]; do
	sleep 1
	i=$((i + 1))
	echo "WDT-WAITED=$i"
done
echo "NESTED-WDT-NOT-FIRED"
INIT
	} >"$1/body"
	ha_initrd "$1" wdat_wdt
}

case_check() {
	expect_rc 0
	ha_wdat_checks
	expect_output 'watchdog did not stop' "the guest kernel's 'watchdog did not stop!' (closed without 'V')"
	expect_output '^husk: (warning: )?guest watchdog fired: not kicked for 5000 ms; resetting the guest' \
		"husk's watchdog line"
	expect_output '^husk: guest reset \(watchdog\)' "husk's 'guest reset (watchdog)' stop line"
	expect_value_between WDT-WAITED 4 8
	expect_no_output '^NESTED-WDT-NOT-FIRED' "the watchdog never fired"
}
