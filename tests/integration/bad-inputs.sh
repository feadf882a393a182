#!/bin/bash
# Bad inputs: every case must make husk exit 1 with exactly one line on stderr,
# starting "husk: " and naming the offending flag or file, print nothing on
# stdout (no guest ran), and do it promptly (no VM is started).
#
#   bad-inputs.sh            run every case
#   bad-inputs.sh NAME...    run these cases (ctest runs one per test)
#   bad-inputs.sh --list     print the case names
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The table. Fields split on ';':
#   name ; ERE the stderr line must match (after "husk: ") ; husk arguments
# Arguments are split on blanks after expanding these variables (no other
# shell processing): $ELF $BZ (the test guest), $W (a scratch directory with
# the inputs made by prepare()), $LONG5000 $LONG70000 (long command lines).
# Every case but the one under test uses valid values, and the guest command
# line "tests=serial", so that a case husk wrongly accepts fails fast.
CASES=$(
	cat <<'EOF'
kernel-missing           ; /nonexistent/vmlinuz            ; --kernel /nonexistent/vmlinuz
kernel-directory         ; $W/kdir                         ; --kernel $W/kdir
kernel-parent-not-dir    ; $W/file/vmlinuz                 ; --kernel $W/file/vmlinuz
kernel-unreadable        ; $W/unreadable                   ; --kernel $W/unreadable
kernel-empty             ; $W/empty                        ; --kernel $W/empty
kernel-truncated         ; $W/truncated.bzImage            ; --kernel $W/truncated.bzImage
kernel-garbage           ; $W/garbage                      ; --kernel $W/garbage
kernel-bad-magic-elf     ; $W/aarch64.elf                  ; --kernel $W/aarch64.elf
kernel-old-protocol      ; $W/old-protocol.bzImage         ; --kernel $W/old-protocol.bzImage
kernel-too-big-bzimage   ; (--memory|$W/huge-init.bzImage) ; --kernel $W/huge-init.bzImage --memory 64M
kernel-too-big-elf       ; (--memory|$W/huge-seg.elf)      ; --kernel $W/huge-seg.elf --memory 64M
kernel-in-mmio-hole      ; (--memory|$W/hole.elf)          ; --kernel $W/hole.elf --memory 256M
initrd-missing           ; /nonexistent/initrd             ; --kernel $ELF --initrd /nonexistent/initrd
initrd-directory         ; $W/kdir                         ; --kernel $BZ --initrd $W/kdir
initrd-too-big           ; (--initrd|$W/initrd-128M)       ; --kernel $BZ --initrd $W/initrd-128M --memory 64M
cmdline-too-long-bzimage ; --cmdline                       ; --kernel $W/cmdline4095.bzImage --cmdline $LONG5000
cmdline-too-long-elf     ; --cmdline                       ; --kernel $ELF --cmdline $LONG70000
cpus-zero                ; --cpus                          ; --kernel $ELF --cpus 0
cpus-too-many            ; --cpus                          ; --kernel $ELF --cpus 100000
cpus-negative            ; --cpus                          ; --kernel $ELF --cpus -1
cpus-not-a-number        ; --cpus                          ; --kernel $ELF --cpus two
memory-zero              ; --memory                        ; --kernel $ELF --memory 0
memory-1K                ; --memory                        ; --kernel $ELF --memory 1K
memory-not-a-number      ; --memory                        ; --kernel $ELF --memory abc
memory-bad-suffix        ; --memory                        ; --kernel $ELF --memory 256X
memory-2T                ; --memory                        ; --kernel $ELF --memory 2T
memory-1025G             ; --memory                        ; --kernel $ELF --memory 1025G
memory-overflow          ; --memory                        ; --kernel $ELF --memory 99999999999999999999G
memory-4M-as-typed       ; --memory 4M: must be between 8M and 1T$ ; --kernel $ELF --memory 4M
memory-MB-suffix         ; --memory 512MB: expected a number ; --kernel $ELF --memory 512MB
memory-MiB-suffix        ; --memory 512MiB: expected a number ; --kernel $ELF --memory 512MiB
memory-plus              ; --memory \+1G: expected a number ; --kernel $ELF --memory +1G
cpus-plus                ; --cpus \+2: expected a number   ; --kernel $ELF --cpus +2
shutdown-timeout-minus   ; --shutdown-timeout -0: expected a number ; --kernel $ELF --shutdown-timeout -0
disk-queues-plus         ; --disk .*queues=\+2: expected    ; --kernel $ELF --disk path=$W/ok.img,queues=+2
net-mtu-plus             ; --net .*mtu=\+1500: expected     ; --kernel $ELF --net tap=hbad0,mtu=+1500
config-directory         ; --config $W/kdir: Is a directory$ ; --config $W/kdir
config-no-boot-source    ; --config $W/no-boot.json: boot-source.kernel_image_path is required$ ; --config $W/no-boot.json
hugepages-none-reserved  ; --hugepages                     ; --kernel $ELF --hugepages
metrics-file-not-left    ; --disk path=/nonexistent/d.img  ; --kernel $ELF --metrics $W/left.metrics --disk path=/nonexistent/d.img
unknown-flag             ; --bogus                         ; --kernel $ELF --bogus
no-kernel                ; --kernel                        ; --cpus 1
kernel-flag-no-value     ; --kernel                        ; --kernel
serial-bogus             ; --serial                        ; --kernel $ELF --serial bogus
serial-file-bad-path     ; (--serial|/nonexistent/dir/log) ; --kernel $ELF --serial file:/nonexistent/dir/log
log-level-bogus          ; --log-level                     ; --kernel $ELF --log-level bogus
shutdown-timeout-bogus   ; --shutdown-timeout              ; --kernel $ELF --shutdown-timeout soon
disk-missing             ; --disk path=/nonexistent/d.img  ; --kernel $ELF --disk path=/nonexistent/d.img
disk-directory           ; --disk path=$W/kdir: .*directory ; --kernel $ELF --disk path=$W/kdir
disk-unreadable          ; --disk path=$W/unreadable-disk  ; --kernel $ELF --disk path=$W/unreadable-disk
disk-readonly-no-ro      ; --disk path=$W/ro.img: .*ro=on   ; --kernel $ELF --disk path=$W/ro.img
disk-odd-size            ; --disk path=$W/odd.img: .*512    ; --kernel $ELF --disk path=$W/odd.img
disk-no-path             ; --disk ro=on: path=FILE         ; --kernel $ELF --disk ro=on
disk-unknown-key         ; --disk .*unknown key 'size'     ; --kernel $ELF --disk path=$W/ok.img,size=1G
disk-bad-queues          ; --disk .*queues=99              ; --kernel $ELF --disk path=$W/ok.img,queues=99
disk-bad-engine          ; --disk .*engine=aio             ; --kernel $ELF --disk path=$W/ok.img,engine=aio
disk-duplicate-id        ; --disk id=a                     ; --kernel $ELF --disk path=$W/ok.img,id=a --disk path=$W/ok2.img,id=a
disk-same-image-twice    ; --disk path=$W/ok.img: $W/ok.img is given twice \(also disk0\)$ ; --kernel $ELF --disk path=$W/ok.img --disk path=$W/ok.img
disk-same-image-ro-rw    ; --disk path=$W/ok.img: $W/ok.img is given twice \(also a\)$ ; --kernel $ELF --disk path=$W/ok.img,ro=on,id=a --disk path=$W/ok.img
net-no-tun               ; --net tap=hbad0: /dev/net/tun: No such file ; --kernel $ELF --net tap=hbad0
net-name-too-long        ; --net tap=abcdefghijklmnop: .*1 to 15 bytes ; --kernel $ELF --net tap=abcdefghijklmnop
net-no-tap-or-fd         ; --net mac=.*tap=NAME or fd=N    ; --kernel $ELF --net mac=02:00:00:00:00:01
net-fd-not-open          ; --net fd=1000: not an open file descriptor ; --kernel $ELF --net fd=1000
net-fd-not-a-tap         ; --net fd=0: not an attached tap ; --kernel $ELF --net fd=0
net-fd-queues            ; --net fd=3,queues=2: .*one queue pair ; --kernel $ELF --net fd=3,queues=2
net-mac-multicast        ; --net .*mac=01:00:5e:00:00:01: a multicast ; --kernel $ELF --net tap=hbad0,mac=01:00:5e:00:00:01
net-mac-syntax           ; --net .*mac=02:00:00:00:00: expected ; --kernel $ELF --net tap=hbad0,mac=02:00:00:00:00
net-queues-zero          ; --net .*queues=0: expected 1 to 16 ; --kernel $ELF --net tap=hbad0,queues=0
net-queues-too-many      ; --net .*queues=17: expected 1 to 16 ; --kernel $ELF --net tap=hbad0,queues=17
net-mtu-too-small        ; --net .*mtu=67: expected 68 to 65535 ; --kernel $ELF --net tap=hbad0,mtu=67
net-mtu-too-big          ; --net .*mtu=65536: expected 68 to 65535 ; --kernel $ELF --net tap=hbad0,mtu=65536
net-unknown-key          ; --net .*unknown key 'model'    ; --kernel $ELF --net tap=hbad0,model=e1000
net-bad-engine           ; --net .*engine=aio: expected auto, uring or sync ; --kernel $ELF --net tap=hbad0,engine=aio
net-single-queue-tap     ; --net tap=hb-sq: cannot create or attach: .*multi_queue ; --kernel $ELF --net tap=hb-sq,queues=2
net-same-tap-twice       ; --net tap=hbad0: hbad0 is given twice \(also net0\)$ ; --kernel $ELF --net tap=hbad0 --net tap=hbad0
virtio-transport-bogus   ; --virtio-transport              ; --kernel $ELF --virtio-transport usb
mmio-too-many-devices    ; --virtio-transport mmio         ; --kernel $ELF --virtio-transport mmio --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on --disk path=$W/ok.img,ro=on
EOF
)
# Not covered: a garbage initrd (an initrd is opaque to the VMM: any bytes are a
# valid initrd, only the guest can reject them).

case_names() { sed -n 's/^\([^ ;]*\) *;.*/\1/p' <<<"$CASES"; }

if [[ "${1:-}" = --list ]]; then
	case_names
	exit 0
fi

need_husk
need_file "$TESTGUEST_ELF" "test guest (elf)"
need_file "$TESTGUEST_BZIMAGE" "test guest (bzimage)"
make_workdir
W=$WORK
ELF=$TESTGUEST_ELF
BZ=$TESTGUEST_BZIMAGE
LONG5000="long=$(head -c 4995 /dev/zero | tr '\0' x)"
LONG70000="long=$(head -c 69995 /dev/zero | tr '\0' x)"

# patch FILE OFFSET HEXBYTES: overwrite bytes in place.
patch() {
	local hex=$3 esc="" i
	for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
	# shellcheck disable=SC2059
	printf "$esc" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

prepare() {
	mkdir "$W/kdir"
	echo "not a directory" >"$W/file"
	: >"$W/empty"
	head -c 1024 "$BZ" >"$W/truncated.bzImage"
	head -c 65536 /dev/urandom >"$W/garbage"
	cp "$BZ" "$W/unreadable"
	chmod 000 "$W/unreadable"
	# bzImage: protocol version (0x206) 1.00, init_size (0x260) 512 MiB.
	cp "$BZ" "$W/old-protocol.bzImage"
	patch "$W/old-protocol.bzImage" 0x206 0001
	# cmdline_size (0x238) 4095: a 5000-byte command line is too long for it.
	cp "$BZ" "$W/cmdline4095.bzImage"
	patch "$W/cmdline4095.bzImage" 0x238 ff0f0000
	cp "$BZ" "$W/huge-init.bzImage"
	patch "$W/huge-init.bzImage" 0x260 00000020
	# ELF64 (one PT_LOAD at 1 MiB, phdr at 64): e_machine (18) aarch64;
	# p_memsz (64+40) 1 GiB; p_paddr (64+24) and p_vaddr (64+16) 0xd0000000.
	local tiny=$TINY_DIR/exit0.elf
	need_file "$tiny" "tiny kernel"
	cp "$tiny" "$W/aarch64.elf"
	patch "$W/aarch64.elf" 18 b700
	cp "$tiny" "$W/huge-seg.elf"
	patch "$W/huge-seg.elf" $((64 + 40)) 0000004000000000
	cp "$tiny" "$W/hole.elf"
	patch "$W/hole.elf" $((64 + 16)) 000000d000000000
	patch "$W/hole.elf" $((64 + 24)) 000000d000000000
	patch "$W/hole.elf" 24 000000d000000000
	truncate -s 128M "$W/initrd-128M"
	truncate -s 1M "$W/ok.img" "$W/ok2.img" "$W/unreadable-disk" "$W/ro.img"
	truncate -s 1000 "$W/odd.img"
	echo '{"machine-config":{"vcpu_count":1,"mem_size_mib":64}}' >"$W/no-boot.json"
	chmod 000 "$W/unreadable-disk"
	chmod 444 "$W/ro.img"
}

# expand STRING: substitute the table's variables.
expand() {
	local s=$1
	s=${s//\$LONG70000/$LONG70000}
	s=${s//\$LONG5000/$LONG5000}
	s=${s//\$ELF/$ELF}
	s=${s//\$BZ/$BZ}
	s=${s//\$W/$W}
	printf '%s' "$s"
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# run_case NAME: 0 pass, 1 fail, 77 skipped.
run_case() {
	local name=$1 line want argstr args out err nlines first
	line=$(grep -E "^$name *;" <<<"$CASES" | head -n1) || true
	[[ -n "$line" ]] || {
		echo "[$name] FAIL: no such case" >&2
		return 1
	}
	IFS=';' read -r _ want argstr <<<"$line"
	want=$(expand "$(trim "$want")")
	read -r -a args <<<"$(expand "$(trim "$argstr")")"
	# Everything that takes a guest command line gets a harmless one first.
	[[ "$name" = cmdline-* ]] || args=(--cmdline tests=serial "${args[@]}")

	case "$name" in
	kernel-unreadable | disk-unreadable | disk-readonly-no-ro)
		# root reads (and writes) a mode-000 file anyway: run husk as nobody instead.
		if ((EUID == 0)); then
			chmod 755 "$W"
			local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
			if ! command -v setpriv >/dev/null ||
				! "${nobody[@]}" test -x "$HUSK" -a -r /dev/null 2>/dev/null; then
				echo "[$name] SKIP: running as root, and uid 65534 cannot run $HUSK" \
					"(kernel-directory and kernel-parent-not-dir cover open errors)" >&2
				return 77
			fi
			HUSK_PREFIX=("${nobody[@]}")
		fi
		;;
	net-*)
		# Taps exist only in a private network namespace (and a private
		# mount namespace without /dev/net/tun for net-no-tun).
		if ((EUID != 0)) || ! unshare -n true 2>/dev/null; then
			case "$name" in
			net-no-tun | net-single-queue-tap | net-same-tap-twice)
				echo "[$name] SKIP: needs root and network namespaces" >&2
				return 77
				;;
			esac
		else
			HUSK_PREFIX=(unshare -n)
			case "$name" in
			net-no-tun)
				HUSK_PREFIX=(unshare -n -m --propagation private sh -c
					'mount -t tmpfs none /dev/net && exec "$0" "$@"')
				;;
			net-single-queue-tap)
				HUSK_PREFIX=(unshare -n sh -c
					'ip tuntap add mode tap name hb-sq vnet_hdr && exec "$0" "$@"')
				;;
			esac
		fi
		;;
	hugepages-none-reserved)
		local free
		free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
		if [[ "${free:-0}" != 0 ]]; then
			echo "[$name] SKIP: $free huge pages are reserved and free on this host" >&2
			return 77
		fi
		;;
	esac

	out="$W/$name.out" err="$W/$name.err"
	run_husk 30 "$out" "$err" "${args[@]}"
	HUSK_PREFIX=()
	local problems=()
	((RC == 1)) || problems+=("exit status $RC, expected 1")
	[[ ! -s "$out" ]] || problems+=("stdout is not empty (did a guest run?)")
	nlines=$(wc -l <"$err")
	((nlines == 1)) || problems+=("$nlines lines on stderr, expected exactly 1")
	first=$(head -n1 "$err")
	[[ "$first" = "husk: "* ]] || problems+=("stderr does not start with 'husk: '")
	grep -qE -- "$want" <<<"${first#husk: }" || problems+=("the message does not name '$want'")
	((ELAPSED_MS < 10000)) || problems+=("took ${ELAPSED_MS} ms (was a VM started?)")
	# a failed start leaves no file husk created (the --metrics file here)
	[[ ! -e "$W/left.metrics" ]] || { problems+=("left $W/left.metrics behind"); rm -f "$W/left.metrics"; }
	if ((${#problems[@]})); then
		local shown=() a
		for a in "${args[@]}"; do
			((${#a} <= 100)) || a="${a:0:60}...(${#a} chars)"
			shown+=("$a")
		done
		echo "[$name] husk ${shown[*]}" >&2
		show_file "stdout" "$out" 20
		show_file "stderr" "$err" 20
		for p in "${problems[@]}"; do echo "[$name] FAIL: $p" >&2; done
		return 1
	fi
	echo "[$name] ok: $first" >&2
	return 0
}

names=("$@")
((${#names[@]})) || mapfile -t names < <(case_names)
prepare
failed=0 skipped=0 passed=0
for n in "${names[@]}"; do
	rc=0
	run_case "$n" || rc=$?
	case "$rc" in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
echo "bad-inputs: $passed passed, $failed failed, $skipped skipped" >&2
((failed == 0)) || exit 1
((passed > 0 || skipped == 0)) || exit "$SKIP"
exit 0
