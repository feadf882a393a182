#!/bin/bash
# The nested boot-test suite: builds the outer initramfs with every case of
# tests/nested/cases/, boots it in QEMU TCG (emulated AMD CPU with SVM, so the
# outer kernel has a real /dev/kvm), lets scripts/nested/outer-init run husk
# against a Linux guest per case, then checks each case's report on the host.
set -euo pipefail

NESTED_PROG=run.sh
# shellcheck source=scripts/nested/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CASES_DIR=${NESTED_CASES_DIR:-$REPO_DIR/tests/nested/cases}

usage() {
	cat <<'EOF'
Usage: scripts/nested/run.sh [options] [CASE...]

Runs the nested boot-test cases (tests/nested/cases/NN-CASE.sh; all of them
unless CASE names are given): one outer QEMU TCG VM with SVM boots Debian's
cloud kernel, loads kvm-amd and runs husk once per case against the same
kernel with a per-case busybox initramfs; the host then checks each case's
output and exit status. Prints "ok CASE" or "fail CASE: REASON" per case, the
timings, and "N passed, M failed"; exits 1 when a case failed.

  --list            list the cases with their descriptions and exit
  --names           list the case names only (one a line) and exit
  --run-only        build and run, save the results, check nothing; exits 0
                    when the outer VM ran (even if some cases did not finish)
  --check-only      check the results saved by an earlier --run-only
  --husk PATH       husk binary to test (default: $HUSK or $BUILD_DIR/husk)
  --timeout S       limit for the whole outer VM in seconds
                    (default: the sum of the cases' limits + 180)
  --smp N           outer vCPUs (default: $NESTED_SMP or 1)
  -v, --verbose     also stream the outer console to stderr
  -h, --help        this text

Files (BUILD_DIR defaults to build):
  $BUILD_DIR/cache/nested/   cached inputs (inner busybox initramfs), outer tree
  $BUILD_DIR/nested/console.log   the whole outer console of the last run
  $BUILD_DIR/nested/results/CASE/ output.log (husk's stdout+stderr),
                    outer-dmesg.log, rc, secs, timedout
The Debian kernel comes from scripts/fetch-linux.sh (downloaded once, cached).
The outer initramfs is rebuilt on every run (a few seconds; nothing stale).
EOF
}

mode=all
timeout_s=
verbose=0
selected=()
while (($#)); do
	case "$1" in
	--list) mode=list ;;
	--names) mode=names ;;
	--run-only) mode=run ;;
	--check-only) mode=check ;;
	--husk)
		HUSK=$2
		shift
		;;
	--timeout)
		timeout_s=$2
		shift
		;;
	--smp)
		NESTED_SMP=$2
		shift
		;;
	-v | --verbose) verbose=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		echo "run.sh: unknown option: $1" >&2
		usage >&2
		exit 1
		;;
	*) selected+=("$1") ;;
	esac
	shift
done
[[ "$HUSK" = /* ]] || HUSK="$PWD/$HUSK"

RESULTS="$NESTED_OUT/results"
CONSOLE_LOG="$NESTED_OUT/console.log"

# ---- the cases ---------------------------------------------------------------
# case_name FILE: tests/nested/cases/NN-NAME.sh -> NAME
case_name() {
	local n
	n=$(basename "$1" .sh)
	echo "${n#[0-9]*-}"
}

case_files=()
for f in "$CASES_DIR"/*.sh; do
	[[ -f "$f" ]] || continue
	if ((${#selected[@]})); then
		want=0
		for s in "${selected[@]}"; do
			[[ "$s" != "$(case_name "$f")" ]] || want=1
		done
		((want)) || continue
	fi
	case_files+=("$f")
done
if ((${#selected[@]})); then
	for s in "${selected[@]}"; do
		found=0
		for f in "${case_files[@]}"; do
			[[ "$s" != "$(case_name "$f")" ]] || found=1
		done
		((found)) || nested_die "no case named $s (see --list)"
	done
fi
((${#case_files[@]})) || nested_die "no cases in $CASES_DIR"

# load_case FILE: defaults, then the case file (call in a subshell). A case file
# sets CASE_* variables and defines case_init (the inner /init's body, on
# stdout), case_check (host checks, see the helpers below) and optionally
# case_prepare DIR (creates extra files in the case's directory):
#   CASE_DESC          one line for --list
#   CASE_TIMEOUT       seconds husk may run (then SIGTERM, SIGKILL); default 120
#   CASE_ARGS          more husk arguments (array), e.g. (--cpus 2)
#   CASE_KERNEL        kernel file in the case's directory (case_prepare makes
#                      it); default: the Debian kernel
#   CASE_INITRD        initrd file in the case's directory, or "none";
#                      default: busybox + /init from case_init
#   CASE_CMDLINE       default "console=ttyS0 panic=-1 husk.token=RUN-CASE"
#   CASE_INPUT         bytes written to husk's stdin (a FIFO); default: none
#                      (stdin is /dev/null)
#   CASE_INPUT_AFTER   ... once this string has appeared in husk's output
#   CASE_SIGTERM_AFTER send husk SIGTERM once this string has appeared in its
#                      output (graceful shutdown through the ACPI power button)
#   CASE_RESULTS_FROM  run nothing: check the results of that case instead
#   CASE_REQUIRES      words husk --help must mention (e.g. "--disk"), else the
#                      case is skipped: staged for features still to land
#   CASE_POST          sh commands run inside the outer VM after husk exits,
#                      in the case's directory (e.g. "md5sum disk.img"); their
#                      output (and "post-rc=N") lands in post.log
#   CASE_PRE           sh commands run there before husk starts (unpack an
#                      image; taps and servers: background them with their
#                      output redirected); their output lands in post.log as
#                      "pre: LINE", then "pre: pre-rc=N"
#   CASE_SIGKILL_AFTER SIGKILL husk once this string has appeared in its output
#                      (a crash: nothing of husk's shutdown runs)
#   CASE_HUSK_WRAPPER  command words put before husk (array), e.g.
#                      (strace -f -o @CASEDIR@/trace); the tool must be in
#                      CASE_OUTER_TOOLS
#   CASE_OUTER_TOOLS   host programs copied into the outer VM with their
#                      shared libraries (array of names in $PATH or paths),
#                      e.g. (debugfs strace): usable by CASE_PRE, CASE_POST
#                      and CASE_HUSK_WRAPPER
# In CASE_ARGS and CASE_CMDLINE, @CASEDIR@ stands for the case's directory as
# husk sees it in the outer VM (for disk images that case_prepare makes).
# Test-guest cases: nested_testguest_case (lib.sh) sets CASE_KERNEL and friends.
#   CASE_API_BOOT      1: husk gets only CASE_ARGS (no --kernel/--initrd/
#                      --cmdline); those three go, one per line, to the case
#                      directory's file "boot" for its driver to configure
#                      through the API
load_case() {
	CASE_NAME=$(case_name "$1")
	CASE_DESC=
	CASE_TIMEOUT=120
	CASE_ARGS=()
	CASE_KERNEL=
	CASE_INITRD=
	CASE_CMDLINE="console=ttyS0 panic=-1 husk.token=${NESTED_TOKEN:-none}-$CASE_NAME"
	CASE_INPUT=
	CASE_INPUT_AFTER=
	CASE_SIGTERM_AFTER=
	CASE_RESULTS_FROM=
	CASE_REQUIRES=
	CASE_POST=
	CASE_API_BOOT=
	CASE_PRE=
	CASE_SIGKILL_AFTER=
	CASE_HUSK_WRAPPER=()
	CASE_OUTER_TOOLS=()
	case_init() { :; }
	case_prepare() { :; }
	case_check() { :; }
	# shellcheck disable=SC1090
	source "$1"
}

# A selected case that checks another case's results needs that case run too.
if ((${#selected[@]})) && [[ "$mode" = all || "$mode" = run ]]; then
	for f in "${case_files[@]}"; do
		src=$(
			load_case "$f"
			echo "$CASE_RESULTS_FROM"
		)
		[[ -n "$src" ]] || continue
		have=0
		for g in "${case_files[@]}"; do
			[[ "$(case_name "$g")" != "$src" ]] || have=1
		done
		if ((!have)); then
			for g in "$CASES_DIR"/*.sh; do
				[[ "$(case_name "$g")" != "$src" ]] || case_files+=("$g")
			done
		fi
	done
	mapfile -t case_files < <(printf '%s\n' "${case_files[@]}" | LC_ALL=C sort -u)
fi

if [[ "$mode" = names ]]; then
	for f in "${case_files[@]}"; do
		case_name "$f"
	done
	exit 0
fi
if [[ "$mode" = list ]]; then
	for f in "${case_files[@]}"; do
		(
			load_case "$f"
			limit="${CASE_TIMEOUT}s"
			[[ -z "$CASE_RESULTS_FROM" ]] || limit=-
			printf '%-18s %5s  %s\n' "$CASE_NAME" "$limit" "$CASE_DESC"
		)
	done
	exit 0
fi

# case_missing: what of CASE_REQUIRES husk --help does not mention (empty: none).
husk_help=
case_missing() {
	local w missing=
	[[ -n "$CASE_REQUIRES" ]] || return 0
	[[ -n "$husk_help" ]] || husk_help=$("$HUSK" --help 2>&1 || true)
	for w in $CASE_REQUIRES; do
		grep -qF -- "$w" <<<"$husk_help" || missing+="$w "
	done
	echo "${missing% }"
}

# ---- check helpers (used by case_check; cwd is the case's results dir) --------
CHECK_FAILS=()
check_fail() { CHECK_FAILS+=("$*"); }
# expect_rc N: husk exited with status N.
expect_rc() {
	local rc
	rc=$(cat rc)
	[[ "$rc" = "$1" ]] || check_fail "husk exited $rc, expected $1"
}
# expect_output REGEX [WHAT]: a line of husk's output matches REGEX (ERE).
expect_output() {
	grep -qE -- "$1" output.log || check_fail "no ${2:-line matching /$1/} in the output"
}
# expect_no_output REGEX WHAT [FILE]: no line of FILE (default: husk's output)
# matches REGEX; otherwise fail quoting (up to 5 of) the offending lines.
expect_no_output() {
	local file=${3:-output.log} lines
	lines=$(grep -E -- "$1" "$file" | head -n 5 || true)
	[[ -z "$lines" ]] || check_fail "$2 in $file: $(echo "$lines" | sed 's/^/[/; s/$/]/' | tr '\n' ' ')"
}
# expect_post REGEX [WHAT]: a line of the CASE_POST commands' output matches REGEX.
expect_post() {
	grep -qE -- "$1" post.log 2>/dev/null || check_fail "no ${2:-line matching /$1/} in the post-run output (post.log)"
}
# guest_value KEY: the value of the last "KEY=VALUE" line of the output.
guest_value() { sed -n "s/^$1=//p" output.log | tail -n 1; }
# expect_value KEY VALUE: the guest printed KEY=VALUE.
expect_value() {
	local v
	v=$(guest_value "$1")
	[[ "$v" = "$2" ]] || check_fail "$1 is '$v', expected '$2'"
}
# expect_value_between KEY LOW HIGH: the guest printed KEY=N with LOW <= N <= HIGH.
expect_value_between() {
	local v
	v=$(guest_value "$1")
	if [[ ! "$v" =~ ^[0-9]+$ ]]; then
		check_fail "$1 is '$v', expected a number in [$2, $3]"
	elif ((v < $2 || v > $3)); then
		check_fail "$1 is $v, expected $2..$3"
	fi
}

# ---- run: stage, boot, parse ---------------------------------------------------
# nested_boot_until_done TREE CPIO LIMIT: boot the outer VM and parse its
# console into $RESULTS; when the outer VM stalled (nested_run_qemu 125), boot
# it again from the case that was running (once; a second stall in the same
# case leaves that case without results, i.e. failed, and goes on with the
# next one). Console logs: $CONSOLE_LOG, then console-2.log, ... Returns the
# last boot's QEMU status.
nested_boot_until_done() {
	local tree=$1 cpio=$2 limit=$3 boot=1 from= rc log last idx retried=
	while :; do
		log=$CONSOLE_LOG
		((boot == 1)) || log="${CONSOLE_LOG%.log}-$boot.log"
		rc=0
		nested_run_qemu "$cpio" "$log" "$limit" "$verbose" "${from:+nested_from=$from}" || rc=$?
		nested_parse "$log" "$RESULTS"
		((rc == 125)) || return "$rc"
		last=$(tr -d '\r' <"$log" | sed -n 's/.*NESTED-CASE-BEGIN \([^ ]*\).*/\1/p' | tail -n 1)
		[[ -n "$last" ]] || return "$rc"
		idx=$(find "$tree/nested/cases" -mindepth 1 -maxdepth 1 -name "*-$last" -printf '%f\n' | head -n 1)
		idx=$((10#${idx%%-*}))
		if [[ "$retried" = "$last" ]]; then
			nested_log "case $last stalled the outer VM twice: it fails; going on with the next case"
			echo "the outer VM stalled twice in this case (a TCG hang; console: $log)" >"$RESULTS/$last/stalled"
			from=$((idx + 1))
		else
			nested_log "case $last stalled the outer VM: booting it again from that case"
			retried=$last
			from=$idx
		fi
		boot=$((boot + 1))
		((boot <= 6)) || return "$rc"
	done
}

run_suite() {
	local tree="$NESTED_CACHE/outer" cpio="$NESTED_CACHE/outer.cpio" i=0 f total=0 t0
	nested_need_tools
	nested_kernel
	mkdir -p "$NESTED_CACHE" "$NESTED_OUT"
	t0=$(nested_now)
	NESTED_TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	rm -rf "$RESULTS"
	mkdir -p "$RESULTS"
	echo "$NESTED_KVER" >"$RESULTS/inner-kver"
	nested_stage_outer "$tree"
	for f in "${case_files[@]}"; do
		i=$((i + 1))
		(
			load_case "$f"
			if [[ -n "$CASE_RESULTS_FROM" || -n "$(case_missing)" ]]; then
				echo 0
				exit 0
			fi
			dir=$(nested_case_dir "$tree" "$i" "$CASE_NAME")
			inside=${dir#"$tree"}
			mkdir -p "$dir" "$RESULTS/$CASE_NAME"
			case_prepare "$dir"
			kernel=/nested/vmlinuz
			[[ -z "$CASE_KERNEL" ]] || kernel="$inside/$CASE_KERNEL"
			if [[ -z "$CASE_INITRD" ]]; then
				case_init >"$dir/init.body"
				nested_inner_initrd "$dir/initrd" "$dir/init.body"
				rm "$dir/init.body"
				CASE_INITRD=initrd
			fi
			args=(--kernel "$kernel")
			[[ "$CASE_INITRD" = none ]] || args+=(--initrd "$inside/$CASE_INITRD")
			CASE_CMDLINE=${CASE_CMDLINE//@CASEDIR@/$inside}
			args+=(--cmdline "$CASE_CMDLINE" "${CASE_ARGS[@]//@CASEDIR@/$inside}")
			if [[ "$CASE_API_BOOT" = 1 ]]; then
				printf '%s\n' "$kernel" "$inside/$CASE_INITRD" "$CASE_CMDLINE" >"$dir/boot"
				args=("${CASE_ARGS[@]//@CASEDIR@/$inside}")
			fi
			# the test guest's verdict is its debug-exit status
			[[ "$CASE_KERNEL" != testguest.elf ]] || args+=(--test-devices)
			printf '%s' "$CASE_CMDLINE" >"$RESULTS/$CASE_NAME/cmdline"
			nested_stage_case "$tree" "$i" "$CASE_NAME" "$CASE_TIMEOUT" \
				"$CASE_INPUT_AFTER" "$CASE_INPUT" -- "${args[@]}" >/dev/null
			[[ -z "$CASE_SIGTERM_AFTER" ]] ||
				printf '%s' "$CASE_SIGTERM_AFTER" >"$dir/sigterm_after"
			[[ -z "$CASE_POST" ]] || printf '%s\n' "$CASE_POST" >"$dir/post"
			[[ -z "$CASE_PRE" ]] || printf '%s\n' "$CASE_PRE" >"$dir/pre"
			[[ -z "$CASE_SIGKILL_AFTER" ]] ||
				printf '%s' "$CASE_SIGKILL_AFTER" >"$dir/sigkill_after"
			((${#CASE_HUSK_WRAPPER[@]} == 0)) ||
				printf '%s\n' "${CASE_HUSK_WRAPPER[@]//@CASEDIR@/$inside}" >"$dir/wrapper"
			nested_stage_outer_tools "$tree" "${CASE_OUTER_TOOLS[@]}"
			echo "$CASE_TIMEOUT"
		) >"$NESTED_CACHE/.limit"
		total=$((total + $(cat "$NESTED_CACHE/.limit")))
	done
	rm -f "$NESTED_CACHE/.limit"
	nested_cpio "$tree" "$cpio"
	nested_log "outer initramfs: $(du -m "$cpio" | cut -f1) MiB, built in $(nested_elapsed "$t0") s"
	[[ -n "$timeout_s" ]] || timeout_s=$((total + 180))

	local start rc=0
	start=$(nested_now)
	nested_log "booting the outer VM (QEMU TCG, -smp $NESTED_SMP, limit ${timeout_s}s); console: $CONSOLE_LOG"
	nested_boot_until_done "$tree" "$cpio" "$timeout_s" || rc=$?
	nested_elapsed "$start" >"$RESULTS/wall-secs"
	if ((rc == 124 || rc == 137)); then
		nested_log "the outer VM ran past ${timeout_s}s and was killed"
		echo "outer VM killed after ${timeout_s}s" >"$RESULTS/outer-timeout"
	elif ((rc != 0)); then
		nested_log "QEMU exited with status $rc"
	fi
	nested_log "outer VM done in $(cat "$RESULTS/wall-secs") s (outer kernel up after $(cat "$RESULTS/outer-boot-secs" 2>/dev/null || echo '?') s)"
	if [[ -f "$RESULTS/outer-error" ]]; then
		nested_log "$(cat "$RESULTS/outer-error")"
		nested_log "outer console: $CONSOLE_LOG"
		return 1
	fi
	if ! grep -q 'NESTED-CASE-BEGIN' "$CONSOLE_LOG"; then
		nested_log "the outer VM ran no case; outer console: $CONSOLE_LOG"
		tail -n 20 "$CONSOLE_LOG" | tr -d '\r' >&2
		return 1
	fi
	return 0
}

# ---- check -----------------------------------------------------------------------
# check_case FILE: prints "ok NAME" or "fail NAME: REASONS"; status 0 or 1.
check_case() {
	(
		load_case "$1"
		local r="$RESULTS/${CASE_RESULTS_FROM:-$CASE_NAME}" missing
		missing=$(case_missing)
		if [[ -n "$missing" ]]; then
			echo "skip $CASE_NAME: husk --help does not mention $missing"
			exit 2
		fi
		if [[ ! -d "$r" || ! -f "$r/cmdline" ]]; then
			echo "fail $CASE_NAME: no results (was it run? scripts/nested/run.sh --run-only)"
			exit 1
		fi
		cd "$r"
		CASE_CMDLINE=$(cat cmdline)
		NESTED_KVER=$(cat ../inner-kver)
		if [[ ! -f ./done ]]; then
			if [[ -f output.log ]]; then
				check_fail "the outer VM stopped during the case$([[ ! -f ../outer-timeout ]] || echo " ($(cat ../outer-timeout))")"
			else
				check_fail "the case never started$([[ ! -f ../outer-timeout ]] || echo " ($(cat ../outer-timeout))")$([[ ! -f ../outer-error ]] || echo " ($(cat ../outer-error))")"
			fi
		elif [[ "$(cat timedout)" = 1 ]]; then
			check_fail "timed out: husk still ran after ${CASE_TIMEOUT}s and was stopped (SIGTERM)"
			case_check
		else
			case_check
		fi
		if ((${#CHECK_FAILS[@]} == 0)); then
			echo "ok $CASE_NAME ($(cat secs)s)"
			exit 0
		fi
		local msg
		msg=$(printf '%s; ' "${CHECK_FAILS[@]}")
		echo "fail $CASE_NAME: ${msg%; }"
		if [[ -s output.log ]]; then
			echo "  --- last lines of $r/output.log:"
			tail -n 15 output.log | sed 's/^/  | /'
		fi
		echo "  --- outer console: $CONSOLE_LOG"
		exit 1
	)
}

check_suite() {
	local f passed=0 failed=0 skipped=0 rc
	for f in "${case_files[@]}"; do
		rc=0
		check_case "$f" || rc=$?
		case $rc in
		0) passed=$((passed + 1)) ;;
		2) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done
	if [[ -f "$RESULTS/wall-secs" ]]; then
		echo "timings: outer kernel up after $(cat "$RESULTS/outer-boot-secs" 2>/dev/null || echo '?')s, whole outer VM $(cat "$RESULTS/wall-secs")s"
	fi
	echo "$passed passed, $failed failed$( ((skipped == 0)) || echo ", $skipped skipped")"
	((failed == 0))
}

mkdir -p "$NESTED_OUT"
exec 9>"$NESTED_OUT/.lock"
flock 9 || nested_die "cannot lock $NESTED_OUT/.lock"

# What each case did (for --run-only, whose checks come later).
report_runs() {
	local f n r
	for f in "${case_files[@]}"; do
		n=$(case_name "$f")
		r="$RESULTS/$n"
		if [[ -f "$r/done" ]]; then
			echo "ran $n: husk rc=$(cat "$r/rc") in $(cat "$r/secs")s$([[ "$(cat "$r/timedout")" = 0 ]] || echo ", TIMED OUT")"
		elif [[ -f "$r/output.log" ]]; then
			echo "ran $n: did not finish (the outer VM stopped)"
		elif [[ -f "$r/cmdline" ]]; then
			echo "ran $n: never started"
		fi
	done
}

case "$mode" in
run)
	rc=0
	run_suite || rc=$?
	report_runs
	exit "$rc"
	;;
check) check_suite ;;
all)
	run_suite || true
	check_suite
	;;
esac
