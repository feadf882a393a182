# shellcheck shell=bash disable=SC2034
# Case 1: boot to the initramfs shell. The inner /init (busybox sh) prints a
# marker from userspace, uname -r and /proc/cmdline, then powers off
# (poweroff -f: through the FADT sleep control register, S5; husk logs
# "guest powered off"). Checks: husk exits 0,
# uname -r is the Debian kernel's version, /proc/cmdline is exactly what husk
# was given (it carries a per-run token).
CASE_DESC="boot to the initramfs shell; uname -r and /proc/cmdline; poweroff -f; husk exits 0"
CASE_TIMEOUT=60

case_init() {
	cat <<'INIT'
echo "NESTED-MARKER hello from userspace (pid $$)"
echo "UNAME=$(uname -r)"
echo "CMDLINE=$(cat /proc/cmdline)"
poweroff -f
INIT
}

case_check() {
	expect_rc 0
	expect_output '^NESTED-MARKER hello from userspace' "userspace marker"
	expect_value UNAME "$NESTED_KVER"
	expect_value CMDLINE "$CASE_CMDLINE"
	expect_output '^husk: .*guest powered off' "'guest powered off' line from husk (ACPI S5)"
}
