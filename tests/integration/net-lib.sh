# shellcheck shell=bash
# Host side of the test guest's net checks (sourced, not run): a private
# network namespace with a tap (10.77.0.1/24 inside it, never outside) and
# tg-netpeer (build/firmware/tg-netpeer: UDP echo / sink / source) bound to
# that address. Root only. Everything is removed again by net_teardown,
# which net_setup installs as the EXIT trap (after the caller's own trap).
#
#   net_setup [multi_queue]   sets NET_NS, NET_TAP; creates both
#   net_peer                  starts tg-netpeer in the namespace; NET_PEER_PID
#   net_in_ns CMD...          runs CMD inside the namespace
#   net_teardown              kills the peer, deletes the namespace
# Variables: NET_HOST (10.77.0.1), NET_GUEST (10.77.0.2), NET_PORT (7777),
# NET_PEER (the tg-netpeer binary), NET_PEER_SECS (its lifetime, 600).

NET_HOST=${NET_HOST:-10.77.0.1}
NET_GUEST=${NET_GUEST:-10.77.0.2}
NET_PORT=${NET_PORT:-7777}
NET_PEER=${NET_PEER:-${BUILD_DIR:-build}/firmware/tg-netpeer}
NET_PEER_SECS=${NET_PEER_SECS:-600}
NET_NS=
NET_TAP=tg0
NET_PEER_PID=
NET_PREV_TRAP=

net_teardown() {
	if [[ -n "$NET_PEER_PID" ]]; then
		kill "$NET_PEER_PID" 2>/dev/null || true
		wait "$NET_PEER_PID" 2>/dev/null || true
		NET_PEER_PID=
	fi
	if [[ -n "$NET_NS" ]]; then
		ip netns del "$NET_NS" 2>/dev/null || true
		NET_NS=
	fi
}

net_in_ns() { ip netns exec "$NET_NS" "$@"; }

# net_setup [multi_queue]: the namespace, lo up, a persistent tap with the
# host address (multi_queue: for queues=N backends).
net_setup() {
	local mq=${1:-}
	[[ "$(id -u)" = 0 ]] || { echo "net-lib: needs root (ip netns, /dev/net/tun)" >&2; return 1; }
	[[ -c /dev/net/tun ]] || { echo "net-lib: no /dev/net/tun" >&2; return 1; }
	NET_NS=husk-net-$$-$RANDOM
	# Chain the caller's EXIT trap: `trap -p` prints it shell-quoted, so let
	# the shell itself unquote it (a sed on the quoting broke on quotes in it).
	local prev
	prev=$(trap -p EXIT)
	NET_PREV_TRAP=
	if [[ -n "$prev" ]]; then
		eval "set -- $prev"
		NET_PREV_TRAP=$3
	fi
	trap 'net_teardown; eval "$NET_PREV_TRAP"' EXIT
	ip netns add "$NET_NS" || { NET_NS=; return 1; }
	net_in_ns ip link set lo up &&
		net_in_ns ip tuntap add dev "$NET_TAP" mode tap ${mq:+multi_queue} &&
		net_in_ns ip addr add "$NET_HOST/24" dev "$NET_TAP" &&
		net_in_ns ip link set "$NET_TAP" up
}

# net_peer [LOG]: tg-netpeer on NET_HOST:NET_PORT inside the namespace.
net_peer() {
	local log=${1:-/dev/null} i
	[[ -x "$NET_PEER" ]] || { echo "net-lib: $NET_PEER not built" >&2; return 1; }
	ip netns exec "$NET_NS" "$NET_PEER" "$NET_HOST" "$NET_PORT" "$NET_PEER_SECS" 2>"$log" &
	NET_PEER_PID=$!
	for i in $(seq 50); do
		grep -q listening "$log" 2>/dev/null && return 0
		[[ "$log" != /dev/null ]] || { sleep 0.2; return 0; }
		kill -0 "$NET_PEER_PID" 2>/dev/null || { echo "net-lib: tg-netpeer exited: $(cat "$log")" >&2; return 1; }
		sleep 0.1
		: "$i"
	done
	echo "net-lib: tg-netpeer did not start" >&2
	return 1
}
