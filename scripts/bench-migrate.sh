#!/bin/bash
# SPDX-License-Identifier: MIT
# Live-migration benchmark (not a test): husk and QEMU side by side on the test guest.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/bench-migrate.sh [--runs N] [--sizes MIB,...] [--only PARTS] [--no-qemu] [--check]

Migrates a running test guest (the "ticker" check, half of its RAM touched;
idle, and dirtying 64 pages a tick, about 256 MB/s) between two processes of
the same VMM over a unix socket on this host, husk and QEMU 7.2 microvm in the
same run, and reports the downtime and total time each VMM states, the MiB
sent, the passes, medians of N runs (default 3) per size (default 256,1024
MiB). Targets (docs/migration.md): idle downtime <= 50 ms, downtime and total
time <= QEMU's. The "replicate" part (husk only) measures a replicated
guest's slowdown (every 100 and 25 ms) and the failover time after SIGKILL
and after SIGSTOP of the primary (target <= 1 s with --failover-timeout 500;
docs/replication.md). PARTS: migrate,replicate (default both). Needs /dev/kvm (exit 2 without it). Prints "BENCH name value
unit" lines and a table; --check exits 1 when a target is missed.
Environment: BUILD_DIR (default: build), QEMU (default: qemu-system-x86_64)
USAGE
}

args=() qemu=1
while (($#)); do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--runs | --sizes | --only)
		(($# >= 2)) || { echo "bench-migrate.sh: $1 needs a value" >&2; exit 1; }
		args+=("$1" "$2")
		shift
		;;
	--no-qemu) qemu=0 ;;
	--check) args+=("$1") ;;
	*) echo "bench-migrate.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
husk=$BUILD_DIR/husk guest=$BUILD_DIR/firmware/testguest.elf
[[ -x "$husk" && -f "$guest" ]] || { echo "bench-migrate.sh: build first (scripts/setup.sh)" >&2; exit 1; }
if ! { exec 3<>/dev/kvm; } 2>/dev/null; then
	echo "bench-migrate.sh: needs /dev/kvm" >&2
	exit 2
fi
exec 3>&-
if ((qemu)); then
	q=${QEMU:-qemu-system-x86_64}
	command -v "$q" >/dev/null || { echo "bench-migrate.sh: $q not found (--no-qemu?)" >&2; exit 1; }
	args+=(--qemu "$q")
fi
exec python3 scripts/bench_migrate.py --husk "$husk" --guest "$guest" "${args[@]}"
