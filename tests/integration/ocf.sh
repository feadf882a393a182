#!/bin/bash
# The Pacemaker resource agent scripts/ocf/husk (docs/pacemaker.md).
#
#   ocf.sh            run every case
#   ocf.sh NAME...    run these cases (ctest runs one per test)
#   ocf.sh --list     print the case names
#
# ocf-tester: Pacemaker's own conformance run of the agent (meta-data,
#   validate-all, probes, start, monitor, stop, starting a started and
#   stopping a stopped resource) on a test guest that ticks forever; it must
#   pass every test, and no husk, socket or pid file is left.
# migrate: the agent's migrate_to and migrate_from on one host (the target's
#   husk --incoming started by the test, as migration_transport=none
#   expects): the VM moves from one state directory to the other, the
#   source's monitor then says not running, the target's says running, and
#   the guest goes on ticking on the target.
# refusals: validate-all without config, with a missing config, with a bad
#   port or transport: the OCF error codes; monitor on a node without the
#   binary: not running.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="ocf-tester migrate refusals"
if [[ "${1:-}" = --list ]]; then
	tr ' ' '\n' <<<"$CASES"
	exit 0
fi

AGENT="$REPO_DIR/scripts/ocf/husk"
export OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}

# vm_config FILE: the test guest ticking every 100 ms, forever.
vm_config() {
	cat >"$1" <<JSON
{"boot-source":{"kernel_image_path":"$TESTGUEST_ELF","boot_args":"tests=ticker ticks=100000000 tick_us=100000"},
 "machine-config":{"vcpu_count":1,"mem_size_mib":128}}
JSON
}

# agent ACTION STATE_DIR [VAR=VALUE...]: run the agent as Pacemaker would; sets RC.
agent() {
	local action=$1 dir=$2
	shift 2
	RC=0
	env OCF_RESOURCE_INSTANCE=vm1 OCF_RESKEY_config="$WORK/vm.json" \
		OCF_RESKEY_binary="$HUSK" OCF_RESKEY_state_dir="$dir" \
		OCF_RESKEY_CRM_meta_timeout=30000 "$@" "$AGENT" "$action" >>"$WORK/agent.log" 2>&1 ||
		RC=$?
}

no_leftovers() {
	local d
	for d in "$@"; do
		[[ ! -e "$d/husk.pid" && ! -e "$d/api.sock" ]] || fail "$d: a pid file or socket was left"
	done
	if pgrep -f "$WORK/" >/dev/null; then
		pgrep -af "$WORK/" >&2
		fail "a husk was left running"
	fi
}

case_ocf_tester() {
	vm_config "$WORK/vm.json"
	ocf-tester -n husk-test -o config="$WORK/vm.json" -o binary="$HUSK" \
		-o state_dir="$WORK/state" "$AGENT" >"$WORK/tester.log" 2>&1 ||
		{ cat "$WORK/tester.log" >&2; fail "ocf-tester failed"; }
	grep -q "passed all tests" "$WORK/tester.log" || { cat "$WORK/tester.log" >&2; fail "no pass line"; }
	grep -q "tick " "$WORK/state/husk.log" || fail "the guest never ticked"
	no_leftovers "$WORK/state"
}

case_migrate() {
	local port=$((20000 + RANDOM % 30000)) a=$WORK/a b=$WORK/b n
	vm_config "$WORK/vm.json"
	agent start "$a"
	((RC == 0)) || { cat "$WORK/agent.log" "$a/husk.log" >&2; fail "start: $RC"; }
	on_exit "kill -KILL \$(cat $a/husk.pid $b/husk.pid 2>/dev/null) 2>/dev/null || true"
	mkdir -p "$b"
	setsid "$HUSK" --incoming "tcp:127.0.0.1:$port" --api-sock "$b/api.sock" \
		--events "$b/events" </dev/null >>"$b/husk.log" 2>&1 &
	echo $! >"$b/husk.pid"
	for _ in $(seq 100); do
		grep -q "waiting for a migration" "$b/husk.log" && break
		sleep 0.05
	done
	agent migrate_to "$a" OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 \
		OCF_RESKEY_migration_port="$port" OCF_RESKEY_migration_transport=none
	((RC == 0)) || { cat "$WORK/agent.log" "$a/husk.log" "$b/husk.log" >&2; fail "migrate_to: $RC"; }
	agent migrate_from "$b"
	((RC == 0)) || { cat "$WORK/agent.log" "$b/husk.log" >&2; fail "migrate_from: $RC"; }
	agent monitor "$a"
	((RC == 7)) || fail "the source's monitor after the migration: $RC, want 7 (not running)"
	agent monitor "$b"
	((RC == 0)) || fail "the target's monitor after the migration: $RC, want 0"
	grep -q "migrated to tcp:127.0.0.1:$port" "$a/husk.log" || fail "the source does not say it migrated"
	n=$(grep -c "^tick " "$b/husk.log" || true)
	sleep 0.5
	(($(grep -c "^tick " "$b/husk.log") > n)) || fail "the guest does not tick on the target"
	log "$(grep -o 'migrated to .* in .*' "$a/husk.log")"
	agent stop "$b"
	((RC == 0)) || fail "stop on the target: $RC"
	no_leftovers "$a" "$b"
}

case_refusals() {
	vm_config "$WORK/vm.json"
	agent validate-all "$WORK/s" OCF_RESKEY_config=
	((RC == 6)) || fail "validate-all without config: $RC, want 6 (OCF_ERR_CONFIGURED)"
	agent validate-all "$WORK/s" OCF_RESKEY_config="$WORK/none.json"
	((RC == 5)) || fail "validate-all with a missing config: $RC, want 5 (OCF_ERR_INSTALLED)"
	agent validate-all "$WORK/s" OCF_RESKEY_migration_port=x
	((RC == 6)) || fail "validate-all with a bad port: $RC, want 6"
	agent validate-all "$WORK/s" OCF_RESKEY_migration_transport=ftp
	((RC == 6)) || fail "validate-all with a bad transport: $RC, want 6"
	agent monitor "$WORK/s" OCF_RESKEY_binary=/nonexistent/husk
	((RC == 7)) || fail "a probe without the binary: $RC, want 7"
	agent migrate_to "$WORK/s" OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1
	((RC == 1)) || fail "migrate_to of a VM that does not run: $RC, want 1"
	grep -q "the VM does not run here" "$WORK/agent.log" || fail "no reason for migrate_to"
}

need_husk
need_file "$TESTGUEST_ELF" "test guest"
command -v curl >/dev/null || skip "curl is not installed"
command -v ocf-tester >/dev/null || skip "ocf-tester is not installed (Debian: resource-agents)"
need_kvm
make_workdir
# shellcheck disable=SC2086 # the case names have no blanks
(($#)) || set -- $CASES
for c in "$@"; do
	"case_${c//-/_}"
	log "ok $c"
done
