# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The one pattern of kernel trouble, for every tier that reads a kernel
# log: the VM and debug-kernel tiers' console and final dmesg (run.sh),
# the cases' dmesg_clean (lib.sh), the lifecycle tier's console and its
# guest's dmesg, the KUnit guest's console. tests/unit/kernel_trouble.sh
# feeds it a sample line of every report below (each must match) and a
# clean boot log (nothing may).
#
# What it catches, as the kernel words it:
#   oops          "Oops: 0000 [#1] ...", "general protection fault",
#                 "Kernel panic - not syncing", "Call Trace:", "RIP:"
#   BUG           "BUG: unable to handle page fault", "kernel BUG at F:N!",
#                 "BUG: sleeping function called from invalid context"
#   WARNING       "WARNING: CPU: 1 PID: 9 at F:N ...", refcount_t and
#                 list corruption reports
#   KASAN, UBSAN  "BUG: KASAN: slab-use-after-free in ...",
#                 "UBSAN: shift-out-of-bounds in ...", KFENCE likewise
#   lockdep       "WARNING: possible circular locking dependency detected",
#                 "... recursive locking ...", "inconsistent lock state",
#                 "INFO: trying to register non-static key"
#   RCU           "WARNING: suspicious RCU usage",
#                 "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks"
#   lockups       "watchdog: BUG: soft lockup - CPU#0 stuck for 26s!",
#                 "Watchdog detected hard LOCKUP on cpu 1"
#   hung task     "INFO: task X:N blocked for more than 120 seconds."
#   debug objects "ODEBUG: free active (active state 0) object type: ..."
#   kmemleak      "kmemleak: 2 new suspected memory leaks"
# What it lets pass: the OOM killer's report of a kill confined to a
# memory cgroup ("oom-kill:constraint=CONSTRAINT_MEMCG", from "... invoked
# oom-killer:" to "Killed process"), whose stack dump would match "Call
# Trace": a cgroup's limit doing its job (the soak's oom events) is no
# kernel trouble. An OOM of the whole machine still is.
KERNEL_TROUBLE='Oops|BUG:|kernel BUG at|WARNING:|INFO:|Kernel panic|KASAN|UBSAN|KFENCE|ODEBUG|general protection|Call Trace|(^|[^A-Za-z_])RIP:|refcount_t|list_(add|del) corruption|soft lockup|hard LOCKUP|hung_task|blocked for more than|circular locking|recursive locking|inconsistent lock state|suspicious RCU|invalid context|detected stall|suspected memory leak'

# kernel_trouble <LOG: the lines of LOG that report trouble (at most 20).
# Only kernel lines, which carry printk's "[ seconds ]" stamp, are
# matched, so that the output of tests mixed into a console cannot trip
# it. The serial console's carriage returns are dropped. Exit status 0 if
# there is any.
kernel_trouble() {
	_kernel_trouble '^\[ *[0-9]+\.[0-9]+\].*'
}
# kernel_trouble_unstamped <LOG: the same for a kernel booted without
# printk.time whose console carries nothing else (the KUnit guest's).
kernel_trouble_unstamped() {
	_kernel_trouble ''
}
_kernel_trouble() {
	tr -d '\r' | memcg_oom_out | grep -E "$1($KERNEL_TROUBLE)" |
		head -n 20 | grep .
}
# memcg_oom_out: the log without the OOM killer's reports of kills
# confined to a memory cgroup; any other report (or one cut short) stays.
memcg_oom_out() {
	awk '/invoked oom-killer:/ { n = 0; memcg = 0; inside = 1 }
	     inside {
		b[++n] = $0
		if ($0 ~ /oom-kill:constraint=CONSTRAINT_MEMCG,/) memcg = 1
		if ($0 !~ /Killed process/) next
		inside = 0
		if (memcg) next
		for (i = 1; i <= n; i++) print b[i]
		next
	     }
	     { print }
	     END { if (inside) for (i = 1; i <= n; i++) print b[i] }'
}
