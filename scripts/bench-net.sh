#!/bin/bash
# Packets per second through husk's net engine (io_uring and sync) and a real
# tap, in a network namespace of its own (root). Builds scripts/bench_net.c
# against build/libhusk_core.a and prints "BENCH name value unit" lines:
#   net_tx_KIND_pps            64-byte UDP frames written through the engine
#   net_tx_KIND_delivered_pct  of those, received by the socket in the namespace
#   net_tx_KIND_frames_per_submit  batching achieved (frames per submit call)
#   net_rx_KIND_pps            frames read by the engine while a socket floods
# Usage: scripts/bench-net.sh   (BUILD_DIR=build by default)
#        scripts/bench-net.sh --guest [--ms MS] [--tcg] [--husk PATH]
#   --guest: the test guest's net-bench (firmware/README-net.md) under husk
#   (--net tap=) and under QEMU (virtio-net-pci, tap, vhost=off), side by
#   side with the husk/QEMU ratio (scripts/bench-net-guest.inc).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ "${1:-}" = --guest ]; then
	shift
	# shellcheck source-path=SCRIPTDIR source=bench-net-guest.inc
	source scripts/bench-net-guest.inc
	bench_net_guest "$@"
	exit $?
fi
if [ "$(id -u)" != 0 ]; then
	echo "bench-net: needs root (network namespace, /dev/net/tun)" >&2
	exit 1
fi
cmake --build "$BUILD_DIR" --target husk_core >/dev/null
bin="$BUILD_DIR/bench_net"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude \
	scripts/bench_net.c "$BUILD_DIR/libhusk_core.a" -luring -lpthread -o "$bin"
exec "$bin"
