#!/bin/bash
# The block and network benchmarks where this machine's KVM cannot run them:
# inside the nested harness's outer VM (QEMU TCG with an emulated AMD SVM
# CPU, kvm-amd in it), husk and QEMU (with KVM there) run the same test guest
# benchmark one after the other on the same nested KVM (bench/nested/*.sh).
# Each repetition is one boot of the outer VM; the table has the medians and
# the spread of the husk/QEMU ratio over the repetitions, then KVM's exit
# counts per request or packet for each VMM.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_DIR/$BUILD_DIR"
export BUILD_DIR

usage() {
	cat <<'USAGE'
Usage: scripts/bench-nested.sh [options] [blk] [net]

  --reps N     outer VM boots, each runs every case once (default 3)
  --smp N      outer vCPUs (default 4: the vCPU, the VMM's I/O threads and
               the tap's peer each get a CPU, as on a real host)
  --ms MS      milliseconds per benchmark (default 2000)
  --out DIR    results (default $BUILD_DIR/bench-nested)
  -h, --help   this text
Timings are of emulated CPUs (TCG): compare the ratios, not the absolute
numbers, with a real host's. Exit status: 0 done, 1 a run failed.
USAGE
}

reps=3 smp=4 ms=2000 out=$BUILD_DIR/bench-nested cases=()
while (($#)); do
	case "$1" in
	--reps) reps=$2; shift ;;
	--smp) smp=$2; shift ;;
	--ms) ms=$2; shift ;;
	--out) out=$2; shift ;;
	blk | net) cases+=("$1") ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench-nested.sh: unknown argument: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done
for v in "$reps" "$smp" "$ms"; do
	[[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "bench-nested.sh: not a positive number: $v" >&2; exit 1; }
done
((${#cases[@]})) || cases=(blk net)

# a TCG stall shows as a silent console; every case here prints within ~30 s
export NESTED_STALL_SECS=${NESTED_STALL_SECS:-90}
failed=0
for ((r = 1; r <= reps; r++)); do
	echo "bench-nested.sh: repetition $r of $reps (outer VM, -smp $smp)" >&2
	if ! NESTED_CASES_DIR="$REPO_DIR/bench/nested" NESTED_OUT="$out/rep-$r" BENCH_MS=$ms \
		"$REPO_DIR/scripts/nested/run.sh" --smp "$smp" "${cases[@]}" >"$out.rep-$r.log" 2>&1; then
		echo "bench-nested.sh: repetition $r failed:" >&2
		tail -n 15 "$out.rep-$r.log" >&2
		failed=1
	fi
done

# bench_values FILE: "NAME VALUE" of the BENCH lines (for post.log, QEMU's).
husk_values() { awk '$1 == "BENCH" { print $2, $3 }' "$1" | tr -d '\r'; }
qemu_values() {
	awk '/^qemu-begin/ { on = 1 } /^qemu-end/ { on = 0 } on && $1 == "BENCH" { print $2, $3 }' "$1" |
		tr -d '\r'
}
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

report() {
	local c=$1 units=$2 t u h q lo hi rows
	rows=$(for ((r = 1; r <= reps; r++)); do
		f="$out/rep-$r/results/$c"
		[[ -f "$f/output.log" && -f "$f/post.log" ]] || continue
		join <(husk_values "$f/output.log" | sort) <(qemu_values "$f/post.log" | sort) |
			awk -v r="$r" '{ print r, $0 }'
	done)
	[[ -n "$rows" ]] || { echo "$c: no results"; return 1; }
	printf '%-18s %-7s %12s %12s %9s %13s\n' "$c test" unit husk QEMU husk/QEMU "ratio min-max"
	# shellcheck disable=SC2013 # one word a line
	for t in $(awk '{ print $1 }' <<<"$units"); do
		u=$(awk -v t="$t" '$1 == t { print $2 }' <<<"$units")
		h=$(awk -v t="$t" '$2 == t { print $3 }' <<<"$rows" | median)
		q=$(awk -v t="$t" '$2 == t { print $4 }' <<<"$rows" | median)
		lo=$(awk -v t="$t" '$2 == t && $4 > 0 { print $3 / $4 }' <<<"$rows" | sort -g | head -n 1)
		hi=$(awk -v t="$t" '$2 == t && $4 > 0 { print $3 / $4 }' <<<"$rows" | sort -g | tail -n 1)
		awk -v t="$t" -v u="${u:--}" -v h="$h" -v q="$q" -v lo="$lo" -v hi="$hi" 'BEGIN {
			ratio = "-"
			if (q > 0)
				ratio = sprintf("%.2f", h / q)
			printf "%-18s %-7s %12s %12s %9s %13s\n", t, u, h, q, ratio,
				sprintf("%.2f-%.2f", lo, hi) }'
	done
}

# exits_line CASE WHO PER: KVM's counters (debugfs, last sample of each run)
# per request or packet, averaged over the repetitions.
BENCH_COUNTERS="exits io_exits mmio_exits irq_exits halt_exits request_irq_exits signal_exits irq_injections"
exits_line() {
	local c=$1 who=$2 per=$3
	for ((r = 1; r <= reps; r++)); do
		f="$out/rep-$r/results/$c/post.log"
		[[ -f "$f" ]] || continue
		sed -n "s/^kvm-exits $who: //p" "$f" | tr -d '\r' | tail -n 1
	done | awk -v who="$who" -v per="$per" -v keys="$BENCH_COUNTERS" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } n++ }
		END {
			if (!n || per <= 0) exit
			line = sprintf("  %-5s", who)
			k = split(keys, key, " ")
			for (i = 1; i <= k; i++)
				if (key[i] in s)
					line = line sprintf(" %s %.3f", key[i], s[key[i]] / n / per)
			print line
		}'
}

# husk_syscalls CASE: io_uring submits and SQEs of husk's device in the last
# repetition (--metrics' last line), per request or packet.
husk_syscalls() {
	local f='' dev g
	for g in "$out"/rep-*/results/"$1"/post.log; do
		[[ -f "$g" ]] && f=$g
	done
	[[ -n "$f" ]] || return 0
	dev=$(grep -o '"\(disk0\|net0\)":{[^}]*}' "$f" | tail -n 1)
	[[ -n "$dev" ]] || return 0
	sed 's/[,{}]/\n/g; s/"//g' <<<"$dev" | awk -F: '{ v[$1] = $2 } END {
		n = v["reads"] + v["writes"] + v["flushes"] + v["rx_packets"] + v["tx_packets"]
		if (n > 0 && v["uring_submissions"] > 0)
			printf "  husk  io_uring: %d submits for %d SQEs (%.2f a submit), %.2f submits per %s\n",
				v["uring_submissions"], v["engine_sqes"], v["engine_sqes"] / v["uring_submissions"],
				v["uring_submissions"] / n, v["reads"] != "" ? "request" : "packet" }'
}

# work WHO CASE: requests (blk) or packets (net) a run moved, from its rates.
work_done() {
	local c=$1 who=$2
	for ((r = 1; r <= reps; r++)); do
		f="$out/rep-$r/results/$c"
		if [[ "$who" = husk ]]; then husk_values "$f/output.log"; else qemu_values "$f/post.log"; fi 2>/dev/null
	done | awk -v ms="$ms" -v reps="$reps" '
		$1 ~ /^randread/ || $1 ~ /-pps$/ { n += $2 * ms / 1000 }
		$1 ~ /^seq/ { n += $2 * 8 * ms / 1000 }		# MiB/s of 128 KiB requests
		END { if (reps) printf "%.0f", n / reps }'
}

echo
echo "Nested (QEMU TCG, emulated SVM, outer -smp $smp), $reps repetitions, $ms ms per test;"
echo "QEMU $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }') with KVM in the same outer VM, medians:"
for c in "${cases[@]}"; do
	echo
	if [[ "$c" = blk ]]; then
		report blk "$(printf '%s\n' 'randread-4k-qd1 IOPS' 'randread-4k-qd32 IOPS' \
			'seqread-128k MiB/s' 'seqwrite-128k MiB/s')" || failed=1
		echo "KVM's counters per request (whole run, boot included):"
	else
		report net "$(printf 'net-%s-pps pps\nnet-%s-gbps Gbit/s\n' tx-64 tx-64 tx-1400 tx-1400 \
			rx-64 rx-64 rx-1400 rx-1400)" || failed=1
		echo "KVM's counters per packet (whole run, boot included):"
	fi
	for who in husk qemu; do
		exits_line "$c" "$who" "$(work_done "$c" "$who")"
	done
	husk_syscalls "$c"
done
exit "$failed"
