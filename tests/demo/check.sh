#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make test's demo tier: the short demo (tests/demo/run.sh --short), its
# VM run counted as usual, and then what a newcomer must see in its
# output, counted: the "sluicectl log" section holds a decision "allow"
# and one "deny" (the denied port's, by rule), and explain names the rule
# that denied it. Last line: "demo: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp)
SLUICE_VM_TIER=demo-vm sh tests/demo/run.sh --short "$@" | tee "$out"
passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# section TITLE: the lines under "== TITLE" up to the next heading.
section() {
	awk -v h="== $1" '$0 == h { on = 1; next } /^== / { on = 0 } on' "$out"
}
# log_rows ACTION PATTERN: rows of the log section with ACTION that match.
log_rows() {
	section "sluicectl log" | awk -v a="$1" '$2 == a' | grep -c -- "$2"
}
at_least_one() { [ "$1" -ge 1 ]; }

vm=$(sed -n 's/^demo-vm: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" | tail -n 1)
if [ -n "$vm" ]; then
	passed=$((passed + ${vm% *}))
	failed=$((failed + ${vm#* }))
else
	not_ok "the demo's VM run counted its results"
fi
allowed=$(log_rows allow ':80 ')
denied=$(log_rows deny ':8080 .*rule [0-9]')
echo "# log section: $allowed allowed to port 80, $denied denied to port 8080 by a rule"
check "the demo's log shows an allowed decision (the page on port 80)" at_least_one "$allowed"
check "the demo's log shows a denied decision by its rule (port 8080)" at_least_one "$denied"
check "the demo's explain says deny and names the rule" \
	eval 'section "why was port 8080 refused?" | grep -q "^deny rule [0-9]"'
rm -f "$out"
echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
