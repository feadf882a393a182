#!/bin/bash
# Block benchmark: the test guest's blk-bench (README.md "Virtio checks") under
# husk and under QEMU, on an image in tmpfs and one on disk, as one table with
# the husk/QEMU ratio. Needs /dev/kvm for meaningful numbers.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_DIR/$BUILD_DIR"
HUSK=${HUSK:-$BUILD_DIR/husk}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST_ELF=$BUILD_DIR/firmware/testguest.elf
GUEST_BZ=$BUILD_DIR/firmware/testguest.bzImage

usage() {
	cat <<'USAGE'
Usage: scripts/bench-blk.sh [options]

Runs tests=blk-bench (4 KiB random read at queue depth 1 and 32, 128 KiB
sequential read and write) in husk's test guest under husk (--disk) and under
QEMU (q35, virtio-blk-pci, aio=io_uring; cache=none where O_DIRECT works, so
not on tmpfs), once on an image in tmpfs and once on an image on disk, and
prints a table: test, image, husk, QEMU, husk/QEMU.

  --size SIZE     image size (default 256M)
  --ms MS         milliseconds per benchmark (default 2000)
  --tmpfs DIR     directory on tmpfs (default /dev/shm)
  --disk DIR      directory on a disk (default $BUILD_DIR)
  --husk PATH     husk binary (default $HUSK or $BUILD_DIR/husk)
  --tcg           without /dev/kvm: a functional smoke run, QEMU under TCG
                  (husk needs KVM: its column says n/a); timings meaningless
  -h, --help      this text
Exit status: 0 done, 1 a run failed or bad usage, 2 no /dev/kvm (and no --tcg).
USAGE
}

size=256M ms=2000 tmpfs_dir=/dev/shm disk_dir=$BUILD_DIR tcg=0
while (($#)); do
	case "$1" in
	--size) size=$2; shift ;;
	--ms) ms=$2; shift ;;
	--tmpfs) tmpfs_dir=$2; shift ;;
	--disk) disk_dir=$2; shift ;;
	--husk) HUSK=$2; shift ;;
	--tcg) tcg=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench-blk.sh: unknown option: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done

die() { echo "bench-blk.sh: $*" >&2; exit 1; }
[[ -f "$GUEST_ELF" && -f "$GUEST_BZ" ]] || die "test guest not built: $GUEST_ELF (cmake --build $BUILD_DIR)"
[[ "$ms" =~ ^[0-9]+$ ]] || die "--ms $ms: not a number of milliseconds"
command -v "$QEMU" >/dev/null || die "$QEMU not found"

kvm=0
[[ -r /dev/kvm && -w /dev/kvm ]] && kvm=1
if ((!kvm && !tcg)); then
	echo "bench-blk.sh: /dev/kvm is missing or not read-write: benchmark numbers need KVM." >&2
	echo "bench-blk.sh: run with --tcg for a functional smoke run (QEMU under TCG only; timings meaningless)," >&2
	echo "bench-blk.sh: or scripts/bench-nested.sh blk for husk and QEMU side by side on nested KVM." >&2
	exit 2
fi
husk_ok=1 husk_why=
if ((!kvm)); then
	husk_ok=0 husk_why="n/a (no /dev/kvm)"
elif [[ ! -x "$HUSK" ]]; then
	husk_ok=0 husk_why="n/a (no $HUSK)"
elif ! grep -qF -- --disk <<<"$("$HUSK" --help 2>&1)"; then	# no pipe: grep -q would SIGPIPE husk
	husk_ok=0 husk_why="n/a (no --disk)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-blk.XXXXXX")
images=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$work"; ((${#images[@]} == 0)) || rm -f "${images[@]}"; }
trap cleanup EXIT
cmdline="tests=blk-bench bench_ms=$ms"
timeout_s=$((ms * 4 / 1000 + 120))

# run_husk IMAGE OUT / run_qemu IMAGE CACHE OUT: the guest's output in OUT.
run_husk() {
	timeout -k 5 "$timeout_s" "$HUSK" --test-devices --kernel "$GUEST_ELF" --cmdline "$cmdline" \
		--disk "path=$1" </dev/null >"$2" 2>&1
}
run_qemu() {
	local accel=kvm cpu=host rc=0
	((kvm)) || accel=tcg cpu=max
	timeout -k 5 "$timeout_s" "$QEMU" -M "q35,accel=$accel" -cpu "$cpu" -m 256M \
		-kernel "$GUEST_BZ" -append "$cmdline" \
		-drive "file=$1,if=none,id=d0,format=raw,aio=io_uring,cache=$2" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -nographic -no-reboot -nodefaults \
		-serial stdio </dev/null >"$3" 2>&1 || rc=$?
	((rc == 1))	# the guest's status 0 is QEMU's exit status 1
}
# value OUT NAME: the number of "BENCH NAME N UNIT".
value() { awk -v n="$2" '$1 == "BENCH" && $2 == n { print $3 }' "$1" | tr -d '\r' | tail -n 1; }

tests=(randread-4k-qd1 randread-4k-qd32 seqread-128k seqwrite-128k)
units=(IOPS IOPS MiB/s MiB/s)
declare -A res
failed=0
for where in tmpfs disk; do
	dir=$tmpfs_dir cache=writeback
	[[ "$where" = tmpfs ]] || dir=$disk_dir cache=none
	[[ -d "$dir" ]] || die "--$where $dir: not a directory"
	img=$(mktemp "$dir/bench-blk.XXXXXX.img")
	images+=("$img")
	truncate -s "$size" "$img"
	# allocate the blocks so reads hit the medium, not holes
	dd if=/dev/zero of="$img" bs=1M count=$(($(stat -c %s "$img") >> 20)) conv=notrunc status=none
	if ((husk_ok)); then
		if run_husk "$img" "$work/husk-$where.out"; then
			for t in "${tests[@]}"; do res[husk,$where,$t]=$(value "$work/husk-$where.out" "$t"); done
		else
			echo "bench-blk.sh: husk on $where failed; its output:" >&2
			tail -n 20 "$work/husk-$where.out" >&2
			failed=1
		fi
	fi
	if run_qemu "$img" "$cache" "$work/qemu-$where.out"; then
		for t in "${tests[@]}"; do res[qemu,$where,$t]=$(value "$work/qemu-$where.out" "$t"); done
	else
		echo "bench-blk.sh: QEMU on $where failed; its output:" >&2
		tail -n 20 "$work/qemu-$where.out" >&2
		failed=1
	fi
done

((kvm)) || echo "NOTE: no /dev/kvm: QEMU ran under TCG -- timings meaningless (functional smoke run)"
echo "image size $size, $ms ms per test, QEMU: q35 virtio-blk-pci aio=io_uring (cache=none on disk, writeback on tmpfs)"
printf '%-18s %-6s %-7s %16s %16s %10s\n' test image unit husk QEMU husk/QEMU
for i in "${!tests[@]}"; do
	t=${tests[$i]}
	for where in tmpfs disk; do
		h=${res[husk,$where,$t]:-} q=${res[qemu,$where,$t]:-} ratio=-
		[[ -n "$q" ]] || q="failed"
		if ((!husk_ok)); then
			h=$husk_why
		elif [[ -z "$h" ]]; then
			h=failed
		elif [[ "$q" =~ ^[0-9]+$ ]] && ((q > 0)); then
			ratio=$(awk -v a="$h" -v b="$q" 'BEGIN { printf "%.2f", a / b }')
		fi
		printf '%-18s %-6s %-7s %16s %16s %10s\n' "$t" "$where" "${units[$i]}" "$h" "$q" "$ratio"
	done
done
exit "$failed"
