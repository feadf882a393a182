#!/bin/bash
# The test ports are off unless --test-devices is given, and the bundled test
# guest runs without them: what a new user's first `husk --kernel
# build/firmware/testguest.elf` does.
#
#   test-devices.sh bare|exit-off|exit-on|msi-off
#
#   bare      no flags at all: the default checks that need no expectations
#             pass (msi is skipped: no test-MSI port), the guest powers off
#             through ACPI, husk exits 0
#   exit-off  a failing check without --test-devices: the guest's write of 1
#             to 0xf4 reaches nothing, so husk does not exit 1; the guest
#             powers off (exit 0) and says why on its console
#   exit-on   the same with --test-devices: husk exits 1 (the guest's verdict)
#   msi-off   tests=msi without --test-devices: skipped, never sent
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || fail "usage: test-devices.sh bare|exit-off|exit-on|msi-off"
need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"
need_kvm
make_workdir

# expect_line ERE WHAT: the console (CRLF stripped) has a line matching ERE.
expect_line() {
	grep -qE "$1" "$WORK/console" || {
		show_file "husk stdout" "$WORK/out"
		show_file "husk stderr" "$WORK/err"
		fail "$2"
	}
}
expect_rc() {
	((RC == $1)) || {
		show_file "husk stdout" "$WORK/out"
		show_file "husk stderr" "$WORK/err"
		fail "husk exited $RC, want $1"
	}
}

case "$1" in
bare)
	run_husk 120 "$WORK/out" "$WORK/err" --kernel "$TESTGUEST_ELF"
	console_copy "$WORK/out" "$WORK/console"
	expect_rc 0
	expect_line '^6 passed, 0 failed, 1 skipped$' "no '6 passed, 0 failed, 1 skipped'"
	expect_line '^skip msi: no test-MSI port' "msi was not skipped"
	expect_line '^ok e820$' "e820 did not pass without expect_mem="
	grep -q 'guest powered off' "$WORK/err" || fail "husk did not log 'guest powered off'"
	;;
exit-off | exit-on)
	flags=()
	[[ "$1" = exit-off ]] || flags=(--test-devices)
	run_husk 60 "$WORK/out" "$WORK/err" "${flags[@]}" --kernel "$TESTGUEST_ELF" \
		--cmdline "tests=serial,no-such-check"
	console_copy "$WORK/out" "$WORK/console"
	expect_line '^1 passed, 1 failed$' "no '1 passed, 1 failed'"
	if [[ "$1" = exit-off ]]; then
		expect_rc 0
		grep -q 'guest powered off' "$WORK/err" || fail "husk did not log 'guest powered off'"
		! grep -q 'debug-exit' "$WORK/err" || fail "the debug-exit port answered without --test-devices"
	else
		expect_rc 1
		grep -q 'debug-exit port with status 1' "$WORK/err" || fail "no debug-exit stop line"
	fi
	;;
msi-off)
	run_husk 60 "$WORK/out" "$WORK/err" --kernel "$TESTGUEST_ELF" --cmdline tests=msi
	console_copy "$WORK/out" "$WORK/console"
	expect_rc 0
	expect_line '^skip msi: no test-MSI port at 0x448' "msi was not skipped"
	expect_line '^0 passed, 0 failed, 1 skipped$' "no '0 passed, 0 failed, 1 skipped'"
	;;
*) fail "unknown case $1" ;;
esac
log "ok $1"
