#!/bin/bash
# Seccomp's cost on the data path: scripts/bench-blk.sh and
# scripts/bench-net.sh --guest, each run twice in a row, once with husk as
# built (a filter on every thread, the default) and once with husk
# --no-seccomp, --reps times alternating; QEMU runs beside husk in each, as
# those scripts always do. Prints every table, then one row per benchmark:
# the median of husk with filters, without, and their ratio (1.00: no
# cost), with the range of the per-repetition ratios. Needs /dev/kvm and
# root (the net half: a namespace and a tap).
#
#   scripts/bench-seccomp.sh [--reps N] [--ms MS] [--size SIZE] [--no-net] [--no-blk]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
HUSK=${HUSK:-$BUILD_DIR/husk}
ms=2000 size=256M net=1 blk=1 reps=3
while (($#)); do
	case "$1" in
	--ms) ms=$2; shift ;;
	--reps) reps=$2; shift ;;
	--size) size=$2; shift ;;
	--no-net) net=0 ;;
	--no-blk) blk=0 ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-seccomp.sh: unknown option $1 (--help)" >&2; exit 1 ;;
	esac
	shift
done
[[ -x "$HUSK" ]] || { echo "bench-seccomp.sh: no husk at $HUSK (build first)" >&2; exit 1; }
[[ -w /dev/kvm ]] || { echo "bench-seccomp.sh: needs /dev/kvm" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-seccomp.XXXXXX")
trap 'rm -rf "$work"' EXIT
# the same binary, filters off: a wrapper the benchmark scripts run as "husk"
printf '#!/bin/sh\nexec %q --no-seccomp "$@"\n' "$(readlink -f "$HUSK")" >"$work/husk-off"
chmod +x "$work/husk-off"

# husk_col FILE: "key value" for each table row (key: the columns before husk's)
husk_col() {
	awk '/husk\/QEMU/ { t = 1; next }
	     t && NF >= 5 { k = $1; for (i = 2; i <= NF - 3; i++) k = k "/" $i; print k, $(NF - 2) }' "$1"
}

rc=0
run() {
	local name=$1 r
	shift
	for r in $(seq "$reps"); do
		echo "== $name, repetition $r, seccomp on (default)"
		"$@" --husk "$HUSK" | tee "$work/$name.on.$r" || rc=1
		echo "== $name, repetition $r, --no-seccomp"
		"$@" --husk "$work/husk-off" | tee "$work/$name.off.$r" || rc=1
		# "key on off" per row of this repetition
		join <(husk_col "$work/$name.on.$r" | sort) <(husk_col "$work/$name.off.$r" | sort) \
			>>"$work/$name.rows"
	done
}
((blk)) && run blk scripts/bench-blk.sh --ms "$ms" --size "$size"
((net)) && run net scripts/bench-net.sh --guest --ms "$ms"

echo
echo "seccomp's cost: husk with its filters vs husk --no-seccomp, $reps repetitions, medians"
printf '%-30s %12s %12s %7s %13s\n' benchmark "seccomp on" "seccomp off" on/off "ratio range"
for name in blk net; do
	[[ -f "$work/$name.rows" ]] || continue
	awk -v name="$name" '
		function median(s,   a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 2; i <= n; i++)	# insertion sort: mawk has no asort
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/ && $3 > 0 {
			on[$1] = on[$1] " " $2; off[$1] = off[$1] " " $3; r = $2 / $3
			if (!($1 in lo) || r < lo[$1]) lo[$1] = r
			if (!($1 in hi) || r > hi[$1]) hi[$1] = r
		}
		END {
			for (k in on) {
				m1 = median(on[k]); m0 = median(off[k])
				printf "%-30s %12s %12s %7.2f %6.2f-%-6.2f\n", name ":" k, m1, m0, (m0 > 0 ? m1 / m0 : 0), lo[k], hi[k]
			}
		}' "$work/$name.rows" | sort
done
exit "$rc"
