#!/bin/bash
# Boot-test your own kernel + initramfs under husk, on any machine: QEMU TCG
# emulates an AMD CPU with SVM, Debian's cloud kernel boots there with
# kvm-amd (a real /dev/kvm), and husk runs your kernel inside it.
set -euo pipefail

NESTED_PROG=boot-test
NESTED_DIE_STATUS=2
# shellcheck source=scripts/nested/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/nested/lib.sh"

usage() {
	cat <<'EOF'
Usage: scripts/boot-test.sh --kernel KERNEL [options]

Boots KERNEL (bzImage or ELF, as husk takes it) with husk inside a nested
outer VM (QEMU TCG with an emulated AMD CPU with SVM running Debian's cloud
kernel with kvm-amd), so it works where /dev/kvm cannot run Linux (or where
there is no /dev/kvm). Prints what husk printed (the guest's console and
husk's own lines), then a summary. The test passes when husk exits with the
expected status within the time limit and every --expect string appeared.

  --kernel FILE        the kernel to boot (required)
  --initrd FILE        its initramfs (optional)
  --cmdline "ARGS"     kernel command line (default: "console=ttyS0 panic=-1")
  --cpus N             husk --cpus (default: husk's, 1)
  --memory SIZE        husk --memory, e.g. 512M (default: husk's, 256M)
  --expect STRING      STRING must appear in husk's output (a fixed string, not
                       a pattern; may be given more than once)
  --expect-status N    husk's expected exit status (default 0: the guest
                       powered off, halted or rebooted)
  --timeout S          seconds husk may run before it is stopped (SIGTERM,
                       then SIGKILL): a failure (default 120)
  --input STRING       write STRING to husk's stdin (the guest's console);
                       escapes such as \n are expanded (printf %b)
  --input-after STR    ... once STR has appeared in husk's output
  --husk PATH          the husk binary (default: $HUSK or $BUILD_DIR/husk)
  --husk-arg ARG       one more husk argument (repeatable), e.g.
                       --husk-arg=--log-level --husk-arg=debug
  -q, --quiet          do not print husk's output, only the summary
  -v, --verbose        also stream the whole outer console to stderr
  -h, --help           this text

Exit status: 0 passed, 1 failed (status, timeout or a missing --expect),
2 usage or harness error (no QEMU, outer VM failed, ...).
Your guest should end by itself: poweroff -f, reboot -f, or a panic with
panic=-1. husk exits 0 for each; a guest that never ends hits --timeout.
The outer boot costs a few seconds; everything runs emulated, so timings are
much slower than on hardware KVM and are only rough.

Files (BUILD_DIR defaults to build): the outer console is kept in
$BUILD_DIR/nested/boot-test/console.log, husk's output in
$BUILD_DIR/nested/boot-test/results/boot-test/output.log.
Example:
  scripts/boot-test.sh --kernel bzImage --initrd initramfs.cpio.gz \
      --cmdline "console=ttyS0 panic=-1 rdinit=/init" --cpus 2 --memory 512M \
      --expect "Hello from my init" --timeout 180
EOF
}

kernel='' initrd='' cmdline="console=ttyS0 panic=-1" cpus='' memory='' expect_status=0
limit=120 input='' input_after='' quiet=0 verbose=0
expects=() husk_args=()
need_arg() { (($# >= 2)) || nested_die "$1 needs a value (see --help)"; }
while (($#)); do
	opt=$1
	if [[ "$opt" = --*=* ]]; then
		set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
		opt=$1
	fi
	case "$opt" in
	--kernel | --initrd | --cmdline | --cpus | --memory | --expect | --expect-status | \
		--timeout | --input | --input-after | --husk | --husk-arg)
		need_arg "$@"
		val=$2
		shift
		case "$opt" in
		--kernel) kernel=$val ;;
		--initrd) initrd=$val ;;
		--cmdline) cmdline=$val ;;
		--cpus) cpus=$val ;;
		--memory) memory=$val ;;
		--expect) expects+=("$val") ;;
		--expect-status) expect_status=$val ;;
		--timeout) limit=$val ;;
		--input) input=$(printf '%b' "$val") ;;
		--input-after) input_after=$val ;;
		--husk) HUSK=$val ;;
		--husk-arg) husk_args+=("$val") ;;
		esac
		;;
	-q | --quiet) quiet=1 ;;
	-v | --verbose) verbose=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) nested_die "unknown argument: $opt (see --help)" ;;
	esac
	shift
done

[[ -n "$kernel" ]] || nested_die "--kernel is required (see --help)"
[[ -f "$kernel" && -r "$kernel" ]] || nested_die "--kernel $kernel: not a readable file"
[[ -z "$initrd" || (-f "$initrd" && -r "$initrd") ]] || nested_die "--initrd $initrd: not a readable file"
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || nested_die "--timeout $limit: not a number of seconds"
[[ "$expect_status" =~ ^[0-9]+$ ]] || nested_die "--expect-status $expect_status: not a number"
[[ -z "$input_after" || -n "$input" ]] || nested_die "--input-after needs --input"
[[ "$HUSK" = /* ]] || HUSK="$PWD/$HUSK"

out="$NESTED_OUT/boot-test"
results="$out/results"
console="$out/console.log"
tree="$NESTED_CACHE/boot-test-outer"
cpio="$NESTED_CACHE/boot-test-outer.cpio"
mkdir -p "$out" "$NESTED_CACHE"
exec 9>"$out/.lock"
flock -n 9 || nested_die "another boot-test.sh runs with BUILD_DIR=$BUILD_DIR"

nested_need_tools
nested_kernel
t0=$(nested_now)
nested_stage_outer "$tree"
dir=$(nested_case_dir "$tree" 1 boot-test)
inside=${dir#"$tree"}
mkdir -p "$dir"
cp "$kernel" "$dir/kernel"
args=(--kernel "$inside/kernel")
if [[ -n "$initrd" ]]; then
	cp "$initrd" "$dir/initrd"
	args+=(--initrd "$inside/initrd")
fi
args+=(--cmdline "$cmdline")
[[ -z "$cpus" ]] || args+=(--cpus "$cpus")
[[ -z "$memory" ]] || args+=(--memory "$memory")
args+=("${husk_args[@]}")
nested_stage_case "$tree" 1 boot-test "$limit" "$input_after" "$input" -- "${args[@]}" >/dev/null
nested_cpio "$tree" "$cpio"
rm -rf "$tree"
nested_log "outer initramfs built in $(nested_elapsed "$t0") s; booting the outer VM (QEMU TCG)"

rm -rf "$results"
start=$(nested_now)
rc=0
nested_run_qemu "$cpio" "$console" $((limit + 180)) "$verbose" || rc=$?
nested_parse "$console" "$results"
r="$results/boot-test"
if [[ -f "$results/outer-error" ]]; then
	nested_die "outer VM: $(cat "$results/outer-error") (console: $console)"
fi
if [[ ! -f "$r/done" ]]; then
	[[ ! -f "$r/output.log" ]] || cat "$r/output.log"
	((rc != 124 && rc != 137)) || nested_log "the outer VM ran past $((limit + 180)) s and was killed"
	nested_die "the outer VM did not finish the boot test (QEMU status $rc); console: $console"
fi

((quiet)) || cat "$r/output.log"
husk_rc=$(cat "$r/rc")
failed=0
why=$(grep -E '^husk: ' "$r/output.log" | tail -n 1 || true)
echo "boot-test: husk exited with status $husk_rc after $(cat "$r/secs") s${why:+ ($why)}; outer VM $(nested_elapsed "$start") s, outer kernel up after $(cat "$results/outer-boot-secs" 2>/dev/null || echo '?') s"
if [[ "$(cat "$r/timedout")" = 1 ]]; then
	echo "boot-test: FAIL: husk ran past --timeout $limit s and was stopped"
	failed=1
elif [[ "$husk_rc" != "$expect_status" ]]; then
	echo "boot-test: FAIL: husk exit status $husk_rc, expected $expect_status"
	failed=1
fi
for e in "${expects[@]}"; do
	if grep -qF -- "$e" "$r/output.log"; then
		echo "boot-test: found \"$e\""
	else
		echo "boot-test: FAIL: \"$e\" not in husk's output"
		failed=1
	fi
done
if ((failed)); then
	echo "boot-test: output: $r/output.log, outer console: $console"
	exit 1
fi
echo "boot-test: PASS"
