#!/bin/bash
# husk's test guest against husk's virtio devices (mirrors the nested cases
# tests/nested/cases/1[3-7]-testguest-*.sh on machines with /dev/kvm).
#
#   testguest-virtio.sh --list
#   testguest-virtio.sh rng|blk|blk-mmio|blk-mq|blk-ro
#
#   rng       tests=virtio-rng: 64 bytes by polling, 64 by MSI-X
#   blk       --disk path=IMG (4 MiB): tests=virtio-blk blk_serial=disk0, then
#             the image must hold the final pattern (tg-blkpattern 4194304)
#   blk-mmio  as blk with --virtio-transport mmio
#   blk-mq    as blk with --cpus 2 and queues=2 (guest: blk_queues=2)
#   blk-ro    --disk path=IMG,readonly=on: tests=virtio-blk-ro, image unchanged
# Asserts exit status 0, "ok CHECK", "N passed, 0 failed", and the image bytes.
# Skips without /dev/kvm, and (blk*) while husk --help does not mention the
# options the case needs (the device is still to land).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES=(rng blk blk-mmio blk-mq blk-ro)
if [[ "${1:-}" = --list ]]; then
	printf '%s\n' "${CASES[@]}"
	exit 0
fi
(($# == 1)) || fail "usage: testguest-virtio.sh --list | CASE"
case=$1
PATTERN_TOOL=${PATTERN_TOOL:-$BUILD_DIR/firmware/tg-blkpattern}
SIZE=4194304

need_husk
need_file "$TESTGUEST_ELF" "test guest (ELF)"

# requires WORD...: skip unless husk --help mentions every WORD.
requires() {
	local help w
	help=$("$HUSK" --help 2>&1 || true)
	for w in "$@"; do
		grep -qF -- "$w" <<<"$help" || skip "husk --help does not mention $w (not there yet)"
	done
}

args=()
tests="" extra="" image="" expect_image=""
case "$case" in
rng) tests=virtio-rng ;;
blk | blk-mmio | blk-mq)
	requires --disk
	tests=virtio-blk
	image=disk.img
	expect_image=$SIZE
	;;
blk-ro)
	requires --disk
	tests=virtio-blk-ro
	image=ro.img
	expect_image=1048576
	;;
*) fail "unknown case $case (see --list)" ;;
esac
need_kvm
make_workdir
if [[ -n "$image" ]]; then
	need_file "$PATTERN_TOOL" "tg-blkpattern"
	case "$case" in
	blk-ro) "$PATTERN_TOOL" "$expect_image" >"$WORK/$image" ;;
	*) truncate -s "$SIZE" "$WORK/$image" ;;
	esac
fi
case "$case" in
blk) args=(--disk "path=$WORK/$image"); extra="blk_serial=disk0" ;;
blk-mmio)
	requires --virtio-transport
	args=(--virtio-transport mmio --disk "path=$WORK/$image")
	;;
blk-mq) args=(--cpus 2 --disk "path=$WORK/$image,queues=2"); extra="blk_queues=2" ;;
blk-ro) args=(--disk "path=$WORK/$image,readonly=on") ;;
esac

run_husk 120 "$WORK/out" "$WORK/err" --test-devices --kernel "$TESTGUEST_ELF" \
	--cmdline "tests=$tests${extra:+ $extra}" "${args[@]}"
console_copy "$WORK/out" "$WORK/console"
show=0
((RC == 0)) || { log "husk exited $RC, expected 0"; show=1; }
grep -qx "ok $tests" "$WORK/console" || { log "no 'ok $tests' line"; show=1; }
grep -qx "1 passed, 0 failed" "$WORK/console" || { log "no '1 passed, 0 failed'"; show=1; }
if [[ -n "$image" ]] && ! "$PATTERN_TOOL" "$expect_image" | cmp - "$WORK/$image"; then
	log "the image does not hold the final pattern (tg-blkpattern $expect_image)"
	show=1
fi
if ((show)); then
	show_file "husk stdout" "$WORK/out"
	show_file "husk stderr" "$WORK/err"
	fail "testguest-virtio $case"
fi
log "ok: $(grep -E '^virtio' "$WORK/console" | tr '\n' ' ')"
