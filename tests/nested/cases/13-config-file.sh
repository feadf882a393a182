# shellcheck shell=bash disable=SC2034
# Case 13: --config. A Firecracker-schema config gives the machine (2 vCPUs,
# 384 MiB), the logger (level Debug, show_level) and, in husk's own object, an
# events sink on husk's stderr; the harness's --kernel/--initrd/--cmdline
# flags override its boot-source. Checks: the guest sees what the file asked
# for, husk logs with levels shown, and the events show started, then a
# shutdown with reason and exit status 0.
CASE_DESC="--config (Firecracker schema + husk object): 2 vCPUs, 384 MiB, debug log, events"
CASE_TIMEOUT=180

case_prepare() {
	local dir=$1
	cat >"$dir/vm.json" <<'JSON'
{
  "boot-source": { "kernel_image_path": "/nonexistent/overridden-by-the-flag",
                   "boot_args": "overridden", "initrd_path": null },
  "drives": [],
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 384, "smt": false,
                      "track_dirty_pages": false, "huge_pages": "None" },
  "network-interfaces": [],
  "logger": { "level": "Debug", "show_level": true, "show_log_origin": false },
  "metrics": null,
  "balloon": null,
  "husk": { "events": "/dev/stderr", "shutdown_timeout": 5 }
}
JSON
	# $inside (the case's directory inside the outer VM) is set by run.sh
	# shellcheck disable=SC2154
	CASE_ARGS+=(--config "$inside/vm.json")
}

case_init() {
	cat <<'INIT'
echo "CPUS=$(grep -c ^processor /proc/cpuinfo)"
kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
echo "MEMTOTAL_MIB=$((kb / 1024))"
poweroff -f
INIT
}

case_check() {
	expect_value CPUS 2
	expect_value_between MEMTOTAL_MIB 280 384
	expect_rc 0
	expect_output '^husk: \[info\] .*guest powered off' "'[info] guest powered off' (show_level)"
	expect_output '^husk: \[debug\] ' "a debug line (logger.level Debug)"
	expect_output '"event":"started"' "the started event"
	expect_output '"event":"shutdown","reason":"guest powered off","exit_status":0' "the shutdown event"
}
