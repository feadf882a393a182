#!/usr/bin/env python3
# A stand-in for one end of a husk migration stream (tests/integration/migrate.sh).
#
#   mig-peer.py capture SOCK FILE   listen on SOCK, take one stream up to END,
#                                   keep it in FILE, answer ERROR "captured"
#   mig-peer.py die-after SOCK N    listen, read N bytes, then vanish
#   mig-peer.py slow SOCK           listen, read 64 KiB a second, forever
#   mig-peer.py send SOCK FILE [--flip OFF] [--truncate N] [--version V]
#                                   connect to a husk --incoming and send FILE,
#                                   changed as asked; print what husk answered
# SOCK is a unix socket path. The stream's format: src/migration/mig_stream.h.
import os
import socket
import struct
import sys
import time


def listen(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    c, _ = s.accept()
    s.close()
    os.unlink(path)
    return c


def read_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            raise EOFError("cut after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def capture(path, out):
    c = listen(path)
    data = [read_exact(c, 16)]
    while True:
        hdr = read_exact(c, 16)
        rtype, _crc, length = struct.unpack("<IIQ", hdr)
        data.append(hdr)
        data.append(read_exact(c, length))
        if rtype == 5:  # END
            break
    with open(out, "wb") as f:
        f.write(b"".join(data))
    msg = b"captured"
    c.sendall(struct.pack("<IIQ", 7, 0, len(msg)) + msg)
    c.close()


def die_after(path, n):
    c = listen(path)
    read_exact(c, n)
    os._exit(0)


def slow(path):
    c = listen(path)
    while c.recv(65536):
        time.sleep(1)


def send(path, src, args):
    data = bytearray(open(src, "rb").read())
    i = 0
    while i < len(args):
        if args[i] == "--flip":
            off = int(args[i + 1], 0)
            data[off] ^= 0xFF
        elif args[i] == "--truncate":
            del data[int(args[i + 1], 0):]
        elif args[i] == "--version":
            data[8:12] = struct.pack("<I", int(args[i + 1]))
        i += 2
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            c.connect(path)
            break
        except OSError:
            time.sleep(0.05)
    try:
        c.sendall(bytes(data))
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # husk stopped reading: its answer may be waiting all the same
    try:
        reply = c.recv(4096)
    except OSError:
        reply = b""
    if len(reply) >= 16:
        rtype, _crc, length = struct.unpack("<IIQ", reply[:16])
        print("answer %d %s" % (rtype, reply[16:16 + length].decode(errors="replace")))
    else:
        print("answer none")


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "capture":
        capture(path, sys.argv[3])
    elif mode == "die-after":
        die_after(path, int(sys.argv[3]))
    elif mode == "slow":
        slow(path)
    elif mode == "send":
        send(path, sys.argv[3], sys.argv[4:])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
