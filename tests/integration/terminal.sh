#!/bin/bash
# husk on a real terminal: with --serial stdio and a tty on stdin, husk puts
# the terminal in raw mode and must put it back on every exit path.
#
#   terminal.sh escape   Ctrl-A x typed on the terminal quits husk (exit 0)
#   terminal.sh fatal    husk dies of SIGSEGV (its fatal-signal handler)
#
# husk runs under script(1), which gives it a pseudo-terminal; a shell on that
# terminal saves `stty -g` before and after husk and the two must match. The
# terminal must also have been raw (no ICANON, no ECHO) while husk ran.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || fail "usage: terminal.sh escape|fatal"
how=$1
TEST_NAME="terminal/$how"
need_husk
command -v script >/dev/null || skip "script(1) from util-linux is not installed"
kernel=$TINY_DIR/loop.elf
need_file "$kernel" "loop kernel"
need_kvm
make_workdir

cat >"$WORK/inner.sh" <<INNER
stty -g >"$WORK/before"
tty >"$WORK/ttyname"
"$HUSK" --kernel "$kernel" --shutdown-timeout 0 </dev/tty 2>"$WORK/stderr" &
pid=\$!
echo \$pid >"$WORK/pid"
wait \$pid
echo \$? >"$WORK/rc"
stty -g >"$WORK/after"
INNER

# feed: type into the terminal once husk's guest is up
feed() {
	local deadline=$((SECONDS + 30))
	until grep -q 'boot marker' "$WORK/stderr" 2>/dev/null || ((SECONDS >= deadline)); do
		sleep 0.1
	done
	# while husk runs, the terminal must be raw (no ICANON, no ECHO)
	sleep 0.2
	stty -a -F "$(cat "$WORK/ttyname")" >"$WORK/during" 2>&1 || true
	case "$how" in
	escape) printf '\001x' ;;
	fatal) kill -SEGV "$(cat "$WORK/pid")" ;;
	esac
	sleep 3
}

feed | timeout 60 script -q -e -c "bash $WORK/inner.sh" /dev/null >"$WORK/typescript" 2>&1 || true

problems=()
[[ -s "$WORK/before" ]] || problems+=("the shell saved no terminal settings (script failed?)")
[[ -s "$WORK/after" ]] || problems+=("no terminal settings after husk ended")
if [[ -s "$WORK/before" && -s "$WORK/after" ]] && ! cmp -s "$WORK/before" "$WORK/after"; then
	problems+=("terminal not restored: before $(cat "$WORK/before") after $(cat "$WORK/after")")
fi
grep -qE '(^| )-icanon( |$)' "$WORK/during" || problems+=("terminal was not raw while husk ran: $(head -c 300 "$WORK/during")")
grep -qE '(^| )-echo( |$)' "$WORK/during" || problems+=("terminal echo was on while husk ran")
rc=$(cat "$WORK/rc" 2>/dev/null || echo none)
case "$how" in
escape)
	[[ "$rc" = 0 ]] || problems+=("exit status $rc, expected 0")
	grep -q 'stopped from the console' "$WORK/stderr" || problems+=("no 'stopped from the console' line")
	;;
fatal)
	[[ "$rc" = 139 ]] || problems+=("exit status $rc, expected 139 (SIGSEGV)")
	;;
esac
if ((${#problems[@]})); then
	show_file stderr "$WORK/stderr" 20
	for p in "${problems[@]}"; do echo "[$TEST_NAME] FAIL: $p" >&2; done
	exit 1
fi
log PASS
