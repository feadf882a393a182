#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seeds (seed-*) of the virtio and PCI fuzz targets
into tests/fuzz/corpus/NAME/; the encodings are described at the top of
each tests/fuzz/fuzz_NAME.c. Run: python3 tests/fuzz/make_corpus_virtio.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = {}


def seeds(name):
    def reg(fn):
        SEEDS[name] = fn
        return fn
    return reg


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


# ---- fz_guest_op (fuzz_virtio_helpers.h) ---------------------------------
def addr(a):                       # fz_addr: "in RAM" form (u32 % ram)
    return u8(3) + u32(a)


def desc(i, a, ln, flags=0, nxt=0):
    return (u8(0) + u16(i) + addr(a) + u8(0) + u16(ln) + u8(flags) + u8(0) + u8(nxt))


def idesc(table, i, a, ln, flags=0, nxt=0):
    return (u8(1) + addr(table) + u16(i) + addr(a) + u8(0) + u16(ln) + u8(flags) +
            u8(0) + u8(nxt))


def publish(head):
    return u8(2) + u8(0) + u8(head)


def used_event(v):
    return u8(4) + u8(0) + u16(v)


DESC, AVAIL, USED, BUF, IND = 0x1000, 0x2000, 0x3000, 0x8000, 0x6000


# ---- virtqueue --------------------------------------------------------------
def vq_hdr(size_exp=3, feat=3, segs=16):
    return u8(0) + u8(size_exp) + u8(feat) + u8(segs - 1) + addr(DESC) + addr(AVAIL) + \
        addr(USED) + u8(0)


def POP(): return u8(6)
def RW(off, ln, write): return u8(7) + u8(0) + u16(off) + u16(ln) + u8(write)
def PUSH(h, ln): return u8(8) + u16(h) + u32(ln)


@seeds("virtqueue")
def virtqueue_seeds():
    simple = desc(0, BUF, 16, 1, 1) + desc(1, BUF + 16, 512, 3, 2) + desc(2, BUF + 600, 1, 2)
    return {
        "chain": vq_hdr() + simple + publish(0) + POP() + RW(0, 16, 0) + RW(0, 513, 1) +
        PUSH(0, 513) + u8(13) + u16(0),
        "indirect": vq_hdr() + idesc(IND, 0, BUF, 16, 1, 1) + idesc(IND, 1, BUF + 64, 64, 2) +
        desc(0, IND, 32, 4) + publish(0) + POP() + RW(0, 64, 1) + PUSH(0, 64),
        "loop": vq_hdr() + desc(0, BUF, 8, 1, 1) + desc(1, BUF, 8, 1, 0) + publish(0) + POP() +
        POP(),
        "event-idx": vq_hdr(feat=2) + desc(0, BUF, 8) + used_event(0) + publish(0) +
        u8(11) + u8(0) + u8(1) + POP() + PUSH(0, 0) + u8(13) + u16(0) + u8(12) +
        u8(11) + u8(1),
        "end-of-ram": vq_hdr(segs=2) + desc(0, 0x10000 - 8, 8, 1, 1) + desc(1, 0xfff0, 17, 2) +
        publish(0) + POP() + u8(10) + u8(2) + u16(0) + u32(1) + u16(1) + u32(2) + u8(14) + u8(0),
    }


# ---- virtio-mmio: nq, qmax, flags, then ops ---------------------------------
def qsetup(q, size_exp):
    return u8(8) + u8(q) + u8(size_exp) + addr(DESC) + addr(AVAIL) + addr(USED)


def mw(off, v, w=2):
    return u8(6) + u16(off) + u8(w) + u64(v)


@seeds("virtio_mmio")
def virtio_mmio_seeds():
    ring = desc(0, BUF, 16, 1, 1) + desc(1, BUF + 64, 64, 2) + publish(0)
    return {
        "bringup": u8(1) + u8(8) + u8(0) + u8(9) + u8(1) + qsetup(0, 3) + ring +
        mw(0x50, 0) + u8(10) + u8(7) + u16(0x60) + u8(2) + mw(0x64, 1) + u8(7) + u16(0x100) + u8(3),
        "reset": u8(0) + u8(8) + u8(0) + u8(9) + u8(0) + qsetup(0, 2) + u8(12) + u8(0) +
        u8(11) + u8(1) + u8(7) + u16(0x70) + u8(2),
        "bad-ring": u8(1) + u8(4) + u8(2) + u8(9) + u8(1) + qsetup(1, 2) + desc(0, 0xfffff0, 64) +
        publish(0) + u8(10) + u8(11) + u8(0),
    }


# ---- pci_bus / virtio_pci: header, then fz_bus_op operations ----------------
def bacc(write, wi, sel, rest, v):
    return u8(0) + u8((wi << 1) | write) + u8(sel) + rest + u64(v)


def bar0(off, v, write=1, wi=2):
    return bacc(write, wi, 3, u16(off), v)


def G(ops):                        # fz_bus_op 5: a ring edit, its op next
    return u8(5) + ops


def bus_bringup():
    return [u8(10) + u8(0) + u8(1) + u8(1) + u8(3) + u8(3) + addr(DESC) + addr(AVAIL) +
            addr(USED), u8(11) + u8(0) + u8(0) + u8(0x40) + u8(0) + u8(1),
            G(desc(0, BUF, 16, 1, 1)), G(desc(1, BUF + 64, 64, 2)), G(publish(0)),
            bar0(0x3000, 0, 1, 1), u8(12)]


@seeds("pci_bus")
def pci_bus_seeds():
    return {
        "virtio-pci": u8(0x04) + b"".join(bus_bringup()) + bar0(0x1000, 0, 0, 0) + bar0(0x2000, 0, 0, 2),
        "cf8-ecam": u8(0x01) + bacc(1, 2, 0, u8(0), 0x80000800) + bacc(0, 2, 0, u8(4), 0) +
        bacc(0, 2, 1, u8(1) + u16(0x10), 0) + bacc(1, 2, 1, u8(1) + u16(0x10), 0xffffffff) +
        bacc(0, 2, 1, u8(1) + u16(0x10), 0),
        "bar-move": u8(0x05) + b"".join(bus_bringup()) + u8(15) + u8(0) + u16(3) + u8(2) +
        bar0(0x3000, 0, 1, 1) + u8(12) + u8(15) + u8(1) + u64(0xd0000000) + u8(2),
        "mmio": u8(0x06) + u8(14) + u8(3) + addr(DESC) + addr(AVAIL) + addr(USED) + u8(0) +
        G(desc(0, BUF, 16, 1, 1)) + G(desc(1, BUF + 64, 64, 2)) + G(publish(0)) +
        bacc(1, 2, 5, u16(0x50), 0) + u8(12) + bacc(0, 2, 5, u16(0x60), 0),
    }


@seeds("virtio_pci")
def virtio_pci_seeds():
    def vp(write, wi, region, off, v):     # a BAR 0 access (op byte 1)
        return u8(1) + u8((wi << 1) | write) + u8(region) + u8(off) + u64(v)
    up = b"".join(u8(0) + op for op in bus_bringup())
    return {
        "bringup": u8(0x01) + up + vp(0, 0, 1, 0, 0) + vp(0, 2, 0, 0x14, 0) +
        vp(1, 0, 0, 0x14, 0) + vp(0, 2, 2, 0, 0) + vp(1, 1, 3, 0, 0),
        "msix": u8(0x00) + up + vp(0, 2, 4, 0, 0) + vp(1, 2, 4, 12, 1) + vp(0, 3, 5, 0, 0) +
        vp(1, 2, 0, 0x10, 7) + u8(0) + u8(13) + u8(0),
    }


# ---- virtio_blk: disk byte, queue size, iov room, then ops -------------------
def poke(a, data):
    return u8(5) + addr(a) + u8(len(data)) + data


def blk_hdr(t, sector):
    return u32(t) + u32(0) + u64(sector)


def blk_req(t, sector, data_len, data_flags, extra=b""):
    ops = poke(BUF, blk_hdr(t, sector) + extra)
    ops += desc(0, BUF, 16 + len(extra), 1, 1)
    if data_len:
        ops += desc(1, BUF + 0x100, data_len, data_flags | 1, 2)
    else:
        ops += desc(1, BUF + 0x100, 0, 1, 2)
    ops += desc(2, BUF + 0x2000, 1, 2) + publish(0) + u8(6)
    return ops


@seeds("virtio_blk")
def virtio_blk_seeds():
    return {
        "read": u8(0x0e) + u8(3) + u8(3) + blk_req(0, 2, 1024, 2),
        "write": u8(0x0e) + u8(3) + u8(3) + blk_req(1, 127, 512, 0),
        "get-id": u8(0x08) + u8(3) + u8(3) + blk_req(8, 0, 20, 2),
        "discard": u8(0x06) + u8(3) + u8(3) + blk_req(11, 0, 0, 0, u64(8) + u32(8) + u32(0)),
        "wz-unmap": u8(0x06) + u8(3) + u8(3) + blk_req(13, 4, 0, 0, u64(4) + u32(4) + u32(1)),
        "flush-ro": u8(0x01) + u8(3) + u8(0) + blk_req(4, 0, 0, 0) + blk_req(1, 0, 512, 0),
    }


# ---- net_ctrl: pairs/MQ byte, queue size, ops (0-5 ring edit, 6 run) ------------
def ctrl(cmd):
    return (poke(BUF, cmd) + desc(0, BUF, len(cmd), 1, 1) + desc(1, BUF + 0x100, 1, 2) +
            publish(0) + u8(6))


@seeds("net_ctrl")
def net_ctrl_seeds():
    mac = u32(1) + b"\x52\x54\x00\x12\x34\x56" + u32(0)
    return {
        "mq": u8(0x83) + u8(3) + ctrl(b"\x04\x00" + u16(3)) + ctrl(b"\x04\x00" + u16(9)),
        "rx-promisc": u8(0x00) + u8(3) + ctrl(b"\x00\x00\x01"),
        "mac-table": u8(0x01) + u8(3) + ctrl(b"\x01\x00" + mac),
        "no-ack": u8(0x00) + u8(2) + poke(BUF, b"\x00\x00\x01") + desc(0, BUF, 3) +
        publish(0) + u8(6),
    }


# ---- virtio_net: n chains (len, niov), target, limits, bytes, header --------
@seeds("virtio_net")
def virtio_net_seeds():
    def chains(lst):
        return u8(len(lst)) + b"".join(u8(0) + u16(ln) + u8(ni) for ln, ni in lst)
    tail = u8(2) + u8(12) + u8(1500 & 0xff)
    return {
        "mrg": chains([(1526, 1), (1526, 2), (4096, 1)]) + u32(3000) + u8(64) + u8(64) +
        u32(3000) + u8(1) + u8(6) + u8(8) + u16(0) + u8(12),
        "gso": chains([(4096, 16)] * 20) + u32(65562) + u8(64) + u8(64) + u32(65562) +
        u8(3) + u8(4) + u8(4) + u8(4) + u16(2) + u8(12),
        "tiny": chains([(1, 1), (0, 0)]) + u32(100) + u8(1) + u8(1) + u32(0) + tail,
    }


def main():
    for name, fn in SEEDS.items():
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for seed, data in fn().items():
            with open(os.path.join(d, "seed-" + seed), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
