#!/bin/bash
# tg-netpeer (the host side of the test guest's net checks) on 127.0.0.1:
# echoes datagrams byte for byte, counts TGNS datagrams (RESET / COUNT),
# floods on SEND and ends with DONE, answers ERR to a bad command, refuses
# bad arguments with exit status 1, and reports its counts on SIGTERM.
# Needs no /dev/kvm and no root (python3 is the client).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER=${NET_PEER:-$BUILD_DIR/firmware/tg-netpeer}
need_file "$PEER" "tg-netpeer"
command -v python3 >/dev/null || skip "no python3"
make_workdir

for bad in "127.0.0.1" "127.0.0.300 7777" "127.0.0.1 0" "127.0.0.1 7777 x"; do
	rc=0
	# shellcheck disable=SC2086 # the words are the arguments
	"$PEER" $bad 2>"$WORK/err" || rc=$?
	[[ "$rc" = 1 ]] || fail "tg-netpeer $bad: exit $rc, want 1"
	[[ "$(wc -l <"$WORK/err")" = 1 ]] || fail "tg-netpeer $bad: not a one-line error: $(cat "$WORK/err")"
done

port=$((20000 + $$ % 20000))
"$PEER" 127.0.0.1 "$port" 60 2>"$WORK/peer.log" &
pid=$!
for _ in $(seq 50); do
	grep -q listening "$WORK/peer.log" && break
	sleep 0.1
done
grep -q listening "$WORK/peer.log" || { kill "$pid"; fail "tg-netpeer did not start: $(cat "$WORK/peer.log")"; }

rc=0
python3 - "$port" <<'PY' || rc=$?
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
peer = ("127.0.0.1", port)
def ask(msg):
    s.sendto(msg, peer)
    return s.recvfrom(65536)[0]
for n in (1, 20, 1400):
    d = bytes((i * 7 + n) & 255 for i in range(n))
    assert ask(d) == d, "echo of %d bytes differs" % n
assert ask(b"TGNC RESET") == b"TGNC OK"
for i in range(5):
    s.sendto(b"TGNS" + bytes(60), peer)
assert ask(b"TGNC COUNT") == b"TGNC COUNT 5 320", "sink count"
assert ask(b"TGNC BOGUS") == b"TGNC ERR"
assert ask(b"TGNC SEND 2000 10") == b"TGNC ERR", "oversized SEND accepted"
assert ask(b"TGNC SEND 100 200") == b"TGNC OK"
got = 0
while True:
    d = s.recvfrom(65536)[0]
    if d.startswith(b"TGNC DONE "):
        sent = int(d.split()[2])
        break
    assert d.startswith(b"TGNS") and len(d) == 100, "flood datagram %r" % d[:8]
    got += 1
assert got >= 1 and sent >= got, "flood: got %d, peer says %d" % (got, sent)
print("net-peer: echo, sink, flood (%d of %d) ok" % (got, sent))
PY
kill -TERM "$pid"
wait "$pid" || fail "tg-netpeer exited $? on SIGTERM"
((rc == 0)) || { show_file "tg-netpeer" "$WORK/peer.log"; fail "the client's checks failed"; }
grep -q '^tg-netpeer: echoed 3, sink 5 datagrams' "$WORK/peer.log" ||
	fail "no final counts on SIGTERM: $(cat "$WORK/peer.log")"
log "ok"
