#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel-trouble pattern of tests/vm/trouble.sh, which every tier that
# boots a kernel uses to fail a run: a sample line of every report it
# names (oops, BUG, WARNING, KASAN, UBSAN, lockdep, RCU stall, soft and
# hard lockup, hung task, debug objects, kmemleak, panic) must match,
# stamped as the kernel prints it; the same line without printk's stamp
# must not (it is a test's output, not the kernel's), except through
# kernel_trouble_unstamped; and the clean boot logs of
# tests/unit/kernel-logs (the stock and the debug kernel booted by the VM
# tier, one line per message shape) must not match at all.
#
# Prints cmocka's summary lines, so tests/unit/run.sh counts it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/trouble.sh

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "[       OK ] $*"; }
not_ok() { failed=$((failed + 1)); echo "[  FAILED  ] $*"; }

# "report|line": the kernel's wording (Linux 6.1) of each report.
samples='oops|Oops: 0000 [#1] PREEMPT SMP NOPTI
oops|general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
oops|Kernel panic - not syncing: Fatal exception in interrupt
oops|Call Trace:
oops|RIP: 0010:nf_reinject+0x41/0x1d0
BUG|BUG: kernel NULL pointer dereference, address: 0000000000000008
BUG|BUG: unable to handle page fault for address: ffffc90000a3f000
BUG|kernel BUG at net/netfilter/nf_queue.c:120!
BUG|BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580
WARNING|WARNING: CPU: 1 PID: 223 at net/netfilter/nf_queue.c:329 nf_reinject+0x41/0x1d0
WARNING|refcount_t: underflow; use-after-free.
WARNING|list_add corruption. next->prev should be prev (ffff888004a3c2d8), but was 0000000000000000. (next=ffff888004a3c2d8).
WARNING|list_del corruption, ffff888004a3c2d8->next is LIST_POISON1 (dead000000000100)
KASAN|BUG: KASAN: use-after-free in sluice_verdict+0x3c/0x90 [sluice]
KASAN|BUG: KASAN: slab-out-of-bounds in sluice_stats_show+0x11/0x80 [sluice]
UBSAN|UBSAN: shift-out-of-bounds in kmod/hooks.c:42:17
UBSAN|UBSAN: array-index-out-of-bounds in kmod/stats.c:88:9
KFENCE|BUG: KFENCE: use-after-free read in sluice_flow_put+0x20/0x40 [sluice]
lockdep|WARNING: possible circular locking dependency detected
lockdep|WARNING: possible recursive locking detected
lockdep|WARNING: inconsistent lock state
lockdep|INFO: trying to register non-static key.
RCU|WARNING: suspicious RCU usage
RCU stall|rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
RCU stall|rcu: INFO: rcu_preempt self-detected stall on CPU
soft lockup|watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:123]
hard lockup|watchdog: Watchdog detected hard LOCKUP on cpu 1
hung task|INFO: task sluiced:412 blocked for more than 120 seconds.
debug objects|ODEBUG: free active (active state 0) object type: timer_list hint: sluice_watchdog_fire+0x0/0x80 [sluice]
kmemleak|kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "$samples" >"$tmp/samples"
while IFS='|' read -r what line; do
	if printf '[   12.345678] %s\r\n' "$line" | kernel_trouble >/dev/null; then
		ok "$what, stamped: $line"
	else
		not_ok "$what, stamped: $line"
	fi
	if printf '%s\n' "$line" | kernel_trouble_unstamped >/dev/null; then
		ok "$what, unstamped: $line"
	else
		not_ok "$what, unstamped: $line"
	fi
	# The control: the same words printed by a test, not the kernel.
	if printf 'not ok 3 - %s\n%s\n' "$line" "$line" | kernel_trouble >/dev/null; then
		not_ok "$what, without printk's stamp, is not the kernel's: $line"
	else
		ok "$what, without printk's stamp, is not the kernel's: $line"
	fi
done <"$tmp/samples"
n=$(grep -c . "$tmp/samples")
if [ "$passed" -ne $((3 * n)) ] || [ "$n" -lt 29 ]; then
	not_ok "every one of the $n samples was tried ($passed results)"
fi

# Clean boots: the whole log, then again with a report in the middle
# (the log is read to its end, not only its start).
for log in tests/unit/kernel-logs/*.dmesg; do
	lines=$(grep -c '^\[ *[0-9]*\.[0-9]*\]' "$log")
	if [ "$lines" -lt 200 ]; then
		not_ok "$log holds a boot log ($lines stamped lines)"
	elif found=$(kernel_trouble <"$log") ||
	     found=$(kernel_trouble_unstamped <"$log"); then
		not_ok "$log (clean boot, $lines lines) matches nothing"
		echo "$found"
	else
		ok "$log (clean boot, $lines lines) matches nothing"
	fi
	half=$((lines / 2))
	if { head -n "$half" "$log"
	     echo "[  999.000001] WARNING: CPU: 0 PID: 1 at kmod/hooks.c:1 x+0x0/0x1"
	     tail -n +"$((half + 1))" "$log"; } | kernel_trouble >/dev/null; then
		ok "$log with a WARNING in its middle matches"
	else
		not_ok "$log with a WARNING in its middle matches"
	fi
done

# The OOM killer's report of a kill in a memory cgroup (a real one, from
# the soak's oom events) is no trouble; the same report of a machine-wide
# OOM is, and so is a WARNING right after it, or a report cut short.
oom=tests/unit/kernel-logs/memcg-oom.txt
if [ "$(grep -c 'Call Trace:' "$oom")" -eq 1 ] && ! kernel_trouble <"$oom" >/dev/null; then
	ok "an OOM kill confined to a memory cgroup matches nothing"
else
	not_ok "an OOM kill confined to a memory cgroup matches nothing"
fi
if sed 's/CONSTRAINT_MEMCG/CONSTRAINT_NONE/' "$oom" | kernel_trouble >/dev/null; then
	ok "the same report of a machine-wide OOM matches"
else
	not_ok "the same report of a machine-wide OOM matches"
fi
if { cat "$oom"; echo "[  999.000001] WARNING: CPU: 0 PID: 1 at kmod/hooks.c:1 x+0x0/0x1"; } |
	kernel_trouble >/dev/null; then
	ok "a WARNING after a cgroup's OOM kill matches"
else
	not_ok "a WARNING after a cgroup's OOM kill matches"
fi
if grep -v 'Killed process' "$oom" | kernel_trouble >/dev/null; then
	ok "a cgroup's OOM report cut short matches"
else
	not_ok "a cgroup's OOM report cut short matches"
fi

echo "[==========] $((passed + failed)) test(s) run."
echo "[  PASSED  ] $passed test(s)."
[ "$failed" -eq 0 ] || echo "[  FAILED  ] $failed test(s)."
[ "$failed" -eq 0 ]
