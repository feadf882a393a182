#!/bin/bash
# Boot benchmark (not a test): husk vs QEMU microvm on the same test guest.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/bench-boot.sh [--runs N] [--cpus N] [--memory SIZE] [--hold MS]
                             [--no-qemu] [--check] [--help]

Boots the test guest ($BUILD_DIR/firmware/testguest.elf, command line
"tests=serial") N times (default 10) with husk and N times with QEMU microvm
  qemu-system-x86_64 -M microvm -enable-kvm -cpu host,-arch-capabilities -m SIZE
    -smp N -kernel testguest.elf -append tests=serial -nographic -no-reboot
    -device isa-debug-exit,iobase=0xf4,iosize=4
with the same --cpus (default 1) and --memory (default 256M), after one
uncounted warm-up run each, and reports medians of:
  boot_marker   ms from exec to the "boot-marker" line on the serial console
  exit          ms from exec to the VMM's exit
  overhead_rss  KiB resident beyond guest RAM: total Rss in /proc/PID/smaps minus
                the guest RAM mapping's Rss (husk: memfd:husk-guest-ram; QEMU:
                the anonymous mapping of size -m), peak over samples every 2 ms
  guest_rss     KiB of guest RAM resident (for reference)
The memory is sampled in N further runs per VMM whose guest command line adds
"hold=MS" (--hold, default 300) when the test guest supports it (it then idles
MS ms after its checks so the VMM can be sampled at steady state); support is
detected with one husk run. Timing runs are never sampled.
Output: "BENCH name value unit" lines, a table with the ratio qemu/husk and
the issue's targets (marker >= 3x sooner, overhead < 3 MiB).

  --no-qemu  husk only
  --check    exit 1 when a target is missed
Environment: BUILD_DIR (default: build), QEMU (default: qemu-system-x86_64)
USAGE
}

args=()
while (($#)); do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--runs | --cpus | --memory)
		(($# >= 2)) || { echo "bench-boot.sh: $1 needs a value" >&2; exit 1; }
		args+=("$1" "$2")
		shift
		;;
	--hold)
		(($# >= 2)) || { echo "bench-boot.sh: $1 needs a value" >&2; exit 1; }
		args+=(--hold-ms "$2")
		shift
		;;
	--no-qemu | --check) args+=("$1") ;;
	*)
		echo "bench-boot.sh: unknown argument: $1" >&2
		usage >&2
		exit 1
		;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
husk=$BUILD_DIR/husk
guest=$BUILD_DIR/firmware/testguest.elf
for f in "$husk" "$guest"; do
	[[ -f "$f" ]] || { echo "bench-boot.sh: $f not found: build first (scripts/setup.sh)" >&2; exit 1; }
done
qemu=${QEMU:-qemu-system-x86_64}
command -v python3 >/dev/null || { echo "bench-boot.sh: python3 is needed" >&2; exit 1; }
exec python3 scripts/bench_boot.py --husk "$husk" --qemu "$qemu" --guest "$guest" "${args[@]}"
