#!/bin/bash
# Rate limiter accuracy: the set rate against what the test guest measured,
# for drive and NIC limits (docs/ratelimit.md). Runs the cases of
# tests/integration/ratelimit.sh (ops, bandwidth, patch, net) and prints
# their "set / measured" lines as one table with the error in percent. Needs
# /dev/kvm; the net case needs root (a namespace and a tap).
#
#   scripts/bench-ratelimit.sh [CASE...]     (default: ops bandwidth patch net)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export HUSK=${HUSK:-$BUILD_DIR/husk} BUILD_DIR
export TESTGUEST_ELF=${TESTGUEST_ELF:-$BUILD_DIR/firmware/testguest.elf}
cases=("$@")
((${#cases[@]})) || cases=(ops bandwidth patch net)
[[ "${cases[0]}" != -h && "${cases[0]}" != --help ]] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
for c in "${cases[@]}"; do
	TEST_NAME=ratelimit/$c bash tests/integration/ratelimit.sh "$c" 2>"$out" >/dev/null || {
		rc=1
		echo "bench-ratelimit: case $c failed:" >&2
		tail -n 5 "$out" >&2
	}
	awk -v c="$c" '$2 == "set" && $4 == "measured" {
		printf "%-10s %-18s %10s %10s %+7.1f%%\n", c, $1, $3, $5, ($5 - $3) * 100 / $3 }' "$out" \
		>>"$out.table"
done
printf '%-10s %-18s %10s %10s %8s\n' case benchmark set measured error
cat "$out.table" 2>/dev/null
rm -f "$out.table"
exit "$rc"
