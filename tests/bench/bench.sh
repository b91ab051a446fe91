#!/bin/sh
# make bench: every benchmark of sluice in one run, then docs/BENCHMARKS.md
# and its plots (tests/bench/report.sh). Benchmarks print figures and never
# fail on a number; this exits non-zero only when a part could not run
# (the document says which).
#
#   sh tests/bench/bench.sh        (make bench builds what it needs first)
#
# Parts, in order, each output kept in build/bench/:
#   domains.log    tests/bench/run.sh: the domain matcher, a million names
#   policy.log     build/policy_bench ("policy_bench: KEY VALUE UNIT"
#                  lines), when tests/bench/policy_bench.c exists
#   identity.log   build/identity_bench
#   flows/         tests/bench/flows.sh: new flows on the host kernel
#                  (flows.txt, profile.txt; its log in flows.log)
#   vm.md          tests/bench/vm.sh (a markdown section), when it exists
# DOMAIN_NAMES (1000000) and the counts of flows.sh may be lowered.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
cd "$top" || exit 1
rm -rf "$out"
mkdir -p "$out"
: > "$out/status.txt"
start=$(date +%s)
date -u '+%Y-%m-%d %H:%M UTC' > "$out/date.txt"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# part NAME COMMAND...: runs a part, its output to the terminal and to
# build/bench/NAME.log; records ran/failed in status.txt.
part() {
	name=$1
	shift
	echo "== bench: $name ==" >&2
	t0=$(date +%s)
	if { "$@" 2>&1; echo "rc=$?" > "$out/$name.rc"; } | tee "$out/$name.log"; then :; fi
	rc=$(sed -n 's/^rc=//p' "$out/$name.rc")
	if [ "$rc" = 0 ]; then
		echo "$name ran $(($(date +%s) - t0))" >> "$out/status.txt"
	else
		echo "$name failed $(($(date +%s) - t0))" >> "$out/status.txt"
	fi
	rm -f "$out/$name.rc"
}

part domains sh tests/bench/run.sh "${DOMAIN_NAMES:-1000000}"

if [ -f tests/bench/policy_bench.c ]; then
	part policy sh -c "${MAKE:-make} -s build/policy_bench && build/policy_bench"
else
	echo "policy skipped tests/bench/policy_bench.c is not in this tree (the matcher's benchmark)" >> "$out/status.txt"
fi

part identity build/identity_bench

part flows sh tests/bench/flows.sh "$out/flows"

if [ -f tests/bench/vm.sh ]; then
	echo "== bench: vm ==" >&2
	t0=$(date +%s)
	if sh tests/bench/vm.sh > "$out/vm.md"; then
		echo "vm ran $(($(date +%s) - t0))" >> "$out/status.txt"
	else
		echo "vm failed $(($(date +%s) - t0))" >> "$out/status.txt"
	fi
else
	echo "vm skipped tests/bench/vm.sh is not in this tree (the VM benchmark)" >> "$out/status.txt"
fi

echo "total ran $(($(date +%s) - start))" >> "$out/status.txt"
echo "$load_start; $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/load.txt"
sh tests/bench/report.sh "$out" docs || echo "report failed" >> "$out/status.txt"
cat "$out/status.txt" >&2
! grep -q ' failed' "$out/status.txt"
