#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Long-lived TCP conversations for the VM tests, counted message by
message, and the server they talk to.

Usage: talk.py serve DIR PORT...
       talk.py talk STOP COUNTS HOST PORT
       talk.py once HOST PORT SECONDS

serve: an echo server on [::]:PORT (IPv4 too) for every PORT, many
connections at once, until killed. Every connection it accepts is
counted in DIR/accepts.PORT (rewritten atomically): what reached the
server, counted where it arrived rather than inferred from a client's
timeout. DIR/serve.ready appears once every port listens.

talk: one connection to HOST:PORT, kept open; a numbered message every
100 ms, each echoed back by the server, until the file STOP exists (then
up to 2 s more for the echoes still on their way). COUNTS is rewritten
atomically every 100 ms as "SENT ECHOED LATE RETRANS STATE SPORT": messages
sent, echoes received, echoes that came more than a second after their
message, the packets TCP had to send again (tcpi_total_retrans: a packet
lost on the way, even if TCP hid it), "up" or "down" once the
connection broke, and the connection's local port. SENT minus ECHOED
at the end is what was lost. Each late echo and a break are described
on stderr with the time.

once: a new connection to HOST:PORT that gets one line echoed within
SECONDS; exit 0 if so, 1 if not (refused, dropped or timed out).
"""
import os
import selectors
import socket
import struct
import sys
import time

INTERVAL = 0.1
LATE = 1.0
# struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_total_retrans is
# the 24th of them (linux/tcp.h).
TOTAL_RETRANS = 8 + 23 * 4


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve(work, ports):
    sel = selectors.DefaultSelector()
    accepts = {}
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", p))
        accepts[p] = 0
        write_atomic("%s/accepts.%d" % (work, p), "0\n")
    write_atomic(work + "/serve.ready", "ready\n")
    while True:
        for key, _ in sel.select():
            kind, p = key.data
            if kind == "listen":
                try:
                    c, _ = key.fileobj.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ("conn", p))
                accepts[p] += 1
                write_atomic("%s/accepts.%d" % (work, p), "%d\n" % accepts[p])
                continue
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if data:
                try:
                    key.fileobj.sendall(data)
                    continue
                except OSError:
                    pass
            sel.unregister(key.fileobj)
            key.fileobj.close()


def retrans(s):
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        return struct.unpack_from("I", info, TOTAL_RETRANS)[0]
    except OSError:
        return 0


def talk(stop, counts, host, port):
    t0 = time.monotonic()
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
    except OSError as e:
        write_atomic(counts, "0 0 0 0 down\n")
        print("%.2f s: connect to %s:%d failed: %s" %
              (time.monotonic() - t0, host, port, e), file=sys.stderr)
        return 1
    s.setblocking(False)
    sport = s.getsockname()[1]
    sent_at = {}
    sent = echoed = late = 0
    state = "up"
    buf = b""
    rt = 0
    deadline = None
    next_send = time.monotonic()
    while True:
        now = time.monotonic()
        if deadline is None and os.path.exists(stop):
            deadline = now + 2
        if deadline is not None and (now >= deadline or echoed == sent):
            break
        if state == "up" and deadline is None and now >= next_send:
            msg = b"%d\n" % sent
            try:
                if s.send(msg) == len(msg):
                    sent_at[sent] = now
                    sent += 1
            except BlockingIOError:
                pass
            except OSError as e:
                state = "down"
                print("%.2f s: send failed: %s" % (now - t0, e),
                      file=sys.stderr)
            next_send += INTERVAL
        if state == "up":
            try:
                data = s.recv(4096)
                if not data:
                    state = "down"
                    print("%.2f s: closed by the server" % (now - t0),
                          file=sys.stderr)
                buf += data
            except BlockingIOError:
                pass
            except OSError as e:
                state = "down"
                print("%.2f s: receive failed: %s" % (now - t0, e),
                      file=sys.stderr)
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            seq = int(line)
            delay = now - sent_at.pop(seq)
            echoed += 1
            if delay > LATE:
                late += 1
                print("%.2f s: message %d echoed after %.2f s" %
                      (now - t0, seq, delay), file=sys.stderr)
        if state == "up":
            rt = retrans(s)
        write_atomic(counts, "%d %d %d %d %s %d\n" %
                     (sent, echoed, late, rt, state, sport))
        time.sleep(0.02)
    write_atomic(counts, "%d %d %d %d %s %d\n" %
                     (sent, echoed, late, rt, state, sport))
    if sent != echoed:
        print("%.2f s: %d messages never echoed" % (time.monotonic() - t0,
                                                     sent - echoed),
              file=sys.stderr)
    return 0


def once(host, port, seconds):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(seconds)
    try:
        s.connect((host, port))
        s.sendall(b"once\n")
        got = b""
        while not got.endswith(b"\n"):
            data = s.recv(100)
            if not data:
                break
            got += data
    except OSError as e:
        print("%s:%d: %s" % (host, port, e), file=sys.stderr)
        return 1
    return 0 if got == b"once\n" else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        return serve(argv[1], [int(p) for p in argv[2:]])
    if len(argv) == 5 and argv[0] == "talk":
        return talk(argv[1], argv[2], argv[3], int(argv[4]))
    if len(argv) == 4 and argv[0] == "once":
        return once(argv[1], int(argv[2]), float(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
