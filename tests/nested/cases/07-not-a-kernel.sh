# shellcheck shell=bash disable=SC2034
# Case 6a: --kernel names a file that is no kernel. husk refuses it with one
# clear "husk: --kernel ..." line and exit status 1.
CASE_DESC="--kernel with a file that is not a kernel: exit 1, one 'husk: --kernel ...' line"
CASE_TIMEOUT=30
CASE_KERNEL=not-a-kernel.img
CASE_INITRD=none

case_prepare() {
	# 64 KiB of text: big enough for any header husk reads, no valid magic.
	local i
	for ((i = 0; i < 3277; i++)); do
		echo 'this is not a kernel'
	done >"$1/$CASE_KERNEL"
}

case_check() {
	expect_rc 1
	expect_output '^husk: --kernel .*not-a-kernel\.img' "'husk: --kernel .../not-a-kernel.img: ...' line"
	local n
	n=$(grep -c . output.log || true)
	[[ "$n" = 1 ]] || check_fail "expected exactly one line of output, got $n"
}
