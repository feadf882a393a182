#!/bin/bash
# SPDX-License-Identifier: MIT
# Long fuzzing runs: build the fuzz tree (clang, -DHUSK_FUZZ=ON) and run each
# libFuzzer target for a while, its corpus growing in a work directory.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/fuzz.sh [--time S] [--jobs N] [--merge] [--no-build] [TARGET...]

Builds $FUZZ_BUILD_DIR (default: build-fuzz) and runs each TARGET (a name
such as serial or fuzz_serial; default: every tests/fuzz/fuzz_*.c) for S
seconds (default 60), starting from tests/fuzz/corpus/NAME/. New inputs go to
$FUZZ_WORK_DIR/NAME (default: build-fuzz/fuzz-work), never into the source
tree, unless --merge is given: then the new inputs that add coverage are
minimised into tests/fuzz/corpus/NAME with -merge=1 (commit them).
Prints per target the execs run, the corpus size and any crash file; the exit
status is non-zero when any target crashed.

  --time S     seconds per target (default 60)
  --jobs N     targets run side by side (default 1)
  --merge      merge the new coverage into tests/fuzz/corpus/NAME
  --no-build   use the binaries already in the build tree
USAGE
}

seconds=60 jobs=1 merge=0 build=1 targets=()
while (($#)); do
	case "$1" in
	--time) shift; seconds=${1:?--time needs seconds} ;;
	--jobs) shift; jobs=${1:?--jobs needs a count} ;;
	--merge) merge=1 ;;
	--no-build) build=0 ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "fuzz.sh: unknown option: $1" >&2; usage >&2; exit 1 ;;
	*) targets+=("${1#fuzz_}") ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
work_dir=${FUZZ_WORK_DIR:-$build_dir/fuzz-work}
if ((${#targets[@]} == 0)); then
	for src in tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		targets+=("${name#fuzz_}")
	done
fi
for t in "${targets[@]}"; do
	if [[ ! -f "tests/fuzz/fuzz_$t.c" ]]; then
		echo "fuzz.sh: no target $t (tests/fuzz/fuzz_$t.c): run with no TARGET for all" >&2
		exit 1
	fi
done

if ((build)); then
	CC=clang cmake -S . -B "$build_dir" -DHUSK_FUZZ=ON >/dev/null
	cmake --build "$build_dir" -j"$(nproc)" --target fuzz_targets
fi

# run_one NAME: fuzz one target; its summary line goes to $work_dir/NAME.summary.
run_one() {
	local t=$1 bin="$build_dir/fuzz/fuzz_$t" dir="$work_dir/$t" log rc=0 execs crash
	mkdir -p "$dir/corpus" "$dir/artifacts"
	log="$dir/fuzz.log"
	[[ -d "tests/fuzz/corpus/$t" ]] && cp -Rn "tests/fuzz/corpus/$t/." "$dir/corpus/"
	nice "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crash=$(grep -oE '(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+' "$log" | head -n 1 || true)
	if ((rc != 0)); then
		echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} execs: $dir/artifacts/${crash:-?} (log: $log)"
	else
		echo "fuzz_$t: ok, ${execs:-?} execs in ${seconds}s, corpus $(find "$dir/corpus" -type f | wc -l) inputs"
	fi >"$dir.summary"
	if ((merge && rc == 0)); then
		mkdir -p "tests/fuzz/corpus/$t"
		"$bin" -merge=1 "tests/fuzz/corpus/$t" "$dir/corpus" >>"$log" 2>&1
		echo "fuzz_$t: merged: tests/fuzz/corpus/$t has $(find "tests/fuzz/corpus/$t" -type f | wc -l) inputs" >>"$dir.summary"
	fi
	return "$rc"
}

mkdir -p "$work_dir"
pids=() failed=0
for t in "${targets[@]}"; do
	echo "fuzz.sh: fuzz_$t for ${seconds}s"
	run_one "$t" &
	pids+=($!)
	if ((${#pids[@]} >= jobs)); then
		wait "${pids[0]}" || failed=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || failed=1
done
for t in "${targets[@]}"; do
	cat "$work_dir/$t.summary"
done
exit "$failed"
