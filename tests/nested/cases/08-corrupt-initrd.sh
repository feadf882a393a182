# shellcheck shell=bash disable=SC2034
# Case 6b: the initramfs is 1 MiB of random bytes. The kernel cannot unpack
# it, finds no init and panics; with panic=-1 it reboots at once and husk
# exits 0 on that reset instead of hanging.
CASE_DESC="random bytes as initrd: kernel panics (no init), panic=-1 reboots, husk exits 0"
CASE_TIMEOUT=60
CASE_INITRD=corrupt.img

case_prepare() {
	head -c 1048576 /dev/urandom >"$1/$CASE_INITRD"
}

case_check() {
	expect_output 'Kernel panic - not syncing' "'Kernel panic - not syncing' from the guest"
	expect_output 'Kernel panic - not syncing: (No working init found|VFS: Unable to mount root fs)' "'no init' panic"
	expect_output '^husk: .*guest reboot' "'guest reboot' line from husk"
	expect_rc 0
}
