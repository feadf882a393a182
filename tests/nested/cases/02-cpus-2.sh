# shellcheck shell=bash disable=SC2034
# Case 2a: --cpus 2. The guest must see both vCPUs: the Debian kernel finds
# CPUs only through ACPI (its CONFIG_X86_MPPARSE is off, so husk's MP table
# is not read), so this case needs husk's MADT.
CASE_DESC="--cpus 2: /proc/cpuinfo lists 2 processors, cpus 0-1 online (needs the ACPI MADT)"
CASE_TIMEOUT=60
CASE_ARGS=(--cpus 2)

case_init() {
	cat <<'INIT'
echo "CPUS=$(grep -c ^processor /proc/cpuinfo)"
echo "ONLINE=$(cat /sys/devices/system/cpu/online)"
poweroff -f
INIT
}

case_check() {
	expect_value CPUS 2
	expect_value ONLINE 0-1
	expect_rc 0
}
