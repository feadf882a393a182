# shellcheck shell=bash disable=SC2034
# Case 2b: --cpus 4. All four vCPUs come up and are online (MADT entries,
# INIT/SIPI for three APs). The outer VM has one emulated CPU, so the four
# vCPU threads share it; the case only needs a little more time.
CASE_DESC="--cpus 4: /proc/cpuinfo lists 4 processors, cpus 0-3 online"
CASE_TIMEOUT=90
CASE_ARGS=(--cpus 4)

case_init() {
	cat <<'INIT'
echo "CPUS=$(grep -c ^processor /proc/cpuinfo)"
echo "ONLINE=$(cat /sys/devices/system/cpu/online)"
poweroff -f
INIT
}

case_check() {
	expect_value CPUS 4
	expect_value ONLINE 0-3
	expect_rc 0
	expect_output '^husk: .*guest powered off' "'guest powered off' line from husk"
}
