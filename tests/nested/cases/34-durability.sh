# shellcheck shell=bash disable=SC2034
# Durability with the default engine (io_uring): a write the guest saw
# complete after a FLUSH (dd conv=fsync onto /dev/vda) is in the image even
# though husk is SIGKILLed right after the guest says so. io_uring's
# IORING_OP_FSYNC is not a syscall strace could see: this case checks the
# data only (durability-sync traces the real fdatasync). Details:
# linuxblk.inc.
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="a FLUSHed write is in the image after husk is SIGKILLed (io_uring engine)"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--disk path=@CASEDIR@/dur.img)
lblk_durability

case_prepare() { lblk_durability_prepare "$1"; }
case_check() { lblk_durability_check; }
