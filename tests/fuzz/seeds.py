#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpora in tests/fuzz/corpus/<target>/ (run from anywhere).

The seeds are small, valid or nearly valid inputs that get each fuzz target
past its first checks; libFuzzer mutates from there. The TLS seeds are
ClientHellos captured from openssl s_client and curl on loopback (the same
bytes as the fixtures in agent/sni_test.c), given as files next to this
script's corpus directory.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def name(n):
    out = b""
    for label in n.split(".") if n else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(id_, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def query(qname, qtype, edns=False, id_=0x1234):
    m = header(id_, 0x0100, 1, 0, 0, 1 if edns else 0)
    m += name(qname) + struct.pack(">HH", qtype, 1)
    if edns:
        m += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return m


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


# dns_query_fuzz
put("dns_query_fuzz", "a", query("www.example.com", 1))
put("dns_query_fuzz", "aaaa-edns", query("Ads.Example.TEST", 28, edns=True))
put("dns_query_fuzz", "root-ns", query("", 2))
put("dns_query_fuzz", "https-idna", query("xn--bcher-kva.example", 65, edns=True))
put("dns_query_fuzz", "tcp-framed", struct.pack(">H", len(query("t.test", 1))) + query("t.test", 1))

# dns_answer_fuzz: compressed CNAME chain and addresses, NXDOMAIN, TC, and
# queries (for the round trip).
q = name("www.example.com") + struct.pack(">HH", 1, 1)
cdn_off = 12 + len(q) + 12
ans = header(0xBEEF, 0x8180, 1, 5, 0, 0) + q
ans += rr(b"\xc0\x0c", 5, 300, name("cdn.example.net"))
edge_off = len(ans) + 12
ans += rr(struct.pack(">H", 0xC000 | cdn_off), 5, 60, b"\x04edge" + struct.pack(">H", 0xC000 | cdn_off))
ans += rr(struct.pack(">H", 0xC000 | edge_off), 1, 20, bytes([192, 0, 2, 1]))
ans += rr(struct.pack(">H", 0xC000 | edge_off), 1, 20, bytes([192, 0, 2, 2]))
ans += rr(struct.pack(">H", 0xC000 | edge_off), 28, 30, bytes.fromhex("20010db8000000000000000000000001"))
put("dns_answer_fuzz", "cname-chain", ans)
put("dns_answer_fuzz", "truncated-tc", ans[:2] + b"\x83\x80" + ans[4:-10])
put("dns_answer_fuzz", "nxdomain", header(7, 0x8183, 1, 0, 0, 0) + name("nx.test") + b"\0\1\0\1")
put("dns_answer_fuzz", "query-a", query("ads.test", 1, edns=True))
put("dns_answer_fuzz", "aaaa", header(8, 0x8180, 1, 1, 0, 0) + name("v6.test") + b"\0\x1c\0\1"
    + rr(b"\xc0\x0c", 28, 60, bytes(16)))

# dns_ldns_fuzz: the seeds of both DNS targets, against ldns.
for src in ("dns_query_fuzz", "dns_answer_fuzz"):
    for f in sorted(os.listdir(os.path.join(CORPUS, src))):
        with open(os.path.join(CORPUS, src, f), "rb") as fh:
            put("dns_ldns_fuzz", src.split("_")[1] + "-" + f, fh.read())
# The longest name (253 characters, 255 bytes on the wire), more addresses
# than sluice keeps, and a longer CNAME chain than it follows.
longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
put("dns_ldns_fuzz", "query-longest-name", query(longest, 1))
put("dns_ldns_fuzz", "answer-longest-name", header(9, 0x8180, 1, 1, 0, 0) + name(longest)
    + b"\0\1\0\1" + rr(b"\xc0\x0c", 1, 60, bytes([192, 0, 2, 9])))
many = header(10, 0x8180, 1, 33, 0, 0) + name("many.test") + b"\0\1\0\1"
for i in range(33):
    many += rr(b"\xc0\x0c", 1, 60, bytes([198, 51, 100, i]))
put("dns_ldns_fuzz", "answer-33-addrs", many)
chain = header(11, 0x8180, 1, 19, 0, 0) + name("c0.test") + b"\0\1\0\1"
for i in range(18):
    chain += rr(name("c%d.test" % i), 5, 60, name("c%d.test" % (i + 1)))
chain += rr(name("c18.test"), 1, 60, bytes([198, 51, 100, 1]))
put("dns_ldns_fuzz", "answer-18-cnames", chain)

# sni_fuzz: captured hellos
for f in ("hello-openssl", "hello-curl", "hello-openssl-nosni"):
    src = os.path.join(CORPUS, "sni_fuzz", f)
    if not os.path.exists(src):
        raise SystemExit("missing captured hello " + src)
with open(os.path.join(CORPUS, "sni_fuzz", "hello-curl"), "rb") as f:
    hello = f.read()
body = hello[5:]
put("sni_fuzz", "hello-curl-50-byte-records",
    b"".join(b"\x16\x03\x01" + struct.pack(">H", len(body[i:i + 50])) + body[i:i + 50]
             for i in range(0, len(body), 50)))

# http_host_fuzz
put("http_host_fuzz", "get", b"GET / HTTP/1.1\r\nHost: www.example.com:8080\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n")
put("http_host_fuzz", "absolute", b"GET http://u@abs.example:81/p HTTP/1.1\r\nHost: other.example\r\n\r\n")
put("http_host_fuzz", "connect", b"CONNECT tunnel.example:443 HTTP/1.1\r\nhost: tunnel.example\r\n\r\n")
put("http_host_fuzz", "http10-lf", b"POST /x HTTP/1.0\nContent-Length: 0\n\n")
put("http_host_fuzz", "v6", b"GET / HTTP/1.1\r\nHOST:  [2001:db8::1]:80 \r\n\r\n")

# packet_fuzz: IPv4 TCP SYN, IPv4 UDP DNS, IPv6 hop-by-hop + UDP, IPv6 fragment
v4tcp = bytes.fromhex("450000281234400040060000" "0a000001" "0a000002"
                      "9c4001bb000000010000000050021fff00000000")
put("packet_fuzz", "v4-tcp-syn", v4tcp)
dnsq = query("www.example.com", 1)
udp = struct.pack(">HHHH", 40000, 53, 8 + len(dnsq), 0) + dnsq
v4udp = bytes.fromhex("4500") + struct.pack(">H", 20 + len(udp)) + bytes.fromhex("000040004011000" "0") \
    + bytes([10, 0, 0, 1, 10, 0, 0, 53]) + udp
put("packet_fuzz", "v4-udp-dns", v4udp)
src6 = bytes.fromhex("fd000000000000000000000000000001")
dst6 = bytes.fromhex("fd000000000000000000000000000002")
hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
udp6 = struct.pack(">HHHH", 5353, 53, 8, 0)
put("packet_fuzz", "v6-hbh-udp", bytes.fromhex("60000000") + struct.pack(">H", len(hbh) + 8) + bytes([0, 64])
    + src6 + dst6 + hbh + udp6)
frag = bytes([6, 0, 0, 0x10, 0, 0, 0, 1])
put("packet_fuzz", "v6-frag-later", bytes.fromhex("60000000") + struct.pack(">H", 8 + 20) + bytes([44, 64])
    + src6 + dst6 + frag + bytes(20))
# a SYN behind an Authentication Header (4-byte words) and two destination
# options headers
chain = bytes([60, 4]) + bytes(22) + bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0, 1, 4, 0, 0, 0, 0])
put("packet_fuzz", "v6-ah-dstopts-tcp", bytes.fromhex("60000000") + struct.pack(">H", len(chain) + 20)
    + bytes([51, 64]) + src6 + dst6 + chain + v4tcp[20:])

# pending_fuzz: segment count - 1, options (bit i: segment i twice; bit 7:
# each next segment early, ahead of a gap), then the first payload
put("pending_fuzz", "hello-in-2", bytes([1, 0]) + hello)
put("pending_fuzz", "hello-in-4-resent-gap", bytes([3, 0x85]) + hello)
put("pending_fuzz", "http-in-3", bytes([2, 2]) +
    b"GET / HTTP/1.1\r\nUser-Agent: t\r\nHost: web.example.test:8080\r\n\r\n")

# cidr_fuzz
for i, t in enumerate(["10.0.0.0/8", "192.0.2.1", "::/0", "2001:db8:ffff::1/33",
                       "::ffff:192.0.2.1/128", "0.0.0.0/0"]):
    put("cidr_fuzz", "c%d" % i, t.encode())

# verdict_fuzz: records of (flags, length, IP packet) through the whole
# verdict path; flags bit 0 = a reply, 1 block_doh, 2 block_dot,
# 3 sinkhole null, 4 trusted_resolvers = the packet's server.
def v4(src, dst, proto, l4):
    return bytes.fromhex("4500") + struct.pack(">H", 20 + len(l4)) \
        + bytes.fromhex("00004000") + bytes([64, proto]) + b"\0\0" \
        + bytes(src) + bytes(dst) + l4


def udp4(src, dst, sport, dport, payload):
    return v4(src, dst, 17, struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload)


def tcp4(src, dst, sport, dport, flags, payload=b""):
    return v4(src, dst, 6, struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 0x50, flags,
                                       65535, 0, 0) + payload)


def record(flags, pkt):
    return bytes([flags]) + struct.pack(">H", len(pkt)) + pkt


CLIENT, RESOLVER, SERVER = [10, 0, 0, 2], [10, 0, 0, 53], [192, 0, 2, 1]
ok_q = query("ok.test", 1, id_=0x4242)
ok_a = header(0x4242, 0x8180, 1, 1, 0, 0) + name("ok.test") + b"\0\1\0\1" \
    + rr(b"\xc0\x0c", 1, 300, bytes(SERVER))
put("verdict_fuzz", "query-answer-connect",
    record(0, udp4(CLIENT, RESOLVER, 40000, 53, ok_q))
    + record(1, udp4(RESOLVER, CLIENT, 53, 40000, ok_a))
    + record(0, tcp4(CLIENT, SERVER, 41000, 8080, 0x02)))
put("verdict_fuzz", "answer-unasked",
    record(1, udp4(RESOLVER, CLIENT, 53, 40000, ok_a))
    + record(0, tcp4(CLIENT, SERVER, 41000, 8080, 0x02)))
put("verdict_fuzz", "denied-query-sinkholed",
    record(8, udp4(CLIENT, RESOLVER, 40001, 53, query("ads.blocked.test", 1, id_=9))))
put("verdict_fuzz", "cname-chain-trusted",
    record(16, udp4(CLIENT, RESOLVER, 40002, 53, query("www.example.com", 1, id_=0xBEEF)))
    + record(17, udp4(RESOLVER, CLIENT, 53, 40002, ans)))
doh_q = query("dns.google", 1, id_=77)
doh_a = header(77, 0x8180, 1, 1, 0, 0) + name("dns.google") + b"\0\1\0\1" \
    + rr(b"\xc0\x0c", 1, 300, bytes(SERVER))
put("verdict_fuzz", "doh-by-cached-name",
    record(2, udp4(CLIENT, RESOLVER, 40003, 53, doh_q))
    + record(3, udp4(RESOLVER, CLIENT, 53, 40003, doh_a))
    + record(2, tcp4(CLIENT, SERVER, 41001, 443, 0x02))
    + record(2, tcp4(CLIENT, SERVER, 41001, 443, 0x18, hello)))
tcp_q = struct.pack(">H", len(ok_q)) + ok_q
put("verdict_fuzz", "dns-over-tcp",
    record(0, tcp4(CLIENT, RESOLVER, 40004, 53, 0x18, tcp_q))
    + record(4, tcp4(CLIENT, SERVER, 41002, 853, 0x02)))

# quic_fuzz: the client Initial of RFC 9001 A.2 (tests/vm/quic_initial.py),
# and, behind an odd first byte, frames the harness protects itself: the
# A.2 ClientHello whole, split over shuffled CRYPTO frames, with PING/ACK.
import sys  # noqa: E402
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import quic_initial  # noqa: E402

put("quic_fuzz", "rfc9001-a2",
    quic_initial.protect(quic_initial.RFC_DCID, quic_initial.RFC_HEADER, 4,
                         quic_initial.RFC_PAYLOAD))
a2_frames = quic_initial.RFC_PAYLOAD.rstrip(b"\0")
a2_hello = a2_frames[4:]
put("quic_fuzz", "frames-a2", b"\x01" + a2_frames + bytes(40))


def crypto(off, data):
    return b"\x06" + struct.pack(">HH", 0x4000 | off, 0x4000 | len(data)) + data


put("quic_fuzz", "frames-shuffled",
    b"\x01" + crypto(100, a2_hello[100:]) + b"\x01\x00\x00"
    + crypto(0, a2_hello[:60]) + b"\x02\x00\x00\x00\x00"
    + crypto(60, a2_hello[60:100]) + bytes(20))
put("quic_fuzz", "frames-cut", b"\x01" + crypto(0, a2_hello[:50]) + bytes(20))


def datagram(flags, data):
    """One datagram of the several-datagram mode (first byte bit 1)."""
    return struct.pack(">HB", len(data), flags) + data


# The A.2 hello over three Initials (last first, one sent again, a reply
# from the server meanwhile), and one whose rest goes to another DCID.
put("quic_fuzz", "datagrams-split",
    b"\x02" + datagram(1, crypto(150, a2_hello[150:]) + bytes(20))
    + datagram(1, crypto(0, a2_hello[:40]) + bytes(20))
    + datagram(4, b"ack")
    + datagram(1, crypto(0, a2_hello[:40]) + bytes(20))
    + datagram(1, crypto(40, a2_hello[40:150]) + bytes(20)))
put("quic_fuzz", "datagrams-dcid-change",
    b"\x02" + datagram(1, crypto(0, a2_hello[:40]) + bytes(20))
    + datagram(3, crypto(40, a2_hello[40:]) + bytes(20)))
