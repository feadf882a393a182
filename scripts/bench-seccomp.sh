#!/bin/bash
# Seccomp's cost on the data path: scripts/bench-blk.sh and
# scripts/bench-net.sh --guest, each run twice in a row, once with husk as
# built (a filter on every thread, the default) and once with husk
# --no-seccomp; QEMU runs beside husk in both, as those scripts always do.
# Prints both tables, then one row per benchmark: husk with filters,
# without, and the ratio (1.00: no cost). Needs /dev/kvm and root (the net
# half: a namespace and a tap).
#
#   scripts/bench-seccomp.sh [--ms MS] [--size SIZE] [--no-net] [--no-blk]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
HUSK=${HUSK:-$BUILD_DIR/husk}
ms=2000 size=256M net=1 blk=1
while (($#)); do
	case "$1" in
	--ms) ms=$2; shift ;;
	--size) size=$2; shift ;;
	--no-net) net=0 ;;
	--no-blk) blk=0 ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
	local name=$1
	shift
	echo "== $name, seccomp on (default)"
	"$@" --husk "$HUSK" | tee "$work/$name.on" || rc=1
	echo "== $name, --no-seccomp"
	"$@" --husk "$work/husk-off" | tee "$work/$name.off" || rc=1
}
((blk)) && run blk scripts/bench-blk.sh --ms "$ms" --size "$size"
((net)) && run net scripts/bench-net.sh --guest --ms "$ms"

echo
echo "seccomp's cost: husk with its filters vs husk --no-seccomp, same run"
printf '%-30s %14s %14s %8s\n' benchmark "seccomp on" "seccomp off" on/off
for name in blk net; do
	[[ -f "$work/$name.on" ]] || continue
	join <(husk_col "$work/$name.on" | sort) <(husk_col "$work/$name.off" | sort) |
		while read -r key on off; do
			ratio=-
			[[ "$on" =~ ^[0-9.]+$ && "$off" =~ ^[0-9.]+$ ]] &&
				ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			printf '%-30s %14s %14s %8s\n' "$name:$key" "$on" "$off" "$ratio"
		done
done
exit "$rc"
