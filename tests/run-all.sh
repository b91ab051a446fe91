#!/bin/sh
# Every test tier, one after the other; a tier that fails does not stop the
# others. Each tier ends with "<tier>: N passed, N failed"; the sum of them
# is the last line. Usage: run-all.sh UNIT_TEST_BINARIES...
set -u
cd "$(dirname "$0")/.."

total_p=0
total_f=0
summary=""

tier() {
	name=$1
	shift
	log=$(mktemp)
	echo "=== tier $name"
	{ "$@"; echo $? >"$log.rc"; } 2>&1 | tee "$log"
	rc=$(cat "$log.rc" 2>/dev/null || echo 255)
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
	if [ -z "$line" ]; then
		# A tier that died before counting is one failure, not zero.
		line="$name: 0 passed, 1 failed"
		echo "$line (tier printed no summary)"
	fi
	p=$(echo "$line" | sed 's/^[a-z-]*: \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Its exit status is the tier's last word: a failure that
		# the count missed is still one.
		f=1
		line="$line, exited with status $rc"
		echo "$name: exited with status $rc although it counted no failure"
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	summary="$summary
$line"
	rm -f "$log" "$log.rc"
}

tier unit sh tests/unit/run.sh "$@"
tier check sh scripts/check-kmod.sh "${KDIR:-}"
tier kunit sh tests/kunit/run.sh
tier fuzz sh tests/fuzz/run.sh smoke
tier vm sh tests/vm/run.sh "${KREL:-}"
# The cases of the module's hardest teardowns and restarts, again in the
# debug kernel (KASAN, lockdep, kmemleak) that the kunit tier built: a
# reload loop under traffic with the last hook really removed, "ip netns
# del" under a live agent with packets queued, and an agent SIGKILL loop
# under traffic. The whole suite there is make vm-debug.
tier vm-debug sh tests/vm/debug.sh "${SLUICE_DEBUG_CASES:-2[578]-*}"
# Three minutes of the chaos soak there (make soak: five minutes in the
# stock kernel at the bar's rate; make soak-debug: twenty minutes here),
# every kind of event. The debug kernel fits ten to twelve events a
# minute, not the forty of the bar (31 in a run of these 180 s); twenty
# leave room for a slow run, and each of the twelve kinds is checked apart.
tier soak env SLUICE_VM_TIER=soak SLUICE_SOAK_SECONDS=180 \
	SLUICE_SOAK_MIN_EVENTS=20 sh tests/vm/debug.sh '90-*'
# A minute and a half of it in fail-closed mode (case 91), in the stock
# kernel: new flows may be dropped only while an event took the agent
# away, none is failed open, the long streams never break. Twenty-four
# events are two rounds of the twelve kinds.
tier soak-closed env SLUICE_VM_TIER=soak-closed SLUICE_VM_CASES='91-*' \
	SLUICE_SOAK_SECONDS=90 SLUICE_SOAK_MIN_EVENTS=24 \
	SLUICE_VM_CASE_TIMEOUT=600 sh tests/vm/run.sh "${KREL:-}"
tier lifecycle sh tests/lifecycle/run.sh
# make demo, short: its output shows an allowed and a denied decision.
tier demo sh tests/demo/check.sh "${KREL:-}"

echo "=== summary$summary"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
