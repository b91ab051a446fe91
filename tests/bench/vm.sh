#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark in the VM with the module (issues 11 and 12): boots the
# VM of tests/vm/run.sh and runs tests/bench/vm/*.sh there instead of the
# test cases, then prints their markdown section on stdout: established
# TCP throughput with and without the module and agent, new flows/s
# through the module and agent against a bare NFQUEUE accept loop, the
# module's queued per new flow, and new flows/s with and without
# identity rules. Emulated (qemu TCG), so only the ratios mean something.
#
# Not a timed test: it never fails on a number. Exit status 1 only when
# the run itself failed (the VM, the module, a set-up step); what failed
# is then said on stderr, after whatever figures were measured.
#
# Usage: tests/bench/vm.sh      (about 4 minutes; builds what it needs)
# On a shared machine, run it as the VM tier is run:
#   flock /tmp/sluice-qemu.lock sh tests/bench/vm.sh
# Environment: SLUICE_BENCH_FLOWS (new flows per round, 300),
# SLUICE_BENCH_ROUNDS (3, the median is reported), SLUICE_BENCH_SECS
# (iperf3 seconds, 5), and those of tests/vm/run.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1

${MAKE:-make} -s all build/nfq_accept >&2 || exit 1
log=$(mktemp "${TMPDIR:-/tmp}/sluice-bench-vm.XXXXXX")
SLUICE_VM_CASE_DIR=tests/bench/vm SLUICE_VM_TIER=bench-vm \
	SLUICE_VM_TIMEOUT=${SLUICE_VM_TIMEOUT:-600} \
	SLUICE_VM_CASE_TIMEOUT=${SLUICE_VM_CASE_TIMEOUT:-420} \
	sh tests/vm/run.sh >"$log" 2>&1
rc=$?
sed -n 's/^# md: \{0,1\}//p' "$log"
if [ "$rc" -ne 0 ]; then
	echo "tests/bench/vm.sh: the VM run failed:" >&2
	grep -E '^(not ok|bench-vm:|#   )' "$log" | head -n 40 >&2
fi
rm -f "$log"
exit "$rc"
