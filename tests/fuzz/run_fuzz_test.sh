#!/bin/bash
# SPDX-License-Identifier: MIT
# ctest's fuzz/NAME: run one libFuzzer target over a copy of its checked-in
# corpus (so new inputs never land in the source tree), then for SECONDS more
# of new inputs. Fails on any crash, leak, UB report or slow input; the
# input that failed is kept in ARTIFACTS (printed).
# Usage: run_fuzz_test.sh TARGET CORPUS_DIR SECONDS ARTIFACTS_DIR
set -euo pipefail

bin=$1 corpus=$2 seconds=$3 artifacts=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
if [[ -d "$corpus" ]]; then
	cp -R "$corpus/." "$work/corpus/"
fi
echo "run_fuzz_test: $(basename "$bin"): $(find "$work/corpus" -type f | wc -l) corpus inputs from $corpus, then ${seconds}s"
rc=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$work/corpus" || rc=$?
if ((rc != 0)); then
	echo "run_fuzz_test: $(basename "$bin") failed (exit $rc); reproduce with: $bin FILE, FILE one of:"
	find "$artifacts" -type f -newer "$work" -print
fi
exit "$rc"
