#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Show that a DNS fuzz target can fail: build it against mutants of
agent/dns.c (each one small bug a real change could bring) and run each
for at most SECONDS from its seeds. A mutant the target does not report
within that time survives. agent/dns.c as it is runs first, as the
control: the target must find nothing there. The tree is not touched: mutants are written
to build/fuzz/mutants/.

  tests/fuzz/dns_mutants.py [TARGET [SECONDS]]   (dns_ldns_fuzz, 20)

Prints one line per mutant (found in how many seconds, by which check, or
survived), then "mutants: N found, N survived"; exits non-zero when one
survived.
"""
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# name, text in agent/dns.c, its replacement. The control is dns.c as it
# is: the target must find nothing there in the same time, or what it
# finds in the mutants means nothing.
CONTROL = "control-unchanged"
MUTANTS = [
    (CONTROL, "", ""),
    ("lowercase-skipped", "return (char)(c - 'A' + 'a');", "return (char)c;"),
    ("qtype-byte-order", "*qtype = get16(msg + p);",
     "*qtype = (uint16_t)(msg[p] | msg[p + 1] << 8);"),
    ("label-length-off-by-one", "pos += 1 + (size_t)l;", "pos += 2 + (size_t)l;"),
    ("name-max-254", "if (wire + 1 > SLUICE_DNS_NAME_WIRE_MAX)",
     "if (wire + 2 > SLUICE_DNS_NAME_WIRE_MAX)"),
    ("underscore-refused", "c == '-' || c == '_' ||", "c == '-' ||"),
    ("aaaa-copies-4-bytes", "memcpy(ad->addr, msg + rr.rdata, want);",
     "memcpy(ad->addr, msg + rr.rdata, 4);"),
    ("ttl-top-bit-kept", "rr->ttl = rr->raw_ttl & 0x80000000u ? 0 : rr->raw_ttl;",
     "rr->ttl = rr->raw_ttl;"),
    ("class-not-checked", "if (rr.class != SLUICE_DNS_CLASS_IN)\n\t\t\tcontinue;", ""),
    ("cname-parent-is-question", "a->parent[a->n_names] = (uint8_t)o;",
     "a->parent[a->n_names] = 0;"),
    ("unknown-owner-kept", "(o = find_name(a, owner)) < 0 ||",
     "((o = find_name(a, owner)) < 0 && (o = 0)) ||"),
    ("one-cname-walk", "if (rc == 0)\n\t\t\tbreak;", "break;"),
]

FLAGS = ("-std=c11 -D_GNU_SOURCE -Wall -Wextra -g -O1 -fsanitize=fuzzer,address,undefined "
         "-fno-sanitize-recover=all -fno-omit-frame-pointer").split()
LIBS = {"dns_ldns_fuzz": ["-lldns"]}


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "dns_ldns_fuzz"
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.chdir(ROOT)
    out = os.path.join("build", "fuzz", "mutants")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open("agent/dns.c") as f:
        orig = f.read()
    found = survived = 0
    for name, old, new in MUTANTS:
        if name != CONTROL and orig.count(old) != 1:
            print(f"mutant {name}: its text is not in agent/dns.c once: update {sys.argv[0]}")
            survived += 1
            continue
        d = os.path.join(out, name)
        os.makedirs(os.path.join(d, "agent"))
        os.makedirs(os.path.join(d, "corpus"))
        with open(os.path.join(d, "agent", "dns.c"), "w") as f:
            f.write(orig.replace(old, new))
        exe = os.path.join(d, target)
        cc = [os.environ.get("CLANG", "clang")] + FLAGS + ["-I", ".", "-o", exe,
                                                         f"tests/fuzz/{target}.c",
                                                         os.path.join(d, "agent", "dns.c")]
        subprocess.run(cc + LIBS.get(target, []), check=True)
        start = time.monotonic()
        run = subprocess.run([exe, f"-max_total_time={secs}", "-max_len=4096",
                              f"-artifact_prefix={d}/", os.path.join(d, "corpus"),
                              f"tests/fuzz/corpus/{target}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.monotonic() - start
        why = re.search(r"invariant broken: .*|ERROR: \w+Sanitizer: [\w-]+", run.stderr)
        if name == CONTROL:
            ok = run.returncode == 0 and not why
            print(f"{name}: {'nothing found' if ok else 'FAILED: ' + run.stderr[-2000:]}"
                  f" in {took:.1f} s")
            if not ok:
                return 1
        elif run.returncode != 0 and why:
            print(f"mutant {name}: found in {took:.1f} s ({why.group(0)})")
            found += 1
        else:
            print(f"mutant {name}: SURVIVED {secs} s (exit {run.returncode})")
            survived += 1
    print(f"mutants: {found} found, {survived} survived")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
