# shellcheck shell=bash disable=SC2034
# The WDAT watchdog, kicked, does not fire. The inner guest opens
# /dev/watchdog (wdat_wdt, timeout 5 s) and writes to it every second for
# 12 s (more than twice the timeout), closes it with the magic 'V' (which
# stops it), waits 8 s more and powers off. Checks: no watchdog fire, the
# stop really stopped it, and husk ends with "guest powered off", status 0.
CASE_DESC="WDAT watchdog kicked every second for 12 s, then stopped: never fires"
CASE_TIMEOUT=90
CASE_INITRD=initrd
# shellcheck source-path=SCRIPTDIR source=ha.inc
source "$(dirname "${BASH_SOURCE[0]}")/ha.inc"

case_prepare() {
	HA_MODARGS[wdat_wdt]="timeout=$HA_WDT_TIMEOUT"
	{
		ha_wdat_show
		cat <<'INIT'
exec 3>/dev/watchdog
i=0
while [ $i -lt 12 ]; do
	echo k >&3
	sleep 1
	i=$((i + 1))
	echo "WDT-KICKED=$i"
done
echo V >&3
exec 3>&-
echo "NESTED-WDT-STOPPED"
sleep 8
echo "NESTED-WDT-QUIET"
INIT
	} >"$1/body"
	ha_initrd "$1" wdat_wdt
}

case_check() {
	expect_rc 0
	ha_wdat_checks
	expect_value WDT-KICKED 12
	expect_output '^NESTED-WDT-QUIET' "the guest outlived the timeout after the magic close"
	expect_no_output 'watchdog fired|watchdog did not stop' "a watchdog fire or a failed stop"
	expect_output '^husk: guest powered off$' "'guest powered off' line from husk"
}
