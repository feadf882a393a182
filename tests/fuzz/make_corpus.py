#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seed inputs of tests/fuzz/corpus/NAME/ (the ones
named seed-*; the fuzzers' own finds, added with scripts/fuzz.sh --merge,
are named by their SHA-1). Run: python3 tests/fuzz/make_corpus.py [NAME...]"""
import os
import sys

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
