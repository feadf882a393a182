# shellcheck shell=bash disable=SC2034
# --watchdog-action none: the WDAT watchdog fires (armed, then left alone
# as in case 21) and husk only logs it; the guest keeps running for 10 s,
# prints the watchdog's state as Linux sees it (still "active": the driver
# does not know) and powers off. Checks: husk's fire line names
# action none, the guest ran on after it, husk ends with "guest powered off".
CASE_DESC="--watchdog-action none: the watchdog fires, husk logs it, the guest runs on"
CASE_TIMEOUT=90
CASE_ARGS=(--watchdog-action none)
CASE_INITRD=initrd
# shellcheck source-path=SCRIPTDIR source=ha.inc
source "$(dirname "${BASH_SOURCE[0]}")/ha.inc"

case_prepare() {
	HA_MODARGS[wdat_wdt]="timeout=$HA_WDT_TIMEOUT"
	{
		ha_wdat_show
		cat <<'INIT'
echo 1 >/dev/watchdog
i=0
while [ $i -lt 10 ]; do
	sleep 1
	i=$((i + 1))
done
echo "WDT-STATE=$(cat $w/state 2>/dev/null)"
echo "NESTED-WDT-SURVIVED"
INIT
	} >"$1/body"
	ha_initrd "$1" wdat_wdt
}

case_check() {
	expect_rc 0
	ha_wdat_checks
	expect_output '^husk: (warning: )?guest watchdog fired: not kicked for 5000 ms; action none' \
		"husk's watchdog line (action none)"
	expect_output '^NESTED-WDT-SURVIVED' "the guest ran on after the watchdog fired"
	expect_output '^husk: guest powered off$' "'guest powered off' line from husk"
}
