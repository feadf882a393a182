# shellcheck shell=bash disable=SC2034
# SIGTERM to husk presses the guest's ACPI power button (the GED raises its
# interrupt, its _EVT notifies PNP0C0C). The inner guest loads button.ko and
# evdev.ko, waits for the KEY_POWER event on the power button's input device
# and then powers off. Checks: the guest saw the event, husk logged the
# press, the guest powered off through ACPI S5 before the grace period ran
# out, and husk exits 0.
CASE_DESC="SIGTERM presses the ACPI power button; the guest sees it and powers off"
CASE_TIMEOUT=60
CASE_ARGS=(--shutdown-timeout 40)
CASE_INITRD=initrd
CASE_SIGTERM_AFTER=NESTED-WAITING-FOR-BUTTON

case_prepare() {
	local dir=$1 mods drivers
	cat >"$dir/body" <<'INIT'
insmod /button.ko
insmod /evdev.ko
ev=
for e in /sys/class/input/event*; do
	case "$(cat "$e/device/name")" in Power*) ev=/dev/input/${e##*/} ;; esac
done
echo "POWER-BUTTON-DEVICE=$ev"
echo "NESTED-WAITING-FOR-BUTTON"
dd if="$ev" bs=24 count=1 2>/dev/null | od -An -tx1 >/dev/null
echo "NESTED-GOT-POWER-BUTTON"
poweroff -f
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	mods=$(mktemp -d)
	drivers=$(echo "$(dirname "$NESTED_VMLINUZ")"/../lib/modules/*/kernel/drivers)
	nested_ko_cat "$drivers"/acpi/button.ko* >"$mods/button.ko"
	nested_ko_cat "$drivers"/input/evdev.ko* >"$mods/evdev.ko"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

case_check() {
	expect_rc 0
	expect_output '^POWER-BUTTON-DEVICE=/dev/input/event' "a power button input device (ACPI PNP0C0C)"
	expect_output '^NESTED-GOT-POWER-BUTTON' "the guest received the power button event"
	expect_output "^husk: received SIGTERM: pressed the guest's power button" "husk's power button line"
	expect_output '^husk: .*guest powered off' "'guest powered off' line from husk"
	expect_no_output 'did not power off within' "husk had to stop the guest hard"
}
