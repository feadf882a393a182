#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seed inputs of tests/fuzz/corpus/NAME/ (the ones
named seed-*; the fuzzers' own finds, added with scripts/fuzz.sh --merge,
are named by their SHA-1). Run: python3 tests/fuzz/make_corpus.py [NAME...]"""
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = {}


def seeds(name):
    def reg(fn):
        SEEDS[name] = fn
        return fn
    return reg


# ---- serial: op, offset (0-9), width index (0:1 1:2 2:4), value bytes ----
def sw(off, val, w=0):
    return bytes([0, off, w]) + val.to_bytes([1, 2, 4][w], "little")


def sr(off, w=0):
    return bytes([4, off, w])


def srx(data):
    return bytes([6, 0, 0, len(data)]) + data


@seeds("serial")
def serial_seeds():
    init = sw(3, 0x80) + sw(0, 1) + sw(1, 0) + sw(3, 0x03) + sw(2, 0xc7) + sw(4, 0x0b)
    return {
        "init-tx": init + sw(1, 0x02) + b"".join(sw(0, c) for c in b"hi\n") + sr(2) + sr(5),
        "rx-irq": init + sw(1, 0x01) + srx(b"abc") + sr(2) + sr(5) + sr(0) + sr(0) + sr(0) + sr(5),
        "loopback": init + sw(4, 0x1f) + sw(0, 0x55) + sr(0) + sr(6) + sr(7) + sw(7, 0xaa) + sr(7),
        "fifo-full": init + bytes([7, 0, 0]) + sr(5) + sr(2) + sw(2, 0x02) + sr(5),
        "wide": sw(0, 0x12345678, 2) + sr(0, 1) + sr(6, 2) + sr(9, 0),
    }


# ---- ports: op (bits 0-1: 0 write, 2 read, 3 host; bits 2-3 width), base, offset+2
PB = {"kbd": 0, "kbdcmd": 1, "rtc": 2, "exit": 3, "marker": 4, "msi": 5, "slp": 6,
      "ged": 7, "pvpanic": 8, "wdt": 9, "wdt8": 10, "wdt16": 11, "com": 12}


def pw(dev, off, val, w=0):
    return bytes([w << 2, PB[dev], off + 2]) + val.to_bytes([1, 2, 4][w], "little")


def pr(dev, off, w=0):
    return bytes([2 | w << 2, PB[dev], off + 2])


@seeds("ports")
def ports_seeds():
    tick = lambda ms: bytes([3]) + (ms * 1000).to_bytes(4, "little")
    return {
        "i8042": pr("kbdcmd", 0) + pw("kbdcmd", 0, 0x20) + pr("kbd", 0) + pw("kbdcmd", 0, 0x60)
        + pw("kbd", 0, 0x47) + pw("kbdcmd", 0, 0xaa) + pr("kbd", 0) + pw("kbdcmd", 0, 0xd1)
        + pw("kbd", 0, 0xdf) + pw("kbdcmd", 0, 0xfe),
        "rtc": b"".join(pw("rtc", 0, r) + pr("rtc", 1) for r in (0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x32, 0x7f, 0x8f))
        + pw("rtc", 0, 0x0b) + pw("rtc", 1, 0x06) + pw("rtc", 0, 0x00) + pr("rtc", 1),
        "acpi": pr("slp", 1) + pw("slp", 0, 0x14) + pw("slp", 0, 0x34) + pw("slp", 2, 1)
        + bytes([3 | 1 << 2]) + pr("ged", 0) + pr("ged", 0) + pr("pvpanic", 0) + pw("pvpanic", 0, 1)
        + pw("pvpanic", 0, 2),
        "watchdog": pw("wdt", 4, 50, 2) + pw("wdt", 0xc, 1, 2) + tick(1000) + pw("wdt", 0, 1, 2)
        + pr("wdt8", 0, 2) + bytes([3 | 3 << 2]) + tick(6000) + pr("wdt16", 0, 2) + pw("wdt16", 0, 0, 2)
        + pw("wdt", 0xc, 0, 2),
        "debug": pw("marker", 0, 123) + pw("msi", 0, 0x0130, 2) + pr("exit", 0, 2) + pw("exit", 0, 7, 2),
        "com": pw("com", 3, 0x80) + pw("com", 0, 1) + pw("com", 3, 3) + pw("com", 1, 1)
        + bytes([3 | 2 << 2, 3]) + b"abc" + pr("com", 2) + pr("com", 0) + pr("com", 5),
    }


# ---- boot: mem, cpus, virtio-mmio, cmdline len, initrd pages (u16), then the kernel
def boot_prefix(mem=0, cpus=1, mmio=0, cmdline=b"console=ttyS0", initrd=0):
    return bytes([mem, cpus, mmio, len(cmdline)]) + cmdline + initrd.to_bytes(2, "little")


def le(v, n):
    return v.to_bytes(n, "little")


def bzimage(setup_sects=4, version=0x020f, xlf=0x3, reloc=1, pref=0x1000000, init=0x400000,
            payload=0x1000, cmdline_size=2047, initrd_max=0x37ffffff, syssize_extra=0):
    setup = (setup_sects or 4) + 1
    img = bytearray(b"\x11" * (setup * 512)) + bytearray((i * 7) & 0xff for i in range(payload))
    hdr = {0x1f1: le(setup_sects, 1), 0x1f4: le(payload // 16 + syssize_extra, 4),
           0x1fe: le(0xaa55, 2), 0x200: le(0xeb | (0x26c - 0x202) << 8, 2), 0x202: b"HdrS",
           0x206: le(version, 2), 0x211: le(1, 1), 0x214: le(0x100000, 4), 0x224: le(0x1234, 2),
           0x22c: le(initrd_max, 4), 0x230: le(0x200000, 4), 0x234: le(reloc, 1),
           0x236: le(xlf, 2), 0x238: le(cmdline_size, 4), 0x258: le(pref, 8), 0x260: le(init, 4)}
    for off, b in hdr.items():
        img[off:off + len(b)] = b
    return bytes(img)


@seeds("bzimage")
def bzimage_seeds():
    return {
        "plain": boot_prefix() + bzimage(pref=0x400000, init=0x200000),
        "initrd": boot_prefix(mem=2, cpus=2, initrd=3) + bzimage(),
        "fixed-old": boot_prefix(mem=1, cmdline=b"x" * 200) + bzimage(version=0x020c, reloc=0, xlf=1, cmdline_size=255, pref=0x100000, init=0x100000),
        "high": boot_prefix(mem=3, cpus=4, mmio=2, initrd=9) + bzimage(pref=0x2000000, init=0x1000000),
        "truncated": boot_prefix() + bzimage(syssize_extra=0x100),
    }


def elf64(segs, entry=0x100000, pvh=None, etype=2):
    """segs: (paddr, filesz, memsz); pvh: the PHYS32_ENTRY or None."""
    phnum = len(segs) + (1 if pvh is not None else 0)
    off = 64 + 56 * phnum
    body = bytearray()
    ph = bytearray()
    note = b""
    if pvh is not None:
        note = le(4, 4) + le(4, 4) + le(18, 4) + b"Xen\0" + le(pvh, 4)
    data_off = off + len(note)
    for paddr, filesz, memsz in segs:
        ph += le(1, 4) + le(7, 4) + le(data_off + len(body), 8) + le(0xffffffff80000000 + paddr, 8) \
            + le(paddr, 8) + le(filesz, 8) + le(memsz, 8) + le(0x1000, 8)
        body += bytes((i * 13) & 0xff for i in range(filesz))
    if pvh is not None:
        ph += le(4, 4) + le(4, 4) + le(off, 8) + le(0, 8) + le(0, 8) + le(len(note), 8) \
            + le(len(note), 8) + le(4, 8)
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + le(etype, 2) + le(62, 2) + le(1, 4) \
        + le(entry, 8) + le(64, 8) + le(0, 8) + le(0, 4) + le(64, 2) + le(56, 2) + le(phnum, 2) \
        + le(64, 2) + le(0, 2) + le(0, 2)
    return bytes(eh + ph + note + body)


@seeds("elf")
def elf_seeds():
    return {
        "one-load": boot_prefix() + elf64([(0x100000, 0x200, 0x1000)]),
        "pvh": boot_prefix(cpus=2, initrd=2) + elf64([(0x100000, 0x100, 0x100), (0x200000, 0x80, 0x3000)], pvh=0x100010),
        "bss-big": boot_prefix(mem=2) + elf64([(0x100000, 0x40, 0x1000000)], pvh=0x100000),
        "high": boot_prefix(mem=3, mmio=1, initrd=5) + elf64([(0x400000, 0x100, 0x100)], entry=0x400000),
    }


FC_EXAMPLE = b"""{
  "boot-source": {"kernel_image_path": "vmlinux.bin", "boot_args": "console=ttyS0 reboot=k panic=1 pci=off", "initrd_path": null},
  "drives": [{"drive_id": "rootfs", "partuuid": null, "is_root_device": true, "cache_type": "Unsafe",
              "is_read_only": false, "path_on_host": "bionic.rootfs.ext4", "io_engine": "Sync",
              "rate_limiter": null, "socket": null}],
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 1024, "smt": false, "track_dirty_pages": false, "huge_pages": "None"},
  "cpu-config": null, "balloon": null, "network-interfaces": [], "vsock": null, "logger": null,
  "metrics": null, "mmds-config": null, "entropy": null
}
"""
ALL_SECTIONS = (b'{"boot-source":{"kernel_image_path":"k","initrd_path":"i"},'
                b'"machine-config":{"vcpu_count":4,"mem_size_mib":64,"huge_pages":"2M"},'
                b'"drives":[{"drive_id":"a","path_on_host":"a.img","is_read_only":true,"io_engine":"Async"},'
                b'{"drive_id":"b","path_on_host":"b.img"}],'
                b'"network-interfaces":[{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"06:00:AC:10:00:02"}],'
                b'"logger":{"log_path":"l.log","level":"Debug","show_level":true},'
                b'"metrics":{"metrics_path":"m.json"},"husk":{}}')


@seeds("config_file")
def config_seeds():
    return {
        "fc-example-file": b"\x01" + FC_EXAMPLE,
        "fc-example-buf": b"\x00" + FC_EXAMPLE,
        "all-sections": b"\x00" + ALL_SECTIONS,
        "bad-type": b"\x00" + b'{"machine-config":{"vcpu_count":"two"}}  ',
        "trailing": b"\x01" + b'{"drives":[]} x',
        "balloon": b"\x00" + b'{"balloon":{"amount_mib":64,"deflate_on_oom":true,'
                   b'"stats_polling_interval_s":1,"free_page_reporting":true},'
                   b'"machine-config":{"vcpu_count":1,"mem_size_mib":128}}',
    }


# ---- api: route | 0x80 started, id len, id, body len u16, body
ROUTES = ["PUT /boot-source", "PUT /machine-config", "PATCH /machine-config", "PUT /drives/",
          "PUT /network-interfaces/", "PUT /actions", "PATCH /vm", "PATCH /drives/",
          "PUT /logger", "PUT /metrics", "GET /", "GET /machine-config", "GET /vm/config",
          "GET /metrics", "DELETE /", "PUT /drives", "PUT /balloon", "PATCH /balloon",
          "PATCH /balloon/statistics", "GET /balloon", "GET /balloon/statistics"]


def req(route, body, rid=b"", started=False):
    return bytes([ROUTES.index(route) | (0x80 if started else 0), len(rid)]) + rid \
        + le(len(body), 2) + body


@seeds("api")
def api_seeds():
    return {
        "preboot": req("PUT /boot-source", b'{"kernel_image_path":"vmlinux","boot_args":"console=ttyS0"}')
        + req("PUT /machine-config", b'{"vcpu_count":2,"mem_size_mib":256}')
        + req("PATCH /machine-config", b'{"mem_size_mib":512}')
        + req("PUT /drives/", b'{"drive_id":"rootfs","path_on_host":"r.img","is_root_device":true,"is_read_only":false}', b"rootfs")
        + req("PUT /network-interfaces/", b'{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"06:00:00:00:00:01"}', b"eth0"),
        "bad": req("PUT /drives/", b'{"drive_id":"x","path_on_host":"r.img"}', b"y")
        + req("PUT /machine-config", b'[1,2]') + req("PUT /boot-source", b"") + req("PATCH /vm", b'{"state":"Paused"}')
        + req("PUT /actions", b'{"action_type":"SendCtrlAltDel"}'),
        "balloon": req("PUT /machine-config", b'{"vcpu_count":1,"mem_size_mib":256}')
        + req("PUT /balloon", b'{"amount_mib":64,"deflate_on_oom":true,"stats_polling_interval_s":1,"free_page_reporting":true}')
        + req("PATCH /balloon", b'{"amount_mib":32}') + req("PATCH /balloon/statistics", b'{"stats_polling_interval_s":5}')
        + req("GET /balloon", b"") + req("GET /balloon/statistics", b"")
        + req("PUT /balloon", b'{"amount_mib":4096,"deflate_on_oom":false}')
        + req("PATCH /balloon", b'{"amount_mib":1}', started=True),
        "started": req("PUT /actions", b'{"action_type":"InstanceStart"}', started=True)
        + req("PATCH /vm", b'{"state":"Resumed"}', started=True)
        + req("PUT /boot-source", b'{"kernel_image_path":"k"}', started=True)
        + req("PATCH /drives/", b'{}', b"rootfs", started=True),
    }


# ---- snapshot: a whole state file (state/snapfile.h); 0xfe first: fix the frame
def le(v, n):
    return v.to_bytes(n, "little")


def snap_str(b):
    return le(0xffffffff, 4) if b is None else le(len(b), 4) + b


def snap_file(sections):
    body = b"".join(bytes([len(t)]) + t + le(v, 4) + le(len(p), 8) + p for t, v, p in sections)
    total = 44 + len(body) + 4
    head = b"HUSKSNAP" + le(1, 4) + le(0, 4) + le(total, 8) + b"0.1.0".ljust(16, b"\0")
    data = head + le(len(sections), 4) + body
    return data + le(zlib.crc32(data), 4)


def snap_config(disks=(), nets=()):
    c = le(2, 4) + le(128 << 20, 8) + bytes([0, 0, 1, 0, 0]) + le(10, 4)
    c += snap_str(b"none") + snap_str(b"/k") + snap_str(None) + snap_str(b"console=ttyS0")
    c += bytes([len(disks)])
    for d in disks:
        c += snap_str(d) + snap_str(b"disk0") + snap_str(None) + bytes([1, 0]) + le(1, 4)
        c += bytes([0]) + le(32, 4) + bytes([1])
    c += bytes([len(nets)])
    for n in nets:
        c += snap_str(n) + snap_str(None) + bytes(6) + bytes([0]) + le(1, 4) + le(0, 4) + bytes([0])
    return c


@seeds("snapshot")
def snapshot_seeds():
    host = b"GenuineIntel" + le(6, 4) + le(85, 4) + le(0x12345678, 4)
    serial = bytes([1, 0xc7, 3, 0x0b, 0, 0xb0, 0, 1, 0, 1, 0, 0, 2, 3]) + bytes(range(64))
    full = snap_file([(b"config", 1, snap_config([b"/d.img"], [b"tap0"])), (b"host", 1, host),
                      (b"serial0", 1, serial), (b"vcpu0", 1, bytes(40))])
    return {
        "full": full,
        "minimal": snap_file([(b"config", 1, snap_config()), (b"host", 1, host)]),
        "empty": snap_file([]),
        "fixed-frame": b"\xfe" + full[:-9] + b"\0\0\0\0\0",
        "dup": b"\xfe" + snap_file([(b"rtc", 1, b"a"), (b"rtc", 1, b"b")]),
        "truncated": full[:100],
    }


def main():
    names = sys.argv[1:] or sorted(SEEDS)
    for name in names:
        out = os.path.join(HERE, "corpus", name)
        os.makedirs(out, exist_ok=True)
        for seed, data in SEEDS[name]().items():
            with open(os.path.join(out, "seed-" + seed), "wb") as f:
                f.write(data)
        print(f"make_corpus: {name}: {len(SEEDS[name]())} seeds in {out}")


if __name__ == "__main__":
    main()
