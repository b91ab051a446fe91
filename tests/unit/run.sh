#!/bin/sh
# Unit tier: runs each sanitizer-built agent/*_test.c binary (cmocka).
# Prints cmocka's own report and ends with "unit: N passed, N failed".
set -u
passed=0
failed=0
for t in "$@"; do
	out=$(mktemp)
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	# cmocka's summary may share a line with stderr output: match anywhere.
	p=$(grep -o '\[  PASSED  \] [0-9]* test' "$out" | tail -n 1 | tr -dc 0-9)
	f=$(grep -o '\[  FAILED  \] [0-9]* test' "$out" | tail -n 1 | tr -dc 0-9)
	p=${p:-0}
	f=${f:-0}
	# A binary that crashed or was stopped by a sanitizer counts as a
	# failure even if cmocka printed no summary.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit: $t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
