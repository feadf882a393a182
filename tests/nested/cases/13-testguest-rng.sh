# shellcheck shell=bash disable=SC2034
# husk's own test guest (build/firmware/testguest.elf) instead of Linux: its
# ring-3 virtio-pci driver finds husk's virtio-rng (1af4:1044) by ID, reads
# 64 bytes by polling the used ring and 64 by MSI-X interrupt. Checks: the
# check passed, the guest exited 0 through port 0xf4.
CASE_DESC="test guest: virtio-rng by polling and by MSI-X (ring-3 driver)"
CASE_TIMEOUT=90
nested_testguest_case virtio-rng

case_prepare() { nested_stage_testguest "$1"; }

case_check() {
	expect_rc 0
	expect_output '^ok virtio-rng' "ok virtio-rng"
	expect_output '^virtio-rng: .*, interrupt' "the interrupt-mode read"
	expect_output '^1 passed, 0 failed' "the summary '1 passed, 0 failed'"
}
