#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Single flows and what became of each, for cases that compare a
prediction with the real verdict.

Usage: probe.py serve ADDR[,ADDR...] PORT...
       probe.py try SECONDS <FLOWS

The first accepts and closes TCP connections on every PORT (IPv4, any
address) and echoes UDP datagrams back to their sender from each ADDR,
until killed: a socket per address, so that the echo leaves from the
address the datagram was sent to (a socket bound to any address would
answer from the interface's first one, another flow).
The second reads lines "PROTO SRC SPORT DST DPORT" and makes each flow
from SRC:SPORT: a TCP connect, or a UDP datagram whose echo must come
back, within SECONDS. It prints the line with "made" or "failed" and
the reason added. One process for every flow: under emulation starting
a program costs far more than a connection.
"""
import select
import socket
import sys


def serve(addrs, ports):
    socks = {}
    for p in ports:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", p))
        t.listen(128)
        socks[t] = "tcp"
        for a in addrs:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((a, p))
            socks[u] = "udp"
    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for s in ready:
            if socks[s] == "tcp":
                c, _ = s.accept()
                c.close()
            else:
                d, a = s.recvfrom(2048)
                s.sendto(d, a)


def one(proto, src, sport, dst, dport, secs):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(secs)
    try:
        s.bind((src, sport))
        if proto == "tcp":
            s.connect((dst, dport))
        else:
            s.sendto(b"probe", (dst, dport))
            if s.recv(64) != b"probe":
                return "failed wrong-echo"
        return "made"
    except OSError as e:
        return "failed " + (type(e).__name__ if e.errno is None else
                            "errno-%d" % e.errno)
    finally:
        s.close()


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2].split(","), [int(p) for p in sys.argv[3:]])
    secs = float(sys.argv[2])
    for line in sys.stdin:
        f = line.split()
        if len(f) != 5:
            continue
        print(line.strip(), one(f[0], f[1], int(f[2]), f[3], int(f[4]), secs),
              flush=True)


if __name__ == "__main__":
    main()
