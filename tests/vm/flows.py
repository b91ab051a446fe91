#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic for the VM tests: one new TCP connection per HTTP request, to
each HOST:PORT in turn, over and over until the file STOP exists.

Usage: flows.py STOP COUNTS HOST:PORT...

One process making many connections: under software emulation starting a
curl costs about a second, a connection from here a few milliseconds, so
this is what keeps connections in flight while a test loads or unloads the
module. COUNTS is rewritten atomically after every request as "OK FAILED";
each failure is described on stderr with its time.
"""
import os
import socket
import sys
import time


def fetch(host, port):
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"GET /index.html HTTP/1.0\r\nHost: t\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    if not reply.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        raise OSError("bad reply %r" % reply[:40])


def main():
    stop, counts, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    targets = [t.rsplit(":", 1) for t in targets]
    ok = failed = 0
    while not os.path.exists(stop):
        for host, port in targets:
            try:
                fetch(host.strip("[]"), int(port))
                ok += 1
            except OSError as e:
                failed += 1
                print("%.3f %s:%s %s" % (time.monotonic(), host, port, e),
                      file=sys.stderr, flush=True)
            with open(counts + ".tmp", "w") as f:
                f.write("%d %d\n" % (ok, failed))
            os.replace(counts + ".tmp", counts)


if __name__ == "__main__":
    main()
