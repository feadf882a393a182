#!/bin/bash
# Every husk test: install the Debian deps (only if missing), configure and build
# into $BUILD_DIR, then run ctest. The last thing printed is ctest's summary;
# the exit status is ctest's (non-zero when any test failed).
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/test.sh [--no-deps] [--no-build] [--unit] [--integration] [-- CTEST_ARGS...]

Installs missing Debian packages (scripts/install-deps.sh), builds into
$BUILD_DIR (default: build) and runs every test with ctest. Unit tests run in
parallel (one per core); VM tests run at most one per core (2 at a time on the
2-core dev machines).

  --no-deps       skip scripts/install-deps.sh
  --no-build      skip configure and build (use what is in $BUILD_DIR)
  --unit          only the unit tests (ctest -L unit)
  --integration   only the integration tests (ctest -L integration)
  -- ARGS         pass ARGS to ctest, e.g. -- -R lifecycle -V
Environment:
  BUILD_DIR          build directory (default: build)
  HUSK_REQUIRE_KVM=1 integration tests fail, not skip, without /dev/kvm
  LINUX_SMOKE_TIMEOUT seconds the Linux smoke test waits for "Memory:" (420)
USAGE
}

deps=1 build=1 ctest_args=()
while (($#)); do
	case "$1" in
	--no-deps) deps=0 ;;
	--no-build) build=0 ;;
	--unit) ctest_args+=(-L unit) ;;
	--integration) ctest_args+=(-L integration) ;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		ctest_args+=("$@")
		break
		;;
	*)
		echo "test.sh: unknown argument: $1" >&2
		usage >&2
		exit 1
		;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
jobs=$(nproc 2>/dev/null || echo 2)
((jobs >= 2)) || jobs=2

if ((deps)); then
	bash scripts/install-deps.sh
fi
if ((build)); then
	cmake -S . -B "$BUILD_DIR"
	cmake --build "$BUILD_DIR" -j"$jobs"
fi
# ctest's own summary ("N% tests passed, M tests failed out of T", the failed
# list) is the last output, and its status is ours.
exec ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$jobs" "${ctest_args[@]}" </dev/null
