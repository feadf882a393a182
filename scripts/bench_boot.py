#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot-time and memory benchmark helper for scripts/bench-boot.sh.

Runs husk and QEMU microvm N times each on the same test guest and measures:
  marker_ms   wall time from just before exec to the guest's "boot-marker" line
              arriving on the VMM's stdout (its serial console)
  exit_ms     wall time from just before exec to the VMM's exit
  overhead    the VMM's resident memory beyond the guest pages: total Rss of
              /proc/PID/smaps minus the Rss of the guest RAM mapping(s)
              (husk: the memfd:husk-guest-ram mapping(s); QEMU: the anonymous
              mapping whose size equals -m), peak over samples taken while the
              VM runs. Measured in separate runs ("hold=MS" on the guest command
              line keeps the test guest alive after its checks when the guest
              supports it; timing runs never sample, so sampling cannot skew them).
Prints "BENCH name value unit" lines and a table of medians with the ratio
QEMU/husk.
"""
import argparse
import os
import re
import selectors
import statistics
import subprocess
import sys
import threading
import time

MAP_RE = re.compile(rb"^[0-9a-f]+-[0-9a-f]+ ")
HUSK_MARKER_RE = re.compile(rb"boot marker after ([0-9.]+) ms")


def smaps_overhead(pid, is_guest):
    """(total Rss kB, guest Rss kB) from /proc/PID/smaps, or None if gone."""
    try:
        with open(f"/proc/{pid}/smaps", "rb") as f:
            data = f.read()
    except OSError:
        return None
    total = guest = 0
    cur_guest = False
    cur_name = b""
    for line in data.split(b"\n"):
        if MAP_RE.match(line):
            fields = line.split(None, 5)
            name = fields[5].strip() if len(fields) > 5 else b""
            cur_guest = False  # decided when Size: is seen
            cur_name = name
        elif line.startswith(b"Size:"):
            size = int(line.split()[1])
            cur_guest = is_guest(cur_name, size)
        elif line.startswith(b"Rss:"):
            rss = int(line.split()[1])
            total += rss
            if cur_guest:
                guest += rss
    return total, guest


class Run:
    def __init__(self):
        self.marker_ms = None
        self.exit_ms = None
        self.rc = None
        self.husk_marker_ms = None
        self.overhead_kb = None
        self.guest_kb = None
        self.samples = 0
        self.stdout = b""
        self.stderr = b""


def run_once(cmd, is_guest=None, sample_every=0.002):
    r = Run()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    peak = [None, None, 0]
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            s = smaps_overhead(p.pid, is_guest)
            if s is not None and p.poll() is None:
                total, guest = s
                if guest > 0:  # the guest RAM is mapped: the VM exists
                    peak[2] += 1
                    if peak[0] is None or total - guest > peak[0]:
                        peak[0], peak[1] = total - guest, guest
            stop.wait(sample_every)

    th = None
    if is_guest is not None:
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "out")
    sel.register(p.stderr, selectors.EVENT_READ, "err")
    out = bytearray()
    err = bytearray()
    open_streams = 2
    while open_streams:
        for key, _ in sel.select():
            chunk = os.read(key.fileobj.fileno(), 65536)
            now = time.perf_counter()
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.data == "out":
                out += chunk
                if r.marker_ms is None and b"boot-marker" in out:
                    r.marker_ms = (now - t0) * 1000
            else:
                err += chunk
    r.rc = p.wait()
    r.exit_ms = (time.perf_counter() - t0) * 1000
    if th:
        stop.set()
        th.join()
        r.overhead_kb, r.guest_kb, r.samples = peak
    r.stdout, r.stderr = bytes(out), bytes(err)
    m = HUSK_MARKER_RE.search(r.stderr)
    if m:
        r.husk_marker_ms = float(m.group(1))
    return r


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KkMmGg]?)", s)
    if not m:
        sys.exit(f"bench: bad memory size {s}")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--husk", required=True)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--guest", required=True, help="test guest ELF")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--hold-ms", type=int, default=300,
                    help="hold=MS for memory runs (0: never pass hold=)")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a target (marker ratio >= 3, overhead < 3 MiB) is missed")
    a = ap.parse_args()

    mem_bytes = parse_size(a.memory)
    mem_kb = mem_bytes >> 10
    base_cmdline = "tests=serial"

    def husk_cmd(cmdline):
        return [a.husk, "--test-devices", "--kernel", a.guest, "--cpus", str(a.cpus), "--memory", a.memory,
                "--serial", "stdio", "--cmdline", cmdline]

    def qemu_cmd(cmdline):
        return [a.qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host,-arch-capabilities",
                "-m", str(mem_bytes >> 20) + "M", "-smp", str(a.cpus), "-kernel", a.guest,
                "-append", cmdline, "-nographic", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]

    def husk_guest(name, size):
        return b"memfd:husk-guest-ram" in name

    def qemu_guest(name, size):
        # the RAM block: anonymous, exactly -m (allow a little alignment slack)
        return name == b"" and mem_kb <= size <= mem_kb + 4096

    vmms = [("husk", husk_cmd, husk_guest, 0)]
    if not a.no_qemu:
        vmms.append(("qemu", qemu_cmd, qemu_guest, 1))  # QEMU: (0 << 1) | 1

    def check(name, r, want_rc):
        if r.rc != want_rc or r.marker_ms is None:
            sys.stderr.write(f"bench: {name} run failed: exit {r.rc} (want {want_rc}), "
                             f"marker {'seen' if r.marker_ms else 'not seen'}\n")
            sys.stderr.write(r.stdout.decode(errors="replace")[-3000:])
            sys.stderr.write(r.stderr.decode(errors="replace")[-3000:])
            sys.exit(1)

    # Does the test guest support hold=MS? (husk run: exit 0 and takes >= MS)
    hold = 0
    if a.hold_ms > 0:
        r = run_once(husk_cmd(f"{base_cmdline} hold={a.hold_ms}"))
        if r.rc == 0 and r.marker_ms is not None and r.exit_ms >= a.hold_ms:
            hold = a.hold_ms
        print(f"# test guest hold=MS: {'supported' if hold else 'not supported'}"
              f"{'' if hold else ' (memory sampled while the guest runs its checks only)'}")

    res = {}
    for name, cmd, is_guest, want_rc in vmms:
        # warm-up run (page cache, first exec), not counted
        check(name, run_once(cmd(base_cmdline)), want_rc)
        timing, memory = [], []
        for _ in range(a.runs):
            r = run_once(cmd(base_cmdline))
            check(name, r, want_rc)
            timing.append(r)
        mem_cmdline = f"{base_cmdline} hold={hold}" if hold else base_cmdline
        for _ in range(a.runs):
            r = run_once(cmd(mem_cmdline), is_guest)
            check(name, r, want_rc)
            if r.overhead_kb is not None:
                memory.append(r)
        res[name] = (timing, memory)

    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    rows = []  # (metric, unit, husk, qemu)
    metrics = [
        ("boot_marker", "ms", lambda t, m: med(r.marker_ms for r in t)),
        ("exit", "ms", lambda t, m: med(r.exit_ms for r in t)),
        ("overhead_rss", "KiB", lambda t, m: med(r.overhead_kb for r in m)),
        ("guest_rss", "KiB", lambda t, m: med(r.guest_kb for r in m)),
    ]
    print(f"# {a.runs} runs each, --cpus {a.cpus} --memory {a.memory}, guest {a.guest}, "
          f"cmdline '{base_cmdline}'")
    for metric, unit, f in metrics:
        vals = {n: f(*res[n]) for n in res}
        for n, v in vals.items():
            if v is not None:
                print(f"BENCH {n}.{metric} {v:.3f} {unit}")
        rows.append((metric, unit, vals.get("husk"), vals.get("qemu")))
    for n in res:
        t, m = res[n]
        for label, xs in (("boot_marker ms", [r.marker_ms for r in t]),
                          ("exit ms", [r.exit_ms for r in t]),
                          ("overhead_rss KiB", [r.overhead_kb for r in m])):
            xs = [x for x in xs if x is not None]
            if xs:
                print(f"# {n} {label}: min {min(xs):.1f} max {max(xs):.1f} over {len(xs)} runs")
    hm = med(r.husk_marker_ms for r in res["husk"][0])
    if hm is not None:
        print(f"BENCH husk.boot_marker_logged {hm:.3f} ms")
    nsamples = med(r.samples for r in res["husk"][1])
    if nsamples is not None:
        print(f"# smaps samples per husk memory run (median): {nsamples}")
    for metric, unit, h, q in rows:
        if h and q:
            print(f"BENCH ratio.{metric} {q / h:.2f} x")

    def fmt(v):
        return "-" if v is None else f"{v:.1f}"

    print()
    print(f"{'metric (median)':<22} {'husk':>12} {'qemu microvm':>14} {'qemu/husk':>10}")
    for metric, unit, h, q in rows:
        ratio = f"{q / h:.2f}x" if h and q else "-"
        print(f"{metric + ' (' + unit + ')':<22} {fmt(h):>12} {fmt(q):>14} {ratio:>10}")
    print()
    ok = True
    h_marker, q_marker = rows[0][2], rows[0][3]
    if h_marker and q_marker:
        good = q_marker / h_marker >= 3
        ok &= good
        print(f"target: husk reaches the marker >= 3x sooner: {q_marker / h_marker:.2f}x "
              f"{'MET' if good else 'MISSED'}")
    h_over = rows[2][2]
    if h_over is not None:
        good = h_over < 3 * 1024
        ok &= good
        print(f"target: husk overhead < 3 MiB resident: {h_over / 1024:.2f} MiB "
              f"{'MET' if good else 'MISSED'}")
    if a.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
