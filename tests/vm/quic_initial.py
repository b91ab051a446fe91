#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a QUIC v1 client Initial packet (RFC 9000 17.2.2) to stdout.

  quic_initial.py --rfc        the client Initial of RFC 9001 Appendix A.2
                               (SNI example.com), byte for byte
  quic_initial.py NAME         a fresh Initial whose ClientHello names NAME
  quic_initial.py --split NAME the ClientHello of a post-quantum client
                               (an X25519MLKEM768 key share, about 1.6 kB;
                               server_name last) over two Initials of one
                               connection, the name in the second only
  quic_initial.py --send HOST PORT [--rfc | [--split] NAME]
                               send it as UDP datagrams instead (from one
                               new port: a new flow), 0.2 s apart; exit 1
                               when the kernel refuses one on the way out
                               (EPERM)

Protected as RFC 9001 5 says, with python3-cryptography: keys from the
Destination Connection ID, AES-128-GCM payload, AES-128-ECB header
protection, padded to 1200 bytes.
"""
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")

# RFC 9001 A.2: the CRYPTO frame holding the ClientHello, then PADDING.
RFC_DCID = bytes.fromhex("8394c8f03e515708")
RFC_HEADER = bytes.fromhex("c300000001088394c8f03e5157080000449e00000002")
RFC_PAYLOAD = bytes.fromhex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff") + bytes(917)


def hmac256(key, data):
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def expand_label(secret, label, length):
    """HKDF-Expand-Label (RFC 8446 7.1), empty context; length <= 32."""
    full = b"tls13 " + label
    info = struct.pack(">HB", length, len(full)) + full + b"\0"
    return hmac256(secret, info + b"\x01")[:length]


def keys(dcid):
    secret = expand_label(hmac256(SALT_V1, dcid), b"client in", 32)
    return (expand_label(secret, b"quic key", 16),
            expand_label(secret, b"quic iv", 12),
            expand_label(secret, b"quic hp", 16))


def protect(dcid, header, pn_len, payload):
    """Encrypt @payload under @header (whose last @pn_len bytes are the
    packet number) and apply header protection."""
    key, iv, hp = keys(dcid)
    pn = int.from_bytes(header[-pn_len:], "big")
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big")))
    ct = AESGCM(key).encrypt(nonce, payload, header)
    pn_off = len(header) - pn_len
    sample = ct[4 - pn_len:4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    h = bytearray(header)
    h[0] ^= mask[0] & 0x0f
    for i in range(pn_len):
        h[pn_off + i] ^= mask[1 + i]
    return bytes(h) + ct


def varint2(n):
    return struct.pack(">H", 0x4000 | n)


def client_hello(name, pq=False):
    """A TLS 1.3 ClientHello naming @name (key share random bytes); @pq:
    with an X25519MLKEM768 share first (1216 bytes) and server_name last,
    as Chrome may order them."""
    n = name.encode()
    sni = struct.pack(">HHHBH", 0, len(n) + 5, len(n) + 3, 0, len(n)) + n
    exts = b"" if pq else sni
    if pq:
        exts += struct.pack(">HHHHH", 0x33, 2 + 4 + 1216, 4 + 1216, 0x11ec, 1216)
        exts += os.urandom(1216)
    exts += bytes.fromhex("000a00080006001d00170018")          # groups
    exts += bytes.fromhex("0010000500030268 33".replace(" ", ""))  # alpn h3
    exts += struct.pack(">HHHHH", 0x33, 38, 36, 0x1d, 32) + os.urandom(32)
    exts += bytes.fromhex("002b0003020304")                     # TLS 1.3
    exts += bytes.fromhex("000d000a00080403080404010501")   # sig algs
    exts += bytes.fromhex("003900060404 8000ffff".replace(" ", ""))  # max_data
    if pq:
        exts += sni
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + bytes.fromhex("0006130113021303")
    body += b"\x01\x00" + struct.pack(">H", len(exts)) + exts
    return b"\x01" + struct.pack(">I", len(body))[1:] + body


def initial_packet(dcid, scid, pn, frame):
    """A client Initial carrying @frame, padded to a 1200-byte datagram."""
    pn_len = 4
    head = lambda plen: (bytes([0xc0 | (pn_len - 1)]) + struct.pack(">I", 1) +
                         bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid +
                         b"\x00" + varint2(plen) + pn.to_bytes(pn_len, "big"))
    pad = 1200 - len(head(0)) - len(frame) - 16
    payload = frame + bytes(max(pad, 0))
    return protect(dcid, head(pn_len + len(payload) + 16), pn_len, payload)


def crypto_frame(off, data):
    return b"\x06" + varint2(off) + varint2(len(data)) + data


def initials(name, split=False):
    """The datagrams of a client's first flight: one Initial, or (@split)
    two whose CRYPTO frames hold the hello's first 1100 bytes and the
    rest."""
    dcid = os.urandom(8)
    scid = os.urandom(8)
    hello = client_hello(name, pq=split)
    cut = 1100 if split else len(hello)
    parts = [(0, hello[:cut])] + ([(cut, hello[cut:])] if split else [])
    return [initial_packet(dcid, scid, pn, crypto_frame(off, data))
            for pn, (off, data) in enumerate(parts)]


def main(argv):
    send = None
    if argv[:1] == ["--send"]:
        send = (argv[1], int(argv[2]))
        argv = argv[3:]
    if argv == ["--rfc"]:
        pkts = [protect(RFC_DCID, RFC_HEADER, 4, RFC_PAYLOAD)]
    elif len(argv) == 1 and not argv[0].startswith("-"):
        pkts = initials(argv[0])
    elif len(argv) == 2 and argv[0] == "--split":
        pkts = initials(argv[1], split=True)
    else:
        sys.stderr.write(__doc__)
        return 2
    if send:
        fam = socket.AF_INET6 if ":" in send[0] else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            for i, pkt in enumerate(pkts):
                if i:
                    time.sleep(0.2)
                try:
                    s.sendto(pkt, send)
                except PermissionError:     # dropped on the way out
                    return 1
    else:
        sys.stdout.buffer.write(b"".join(pkts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
