#!/usr/bin/env python3
"""Probes for the datapath's traffic tests, run inside a test's network namespace (ip netns exec).

  netprobe.py ping DST              one ICMP (or ICMPv6) echo; exit 0 if the reply came within 1 s
  netprobe.py raw-recv BIND PROTO T wait T seconds for one packet of IP protocol PROTO; exit 0 if it came
  netprobe.py raw-send DST PROTO    send one packet of IP protocol PROTO

Addresses are the test's own (198.18.0.0/15, 2001:2::/48 inside its namespaces); nothing else is touched.
"""
import os
import select
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(dst):
    fam = family(dst)
    proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
    echo, reply = (128, 129) if fam == socket.AF_INET6 else (8, 0)
    ident = os.getpid() & 0xFFFF
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    body = struct.pack("!BBHHH", echo, 0, 0, ident, 1) + b"meshauth"
    if fam == socket.AF_INET:  # the kernel computes ICMPv6 checksums itself
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    s.sendto(body, (dst, 0))
    deadline = time.time() + 1.0
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.time()))
        if not r:
            break
        data, _ = s.recvfrom(2048)
        icmp = data[20:] if fam == socket.AF_INET else data
        if len(icmp) >= 6 and icmp[0] == reply and struct.unpack("!H", icmp[4:6])[0] == ident:
            return 0
    return 1


def raw_recv(bind, proto, timeout):
    s = socket.socket(family(bind), socket.SOCK_RAW, proto)
    s.bind((bind, 0))
    print("ready", flush=True)
    r, _, _ = select.select([s], [], [], timeout)
    return 0 if r else 1


def raw_send(dst, proto):
    s = socket.socket(family(dst), socket.SOCK_RAW, proto)
    s.sendto(b"meshauth raw protocol probe", (dst, 0))
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ping":
        sys.exit(ping(sys.argv[2]))
    if cmd == "raw-recv":
        sys.exit(raw_recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    if cmd == "raw-send":
        sys.exit(raw_send(sys.argv[2], int(sys.argv[3])))
    sys.exit("unknown command " + cmd)
