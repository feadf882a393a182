#!/bin/bash
# SPDX-License-Identifier: MIT
# Snapshot benchmark (not a test): husk and QEMU side by side on the test guest.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/bench-snapshot.sh [--runs N] [--clones N] [--only PARTS] [--no-qemu] [--check]

Measures, on the test guest's "ticker" check (a line every 1 ms), with husk and
with QEMU 7.2 microvm in the same run (docs/snapshot.md, "Benchmarks"):
  restore  1 vCPU, 128 MiB: exec to the restored guest's first output (husk
           --restore --resume; QEMU -incoming "exec:cat FILE" after migrate
           "exec:cat > FILE"), PUT /snapshot/load to first output, husk's own
           build-and-load time; medians of N runs (default 10)
  create   Full snapshots of 128 MiB and 1 GiB (half of it touched) against
           dd of the same size with fsync on the same file system, QEMU's
           migrate to a file; a Diff with ~1% of 1 GiB dirty against a Full
  density  N clones (default 20) of a 256 MiB guest that has touched 64 MiB:
           host memory each (MemAvailable) and restores per second
PARTS: a comma-separated subset of restore,create,density. Needs /dev/kvm
(exit 2 without it). Prints "BENCH name value unit" lines and a table;
--check exits 1 when a target is missed. Files go to $TMPDIR (default /tmp,
which should be a disk or tmpfs with room for 2 GiB).
Environment: BUILD_DIR (default: build), QEMU (default: qemu-system-x86_64)
USAGE
}

args=() qemu=1
while (($#)); do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--runs | --clones | --only)
		(($# >= 2)) || { echo "bench-snapshot.sh: $1 needs a value" >&2; exit 1; }
		args+=("$1" "$2")
		shift
		;;
	--no-qemu) qemu=0 ;;
	--check) args+=("$1") ;;
	*) echo "bench-snapshot.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
husk=$BUILD_DIR/husk guest=$BUILD_DIR/firmware/testguest.elf
[[ -x "$husk" && -f "$guest" ]] || { echo "bench-snapshot.sh: build first (scripts/setup.sh)" >&2; exit 1; }
if ! { exec 3<>/dev/kvm; } 2>/dev/null; then
	echo "bench-snapshot.sh: needs /dev/kvm (scripts/bench-nested.sh has no snapshot case yet)" >&2
	exit 2
fi
exec 3>&-
if ((qemu)); then
	q=${QEMU:-qemu-system-x86_64}
	command -v "$q" >/dev/null || { echo "bench-snapshot.sh: $q not found (--no-qemu?)" >&2; exit 1; }
	args+=(--qemu "$q")
fi
exec python3 scripts/bench_snapshot.py --husk "$husk" --guest "$guest" "${args[@]}"
