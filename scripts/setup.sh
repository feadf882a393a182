#!/bin/bash
# One step from a fresh clone to a booted VM: install the Debian packages husk
# needs (only if missing), build into $BUILD_DIR, then boot the bundled test
# guest with 2 vCPUs and 256 MiB and report its verdict.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/setup.sh [--no-deps] [--no-boot] [--help]

  1. scripts/install-deps.sh (apt-get, only for missing packages)
  2. cmake -S . -B $BUILD_DIR && cmake --build $BUILD_DIR -j$(nproc)
  3. $BUILD_DIR/husk --test-devices --kernel $BUILD_DIR/firmware/testguest.elf
       --cmdline 'expect_mem=256M expect_cpus=2' --cpus 2 --memory 256M
     The guest runs its checks, prints "ok NAME" lines and "N passed, M failed"
     and exits through the debug-exit port (--test-devices): husk exits 0 when
     all passed. The command is printed so that it can be pasted.

  --no-deps   skip step 1
  --no-boot   skip step 3
Environment: BUILD_DIR (default: build)
Exit status: 0 when everything done passed, else non-zero.
USAGE
}

deps=1 boot=1
for arg in "$@"; do
	case "$arg" in
	--no-deps) deps=0 ;;
	--no-boot) boot=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "setup.sh: unknown argument: $arg" >&2
		usage >&2
		exit 1
		;;
	esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}

if ((deps)); then
	bash scripts/install-deps.sh
fi
cmake -S . -B "$BUILD_DIR"
cmake --build "$BUILD_DIR" -j"$(nproc 2>/dev/null || echo 2)"
echo "setup.sh: built $BUILD_DIR/husk"
((boot)) || exit 0

guest=$BUILD_DIR/firmware/testguest.elf
[[ -f "$guest" ]] || {
	echo "setup.sh: FAIL: the test guest was not built ($guest)" >&2
	exit 1
}
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	echo "setup.sh: FAIL: /dev/kvm is missing or not read-write for this user; cannot boot" >&2
	exit 1
fi
cmd=("$BUILD_DIR/husk" --test-devices --kernel "$guest"
	--cmdline "expect_mem=256M expect_cpus=2" --cpus 2 --memory 256M)
# shell-quoted, so that the line can be pasted as it is
line=$(printf '%q ' "${cmd[@]}")
echo "setup.sh: booting the test guest: ${line% }"
rc=0
"${cmd[@]}" </dev/null || rc=$?
if ((rc == 0)); then
	echo "setup.sh: PASS: the test guest booted and every check passed"
else
	echo "setup.sh: FAIL: husk exited with status $rc (0 = all guest checks passed)" >&2
fi
exit "$rc"
