#!/bin/sh
# Kernel style gate: checkpatch.pl --strict and sparse on kmod/ and uapi/.
# checkpatch comes from Debian's linux-source tarball (the headers package
# lacks it), unpacked once into the cache. Usage: check-kmod.sh [KDIR]
# Ends with "check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."

KDIR=${1:-}
if [ -z "$KDIR" ]; then
	KDIR=$(ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sluice/checkpatch
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)

passed=0
failed=0
result() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
		passed=$((passed + 1))
	else
		echo "not ok - $2"
		failed=$((failed + 1))
	fi
}

if [ ! -x "$cache/scripts/checkpatch.pl" ] && [ -n "$tarball" ]; then
	mkdir -p "$cache"
	top=$(tar -tJf "$tarball" | head -n 1 | cut -d/ -f1)
	tar -xJf "$tarball" -C "$cache" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" 2>/dev/null
fi

if [ -x "$cache/scripts/checkpatch.pl" ]; then
	# uapi headers cannot use BIT(): userspace has no such macro.
	srcs=$(ls kmod/*.c kmod/*.h | grep -v '\.mod\.c$')
	# shellcheck disable=SC2086
	out=$({ "$cache/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types -f $srcs
		"$cache/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types --ignore BIT_MACRO -f uapi/sluice.h; } 2>&1)
	rc=0
	echo "$out" | grep -qE ': (ERROR|WARNING|CHECK):' && rc=1
	[ "$rc" -ne 0 ] && echo "$out" | grep -E ': (ERROR|WARNING|CHECK):'
	result $rc "checkpatch --strict kmod/ uapi/"
else
	echo "check: checkpatch.pl not found: install linux-source-6.1 (make deps)"
	result 1 "checkpatch --strict kmod/ uapi/"
fi

# sparse: rebuild every object with C=2 so each file is checked.
log=$(mktemp)
make -s -C "$KDIR" M="$PWD" C=2 CHECK="sparse -Wsparse-error" modules >"$log" 2>&1
rc=$?
grep -E 'warning|error' "$log" | grep -v 'Skipping BTF' && rc=1
rm -f "$log"
result $rc "sparse (make C=2) kmod/"

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
