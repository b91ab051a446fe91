#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic for the VM tests: one new TCP connection per HTTP request, to
each HOST:PORT in turn, over and over until the file STOP exists.

Usage: flows.py STOP COUNTS HOST:PORT...

One process making many connections: under software emulation starting a
curl costs about a second, a connection from here a few milliseconds, so
this is what keeps connections in flight while a test loads or unloads the
module. COUNTS is rewritten atomically after every request as "OK FAILED
RETRANS"; each failure is described on stderr with its time.

A connection that succeeded only because TCP sent a packet again (a SYN
dropped and retransmitted after a second, say) still lost a packet: it is
counted in RETRANS, from the socket's own tcpi_total_retrans, and described
on stderr too. "0 failed, 0 retransmitted" means no packet of these flows
was lost, not merely that none took the 5 s timeout.
"""
import os
import socket
import struct
import sys
import time

# struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_total_retrans is
# the 24th of them (linux/tcp.h).
TOTAL_RETRANS = 8 + 23 * 4


def fetch(host, port):
    """The number of packets this connection sent again."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"GET /index.html HTTP/1.0\r\nHost: t\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if not reply.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        raise OSError("bad reply %r" % reply[:40])
    return struct.unpack_from("I", info, TOTAL_RETRANS)[0]


def main():
    stop, counts, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    targets = [t.rsplit(":", 1) for t in targets]
    ok = failed = retrans = 0
    while not os.path.exists(stop):
        for host, port in targets:
            try:
                again = fetch(host.strip("[]"), int(port))
                ok += 1
                if again:
                    retrans += 1
                    print("%.3f %s:%s made after %d retransmit(s)" %
                          (time.monotonic(), host, port, again),
                          file=sys.stderr, flush=True)
            except OSError as e:
                failed += 1
                print("%.3f %s:%s %s" % (time.monotonic(), host, port, e),
                      file=sys.stderr, flush=True)
            with open(counts + ".tmp", "w") as f:
                f.write("%d %d %d\n" % (ok, failed, retrans))
            os.replace(counts + ".tmp", counts)


if __name__ == "__main__":
    main()
