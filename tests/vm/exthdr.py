#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""IPv6 extension headers for the VM tests: real clients whose packets
carry them, and crafted SYNs an attacker can send from a raw socket.

Usage: exthdr.py connect HOST PORT SECONDS
       exthdr.py udp HOST PORT SIZE [plain]
       exthdr.py dns SERVER NAME [plain]
       exthdr.py syn KIND SRC SPORT HOST PORT

connect: a TCP connection to HOST:PORT from a socket with sticky
hop-by-hop options, a routing header (segment routing, no segment left:
it changes no route), destination options before it and after it, each
a PadN option; exit 0 if one line comes back echoed within SECONDS.
Prints the headers the kernel took.

udp: one datagram of SIZE bytes from a socket with sticky destination
options (big enough, the kernel sends it in fragments; "plain": without).

dns: an AAAA question for NAME over UDP from a socket with sticky
destination options ("plain": without them); prints "rcode N answers N"
or "timeout".

syn: a SYN from SRC:SPORT to HOST:PORT written whole on a raw socket
(IPV6_HDRINCL) after the extension headers KIND names:
  ah     an Authentication Header (its length counts 4-byte words)
  dst9   nine destination options headers
  none   a destination options header whose next header is "none",
         the SYN's bytes after it
  frag   in two fragments, the first carrying only a destination
         options header, the second the TCP header
It prints "refused N" (packets the sender's own kernel refused at once,
as a drop at its OUTPUT hook makes sendto fail), "synacks N" (SYN-ACKs
back from HOST:PORT within 2 s; each is answered with the ACK that ends
the handshake), then makes a real
connection from the same SPORT (at the unix time in ms it prints as
"followup_at MS") and prints "followup made" or
"followup failed": a flow decided on the crafted SYN is the flow of
that connection too.
"""
import os
import select
import socket
import struct
import sys
import time

PADN8 = bytes([0, 0, 1, 4, 0, 0, 0, 0])    # next, len 0, PadN of 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_seg(src, dst, sport, dport, seq, ack, flags):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0)
    pseudo = (socket.inet_pton(socket.AF_INET6, src) +
              socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!IxxxB", len(hdr), socket.IPPROTO_TCP))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def ip6(src, dst, nh, payload):
    return (struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) +
            socket.inet_pton(socket.AF_INET6, src) +
            socket.inet_pton(socket.AF_INET6, dst) + payload)


def opts(nh):
    return bytes([nh]) + PADN8[1:]


def crafted(kind, src, sport, dst, dport, seq):
    """The packets of a SYN after the headers KIND names."""
    syn = tcp_seg(src, dst, sport, dport, seq, 0, 0x02)
    if kind == "ah":
        # 12 bytes of header and a 12-byte ICV: 6 words, length 6 - 2.
        ah = struct.pack("!BBHII", socket.IPPROTO_TCP, 4, 0, 0x100, 1)
        return [ip6(src, dst, 51, ah + bytes(12) + syn)]
    if kind == "dst9":
        chain = b"".join(opts(60) for _ in range(8)) + opts(6)
        return [ip6(src, dst, 60, chain + syn)]
    if kind == "none":
        return [ip6(src, dst, 60, opts(59) + syn)]
    if kind == "frag":
        ident = os.getpid()
        # 16 bytes of destination options: one unknown option that the
        # receiver skips (type 0x1e), as padding longer than 7 is refused.
        first = bytes([6, 1, 0x1e, 12]) + bytes(12)
        frag1 = struct.pack("!BxHI", 60, 0 << 3 | 1, ident) + first
        frag2 = struct.pack("!BxHI", 60, len(first) // 8 << 3, ident) + syn
        return [ip6(src, dst, 44, frag1), ip6(src, dst, 44, frag2)]
    raise SystemExit("unknown kind " + kind)


def syn(kind, src, sport, dst, dport):
    seq = 1000
    sniff = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    refused = 0
    for pkt in crafted(kind, src, sport, dst, dport, seq):
        try:
            raw.sendto(pkt, (dst, 0))
        except OSError as e:    # dropped at the sender's own OUTPUT hook
            print("sendto: %s" % e, file=sys.stderr)
            refused += 1
    print("refused %d" % refused, flush=True)
    synacks = 0
    end = time.monotonic() + 2
    while time.monotonic() < end:
        r, _, _ = select.select([sniff], [], [], end - time.monotonic())
        if not r:
            break
        data, addr = sniff.recvfrom(2048)
        if addr[0] != dst or len(data) < 20:
            continue
        sp, dp, their, ack, _, flags = struct.unpack("!HHIIBB", data[:14])
        if sp != dport or dp != sport or flags & 0x12 != 0x12:
            continue
        synacks += 1
        raw.sendto(ip6(src, dst, socket.IPPROTO_TCP,
                       tcp_seg(src, dst, sport, dport, seq + 1, their + 1,
                               0x10)), (dst, 0))
    print("synacks %d" % synacks, flush=True)
    print("followup_at %d" % (time.time() * 1000), flush=True)
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(2)
    try:
        s.bind((src, sport))
        s.connect((dst, dport))
        s.sendall(b"followup\n")
        ok = s.recv(100) == b"followup\n"
    except OSError as e:
        print("followup: %s" % e, file=sys.stderr)
        ok = False
    print("followup " + ("made" if ok else "failed"))
    return 0


def sticky(s, names):
    took = []
    for name, value in names:
        try:
            s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, name), value)
            took.append(name)
        except OSError as e:
            print("%s refused: %s" % (name, e), file=sys.stderr)
    print("sticky: " + " ".join(took), file=sys.stderr)
    return took


def srh(dst):
    """A segment routing header with its one segment the destination
    itself and none left: the receiver steps over it."""
    return (struct.pack("!BBBBBBH", 0, 2, 4, 0, 0, 0, 0) +
            socket.inet_pton(socket.AF_INET6, dst))


def connect(host, port, secs):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    took = sticky(s, [("IPV6_HOPOPTS", PADN8), ("IPV6_RTHDR", srh(host)),
                      ("IPV6_RTHDRDSTOPTS", PADN8), ("IPV6_DSTOPTS", PADN8)])
    if "IPV6_HOPOPTS" not in took or "IPV6_DSTOPTS" not in took:
        return 2
    s.settimeout(secs)
    try:
        s.connect((host, port))
        s.sendall(b"ext\n")
        got = s.recv(100)
    except OSError as e:
        print("%s:%d: %s" % (host, port, e), file=sys.stderr)
        return 1
    return 0 if got == b"ext\n" else 1


def udp(host, port, size, plain):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    if not plain and "IPV6_DSTOPTS" not in sticky(s, [("IPV6_DSTOPTS", PADN8)]):
        return 2
    s.sendto(bytes(size), (host, port))
    return 0


def dns(server, name, plain):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    if not plain and "IPV6_DSTOPTS" not in sticky(s, [("IPV6_DSTOPTS", PADN8)]):
        return 2
    qid = os.getpid() & 0xffff
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", 28, 1)
    s.settimeout(3)
    s.sendto(q, (server, 53))
    try:
        a = s.recv(4096)
    except OSError:
        print("timeout")
        return 0
    rid, flags, _, an = struct.unpack("!HHHH", a[:8])
    print("rcode %d answers %d%s" % (flags & 0xf, an,
                                      "" if rid == qid else " wrong-id"))
    return 0


def main(argv):
    if len(argv) == 4 and argv[0] == "connect":
        return connect(argv[1], int(argv[2]), float(argv[3]))
    if len(argv) in (4, 5) and argv[0] == "udp":
        return udp(argv[1], int(argv[2]), int(argv[3]), len(argv) == 5)
    if len(argv) in (3, 4) and argv[0] == "dns":
        return dns(argv[1], argv[2], len(argv) == 4)
    if len(argv) == 6 and argv[0] == "syn":
        return syn(argv[1], argv[2], int(argv[3]), argv[4], int(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
