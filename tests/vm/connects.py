#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""New TCP flows, one after another, and a server that takes them.

Usage: connects.py N HOST PORT [ROUNDS]
       connects.py --serve PORT
       connects.py --echo PORT

The first makes ROUNDS (default 1) rounds of N flows and prints a line
"OK FAILED SECONDS" for each: the flows that connected within 3 s, those
that did not, and the wall time of the round. Each flow connects and
closes. One process for all of them: under emulation
starting a program costs far more than a connection, so the count and
the rate are the flows'. The second accepts and closes connections on
PORT (IPv4 and IPv6, any address) until killed, without a process per connection.
The third sends back what each connection sends (a thread each), for a
long stream (flows.py --stream).
"""
import socket
import sys
import threading
import time


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(1024)
    return s


def serve(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        c.close()


def echo_one(c):
    with c:
        while True:
            data = c.recv(65536)
            if not data:
                return
            c.sendall(data)


def echo(port):
    s = listener(port)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo_one, args=(c,), daemon=True).start()


def connects(n, host, port):
    ok = failed = 0
    start = time.monotonic()
    for _ in range(n):
        try:
            with socket.create_connection((host, port), timeout=3):
                ok += 1
        except OSError as e:
            failed += 1
            print("connect: %s" % e, file=sys.stderr)
    print("%d %d %.3f" % (ok, failed, time.monotonic() - start), flush=True)


def main():
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "--echo":
        echo(int(sys.argv[2]))
    else:
        for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
            connects(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
