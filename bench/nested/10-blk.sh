# shellcheck shell=bash disable=SC2034
# blk-bench (4 KiB random read at QD1 and QD32, 128 KiB sequential read and
# write) on a raw image in the outer VM's RAM: husk --disk (io_uring), then
# QEMU virtio-blk-pci with aio=io_uring (cache=writeback: no O_DIRECT there).
# shellcheck source-path=SCRIPTDIR source=bench.inc
source "$(dirname "${BASH_SOURCE[0]}")/bench.inc"
BENCH_SIZE_MB=${BENCH_SIZE_MB:-128}
CASE_DESC="bench: blk-bench, husk then QEMU, ${BENCH_SIZE_MB} MiB image in RAM"
CASE_TIMEOUT=$((BENCH_MS * 4 / 1000 + 120))
CASE_REQUIRES="--disk"
CASE_ARGS=(--no-rng --memory 256M --metrics @CASEDIR@/metrics.json --disk path=@CASEDIR@/disk.img)
nested_testguest_case blk-bench "bench_ms=$BENCH_MS"
# allocated blocks, so reads copy data rather than holes
CASE_PRE="dd if=/dev/zero of=disk.img bs=1M count=$BENCH_SIZE_MB 2>&1 | tail -n 1
$(bench_sampler husk)"
CASE_POST="$BENCH_SAMPLER_STOP
$BENCH_HUSK_METRICS
$(bench_sampler qemu)
echo qemu-begin
$BENCH_QEMU_COMMON -append 'tests=blk-bench bench_ms=$BENCH_MS' \
-drive file=disk.img,if=none,id=d0,format=raw,aio=io_uring,cache=writeback \
-device virtio-blk-pci,drive=d0,disable-legacy=on </dev/null 2>&1
echo qemu-rc=\$?
echo qemu-end
$BENCH_SAMPLER_STOP
rm -f disk.img"

case_prepare() { bench_stage "$1"; }
case_check() { bench_check; }
