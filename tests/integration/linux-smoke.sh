#!/bin/bash
# Linux smoke test: boot Debian's cloud kernel (scripts/fetch-linux.sh: apt-get
# download + dpkg-deb -x, never installed) with
#   --memory 512M --cmdline "console=ttyS0 earlyprintk=ttyS0 husk_smoke=<token>"
# watch the serial console and stop husk with SIGTERM as soon as the kernel
# prints "Memory:" (on this project's machines guest ring 0 is emulated and
# Linux gets no further; see shared/ENVIRONMENT.md). Asserts:
#   - the banner "Linux version ...";
#   - "Command line: <exactly the command line given>";
#   - the BIOS-e820 lines are exactly husk's documented map for 512M:
#       0x0-0x9fbff usable, 0x9fc00-0x9ffff reserved,
#       0xf0000-0xfffff reserved, 0x100000-0x1fffffff usable;
#   - "Memory:" within LINUX_SMOKE_TIMEOUT seconds (default 420: ~65 s alone on the
#     dev machines, up to ~180 s seen while they were loaded);
#   - after SIGTERM husk exits 0 within 10 s and logs "stopped by signal".
# If the kernel cannot be fetched (no network, no mirror) the test FAILS.
#
#   linux-smoke.sh              the boot above
#   linux-smoke.sh --too-small  --memory 32M (the kernel's init_size needs more):
#                               exit 1, one "husk: " line naming --memory or the kernel
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=boot
[[ "${1:-}" != --too-small ]] || mode=too-small
TIMEOUT_S=${LINUX_SMOKE_TIMEOUT:-420}

need_husk
vmlinuz=$(BUILD_DIR=$BUILD_DIR bash "$REPO_DIR/scripts/fetch-linux.sh") ||
	fail "scripts/fetch-linux.sh failed: cannot get Debian's linux-image-cloud-amd64 (network? apt sources?)"
[[ -f "$vmlinuz" ]] || fail "fetch-linux.sh printed '$vmlinuz', which is not a file"
log "kernel: $vmlinuz"
make_workdir
out=$WORK/stdout err=$WORK/stderr

if [[ "$mode" = too-small ]]; then
	run_husk 30 "$out" "$err" --kernel "$vmlinuz" --memory 32M --cmdline console=ttyS0
	problems=()
	((RC == 1)) || problems+=("exit status $RC, expected 1")
	[[ ! -s "$out" ]] || problems+=("stdout is not empty (did the kernel run?)")
	(($(wc -l <"$err") == 1)) || problems+=("expected exactly one line on stderr")
	grep -qE "^husk: .*(--memory|$vmlinuz)" "$err" || problems+=("no 'husk: ' line naming --memory or the kernel")
	if ((${#problems[@]})); then
		show_file stdout "$out" 20
		show_file stderr "$err" 20
		for p in "${problems[@]}"; do echo "[$TEST_NAME] FAIL: $p" >&2; done
		exit 1
	fi
	cat "$err" >&2
	log PASS
	exit 0
fi

need_kvm
token="husk_smoke=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
cmdline="console=ttyS0 earlyprintk=ttyS0 $token"
# --shutdown-timeout 0: this early, Linux cannot take an ACPI power-button press
args=(--kernel "$vmlinuz" --memory 512M --shutdown-timeout 0 --cmdline "$cmdline")
log "husk ${args[*]}"
# The console goes through a FIFO that this script reads line by line, so that
# SIGTERM follows "Memory:" within a millisecond or so.
mkfifo "$WORK/console.fifo"
: >"$out"
start=$(date +%s%N)
"$HUSK" "${args[@]}" </dev/null >"$WORK/console.fifo" 2>"$err" &
pid=$!
exec 3<"$WORK/console.fifo"
ms() { echo $((($(date +%s%N) - start) / 1000000)); }

banner_ms="" memory_ms="" signalled=0 problems=()
deadline=$((SECONDS + TIMEOUT_S))
on_line() {
	printf '%s\n' "$1" >>"$out"
	if [[ -z "$banner_ms" && "$1" == *"Linux version"* ]]; then
		banner_ms=$(ms)
		log "'Linux version' after $banner_ms ms"
	fi
	if [[ -z "$memory_ms" && "$1" == *"Memory:"* ]]; then
		memory_ms=$(ms)
		kill -TERM "$pid" 2>/dev/null || true
		signalled=1
		deadline=$((SECONDS + 10))
		log "'Memory:' after $memory_ms ms: sent SIGTERM"
	fi
}
partial=""
while :; do
	chunk="" st=0
	IFS= read -r -t 1 chunk <&3 || st=$?
	if ((st == 0)); then
		on_line "$partial$chunk"
		partial=""
		continue
	fi
	if ((st <= 128)); then # EOF: husk is gone
		[[ -z "$partial$chunk" ]] || on_line "$partial$chunk"
		break
	fi
	partial+=$chunk # timed out in the middle of a line
	if ((SECONDS >= deadline)); then
		if ((signalled)); then
			problems+=("husk still running 10 s after SIGTERM")
			kill -KILL "$pid" 2>/dev/null || true
		else
			problems+=("no 'Memory:' within ${TIMEOUT_S} s (LINUX_SMOKE_TIMEOUT)")
			kill -TERM "$pid" 2>/dev/null || true
			signalled=1
			deadline=$((SECONDS + 10))
		fi
	fi
done
exec 3<&-
RC=0
wait "$pid" || RC=$?
log "husk exit status $RC after $(ms) ms"

if [[ -n "$memory_ms" ]]; then
	if grep -q 'stopped by signal' "$err"; then
		((RC == 0)) || problems+=("exit status $RC after SIGTERM, expected 0")
	elif ((RC == 2)) && grep -q 'KVM internal error' "$err"; then
		# This machine's /dev/kvm emulates guest ring 0 and cannot run the
		# instruction Linux reaches next (shared/ENVIRONMENT.md): sometimes the
		# guest gets there before SIGTERM lands. Everything asserted is printed.
		log "note: the kernel hit the emulator's limit right after 'Memory:'," \
			"before SIGTERM landed (exit 2, known limit of this /dev/kvm)"
	else
		problems+=("exit status $RC and no 'stopped by signal' line after SIGTERM")
	fi
else
	if grep -q 'KVM internal error' "$err"; then
		log "note: husk hit a KVM internal error before 'Memory:'"
	fi
fi
tr -d '\r' <"$out" >"$WORK/console"
grep -q 'Linux version ' "$WORK/console" || problems+=("no 'Linux version' banner")
# "Command line: ..." must be exactly what was given (Linux prints it once,
# earlyprintk and console may both show it).
cl=$(sed -n 's/^.*\] Command line: //p; s/^Command line: //p' "$WORK/console" | head -n1)
[[ "$cl" = "$cmdline" ]] || problems+=("Command line is '$cl', expected '$cmdline'")
e820=$(sed -n 's/^.*BIOS-e820: //p' "$WORK/console" | awk '!seen[$0]++')
want_e820="[mem 0x0000000000000000-0x000000000009fbff] usable
[mem 0x000000000009fc00-0x000000000009ffff] reserved
[mem 0x00000000000f0000-0x00000000000fffff] reserved
[mem 0x0000000000100000-0x000000001fffffff] usable"
[[ "$e820" = "$want_e820" ]] || problems+=("BIOS-e820 map differs: got
$e820
expected
$want_e820")
grep -q 'Memory:' "$WORK/console" || problems+=("no 'Memory:' line")

if ((${#problems[@]})); then
	show_file console "$WORK/console" 120
	show_file stderr "$err" 60
	for p in "${problems[@]}"; do echo "[$TEST_NAME] FAIL: $p" >&2; done
	exit 1
fi
grep -E 'Linux version|Command line|BIOS-e820|Memory:' "$WORK/console" >&2
grep -E '^husk: ' "$err" >&2 || true
log "PASS: banner after ${banner_ms:-?} ms, 'Memory:' after $memory_ms ms"
