#!/bin/sh
# Unit tier: runs each sanitizer-built agent/*_test.c binary (cmocka).
# Prints cmocka's own report and ends with "unit: N passed, N failed,
# N skipped". Run as root (as make test is in CI), a skipped test is a
# failure: every test's needs (root, namespaces, the tools make deps
# installs, the top of the tree) are met there, so a skip would hide a
# test that silently stopped running. SLUICE_ALLOW_SKIP=1 lifts that.
set -u
passed=0
failed=0
skipped=0
strict=0
[ "$(id -u)" -eq 0 ] && [ "${SLUICE_ALLOW_SKIP:-0}" != 1 ] && strict=1
for t in "$@"; do
	out=$(mktemp)
	case $t in
	build/tsan/*)	# ThreadSanitizer builds drive the agent built alike.
		SLUICED=build/tsan/sluiced "$t" >"$out" 2>&1 ;;
	*)	"$t" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	# cmocka's summary may share a line with stderr output: match anywhere.
	p=$(grep -o '\[  PASSED  \] [0-9]* test' "$out" | tail -n 1 | tr -dc 0-9)
	f=$(grep -o '\[  FAILED  \] [0-9]* test' "$out" | tail -n 1 | tr -dc 0-9)
	s=$(grep -o '\[  SKIPPED \] [0-9]* test' "$out" | tail -n 1 | tr -dc 0-9)
	p=${p:-0}
	f=${f:-0}
	s=${s:-0}
	if [ "$s" -gt 0 ]; then
		grep '^\[  SKIPPED \] [a-z_]' "$out" | sort -u | sed "s|^\[  SKIPPED \] |unit: skipped: $t |"
		if [ "$strict" -eq 1 ]; then
			echo "unit: $t skipped $s test(s) as root, where every test must run"
			f=$((f + s))
		fi
	fi
	# A binary that crashed or was stopped by a sanitizer counts as a
	# failure even if cmocka printed no summary.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit: $t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	rm -f "$out"
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
