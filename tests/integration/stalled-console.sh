#!/bin/bash
# A reader that stops reading the console must not wedge husk: the test guest
# prints ~10 KB (its command line and one "fail x: unknown test" line per
# unknown check name) into a stdout FIFO whose reader shrinks it to 4 KiB and
# never reads, then idles (hold=); SIGTERM must still stop husk within a few
# seconds, with status 0.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_NAME=stalled-console
need_husk
need_file "$TESTGUEST_ELF" "test guest ELF"
need_kvm
make_workdir

names=$(printf ',x%.0s' $(seq 400))
mkfifo "$WORK/out"
# the reader opens the FIFO, makes it hold 4 KiB (F_SETPIPE_SZ) and never reads
perl -e 'open(my $f, "<", $ARGV[0]) or die; fcntl($f, 1031, 4096) or die "F_SETPIPE_SZ: $!"; sleep 120' \
	"$WORK/out" &
reader=$!
"$HUSK" --kernel "$TESTGUEST_ELF" --shutdown-timeout 0 \
	--cmdline "hold=60000 tests=serial$names" </dev/null >"$WORK/out" 2>"$WORK/err" &
pid=$!
deadline=$((SECONDS + 30))
until grep -q 'boot marker' "$WORK/err" || ((SECONDS >= deadline)); do sleep 0.1; done
sleep 3 # the guest is now blocked on (or past) a full pipe
kill -TERM "$pid"
deadline=$((SECONDS + 8))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
rc=0
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid"
	rc=124
else
	wait "$pid" || rc=$?
fi
kill "$reader" 2>/dev/null || true
if ((rc != 0)); then
	show_file stderr "$WORK/err" 20
	fail "husk exit status $rc after SIGTERM with a stalled console reader (124: still running after 8 s)"
fi
grep -q 'stopped by signal' "$WORK/err" || fail "no 'stopped by signal' line"
log PASS
