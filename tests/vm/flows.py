#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic for the VM tests: one new flow per request, to each target in
turn, over and over until the file STOP exists; or one burst of them.

Usage: flows.py STOP COUNTS TARGET...
       flows.py --burst N TARGET...
       flows.py --stream STOP COUNTS HOST:PORT...

A TARGET is HOST:PORT (an HTTP request over a new TCP connection; IPv6
as [ADDR]:PORT), tcp:HOST:PORT (a TCP handshake, then close: for servers
such as connects.py --serve, whose listen backlog takes a burst) or
dns:HOST (a DNS question for ok.test over UDP to HOST:53, from a new
socket, so a new flow each time).

One process making many connections: under software emulation starting a
curl costs about a second, a connection from here a few milliseconds, so
this is what keeps connections in flight while a test loads or unloads the
module. COUNTS is rewritten atomically after every request as "OK FAILED
RETRANS"; each failure is described on stderr with its time.

A connection that succeeded only because TCP sent a packet again (a SYN
dropped and retransmitted after a second, say) still lost a packet: it is
counted in RETRANS, from the socket's own tcpi_total_retrans, and described
on stderr too. A DNS question is asked at most three times, a second
apart: one answered only when asked again lost a packet as well (RETRANS),
one never answered failed. "0 failed, 0 retransmitted" means no packet of
these flows was lost, not merely that none took the 5 s timeout.

Every loss on stderr starts with "START-END", the monotonic times (the
guest's uptime) at which the request began and ended, so that a test can
tell which of its events cost it.

--burst makes N requests at once, one thread each, spread over the
targets, and prints "OK FAILED RETRANS" once they are all over.

--stream keeps one TCP connection to each HOST:PORT (an echo server:
connects.py --echo) open until STOP exists, sending a numbered 1 KB chunk
on each every 50 ms and reading it back. COUNTS is rewritten as "ECHOED
BROKEN RETRANS LONGEST": the chunks that came back intact, 1 once a
connection broke (reset, closed, a chunk not back within 10 s, or back
changed; said on stderr with its time, and the stream ends), the packets
the connections sent again so far (tcpi_total_retrans), and the longest
wait for a chunk in milliseconds.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

# struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_total_retrans is
# the 24th of them (linux/tcp.h).
TOTAL_RETRANS = 8 + 23 * 4
DNS_NAME = b"\x02ok\x04test\x00"
DNS_TRIES = 3


def retransmits(s):
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("I", info, TOTAL_RETRANS)[0]


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
        again = retransmits(s)
    if not reply.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        raise OSError("bad reply %r" % reply[:40])
    return again


def handshake(host, port):
    """The number of packets the handshake sent again."""
    with socket.create_connection((host, port), timeout=5) as s:
        return retransmits(s)


def ask(host):
    """How many times an A question for ok.test was asked again."""
    qid = random.randrange(1 << 16)
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + DNS_NAME + \
        struct.pack(">HH", 1, 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for again in range(DNS_TRIES):
            s.sendto(query, (host, 53))
            try:
                while True:
                    reply = s.recv(512)
                    if len(reply) >= 12 and reply[:2] == query[:2]:
                        break
            except socket.timeout:
                continue
            rcode, answers = reply[3] & 0xf, struct.unpack_from(">H", reply, 6)[0]
            if rcode or not answers:
                raise OSError("rcode %d, %d answers" % (rcode, answers))
            return again
    raise OSError("no answer after %d tries" % DNS_TRIES)


def request(target):
    """One request to TARGET: (retransmits, error or None), and says so."""
    start = time.monotonic()
    try:
        if target[0] == "dns":
            again = ask(target[1])
        elif target[0] == "tcp":
            host, port = target[1].rsplit(":", 1)
            again = handshake(host.strip("[]"), int(port))
        else:
            again = fetch(target[0].strip("[]"), int(target[1]))
        err = None
    except OSError as e:
        again, err = 0, e
    label = ":".join(target)
    if err is not None:
        print("%.3f-%.3f %s failed: %s" % (start, time.monotonic(), label, err),
              file=sys.stderr, flush=True)
    elif again:
        print("%.3f-%.3f %s made after %d retransmit(s)" %
              (start, time.monotonic(), label, again),
              file=sys.stderr, flush=True)
    return again, err


def burst(n, targets):
    """N requests at once: "OK FAILED RETRANS" once they are all over."""
    results = [None] * n

    def one(i):
        results[i] = request(targets[i % len(targets)])
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = sum(1 for _, err in results if err is not None)
    retrans = sum(1 for again, err in results if err is None and again)
    return "%d %d %d" % (n - failed, failed, retrans)


def write_counts(counts, *fields):
    with open(counts + ".tmp", "w") as f:
        f.write(" ".join("%d" % x for x in fields) + "\n")
    os.replace(counts + ".tmp", counts)


def stream(stop, counts, targets):
    socks = []
    for host, port in targets:
        s = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        s.settimeout(10)
        socks.append(s)
    echoed = broken = n = 0
    longest = 0.0
    try:
        while not os.path.exists(stop):
            for s in socks:
                chunk = struct.pack(">Q", n).ljust(1024, b"s")
                n += 1
                start = time.monotonic()
                s.sendall(chunk)
                back = b""
                while len(back) < len(chunk):
                    got = s.recv(len(chunk) - len(back))
                    if not got:
                        raise OSError("closed by the server")
                    back += got
                if back != chunk:
                    raise OSError("chunk %d came back changed" % n)
                longest = max(longest, time.monotonic() - start)
                echoed += 1
            write_counts(counts, echoed, broken, sum(map(retransmits, socks)),
                         longest * 1000)
            time.sleep(0.05)
    except OSError as e:
        broken = 1
        print("%.3f stream broken: %s" % (time.monotonic(), e),
              file=sys.stderr, flush=True)
    write_counts(counts, echoed, broken, sum(map(retransmits, socks)),
                 longest * 1000)
    for s in socks:
        s.close()


def parse_targets(targets):
    return [t.split(":", 1) if t.startswith(("dns:", "tcp:"))
            else t.rsplit(":", 1) for t in targets]


def main():
    if sys.argv[1] == "--stream":
        stream(sys.argv[2], sys.argv[3],
               [t.rsplit(":", 1) for t in sys.argv[4:]])
        return
    if sys.argv[1] == "--burst":
        n, targets = int(sys.argv[2]), sys.argv[3:]
    else:
        stop, counts, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    targets = parse_targets(targets)
    if sys.argv[1] == "--burst":
        print(burst(n, targets), flush=True)
        return
    ok = failed = retrans = 0
    while not os.path.exists(stop):
        for target in targets:
            again, err = request(target)
            if err is not None:
                failed += 1
            else:
                ok += 1
                retrans += again > 0
            write_counts(counts, ok, failed, retrans)


if __name__ == "__main__":
    main()
