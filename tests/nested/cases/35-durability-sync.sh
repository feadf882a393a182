# shellcheck shell=bash disable=SC2034
# As durability with engine=sync, husk run under strace -f -y (pwritev,
# fdatasync and write): besides the data in the image after the SIGKILL, the
# trace must show an fdatasync on the image's fd after the last pwritev of
# the guest's data to it and before husk wrote the guest's marker to its
# stdout (the console goes out a byte or a few at a time: the awk below
# joins the writes to fd 1). That is the FLUSH becoming a real fdatasync
# before the guest saw it complete.
# shellcheck source-path=SCRIPTDIR source=linuxblk.inc
source "$(dirname "${BASH_SOURCE[0]}")/linuxblk.inc"
CASE_DESC="a FLUSH is an fdatasync (strace) and survives husk's SIGKILL (sync engine)"
# shellcheck disable=SC2054 # the commas belong to --disk
CASE_ARGS=(--disk path=@CASEDIR@/dur.img,engine=sync)
CASE_OUTER_TOOLS=(strace)
# shellcheck disable=SC2054 # the commas belong to strace's -e
CASE_HUSK_WRAPPER=(strace -f -y -e trace=pwritev,fdatasync,write -o @CASEDIR@/trace)
lblk_durability
CASE_POST="$CASE_POST_IMAGE
awk -v marker=$LBLK_DURABLE_MARKER -f trace.awk trace
grep -m 3 fdatasync trace"

# trace.awk: the trace's verdict (TRACE-... lines, see case_check). strace -f
# prefixes each line with the thread's id; a call another thread interrupts
# is split into "NAME(ARGS <unfinished ...>" and "<... NAME resumed>".
lblk_trace_awk() {
	cat <<'AWK'
/ pwritev\([0-9]+<[^>]*\/dur\.img>/ { writes++; if (!mline) lastw = NR }
/ fdatasync\([0-9]+<[^>]*\/dur\.img>/ { syncs++; if (!mline && lastw) synced = NR }
/fdatasync.*= -1 / { failed++ }
!mline && / write\(1</ {
	s = $0
	sub(/^[^"]*"/, "", s)
	sub(/", [0-9]+.*$/, "", s)
	out = out s
	if (length(out) > 400) out = substr(out, length(out) - 199)
	if (index(out, marker)) mline = NR
}
END {
	printf "TRACE-PWRITEV=%d TRACE-FDATASYNC=%d TRACE-FAILED=%d\n", writes, syncs, failed
	printf "TRACE-LINES last-write=%d fdatasync-after-it=%d marker=%d\n", lastw, synced, mline
	print ((lastw && synced > lastw && mline > synced) ? "TRACE-FLUSH-OK" : "TRACE-FLUSH-MISSING")
}
AWK
}

case_prepare() {
	lblk_durability_prepare "$1"
	lblk_trace_awk >"$1/trace.awk"
}
case_check() {
	lblk_durability_check
	expect_post '^TRACE-FLUSH-OK$' "an fdatasync on dur.img between the data's last pwritev and the marker (strace)"
	expect_post '^TRACE-PWRITEV=[1-9]' "pwritev calls on dur.img"
	expect_post ' TRACE-FAILED=0$' "no failed fdatasync"
}
