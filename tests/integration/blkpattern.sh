#!/bin/bash
# tg-blkpattern (firmware/testguest/blkpattern.c) writes the final pattern the
# test guest's virtio-blk check leaves on a disk: the 8-byte little-endian word
# at byte offset o is o ^ 0x7467626c6b303031. Asserts the first words byte for
# byte, a word past the first 64 KiB buffer, the length, and that bad sizes
# are refused with status 1 and a message. Needs no /dev/kvm.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool=${PATTERN_TOOL:-$BUILD_DIR/firmware/tg-blkpattern}
need_file "$tool" "tg-blkpattern"

got=$("$tool" 16 | od -An -tx1 | tr -d ' \n')
want=3130306b6c6267743930306b6c626774	# 0 ^ P, then 8 ^ P, little-endian
[[ "$got" = "$want" ]] || fail "first 16 bytes: $got, want $want"
# offset 0x10008 (in the second 64 KiB chunk): 0x10008 ^ P = 0x7467626c6b313039
make_workdir
"$tool" 131072 >"$WORK/p"	# a file: od stopping early would SIGPIPE the tool
got=$(od -An -tx8 -j $((0x10008)) -N 8 "$WORK/p" | tr -d ' \n')
[[ "$got" = 7467626c6b313039 ]] || fail "word at 0x10008: $got"
n=$("$tool" 4194304 | wc -c)
((n == 4194304)) || fail "4194304 bytes asked, $n written"
for bad in 7 abc "" -8; do
	rc=0
	err=$("$tool" "$bad" 2>&1 >/dev/null) || rc=$?
	((rc == 1)) || fail "size '$bad': exit status $rc, want 1"
	[[ "$err" = tg-blkpattern:* || "$err" = usage:* ]] || fail "size '$bad': message '$err'"
done
log "ok"
