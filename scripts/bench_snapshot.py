#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Snapshot benchmark helper for scripts/bench-snapshot.sh (husk and QEMU side by side).

The guest is the test guest's "ticker" check: it prints "tick N" every 1 ms
(touch_kib=K: it first writes every page of K KiB, then one page per tick).
  restore   ms from exec of the VMM to the first byte of console output of the
            restored guest (husk --restore --resume; QEMU -incoming "exec:cat
            FILE"), and for husk also PUT /snapshot/load (resume_vm) on a fresh
            husk --api-sock until that first byte; husk's own "restored in" time
  create    ms for a Full snapshot of a paused VM (husk PUT /snapshot/create;
            QEMU migrate "exec:cat > FILE" until completed), next to what the
            disk takes to write and fsync the same number of bytes (dd)
  diff      ms for a husk Diff snapshot with about 1% of RAM dirty, over Full's
  density   host memory per clone (MemAvailable before and after N clones of a
            guest that has touched 64 MiB run) and restores per second
Prints "BENCH name value unit" lines and a table with the ratios.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PROCS = []


def spawn(cmd, out=subprocess.DEVNULL):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
    PROCS.append(p)
    return p


def kill(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def wait_for(pred, limit=30.0, step=0.0005):
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def file_has(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


def file_size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def http(sock_path, method, path, body=None):
    """One HTTP/1.1 request on a unix socket; returns the status code."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    data = json.dumps(body) if body is not None else ""
    s.sendall((f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n{data}").encode())
    resp = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        resp += chunk
    s.close()
    status = int(resp.split(b" ", 2)[1])
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.decode(errors='replace')}")
    return status


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        wait_for(lambda: os.path.exists(path), 10)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        while True:
            msg = json.loads(self.f.readline())
            if "return" in msg or "error" in msg:
                if "error" in msg:
                    raise RuntimeError(f"QMP {name}: {msg['error']}")
                return msg["return"]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = tempfile.mkdtemp(prefix="husk-bench-snap.", dir=a.dir)
        self.results = {}
        self.guest = a.guest

    def p(self, name):
        return os.path.join(self.dir, name)

    def report(self, name, value, unit):
        self.results[name] = value
        print(f"BENCH {name} {value:.2f} {unit}", flush=True)

    # ---- husk ----------------------------------------------------------------
    def husk_template(self, tag, mem_mib, cmdline, extra=()):
        sock, con = self.p(f"{tag}.sock"), self.p(f"{tag}.console")
        p = spawn([self.a.husk, "--api-sock", sock, "--serial", f"file:{con}", "--kernel",
                   self.guest, "--memory", f"{mem_mib}M", "--cmdline", cmdline, *extra])
        if not wait_for(lambda: file_has(con, "tick 300\r\n"), 60):
            raise RuntimeError(f"husk template {tag}: no tick 300 ({con})")
        return p, sock

    def husk_snapshot(self, sock, tag, kind="Full"):
        t0 = time.perf_counter()
        http(sock, "PUT", "/snapshot/create", {"snapshot_type": kind,
             "snapshot_path": self.p(f"{tag}.snap"), "mem_file_path": self.p(f"{tag}.mem")})
        return (time.perf_counter() - t0) * 1e3

    def husk_restore_exec(self, tag, run):
        con = self.p(f"{tag}.r{run}.console")
        t0 = time.perf_counter()
        p = spawn([self.a.husk, "--restore", self.p(f"{tag}.snap"), "--restore-mem",
                   self.p(f"{tag}.mem"), "--resume", "--serial", f"file:{con}"])
        ok = wait_for(lambda: file_size(con) > 0, 30)
        ms = (time.perf_counter() - t0) * 1e3
        kill(p)
        err = p.stderr.read().decode()
        own = [float(x.split("restored in ")[1].split(" ms")[0]) for x in err.splitlines()
               if "restored in" in x]
        if not ok:
            raise RuntimeError(f"husk restore {tag}: no output; {err}")
        return ms, own[0] if own else float("nan")

    def husk_restore_api(self, tag, run):
        sock, con = self.p(f"{tag}.a{run}.sock"), self.p(f"{tag}.console")
        p = spawn([self.a.husk, "--api-sock", sock])
        wait_for(lambda: os.path.exists(sock), 10)
        if os.path.exists(con):
            os.unlink(con)  # the restored VM writes the snapshot's console (the template's)
        t0 = time.perf_counter()
        http(sock, "PUT", "/snapshot/load", {"snapshot_path": self.p(f"{tag}.snap"),
             "mem_backend": {"backend_type": "File", "backend_path": self.p(f"{tag}.mem")},
             "resume_vm": True})
        ok = wait_for(lambda: file_size(con) > 0, 30)
        ms = (time.perf_counter() - t0) * 1e3
        kill(p)
        if not ok:
            raise RuntimeError(f"husk API restore {tag}: no output")
        return ms

    # ---- QEMU ----------------------------------------------------------------
    def qemu_cmd(self, mem_mib, cmdline, con, qmp=None, incoming=None):
        cmd = [self.a.qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host,-arch-capabilities",
               "-m", f"{mem_mib}M", "-smp", "1", "-kernel", self.guest, "-append", cmdline,
               "-display", "none", "-serial", f"file:{con}", "-no-reboot", "-nodefaults"]
        if qmp:
            cmd += ["-qmp", f"unix:{qmp},server=on,wait=off"]
        if incoming:
            cmd += ["-incoming", f"exec:cat {incoming}"]
        return cmd

    def qemu_template(self, tag, mem_mib, cmdline):
        con, qmp = self.p(f"q{tag}.console"), self.p(f"q{tag}.qmp")
        p = spawn(self.qemu_cmd(mem_mib, cmdline, con, qmp))
        if not wait_for(lambda: file_has(con, "tick 300\r\n"), 60):
            raise RuntimeError(f"QEMU template {tag}: no tick 300")
        q = Qmp(qmp)
        # migrated while running: the copy stops the VM at the end and the
        # -incoming side then runs it at once (a stopped source would stay stopped)
        t0 = time.perf_counter()
        q.cmd("migrate", uri=f"exec:cat > {self.p('q' + tag + '.state')}")
        while q.cmd("query-migrate").get("status") not in ("completed", "failed"):
            time.sleep(0.001)
        ms = (time.perf_counter() - t0) * 1e3
        kill(p)
        return ms

    def qemu_restore(self, tag, mem_mib, cmdline, run):
        con = self.p(f"q{tag}.r{run}.console")
        t0 = time.perf_counter()
        p = spawn(self.qemu_cmd(mem_mib, cmdline, con, incoming=self.p(f"q{tag}.state")))
        ok = wait_for(lambda: file_size(con) > 0, 30)
        ms = (time.perf_counter() - t0) * 1e3
        kill(p)
        if not ok:
            raise RuntimeError(f"QEMU restore {tag}: no output")
        return ms

    # ---- the measurements ------------------------------------------------------
    def restore(self):
        cmd = "tests=ticker ticks=100000000"
        p, sock = self.husk_template("r", 128, cmd)
        http(sock, "PATCH", "/vm", {"state": "Paused"})
        self.husk_snapshot(sock, "r")
        kill(p)
        runs = [self.husk_restore_exec("r", i) for i in range(self.a.runs)]
        self.report("husk_restore_exec_ms", median([r[0] for r in runs]), "ms")
        self.report("husk_restore_own_ms", median([r[1] for r in runs]), "ms")
        self.report("husk_restore_api_ms",
                    median([self.husk_restore_api("r", i) for i in range(self.a.runs)]), "ms")
        if self.a.qemu:
            self.qemu_template("r", 128, cmd)
            self.report("qemu_restore_exec_ms",
                        median([self.qemu_restore("r", 128, cmd, i) for i in range(self.a.runs)]),
                        "ms")

    def dd_ms(self, mib):
        t0 = time.perf_counter()
        subprocess.run(["dd", "if=/dev/zero", f"of={self.p('dd.bin')}", "bs=1M", f"count={mib}",
                        "conv=fsync", "status=none"], check=True)
        ms = (time.perf_counter() - t0) * 1e3
        os.unlink(self.p("dd.bin"))
        return ms

    def create(self):
        for mib in (128, 1024):
            touch = mib * 1024 // 2
            cmd = f"tests=ticker ticks=100000000 touch_kib={touch}"
            p, sock = self.husk_template(f"c{mib}", mib, cmd)
            http(sock, "PATCH", "/vm", {"state": "Paused"})
            full = self.husk_snapshot(sock, f"c{mib}")
            kill(p)
            self.report(f"husk_full_{mib}m_ms", full, "ms")
            self.report(f"dd_{mib}m_ms", self.dd_ms(mib), "ms")
            if self.a.qemu:
                self.report(f"qemu_full_{mib}m_ms", self.qemu_template(f"c{mib}", mib, cmd), "ms")
            for f in os.listdir(self.dir):
                if f.endswith((".mem", ".state")):
                    os.unlink(self.p(f))
        # Diff with ~1% of 1 GiB dirty: the ticker rewrites 10 MiB, a page a tick
        cmd = "tests=ticker ticks=100000000 touch_kib=10240"
        p, sock = self.husk_template("d", 1024, cmd, ("--track-dirty-pages",))
        http(sock, "PATCH", "/vm", {"state": "Paused"})
        full = self.husk_snapshot(sock, "d")
        http(sock, "PATCH", "/vm", {"state": "Resumed"})
        time.sleep(3.0)  # 2560 pages at 1 tick/ms: the whole 10 MiB and more
        http(sock, "PATCH", "/vm", {"state": "Paused"})
        diff = self.husk_snapshot(sock, "d", "Diff")
        kill(p)
        used = os.stat(self.p("d.mem")).st_blocks * 512 / (1 << 20)
        self.report("husk_full_1g_dirty_ms", full, "ms")
        self.report("husk_diff_1pct_ms", diff, "ms")
        self.report("husk_diff_1pct_mib", used, "MiB")

    def mem_available_kib(self):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
        return 0

    def density(self):
        n = self.a.clones
        cmd = "tests=ticker ticks=100000000 tick_us=100000 touch_kib=65536"
        tag = "n"

        def clones(start_one, consoles):
            before = self.mem_available_kib()
            t0 = time.perf_counter()
            procs = [start_one(i) for i in range(n)]
            ok = wait_for(lambda: all(file_size(c) > 0 for c in consoles), 120, 0.005)
            secs = time.perf_counter() - t0
            time.sleep(1.0)
            after = self.mem_available_kib()
            for q in procs:
                kill(q)
            if not ok:
                raise RuntimeError("not every clone ran")
            return (before - after) / 1024 / n, n / secs

        p, sock = self.husk_template(tag, 256, cmd.replace("tick_us=100000", "tick_us=1000"))
        http(sock, "PATCH", "/vm", {"state": "Paused"})
        self.husk_snapshot(sock, tag)
        kill(p)
        cons = [self.p(f"n.c{i}.console") for i in range(n)]
        per, rate = clones(lambda i: spawn([self.a.husk, "--restore", self.p("n.snap"),
                                            "--restore-mem", self.p("n.mem"), "--resume",
                                            "--serial", f"file:{cons[i]}"]), cons)
        self.report("husk_clone_mib", per, "MiB")
        self.report("husk_restores_per_s", rate, "1/s")
        if self.a.qemu:
            self.qemu_template(tag, 256, cmd)
            qcons = [self.p(f"qn.c{i}.console") for i in range(n)]
            per, rate = clones(lambda i: spawn(self.qemu_cmd(256, cmd, qcons[i],
                                                             incoming=self.p("qn.state"))), qcons)
            self.report("qemu_clone_mib", per, "MiB")
            self.report("qemu_restores_per_s", rate, "1/s")

    def table(self):
        r = self.results
        rows = [
            ("restore, exec to first output (ms)", "husk_restore_exec_ms", "qemu_restore_exec_ms",
             "QEMU >= 10x"),
            ("restore, PUT /snapshot/load to first output (ms)", "husk_restore_api_ms", None,
             "<= 5 ms"),
            ("restore, husk's own build and load (ms)", "husk_restore_own_ms", None, ""),
            ("Full snapshot, 128 MiB (ms)", "husk_full_128m_ms", "qemu_full_128m_ms", ""),
            ("Full snapshot, 1 GiB (ms)", "husk_full_1024m_ms", "qemu_full_1024m_ms", ""),
            ("host: dd 128 MiB + fsync (ms)", "dd_128m_ms", None, ""),
            ("host: dd 1 GiB + fsync (ms)", "dd_1024m_ms", None, ""),
            ("Diff, ~1% of 1 GiB dirty (ms)", "husk_diff_1pct_ms", None, "<= 10% of Full"),
            ("host memory per clone of a 64 MiB guest (MiB)", "husk_clone_mib", "qemu_clone_mib",
             ""),
            ("restores per second", "husk_restores_per_s", "qemu_restores_per_s", ""),
        ]
        print("\n| measure | husk | QEMU | husk better by | target |\n|---|---|---|---|---|")
        missed = []
        for label, h, q, target in rows:
            if h not in r:
                continue
            hv, qv = r[h], r.get(q) if q else None
            higher_better = h.endswith("_per_s")
            ratio = (f"{(hv / qv if higher_better else qv / hv):.1f}x" if qv and hv else "")
            print(f"| {label} | {hv:.1f} | {'' if qv is None else f'{qv:.1f}'} | {ratio} | {target} |")
        if "husk_diff_1pct_ms" in r and "husk_full_1g_dirty_ms" in r:
            pct = 100 * r["husk_diff_1pct_ms"] / r["husk_full_1g_dirty_ms"]
            print(f"\nDiff / Full on the same VM: {pct:.1f}% ({r['husk_diff_1pct_mib']:.1f} MiB written)")
            if pct > 10:
                missed.append("Diff > 10% of Full")
        if r.get("husk_restore_api_ms", 0) > 5:
            missed.append("restore > 5 ms")
        if r.get("qemu_restore_exec_ms") and r["qemu_restore_exec_ms"] < 10 * r["husk_restore_exec_ms"]:
            missed.append("restore < 10x QEMU")
        if missed:
            print("targets missed: " + ", ".join(missed))
        return missed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--husk", required=True)
    ap.add_argument("--qemu", default=None)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--clones", type=int, default=20)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--only", default="restore,create,density")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    b = Bench(a)
    try:
        for part in a.only.split(","):
            getattr(b, part)()
        missed = b.table()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", b.dir])
    return 1 if a.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
