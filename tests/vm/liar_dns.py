# SPDX-License-Identifier: GPL-2.0
"""A lying DNS server for the VM tests: it plays the user who runs their
own resolver to teach sluice's name cache what it likes.

    liar_dns.py ADDR VICTIM ALLOWED SLOTS

Listens on ADDR port 53 (UDP) and answers by the question's first label:

  ALLOWED     ADDR, but with the query's id changed (no client takes
              it; the agent must not either)
  flood.*     a true answer to the question, with 24 A records chosen so
              that they land in the name cache's probe window of VICTIM
              (SLOTS: the cache's slot count, a power of two), to evict
              what VICTIM was learnt as
  any other   the right id, but ALLOWED's question and an answer for it:
              ADDR's neighbour (ADDR + 1)
"""
import socket
import struct
import sys


def fnv_slot(addr, mask):
    """agent/namecache.c hash(): FNV-1a over family and address bytes."""
    h = 1469598103934665603 ^ socket.AF_INET
    for b in socket.inet_aton(addr):
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 32)) & mask


def colliders(victim, mask, want):
    """Addresses of 10.91.0.0/16 whose probe windows cover VICTIM's slot."""
    home = fnv_slot(victim, mask)
    found = []
    for i in range(1, 65536):
        a = "10.91.%d.%d" % (i >> 8, i & 255)
        if a != victim and (home - fnv_slot(a, mask)) & mask <= 3:
            found.append(a)
            if len(found) == want:
                break
    return found


def wire_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def answer(qid, qname, addrs):
    head = struct.pack("!HHHHHH", qid, 0x8180, 1, len(addrs), 0, 0)
    body = wire_name(qname) + struct.pack("!HH", 1, 1)
    for a in addrs:
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4)
        body += socket.inet_aton(a)
    return head + body


def question(msg):
    labels, i = [], 12
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode().lower())
        i += 1 + msg[i]
    return ".".join(labels)


def main():
    addr, victim, allowed, slots = sys.argv[1:5]
    mask = int(slots) - 1
    neighbour = addr.rsplit(".", 1)[0] + ".%d" % (int(addr.rsplit(".", 1)[1]) + 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    flood = colliders(victim, mask, 24)
    sys.stderr.write("flood addresses: %s\n" % " ".join(flood))
    sys.stderr.flush()
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 17:
            continue
        qid = struct.unpack("!H", msg[:2])[0]
        qname = question(msg)
        first = qname.split(".")[0]
        if qname == allowed:
            reply = answer(qid ^ 0x5a5a, allowed, [addr])
        elif first == "flood":
            reply = answer(qid, qname, flood)
        else:
            reply = answer(qid, allowed, [neighbour])
        s.sendto(reply, peer)


main()
