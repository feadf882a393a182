# shellcheck shell=bash disable=SC2034
# Case 3: reboot. The guest runs reboot -f; husk stops with status 0 and says
# why: "guest reboot (ACPI reset)" through the FADT reset register (Linux's
# hardware-reduced path ends at the reset-vector stub), "(i8042 reset)" with reboot=k.
CASE_DESC="reboot -f: husk exits 0 and logs 'guest reboot'"
CASE_TIMEOUT=60

case_init() {
	cat <<'INIT'
echo "NESTED-REBOOTING"
reboot -f
INIT
}

case_check() {
	expect_output '^NESTED-REBOOTING' "'NESTED-REBOOTING' from the guest"
	expect_output 'reboot: Restarting system' "'reboot: Restarting system' from the kernel"
	expect_output '^husk: .*guest reboot' "'guest reboot' line from husk"
	expect_rc 0
}
