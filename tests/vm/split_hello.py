#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A TLS client whose ClientHello crosses the wire in two TCP segments.

Usage: split_hello.py ADDR PORT NAME [FIRST]

The hello is a real one (Python's ssl with server_name NAME), produced
into a memory BIO and sent over a plain socket with TCP_NODELAY: its first
FIRST bytes (default 100, before the server_name extension), a pause,
then the rest. The handshake is then finished and "GET /" asked. Exit 0
when the server's HTTP answer arrives, 1 when it does not within 3 s.
"""
import socket
import ssl
import sys
import time


def main():
    addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    if name.encode() not in hello[first:]:
        print("the name is not after byte %d of the hello" % first,
              file=sys.stderr)
        return 2
    deadline = time.monotonic() + 3
    s = socket.create_connection((addr, port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(hello[:first])
    time.sleep(0.3)
    s.sendall(hello[first:])
    asked = False
    reply = b""
    while time.monotonic() < deadline:
        try:
            if not asked:
                tls.do_handshake()
                tls.write(b"GET / HTTP/1.0\r\n\r\n")
                asked = True
            reply += tls.read(4096)
            if b"HTTP/1." in reply:
                print("served: %r" % reply[:40], file=sys.stderr)
                return 0
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            break
        data = out.read()
        if data:
            s.sendall(data)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except OSError as e:
            print("no answer: %s" % e, file=sys.stderr)
            return 1
        if not data:
            inc.write_eof()
            break
        inc.write(data)
    print("not served (%d bytes of reply)" % len(reply), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
