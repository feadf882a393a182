# shellcheck shell=bash disable=SC2034
# Helpers shared by husk's integration test scripts (sourced, not run).
#
# Environment (set by tests/integration/CMakeLists.txt; defaults for running a
# script by hand from the repository root):
#   BUILD_DIR          build directory (default: build)
#   HUSK               the husk binary (default: $BUILD_DIR/husk)
#   TESTGUEST_ELF      test guest ELF (default: $BUILD_DIR/firmware/testguest.elf)
#   TESTGUEST_BZIMAGE  test guest bzImage (default: $BUILD_DIR/firmware/testguest.bzImage)
#   TINY_DIR           tiny lifecycle kernels (default: $BUILD_DIR/tests/integration/tiny)
#   HUSK_REQUIRE_KVM=1 fail instead of skipping when /dev/kvm is unusable
# Exit codes: 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE).

INT_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INT_SRC_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_DIR/$BUILD_DIR"
HUSK=${HUSK:-$BUILD_DIR/husk}
TESTGUEST_ELF=${TESTGUEST_ELF:-$BUILD_DIR/firmware/testguest.elf}
TESTGUEST_BZIMAGE=${TESTGUEST_BZIMAGE:-$BUILD_DIR/firmware/testguest.bzImage}
TINY_DIR=${TINY_DIR:-$BUILD_DIR/tests/integration/tiny}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}

SKIP=77

log() { echo "[$TEST_NAME] $*" >&2; }

# fail MESSAGE: print it and exit 1.
fail() {
	echo "[$TEST_NAME] FAIL: $*" >&2
	exit 1
}

skip() {
	echo "[$TEST_NAME] SKIP: $*" >&2
	exit "$SKIP"
}

# on_exit CMD: run CMD (eval'd) when the script exits, before the commands
# registered earlier (last in, first out). One EXIT trap runs them all.
EXIT_HOOKS=()
run_exit_hooks() {
	local h
	for h in "${EXIT_HOOKS[@]}"; do
		eval "$h" || true
	done
}
on_exit() {
	EXIT_HOOKS=("$1" "${EXIT_HOOKS[@]}")
	trap run_exit_hooks EXIT
}

# A scratch directory removed on exit. Sets WORK.
make_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/husk-it.XXXXXX")
	on_exit 'rm -rf "$WORK"'
}

# console_copy OUT DST: the guest's console as lines (the UART's CRLF line
# ends made LF), for exact-line greps.
console_copy() { tr -d '\r' <"$1" >"$2"; }

need_file() {
	[[ -f "$1" ]] || fail "$2 not found: $1 (build it first: cmake --build $BUILD_DIR)"
}

need_husk() { [[ -x "$HUSK" ]] || fail "husk binary not found: $HUSK"; }

# need_kvm: skip (HUSK_REQUIRE_KVM=1: fail) unless /dev/kvm opens read-write;
# where it opens, the test always runs.
need_kvm() {
	if { exec 9<>/dev/kvm; } 2>/dev/null; then
		exec 9>&-
		return 0
	fi
	if [[ "${HUSK_REQUIRE_KVM:-0}" = 1 ]]; then
		fail "/dev/kvm is missing or does not open read-write for uid $EUID"
	fi
	skip "/dev/kvm is missing or does not open read-write for uid $EUID (HUSK_REQUIRE_KVM=1 makes this a failure)"
}

# show_file LABEL FILE [MAX_LINES]: dump a captured stream into the test log.
show_file() {
	local label=$1 file=$2 max=${3:-80} n
	n=$(wc -l <"$file")
	echo "----- $label ($n lines) -----" >&2
	if ((n > max)); then
		head -n $((max / 2)) "$file" >&2
		echo "    ... $((n - max)) lines left out ..." >&2
		tail -n $((max / 2)) "$file" >&2
	else
		cat "$file" >&2
	fi
	echo "----- end of $label -----" >&2
}

# run_husk TIMEOUT_S OUT ERR ARGS...: run husk with stdin from /dev/null,
# stdout to OUT, stderr to ERR, killed after TIMEOUT_S. Sets RC (124 on timeout)
# and ELAPSED_MS. HUSK_PREFIX (an array) goes before husk, e.g. setpriv ...
HUSK_PREFIX=()
run_husk() {
	local t=$1 out=$2 err=$3 start end
	shift 3
	start=$(date +%s%N)
	RC=0
	timeout -k 5 "$t" "${HUSK_PREFIX[@]}" "$HUSK" "$@" </dev/null >"$out" 2>"$err" || RC=$?
	end=$(date +%s%N)
	ELAPSED_MS=$(((end - start) / 1000000))
}

# wait_sock PATH PID: until the socket PATH exists (husk puts it in place only
# once it listens) or PID exits; 0 if it appeared.
wait_sock() {
	for _ in $(seq 200); do
		[[ -S "$1" ]] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# start_husk SOCK OUT ERR ARGS...: husk --api-sock SOCK in the background
# (HUSK_PREFIX before it), killed when the script exits. Sets PID and SOCK.
# A socket left at SOCK by a husk killed earlier is removed first: waiting
# for the path while it is stale would send the first request to nobody.
start_husk() {
	SOCK=$1
	local out=$2 err=$3
	shift 3
	rm -f "$SOCK"
	"${HUSK_PREFIX[@]}" "$HUSK" --api-sock "$SOCK" "$@" </dev/null >"$out" 2>"$err" &
	PID=$!
	on_exit "kill -KILL $PID 2>/dev/null || true"	# a failed case leaves no husk
	wait_sock "$SOCK" "$PID" && return 0
	show_file stderr "$err"
	fail "the API socket never appeared"
}

# Convert a husk size (K/M/G/T suffix, or plain bytes) to bytes.
size_bytes() {
	local s=$1 n unit
	n=${s%[KkMmGgTt]}
	unit=${s#"$n"}
	case "$unit" in
	"") echo "$n" ;;
	[Kk]) echo $((n << 10)) ;;
	[Mm]) echo $((n << 20)) ;;
	[Gg]) echo $((n << 30)) ;;
	[Tt]) echo $((n << 40)) ;;
	esac
}

# The API socket, as a script drives it with curl (SOCK: its path).
# api METHOD PATH [BODY]: sets CODE and BODY (API_TIMEOUT seconds, default 30).
api() {
	local out
	out=$(curl -s -m "${API_TIMEOUT:-30}" --unix-socket "$SOCK" -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data "$3"} -w '\n%{http_code}' \
		"http://localhost$2") || true
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# expect METHOD PATH BODY STATUS [SUBSTRING]: one call, its status and body checked.
expect() {
	api "$1" "$2" "$3"
	[[ "$CODE" = "$4" ]] || fail "$1 $2 $3: HTTP $CODE ($BODY), want $4"
	if [[ -n "${5:-}" && "$BODY" != *"$5"* ]]; then
		fail "$1 $2 $3: body '$BODY' lacks '$5'"
	fi
}

# wait_pid PID TIMEOUT_S: wait for it to exit; sets RC.
wait_pid() {
	local pid=$1 t=$2
	for _ in $(seq $((t * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		RC=124
		return
	fi
	RC=0
	wait "$pid" || RC=$?
}
