# shellcheck shell=bash disable=SC2034
# pvpanic: the DSDT's QEMU0001 device at port 0x505. The inner guest loads
# pvpanic-mmio (and pvpanic), checks that it bound the ACPI device, then
# panics through sysrq. The driver's panic notifier writes PANICKED to the
# port: husk logs "guest panicked (pvpanic)" and keeps running; the guest's
# panic=-1 then reboots it, which ends husk with "guest reboot", status 0.
CASE_DESC="pvpanic: a guest panic (sysrq c) is logged by husk, then panic=-1 reboots"
CASE_TIMEOUT=90
CASE_INITRD=initrd
# shellcheck source-path=SCRIPTDIR source=ha.inc
source "$(dirname "${BASH_SOURCE[0]}")/ha.inc"
# the events file an HA supervisor would watch, printed after husk exits
CASE_ARGS+=(--events @CASEDIR@/events.jsonl)
CASE_POST="cat events.jsonl"

case_prepare() {
	cat >"$1/body" <<'INIT'
echo "PVPANIC-BOUND=$(ls /sys/bus/platform/drivers/pvpanic-mmio 2>/dev/null | grep -c '^QEMU0001')"
echo "NESTED-PANICKING"
echo c >/proc/sysrq-trigger
echo "NESTED-STILL-RUNNING"
INIT
	ha_initrd "$1" pvpanic-mmio
}

case_check() {
	expect_rc 0
	expect_post '"event":"guest-panic"' "a guest-panic event in the events file"
	expect_post '"event":"shutdown"' "the shutdown event after it"
	expect_value PVPANIC-BOUND 1
	expect_output 'Kernel panic - not syncing: sysrq triggered crash' "the guest's sysrq panic"
	expect_output '^husk: (warning: )?guest panicked \(pvpanic\)' "husk's 'guest panicked (pvpanic)' line"
	expect_output '^husk: .*guest reboot' "'guest reboot' line from husk (panic=-1)"
	expect_no_output '^NESTED-STILL-RUNNING' "the guest ran on after its panic"
}
