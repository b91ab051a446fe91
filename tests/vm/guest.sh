#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Test runner inside the VM, run by initramfs-init in a mount namespace
# whose root is the host's root file system (read-only, tmpfs over the
# writable places).
# Runs every tests/vm/cases/NN-*.sh in order (or those of
# SLUICE_VM_CASE_DIR: the benchmark's); each case's TAP output goes
# to the results share (/run/sluice-vm/NAME.tap), its exit status to
# NAME.rc. The marker file "done" is written last: the host trusts no
# result without it, so a panic or a hang can never read as success.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LC_ALL=C.UTF-8 TERM=dumb
RES=/run/sluice-vm
# shellcheck disable=SC1091
set -a	# SLUICE_BENCH_* too, whatever run.sh passed on
. "$RES/env"
set +a
export REPO SLUICE_VM_KREL SLUICE_VM_KO SLUICE_VM_SELFTEST SLUICE_VM_CASES \
	SLUICE_VM_UNPINNED_HOOKS SLUICE_VM_SLOW SLUICE_VM_PANIC_ON_WARN \
	SLUICE_SOAK_SECONDS SLUICE_SOAK_EVENTS SLUICE_SOAK_MIN_EVENTS \
	SLUICE_SOAK_SEED SLUICE_SEED
KMEMLEAK=/sys/kernel/debug/kmemleak

cd "$REPO" || exit 1
# The kernel booted quietly (serial output is slow under emulation); from
# now on every kernel message reaches the console log, so that a WARN's
# own lines are there to read even if it ends in a panic.
dmesg -n 7
echo "guest: kernel $(uname -r), $(nproc) cpus, running cases"
# A kernel with kmemleak: what boot left unreferenced is not the cases'
# doing, and is forgotten; the scan after the last case reports the rest.
[ -w "$KMEMLEAK" ] && echo clear >"$KMEMLEAK"

case "$SLUICE_VM_SELFTEST" in
oops)
	# Opt-in proof that the host detects a kernel crash (run.sh
	# --selftest-oops): sysrq 'c' makes the kernel panic at once.
	echo "guest: self-test: crashing the kernel on purpose"
	echo 1 >/proc/sys/kernel/sysrq
	echo c >/proc/sysrq-trigger
	;;
esac

for c in "$REPO/${SLUICE_VM_CASE_DIR:-tests/vm/cases}"/[0-9]*.sh; do
	name=$(basename "$c" .sh)
	if [ -n "$SLUICE_VM_CASES" ]; then
		# shellcheck disable=SC2254
		case "$name" in $SLUICE_VM_CASES) ;; *) continue ;; esac
	else
		# The soaks run for minutes: only when named (make soak).
		case "$name" in 9[0-9]-*) continue ;; esac
	fi
	echo "guest: case $name"
	start=$(date +%s)
	# timeout(1) signals its whole process group, so servers a case left
	# in the background die with it.
	timeout -k 5 "${SLUICE_VM_CASE_TIMEOUT:-240}" sh "$c" \
		>"$RES/$name.tap" 2>"$RES/$name.err"
	rc=$?
	secs=$(($(date +%s) - start))
	echo "$secs" >"$RES/$name.secs"
	echo "$rc" >"$RES/$name.rc"
	echo "guest: case $name exit $rc in $secs s"
	# A case that died half-way must not leave state for the next one.
	ip -all netns delete 2>/dev/null
	rmmod sluice 2>/dev/null
done

# kmemleak reports an object only once it has been unreferenced for 5 s
# and seen so by two scans: scan, wait, scan, then save the report.
if [ -w "$KMEMLEAK" ]; then
	echo "guest: kmemleak scan"
	start=$(date +%s)
	echo scan >"$KMEMLEAK"
	sleep 6
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >"$RES/kmemleak"
	echo "guest: kmemleak scan took $(($(date +%s) - start)) s," \
		"$(grep -c 'unreferenced object' "$RES/kmemleak") objects reported"
fi
dmesg >"$RES/dmesg"
echo "done" >"$RES/done"
sync
