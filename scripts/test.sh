#!/bin/bash
# Every husk test: install the Debian deps (only if missing), configure and build
# into $BUILD_DIR, then run ctest. The last thing printed is ctest's summary;
# the exit status is ctest's (non-zero when any test failed).
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/test.sh [--no-deps] [--no-build] [--unit] [--integration]
                       [--quick] [--no-sanitize] [--no-fuzz] [-- CTEST_ARGS...]

Installs missing Debian packages (scripts/install-deps.sh), builds into
$BUILD_DIR (default: build) and runs every test with ctest, then the
sanitizer and fuzz phases, each in a build tree of its own:
  main   $BUILD_DIR: every test (unit, integration, nested). Unit tests run in
         parallel (one per core); VM tests at most one per core.
  asan   $BUILD_DIR-asan: the unit tests under ASan+UBSan (gcc).
  tsan   $BUILD_DIR-tsan: the unit tests labelled tsan under TSan (gcc).
  fuzz   $BUILD_DIR-fuzz: every libFuzzer target over its checked-in corpus
         plus a few seconds of new inputs (clang; scripts/fuzz.sh runs longer).
The last line sums them up: "test.sh: N passed, M failed"; the exit status is
non-zero when any phase failed.

  --no-deps       skip scripts/install-deps.sh
  --no-build      skip configure and build (use what is in the build trees)
  --unit          main phase: only the unit tests (ctest -L unit)
  --integration   main phase: only the integration tests (ctest -L integration)
  --no-sanitize   skip the asan and tsan phases
  --no-fuzz       skip the fuzz phase
  --only PHASE    run one phase alone (main, asan, tsan or fuzz)
  -- ARGS         pass ARGS to the main phase's ctest, e.g. -- -R lifecycle -V
Environment:
  BUILD_DIR          build directory (default: build)
  HUSK_REQUIRE_KVM   1 (the default where /dev/kvm opens): a VM test that would
                     skip for want of KVM fails; 0 lets it skip
  LINUX_SMOKE_TIMEOUT seconds the Linux smoke test waits for "Memory:" (420)
USAGE
}

deps=1 build=1 ctest_args=() phases=(main asan tsan fuzz)
drop_phase() {
	local p keep=()
	for p in "${phases[@]}"; do [[ "$p" = "$1" ]] || keep+=("$p"); done
	phases=("${keep[@]}")
}
while (($#)); do
	case "$1" in
	--no-deps) deps=0 ;;
	--no-build) build=0 ;;
	--unit) ctest_args+=(-L unit) ;;
	--integration) ctest_args+=(-L integration) ;;
	--no-sanitize) drop_phase asan; drop_phase tsan ;;
	--no-fuzz) drop_phase fuzz ;;
	--only)
		shift
		case "${1:-}" in
		main | asan | tsan | fuzz) phases=("$1") ;;
		*) echo "test.sh: --only: expected main, asan, tsan or fuzz" >&2; exit 1 ;;
		esac
		;;
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

total_pass=0 total_fail=0 failed_phases=()
# run_ctest PHASE DIR ARGS...: ctest in DIR, its output kept to count the result.
run_ctest() {
	local phase=$1 dir=$2 log rc=0 line pass fail
	shift 2
	log=$(mktemp)
	echo "test.sh: === phase $phase ($dir) ==="
	ctest --test-dir "$dir" --output-on-failure --no-tests=ignore -j"$jobs" "$@" \
		</dev/null 2>&1 | tee "$log" || rc=$?
	# "100% tests passed, 0 tests failed out of 46"
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
	rm -f "$log"
	if [[ -n "$line" ]]; then
		fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		pass=$(($(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line") - fail))
		total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	fi
	if ((rc != 0)); then
		failed_phases+=("$phase")
		[[ -n "$line" ]] || total_fail=$((total_fail + 1))
	fi
}

# build_tree PHASE DIR TARGET CMAKE_ARGS...: configure and build a tree; a
# failure counts as one failed test of PHASE (and the phase is not run).
build_tree() {
	local phase=$1 dir=$2 target=$3
	shift 3
	((build)) || return 0
	if cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$jobs" --target "$target"; then
		return 0
	fi
	echo "test.sh: phase $phase: the build in $dir failed"
	failed_phases+=("$phase")
	total_fail=$((total_fail + 1))
	return 1
}

for phase in "${phases[@]}"; do
	case "$phase" in
	main)
		build_tree main "$BUILD_DIR" all || continue
		# Where /dev/kvm opens, a VM test that skips for want of KVM is a failure.
		if [[ -z "${HUSK_REQUIRE_KVM:-}" ]] && { exec 3<>/dev/kvm; } 2>/dev/null; then
			exec 3>&-
			HUSK_REQUIRE_KVM=1
			echo "test.sh: /dev/kvm opens: every VM test must run (HUSK_REQUIRE_KVM=1)"
		fi
		export HUSK_REQUIRE_KVM=${HUSK_REQUIRE_KVM:-0}
		run_ctest main "$BUILD_DIR" "${ctest_args[@]}"
		;;
	asan)
		build_tree asan "$BUILD_DIR-asan" unit_tests -DHUSK_SANITIZE=address,undefined || continue
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			run_ctest asan "$BUILD_DIR-asan" -L unit
		;;
	tsan)
		build_tree tsan "$BUILD_DIR-tsan" unit_tests -DHUSK_SANITIZE=thread || continue
		TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
			run_ctest tsan "$BUILD_DIR-tsan" -L tsan
		;;
	fuzz)
		[[ -f tests/fuzz/CMakeLists.txt ]] || continue
		CC=clang build_tree fuzz "$BUILD_DIR-fuzz" fuzz_targets -DHUSK_FUZZ=ON || continue
		run_ctest fuzz "$BUILD_DIR-fuzz" -L fuzz
		;;
	esac
done

echo "test.sh: phases: ${phases[*]}; failed: ${failed_phases[*]:-none}"
echo "test.sh: $total_pass passed, $total_fail failed"
((${#failed_phases[@]} == 0))
