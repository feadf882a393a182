#!/bin/bash
# husk --config FILE, end to end through the husk binary.
#
#   config.sh            run every case
#   config.sh NAME...    run these cases (ctest runs one per test)
#   config.sh --list     print the case names
#
# bad-*: a table of bad keys and types. Each must make husk exit 1 with one
#   stderr line "husk: --config FILE: KEY.PATH: message", before any VM
#   exists (so these run without /dev/kvm).
# flags-override: a flag given with --config wins over the file (the error
#   names the flag's kernel, not the file's).
# firecracker-example: Firecracker's documented example config, with only
#   the two paths pointed at the test guest and a scratch image, boots the
#   test guest to its verdict (needs /dev/kvm; skips without).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name ; the message after "--config FILE: " ; the JSON
BAD=$(
	cat <<'EOF'
bad-top-level      ; expected a JSON object at the top level               ; []
bad-json           ; invalid JSON: unexpected end of input                 ; {"boot-source":
bad-unknown-top    ; bogus: unknown key                                    ; {"bogus":1}
bad-kernel-type    ; boot-source.kernel_image_path: expected string        ; {"boot-source":{"kernel_image_path":1}}
bad-kernel-missing ; boot-source.kernel_image_path: required               ; {"boot-source":{"boot_args":"x"}}
bad-vcpu-type      ; machine-config.vcpu_count: expected an integer        ; {"machine-config":{"vcpu_count":"2"}}
bad-vcpu-range     ; machine-config.vcpu_count: expected an integer from 1 to 254 ; {"machine-config":{"vcpu_count":300}}
bad-mem-range      ; machine-config.mem_size_mib: expected an integer from 8 to 1048576 ; {"machine-config":{"mem_size_mib":1}}
bad-smt            ; machine-config.smt: true is not supported (husk presents one thread per core) ; {"machine-config":{"smt":true}}
bad-dirty-pages    ; machine-config.track_dirty_pages: expected boolean    ; {"machine-config":{"track_dirty_pages":"yes"}}
bad-huge-pages     ; machine-config.huge_pages: expected "None" or "2M"    ; {"machine-config":{"huge_pages":"1G"}}
bad-drives-type    ; drives: expected array                                ; {"drives":{}}
bad-drive-path     ; drives[1].path_on_host: expected string               ; {"drives":[{"drive_id":"a","path_on_host":"a"},{"drive_id":"b","path_on_host":7}]}
bad-drive-key      ; drives[0].size: unknown key                           ; {"drives":[{"drive_id":"a","path_on_host":"a","size":1}]}
bad-drive-engine   ; drives[0].io_engine: expected "Sync" or "Async"       ; {"drives":[{"drive_id":"a","path_on_host":"a","io_engine":"x"}]}
bad-rate-limiter   ; drives[0].rate_limiter.ops: refill_time is required ; {"drives":[{"drive_id":"a","path_on_host":"a","rate_limiter":{"ops":{"size":1}}}]}
bad-net-mac        ; network-interfaces[0].guest_mac: expected a unicast MAC such as "06:00:ac:10:00:02" ; {"network-interfaces":[{"iface_id":"e","host_dev_name":"t","guest_mac":"x"}]}
bad-logger-level   ; logger.level: expected Error, Warning, Info, Debug, Trace or Off ; {"logger":{"level":"Loud"}}
bad-metrics-path   ; metrics.metrics_path: expected string                 ; {"metrics":{"metrics_path":false}}
bad-balloon        ; balloon.deflate_on_oom: required                      ; {"balloon":{"amount_mib":1}}
bad-husk-key       ; husk.turbo: unknown key                               ; {"husk":{"turbo":true}}
bad-husk-type      ; husk.shutdown_timeout: expected an integer            ; {"husk":{"shutdown_timeout":"10"}}
EOF
)
NAMES=$(sed 's/ *;.*//' <<<"$BAD"; echo missing-file; echo flags-override; echo firecracker-example)

if [[ "${1:-}" = --list ]]; then
	echo "$NAMES"
	exit 0
fi

trim() { sed 's/^ *//; s/ *$//' <<<"$1"; }

run_bad() {
	local name=$1 row msg json
	row=$(grep -E "^$name +;" <<<"$BAD")
	msg=$(trim "$(cut -d';' -f2 <<<"$row")")
	json=$(trim "$(cut -d';' -f3- <<<"$row")")
	printf '%s\n' "$json" >"$WORK/vm.json"
	run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/vm.json"
	[[ $RC = 1 ]] || { show_file stderr "$WORK/err"; fail "$name: exit $RC, want 1"; }
	local want="husk: --config $WORK/vm.json: $msg"
	[[ "$(cat "$WORK/err")" = "$want" ]] ||
		{ show_file stderr "$WORK/err"; fail "$name: want exactly: $want"; }
	[[ ! -s "$WORK/out" ]] || fail "$name: stdout is not empty"
}

# Firecracker's example (tests/framework/vm_config.json), paths replaced.
write_fc_example() {
	cat >"$1" <<EOF
{
  "boot-source": {
    "kernel_image_path": "$TESTGUEST_ELF",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off expect_mem=1024M expect_cpus=2",
    "initrd_path": null
  },
  "drives": [
    {
      "drive_id": "rootfs",
      "partuuid": null,
      "is_root_device": true,
      "cache_type": "Unsafe",
      "is_read_only": false,
      "path_on_host": "$WORK/rootfs.ext4",
      "io_engine": "Sync",
      "rate_limiter": null,
      "socket": null
    }
  ],
  "machine-config": {
    "vcpu_count": 2,
    "mem_size_mib": 1024,
    "smt": false,
    "track_dirty_pages": false,
    "huge_pages": "None"
  },
  "cpu-config": null,
  "balloon": null,
  "network-interfaces": [],
  "vsock": null,
  "logger": null,
  "metrics": null,
  "mmds-config": null,
  "entropy": null
}
EOF
}

run_case() {
	case "$1" in
	bad-*) run_bad "$1" ;;
	missing-file)
		run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/nope.json"
		[[ $RC = 1 ]] || fail "exit $RC, want 1"
		grep -qx "husk: --config $WORK/nope.json: No such file or directory" "$WORK/err" ||
			{ show_file stderr "$WORK/err"; fail "missing file not named"; }
		;;
	flags-override)
		need_file "$TESTGUEST_ELF" "test guest"
		write_fc_example "$WORK/vm.json"
		run_husk 20 "$WORK/out" "$WORK/err" --config "$WORK/vm.json" --kernel /nonexistent/flag-kernel
		[[ $RC = 1 ]] || fail "exit $RC, want 1"
		grep -q "/nonexistent/flag-kernel" "$WORK/err" ||
			{ show_file stderr "$WORK/err"; fail "the flag's kernel did not win"; }
		;;
	firecracker-example)
		need_file "$TESTGUEST_ELF" "test guest"
		need_kvm
		truncate -s 16M "$WORK/rootfs.ext4"
		write_fc_example "$WORK/vm.json"
		run_husk 120 "$WORK/out" "$WORK/err" --config "$WORK/vm.json"
		[[ $RC = 0 ]] || { show_file console "$WORK/out"; show_file stderr "$WORK/err"; fail "exit $RC"; }
		grep -qE "^[0-9]+ passed, 0 failed" "$WORK/out" ||
			{ show_file console "$WORK/out"; fail "no passing verdict"; }
		;;
	*) fail "unknown case $1" ;;
	esac
	log "ok $1"
}

need_husk
make_workdir
if (($#)); then
	for c in "$@"; do run_case "$c"; done
else
	for c in $NAMES; do run_case "$c"; done
fi
