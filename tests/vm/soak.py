#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The chaos soak's hands (tests/vm/cases/90-chaos-soak.sh): one process
that does, on request, what would otherwise cost the driver a process or
more each time. Under software emulation with the load running, every
program started costs some 0.4 s in the stock kernel and a second or more
in the debug one; the first driver spent most of its time starting
"sleep", "ip netns exec awk" (a mode poll every 0.1 s) and python.

Usage: soak.py REQUESTS REPLIES (two FIFOs). Reads one request a line,
writes one reply a line ("ok ..." or "no ..."):
  sleep S                 sleeps S seconds
  mode PID MODE TENTHS    until /proc/PID/net/sluice says MODE (polled
                          every 10 ms; "no dead" once PID is gone, "no
                          MODE-SEEN" after TENTHS/10 s)
  value FILE KEY          KEY's value in FILE ("key=value" or "key value"
                          lines: the agent's status file, its metrics)
  above FILE KEY N TENTHS until KEY's value in FILE is above N
  drained TENTHS          until no packet waits in this namespace's
                          nfnetlink queues (queue_total 0)
  lines FILE N TENTHS TEXT
                          until more than N lines of FILE hold TEXT;
                          replies how many do
  exe PID                 where /proc/PID/exe points
  install SRC DST TAG     SRC copied to DST.new with TAG appended (a
                          different file that runs the same), renamed over
                          DST: a package manager's upgrade
  sql DB STATEMENTS       the statements on DB (5 s for SQLite's lock)
  query DB SELECT         the first column of SELECT's rows, "|" between
  fill PATH               PATH written until its file system is full;
                          replies the bytes written
  unlink PATH
  ctdrops NS              packets conntrack dropped in namespace NS (its
                          table full, or none could be made) and entries
                          it evicted early, "ok DROP EARLY_DROP", from
                          /proc/net/stat/nf_conntrack of a process in NS
  nfqdrops                packets this namespace's nfnetlink queues
                          dropped (queue full, or the agent's socket
                          full): each agent's queue instance counts its
                          own and goes with the agent, so every instance
                          seen is remembered (by queue and port id) with
                          its last count, and the sum over all replied
  burst N TARGET...       flows.py's burst; losses go to stderr
  run ARGV...             runs ARGV; "ok" if it exits 0
Runs in the namespace whose flows the bursts and "run" concern.
"""
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # the repository is shared with the host
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flows  # noqa: E402


def value(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith((key + "=", key + " ")):
                    return line[len(key) + 1:].strip()
    except OSError:
        pass
    return None


def until(tenths, test):
    end = time.monotonic() + tenths / 10
    while True:
        r = test()
        if r is not None or time.monotonic() >= end:
            return r
        time.sleep(0.01)


def mode(pid, want, tenths):
    seen = [None]

    def test():
        if not os.path.exists("/proc/%s" % pid):
            return "no dead"
        seen[0] = value("/proc/%s/net/sluice" % pid, "mode")
        return "ok" if seen[0] == want else None
    return until(int(tenths), test) or "no %s" % seen[0]


def above(path, key, n, tenths):
    def test():
        v = value(path, key)
        return "ok %s" % v if v is not None and float(v) > float(n) else None
    return until(int(tenths), test) or "no %s" % value(path, key)


def lines(path, n, tenths, text):
    def count():
        try:
            with open(path, errors="replace") as f:
                return sum(text in line for line in f)
        except OSError:
            return 0

    def test():
        c = count()
        return "ok %d" % c if c > int(n) else None
    return until(int(tenths), test) or "no %d" % count()


def drained(tenths):
    def test():
        with open("/proc/net/netfilter/nfnetlink_queue") as f:
            waiting = sum(int(line.split()[2]) for line in f)
        return "ok" if waiting == 0 else None
    return until(int(tenths), test) or "no, packets still queued"


def install(src, dst, tag):
    with open(src, "rb") as f, open(dst + ".new", "wb") as g:
        shutil.copyfileobj(f, g)
        g.write(b"\n%s\n" % tag.encode())
    os.chmod(dst + ".new", 0o755)
    os.rename(dst + ".new", dst)
    return "ok"


def sql(db, statements):
    c = sqlite3.connect(db, timeout=5, isolation_level=None)
    try:
        c.executescript(statements)
    finally:
        c.close()
    return "ok"


def query(db, select):
    c = sqlite3.connect(db, timeout=5)
    try:
        return "ok " + "|".join(str(row[0]) for row in c.execute(select))
    finally:
        c.close()


def fill(path):
    n = 0
    block = b"\0" * 65536
    with open(path, "ab") as f:
        try:
            while True:
                n += os.write(f.fileno(), block)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    return "ok %d" % n


def ctdrops(ns):
    want = os.stat("/run/netns/" + ns).st_ino
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat("/proc/%s/ns/net" % pid).st_ino != want:
                continue
            with open("/proc/%s/net/stat/nf_conntrack" % pid) as f:
                names = f.readline().split()
                rows = [dict(zip(names, (int(x, 16) for x in line.split())))
                        for line in f]
        except OSError:
            continue    # gone meanwhile
        return "ok %d %d" % (sum(r["drop"] for r in rows),
                             sum(r["early_drop"] for r in rows))
    return "no process in " + ns


NFQ_SEEN = {}


def nfqdrops():
    with open("/proc/net/netfilter/nfnetlink_queue") as f:
        for line in f:
            w = line.split()
            NFQ_SEEN[(w[0], w[1])] = int(w[5]) + int(w[6])
    return "ok %d" % sum(NFQ_SEEN.values())


def handle(words, line):
    cmd = words[0]
    if cmd == "sleep":
        time.sleep(float(words[1]))
        return "ok"
    if cmd == "mode":
        return mode(*words[1:4])
    if cmd == "value":
        v = value(words[1], words[2])
        return "no" if v is None else "ok %s" % v
    if cmd == "drained":
        return drained(words[1])
    if cmd == "above":
        return above(*words[1:5])
    if cmd == "lines":
        return lines(words[1], words[2], words[3], line.split(None, 4)[4].rstrip("\n"))
    if cmd == "exe":
        return "ok %s" % os.readlink("/proc/%s/exe" % words[1])
    if cmd == "install":
        return install(*words[1:4])
    if cmd == "sql":
        return sql(words[1], line.split(None, 2)[2])
    if cmd == "query":
        return query(words[1], line.split(None, 2)[2])
    if cmd == "fill":
        return fill(words[1])
    if cmd == "nfqdrops":
        return nfqdrops()
    if cmd == "ctdrops":
        return ctdrops(words[1])
    if cmd == "unlink":
        os.unlink(words[1])
        return "ok"
    if cmd == "burst":
        return "ok " + flows.burst(int(words[1]), flows.parse_targets(words[2:]))
    if cmd == "run":
        r = subprocess.run(words[1:], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=sys.stderr)
        return "ok" if r.returncode == 0 else "no exit %d" % r.returncode
    return "no such request"


def main():
    requests = open(sys.argv[1])
    replies = open(sys.argv[2], "w")
    for line in requests:
        words = line.split()
        if not words:
            continue
        try:
            reply = handle(words, line)
        except Exception as e:  # noqa: BLE001 (the driver must get its reply)
            reply = "no %s" % e
        replies.write(reply.replace("\n", " ") + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
