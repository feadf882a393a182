# shellcheck shell=bash
# Helpers of the nested boot-test harness (sourced by scripts/nested/run.sh and
# scripts/boot-test.sh, not run).
#
# The harness boots Debian's cloud kernel in QEMU TCG with an emulated AMD CPU
# that has SVM ("the outer VM"); that kernel loads kvm-amd, so it has a real
# /dev/kvm, and husk runs there against a Linux guest ("the inner guest").
# The outer initramfs holds busybox, kvm.ko + kvm-amd.ko + their dependencies,
# husk with its shared libraries, the inner kernel and one directory per case
# (/nested/cases/NN-NAME/: name, argv, timeout, optional input/input_after, and
# the files argv names). scripts/nested/outer-init is its /init: it runs every
# case and reports over the serial console:
#   NESTED-CASE-BEGIN NAME
#   "| " + a line husk printed (stdout and stderr)
#   "! " + a line the outer kernel logged while the case ran (its dmesg)
#   "= " + a line of the case's post-run commands (CASE_POST), after husk exits
#   NESTED-CASE-END NAME rc=N secs=S timedout=0|1
# nested_parse splits that into $NESTED_OUT/results/NAME/.
#
# Environment:
#   BUILD_DIR     build directory (default: build, relative to the repository)
#   HUSK          the husk binary to test (default: $BUILD_DIR/husk)
#   NESTED_CACHE  cached inputs (default: $BUILD_DIR/cache/nested)
#   NESTED_OUT    console logs and per-case results (default: $BUILD_DIR/nested)
#   NESTED_SMP    outer vCPUs (default: 1)
#   NESTED_MEM    outer RAM in MiB (default: 2048)
#   QEMU          QEMU binary (default: qemu-system-x86_64)

NESTED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$NESTED_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_DIR/$BUILD_DIR"
export BUILD_DIR
HUSK=${HUSK:-$BUILD_DIR/husk}
NESTED_CACHE=${NESTED_CACHE:-$BUILD_DIR/cache/nested}
NESTED_OUT=${NESTED_OUT:-$BUILD_DIR/nested}
NESTED_SMP=${NESTED_SMP:-1}
NESTED_MEM=${NESTED_MEM:-2048}
QEMU=${QEMU:-qemu-system-x86_64}
NESTED_PROG=${NESTED_PROG:-nested}
# The modules the outer kernel loads (their dependencies are added).
NESTED_OUTER_MODULES=(kvm-amd tun)	# tun: the net cases' taps
# The outer CPU: AMD with SVM, less the features TCG cannot emulate (QEMU
# would drop them anyway, with a warning each).
NESTED_CPU=${NESTED_CPU:-EPYC,+svm,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext,-nrip-save,-xsavec}
# The outer kernel's command line: loglevel=1 keeps its printk off the
# console (the report stays parsable); outer-init prints its dmesg per case.
NESTED_OUTER_CMDLINE="console=ttyS0 panic=-1 quiet loglevel=1"

NESTED_DIE_STATUS=${NESTED_DIE_STATUS:-1}

nested_log() { echo "$NESTED_PROG: $*" >&2; }
nested_die() {
	echo "$NESTED_PROG: error: $*" >&2
	exit "$NESTED_DIE_STATUS"
}

# Seconds since the epoch with two decimals.
nested_now() { date +%s.%N | cut -c1-13; }
# nested_elapsed START: seconds since START (from nested_now), 1 decimal.
nested_elapsed() { awk -v a="$1" -v b="$(nested_now)" 'BEGIN { printf "%.1f", b - a }'; }

# The host tools the harness needs (scripts/install-deps.sh installs them).
nested_need_tools() {
	local t
	for t in "$QEMU" cpio busybox timeout awk; do
		command -v "$t" >/dev/null 2>&1 ||
			nested_die "$t not found (run scripts/install-deps.sh: qemu-system-x86, cpio, busybox-static)"
	done
	if ldd "$(command -v busybox)" >/dev/null 2>&1; then
		nested_die "$(command -v busybox) is dynamically linked; install busybox-static"
	fi
}

# Sets NESTED_VMLINUZ, NESTED_KVER and NESTED_MODDIR: Debian's cloud kernel,
# fetched (once, then cached) by scripts/fetch-linux.sh.
nested_kernel() {
	local pkgdir
	NESTED_VMLINUZ=$(bash "$REPO_DIR/scripts/fetch-linux.sh") ||
		nested_die "scripts/fetch-linux.sh failed"
	NESTED_KVER=$(basename "$NESTED_VMLINUZ")
	NESTED_KVER=${NESTED_KVER#vmlinuz-}
	pkgdir=$(cd "$(dirname "$NESTED_VMLINUZ")/.." && pwd)
	NESTED_MODDIR="$pkgdir/lib/modules/$NESTED_KVER"
	[[ -d "$NESTED_MODDIR/kernel" ]] || nested_die "no modules in $NESTED_MODDIR"
}

# nested_ko_cat FILE: a module's ELF, uncompressed.
nested_ko_cat() {
	case "$1" in
	*.ko) cat "$1" ;;
	*.ko.xz) xz -dc "$1" ;;
	*.ko.zst) zstd -qdc "$1" ;;
	*.ko.gz) gzip -dc "$1" ;;
	*) nested_die "unknown module format: $1" ;;
	esac
}

# nested_module_file NAME: the file of module NAME ('-' and '_' are the same).
nested_module_file() {
	local a=${1//_/-} b=${1//-/_} f
	f=$(find "$NESTED_MODDIR/kernel" \( -name "$a.ko*" -o -name "$b.ko*" \) -print -quit)
	[[ -n "$f" ]] || nested_die "module $1 not found under $NESTED_MODDIR"
	echo "$f"
}

# nested_resolve_modules NAME...: their files and their dependencies' (from
# the depends= field of .modinfo; no modinfo/depmod needed), in load order.
nested_resolve_modules() {
	local -A seen=()
	local -a order=()
	_nested_visit() {
		local f deps d
		f=$(nested_module_file "$1")
		[[ -z "${seen[$f]:-}" ]] || return 0
		seen[$f]=1
		deps=$(nested_ko_cat "$f" | tr '\0' '\n' | sed -n 's/^depends=//p')
		for d in ${deps//,/ }; do
			_nested_visit "$d"
		done
		order+=("$f")
	}
	local m
	for m in "$@"; do
		_nested_visit "$m"
	done
	printf '%s\n' "${order[@]}"
}

# nested_busybox_tree DIR: busybox (static) with a link per applet, /bin only.
nested_busybox_tree() {
	local dir=$1 a
	mkdir -p "$dir/bin" "$dir/dev" "$dir/proc" "$dir/sys" "$dir/tmp" "$dir/run" "$dir/root" "$dir/etc"
	cp "$(command -v busybox)" "$dir/bin/busybox"
	for a in $("$dir/bin/busybox" --list); do
		[[ "$a" = busybox ]] || ln -sf busybox "$dir/bin/$a"
	done
	ln -sfn bin "$dir/sbin"
	mkdir -p "$dir/usr"
	ln -sfn ../bin "$dir/usr/bin"
	ln -sfn ../bin "$dir/usr/sbin"
}

# nested_copy_binary FILE DEST_TREE NAME: FILE as DEST_TREE/bin/NAME, plus the
# shared libraries and loader it needs (at the paths ldd names).
nested_copy_binary() {
	local file=$1 tree=$2 name=$3 lib
	mkdir -p "$tree/bin"
	cp "$file" "$tree/bin/$name"
	# "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and
	# "/lib64/ld-linux-x86-64.so.2 (0x...)"; nothing for a static binary.
	while read -r lib; do
		[[ -n "$lib" ]] || continue
		mkdir -p "$tree$(dirname "$lib")"
		cp -L "$lib" "$tree$lib"
	done < <(ldd "$file" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p')
}

# nested_cpio DIR OUT: DIR packed as an uncompressed newc cpio (uncompressed:
# the outer and inner kernels run emulated, decompression would cost more
# than it saves).
nested_cpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# The inner guests' base initramfs (busybox), cached; rebuilt when busybox or
# this file changes. Sets NESTED_INNER_BASE.
nested_inner_base() {
	NESTED_INNER_BASE="$NESTED_CACHE/inner-base.cpio"
	local bb
	bb=$(command -v busybox)
	if [[ -f "$NESTED_INNER_BASE" && "$NESTED_INNER_BASE" -nt "$bb" &&
		"$NESTED_INNER_BASE" -nt "${BASH_SOURCE[0]}" ]]; then
		return 0
	fi
	local tree
	mkdir -p "$NESTED_CACHE"
	tree=$(mktemp -d "$NESTED_CACHE/inner-base.XXXXXX")
	nested_busybox_tree "$tree/root"
	nested_cpio "$tree/root" "$tree/base.cpio"
	mv "$tree/base.cpio" "$NESTED_INNER_BASE"
	rm -rf "$tree"
}

# The first lines of every case's inner /init.
nested_inner_prologue() {
	cat <<'EOF'
#!/bin/sh
# inner guest /init, generated by scripts/nested (see tests/nested/cases/)
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "NESTED-INNER-USERSPACE"
EOF
}

# nested_inner_initrd OUT INIT_BODY_FILE: busybox + /init (prologue + body +
# a final poweroff -f) as one initramfs (two concatenated cpio archives).
nested_inner_initrd() {
	local out=$1 body=$2 tree
	nested_inner_base
	tree=$(mktemp -d "$NESTED_CACHE/init.XXXXXX")
	{
		nested_inner_prologue
		cat "$body"
		printf '\npoweroff -f\n'
	} >"$tree/init"
	chmod 755 "$tree/init"
	nested_cpio "$tree" "$tree.cpio"
	cat "$NESTED_INNER_BASE" "$tree.cpio" >"$out"
	rm -rf "$tree" "$tree.cpio"
}

# nested_stage_outer TREE: a fresh outer initramfs tree with everything but
# the cases (busybox, modules, husk, inner kernel, /init). Needs
# nested_kernel first.
nested_stage_outer() {
	local tree=$1 f
	[[ -x "$HUSK" ]] || nested_die "husk not found: $HUSK (build it: cmake --build $BUILD_DIR, or set HUSK)"
	rm -rf "$tree"
	nested_busybox_tree "$tree"
	nested_copy_binary "$HUSK" "$tree" husk
	mkdir -p "$tree/nested/modules" "$tree/nested/cases"
	: >"$tree/nested/modules.order"
	while read -r f; do
		nested_ko_cat "$f" >"$tree/nested/modules/$(basename "${f%%.ko*}").ko"
		basename "${f%%.ko*}.ko" >>"$tree/nested/modules.order"
	done < <(nested_resolve_modules "${NESTED_OUTER_MODULES[@]}")
	cp "$NESTED_VMLINUZ" "$tree/nested/vmlinuz"
	echo "$NESTED_KVER" >"$tree/nested/inner-kver"
	cp "$NESTED_DIR/outer-init" "$tree/init"
	chmod 755 "$tree/init"
}

# nested_case_dir TREE INDEX NAME: where case NAME lives in the outer tree
# (its path inside the outer VM is the part after TREE).
nested_case_dir() { printf '%s/nested/cases/%02d-%s' "$1" "$2" "$3"; }

# nested_stage_case TREE INDEX NAME TIMEOUT INPUT_AFTER INPUT -- HUSK_ARGS...
# One case directory in the outer tree. HUSK_ARGS are husk's arguments as
# seen inside the outer VM (paths under /nested/...). INPUT, when not empty,
# is written to husk's stdin once INPUT_AFTER (when not empty) has appeared in
# husk's output; otherwise stdin is /dev/null. Prints the case directory.
nested_stage_case() {
	local tree=$1 index=$2 name=$3 timeout=$4 after=$5 input=$6 dir
	shift 7
	dir=$(nested_case_dir "$tree" "$index" "$name")
	mkdir -p "$dir"
	echo "$name" >"$dir/name"
	echo "$timeout" >"$dir/timeout"
	printf '%s\n' "$@" >"$dir/argv"
	if [[ -n "$input" ]]; then
		printf '%s' "$input" >"$dir/input"
		[[ -z "$after" ]] || printf '%s' "$after" >"$dir/input_after"
	fi
	echo "$dir"
}

# nested_run_qemu CPIO LOG TIMEOUT [VERBOSE [EXTRA_CMDLINE]]: boot the outer VM;
# its console goes to LOG (and to stderr as well when VERBOSE is 1). Returns
# QEMU's status (124: killed by the timeout), or 125 when the console stayed
# silent for NESTED_STALL_SECS (default 300; every case prints within its own
# limit plus a few seconds): QEMU 7.2's TCG with emulated SVM now and then
# stops executing altogether (0% CPU, no timer ever fires in the outer VM),
# which is the test bed hanging, not a case failing.
nested_run_qemu() {
	local cpio=$1 log=$2 limit=$3 verbose=${4:-0} extra=${5:-} rc=0 pid size last=-1 quiet=0
	local stall=${NESTED_STALL_SECS:-300}
	# shellcheck disable=SC2054 # the commas belong to QEMU's option values
	local -a cmd=(timeout -k 10 "$limit" "$QEMU"
		-M q35,accel=tcg -cpu "$NESTED_CPU" -m "$NESTED_MEM" -smp "$NESTED_SMP"
		-kernel "$NESTED_VMLINUZ" -initrd "$cpio" -append "$NESTED_OUTER_CMDLINE${extra:+ $extra}"
		-nographic -no-reboot -nodefaults -serial stdio)
	mkdir -p "$(dirname "$log")"
	: >"$log"
	if ((verbose)); then
		("${cmd[@]}" </dev/null 2>&1 | tee "$log" | tr -d '\r' >&2; exit "${PIPESTATUS[0]}") &
	else
		"${cmd[@]}" </dev/null >"$log" 2>&1 &
	fi
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if ((size != last)); then
			last=$size quiet=0
			continue
		fi
		quiet=$((quiet + 5))
		if ((quiet >= stall)); then
			nested_log "the outer VM's console was silent for ${stall}s: killing QEMU (a TCG stall)"
			pkill -KILL -P "$pid" 2>/dev/null
			pkill -KILL -f "$(basename "$QEMU").*-initrd $cpio" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 125
		fi
	done
	wait "$pid" || rc=$?
	return "$rc"
}

# nested_parse LOG RESULTS: split the outer console log into RESULTS/NAME/
# (output.log, outer-dmesg.log, rc, secs, timedout; "done" once the case's END
# line was seen). Also RESULTS/outer-boot-secs, RESULTS/outer-boot-dmesg.log
# (the outer kernel's log up to the first case), RESULTS/suite-end.
nested_parse() {
	local log=$1 results=$2
	mkdir -p "$results"
	# Markers may follow other output on the same line (SeaBIOS leaves escape
	# sequences before the first one): cut what comes before them.
	tr -d '\r' <"$log" | awk -v dir="$results" '
		!/^[|!] / && match($0, /NESTED-(OUTER-READY|ERROR|SUITE-END|CASE-BEGIN|CASE-END)/) {
			$0 = substr($0, RSTART)
		}
		function out(file, line) { print line >> (dir "/" cur "/" file) }
		/^NESTED-OUTER-READY / {
			for (i = 2; i <= NF; i++) if ($i ~ /^uptime=/) {
				sub(/^uptime=/, "", $i); print $i > (dir "/outer-boot-secs") }
			next
		}
		/^NESTED-ERROR / { print > (dir "/outer-error"); next }
		/^NESTED-SUITE-END/ { print "1" > (dir "/suite-end"); next }
		/^NESTED-CASE-BEGIN / {
			cur = $2; system("mkdir -p \"" dir "/" cur "\"")
			printf "" > (dir "/" cur "/output.log"); printf "" > (dir "/" cur "/outer-dmesg.log")
			printf "" > (dir "/" cur "/post.log")
			next
		}
		cur != "" && /^NESTED-CASE-END / {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				print kv[2] > (dir "/" cur "/" kv[1])
			}
			print "1" > (dir "/" cur "/done")
			close(dir "/" cur "/output.log"); close(dir "/" cur "/outer-dmesg.log")
			close(dir "/" cur "/post.log")
			cur = ""
			next
		}
		cur != "" && /^\| / { out("output.log", substr($0, 3)); next }
		cur != "" && /^\|$/ { out("output.log", ""); next }
		cur != "" && /^! / { out("outer-dmesg.log", substr($0, 3)); next }
		cur != "" && /^= / { out("post.log", substr($0, 3)); next }
		cur == "" && /^! / { print substr($0, 3) >> (dir "/outer-boot-dmesg.log"); next }
	'
}

# ---- test-guest cases -----------------------------------------------------------
# nested_testguest_case TESTS [GUEST_ARGS...]: make the case boot husk's own
# test guest (build/firmware/testguest.elf, copied into the case's directory
# by nested_stage_testguest) with tests=TESTS and GUEST_ARGS on its command
# line. Call at the top level of a case file; case_prepare must call
# nested_stage_testguest "$dir".
# shellcheck disable=SC2034 # the CASE_* variables are load_case's
nested_testguest_case() {
	CASE_KERNEL=testguest.elf
	CASE_INITRD=none
	CASE_CMDLINE="tests=$*"
}

# nested_stage_testguest DIR: copy the test guest into a case's directory.
nested_stage_testguest() {
	local elf="$BUILD_DIR/firmware/testguest.elf"
	[[ -f "$elf" ]] || nested_die "test guest not found: $elf (build it: cmake --build $BUILD_DIR)"
	cp "$elf" "$1/testguest.elf"
}

# nested_blk_pattern_md5 SIZE: md5 of the test guest's final virtio-blk
# pattern over SIZE bytes (what the virtio-blk check leaves on a disk).
nested_blk_pattern_md5() {
	local tool="$BUILD_DIR/firmware/tg-blkpattern"
	[[ -x "$tool" ]] || nested_die "not found: $tool (build it: cmake --build $BUILD_DIR)"
	"$tool" "$1" | md5sum | cut -d' ' -f1
}

# ---- host tools in the outer VM ------------------------------------------------
# nested_stage_outer_tools TREE TOOL...: each TOOL (a name in $PATH or a path)
# as TREE/bin/BASENAME with its shared libraries, for a case's pre/post
# commands or husk wrapper (CASE_OUTER_TOOLS). Staging one twice is harmless.
nested_stage_outer_tools() {
	local tree=$1 t path
	shift
	for t in "$@"; do
		path=$(command -v "$t" 2>/dev/null || PATH=/usr/sbin:/sbin:$PATH command -v "$t" 2>/dev/null) ||
			nested_die "outer tool $t not found on the host"
		rm -f "$tree/bin/$(basename "$t")" # never write through a busybox link
		nested_copy_binary "$path" "$tree" "$(basename "$t")"
	done
}

# nested_pseudo_random SIZE SEED: SIZE deterministic pseudo-random bytes
# (AES-128-CTR of zeroes under a key made from SEED; the same on every host).
nested_pseudo_random() {
	command -v openssl >/dev/null 2>&1 || nested_die "openssl not found (needed for test data)"
	local key
	key=$(printf '%s' "$2" | md5sum | cut -c1-32)
	head -c "$1" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 2>/dev/null
}
