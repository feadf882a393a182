#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot from a snapshot: boot a guest once to a ready point, snapshot it there,
# then start VMs from that snapshot (docs/snapshot.md, "Boot from a snapshot").
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/snapshot-start.sh [options] [-- HUSK_ARGS...]

  1. boots the guest once (husk --api-sock, console to DIR/template.console)
     and waits until its console prints a line containing READY;
  2. pauses it and takes a Full snapshot: DIR/vm.snap + DIR/vm.mem; the
     template husk is then stopped;
  3. starts CLONES VMs from the snapshot at once (husk --restore --resume,
     each console to DIR/clone-N.console) and waits for them to exit.
Prints how long each step took and each clone's restore time (husk's own
"restored in" line), and exits 1 if any clone exited non-zero.

  --kernel IMAGE   the guest (default: build/firmware/testguest.elf)
  --cmdline ARGS   its command line (default for the test guest: a memory
                   check that says "snapshot-ready" after its first pass)
  --ready STRING   the console text that means "ready" (default: memory: pass 2)
  --memory SIZE    guest RAM (default 256M)
  --cpus N         vCPUs (default 1)
  --clones N       VMs started from the snapshot (default 3)
  --dir DIR        where the snapshot and consoles go (default: a new temp dir)
  -- HUSK_ARGS     more husk flags for the template (e.g. --test-devices).
                   Disks and NICs: every clone needs its own; add them to
                   the clones by hand with --restore-disk / --restore-net.
USAGE
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
HUSK=${HUSK:-$BUILD_DIR/husk}
kernel=$BUILD_DIR/firmware/testguest.elf cmdline= ready="memory: pass 2 of" memory=256M
cpus=1 clones=3 dir= extra=()
while (($#)); do
	case "$1" in
	--kernel) shift; kernel=${1:?--kernel needs a file} ;;
	--cmdline) shift; cmdline=${1?--cmdline needs a value} ;;
	--ready) shift; ready=${1:?--ready needs a string} ;;
	--memory) shift; memory=${1:?--memory needs a size} ;;
	--cpus) shift; cpus=${1:?--cpus needs a number} ;;
	--clones) shift; clones=${1:?--clones needs a number} ;;
	--dir) shift; dir=${1:?--dir needs a directory} ;;
	-h | --help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "snapshot-start.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done
[[ "$clones" =~ ^[0-9]+$ ]] && ((clones >= 1 && clones <= 64)) ||
	{ echo "snapshot-start.sh: --clones $clones: expected 1 to 64" >&2; exit 1; }
[[ -x "$HUSK" ]] || { echo "snapshot-start.sh: $HUSK not built (scripts/setup.sh)" >&2; exit 1; }
[[ -f "$kernel" ]] || { echo "snapshot-start.sh: --kernel $kernel: no such file" >&2; exit 1; }
command -v curl >/dev/null || { echo "snapshot-start.sh: needs curl" >&2; exit 1; }
[[ -n "$cmdline" || "$kernel" != *testguest* ]] || cmdline="tests=memory mem_passes=1000"
if [[ -z "$dir" ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/husk-snapstart.XXXXXX")
fi
mkdir -p "$dir"
sock=$dir/api.sock
ms() { date +%s%3N; }
api() { curl -sf --unix-socket "$sock" -X "$1" "http://localhost$2" ${3:+-d "$3"}; }

t0=$(ms)
"$HUSK" --api-sock "$sock" --serial "file:$dir/template.console" --kernel "$kernel" \
	--cmdline "$cmdline" --memory "$memory" --cpus "$cpus" "${extra[@]}" \
	</dev/null >"$dir/template.out" 2>"$dir/template.err" &
pid=$!
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
for _ in $(seq 6000); do
	grep -qF -- "$ready" "$dir/template.console" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.01
done
grep -qF -- "$ready" "$dir/template.console" 2>/dev/null || {
	echo "snapshot-start.sh: the guest never printed '$ready'; see $dir/template.*" >&2
	exit 1
}
t1=$(ms)
api PATCH /vm '{"state":"Paused"}'
api PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$dir/vm.snap\",\"mem_file_path\":\"$dir/vm.mem\"}"
t2=$(ms)
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
echo "template: booted to '$ready' in $((t1 - t0)) ms; snapshot in $((t2 - t1)) ms ($dir/vm.snap, vm.mem)"

pids=()
t3=$(ms)
for i in $(seq "$clones"); do
	"$HUSK" --restore "$dir/vm.snap" --restore-mem "$dir/vm.mem" --resume \
		--serial "file:$dir/clone-$i.console" </dev/null >"$dir/clone-$i.out" \
		2>"$dir/clone-$i.err" &
	pids+=($!)
done
failed=0
for i in $(seq "$clones"); do
	rc=0
	wait "${pids[$((i - 1))]}" || rc=$?
	restored=$(sed -n 's/.*restored in \([0-9.]* ms\).*/\1/p' "$dir/clone-$i.err")
	echo "clone $i: restored in ${restored:-?}, exit $rc ($dir/clone-$i.console)"
	((rc == 0)) || failed=1
done
echo "$clones clones ran to their end in $(($(ms) - t3)) ms"
exit "$failed"
