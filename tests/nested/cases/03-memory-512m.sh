# shellcheck shell=bash disable=SC2034
# Case 2b: --memory 512M. MemTotal is the RAM less what the kernel keeps for
# itself (its image, early reservations): between 400 and 512 MiB.
CASE_DESC="--memory 512M: MemTotal between 400 and 512 MiB"
CASE_TIMEOUT=60
CASE_ARGS=(--memory 512M)

case_init() {
	cat <<'INIT'
kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
echo "MEMTOTAL_KB=$kb"
echo "MEMTOTAL_MIB=$((kb / 1024))"
poweroff -f
INIT
}

case_check() {
	expect_value_between MEMTOTAL_MIB 400 512
	expect_rc 0
}
