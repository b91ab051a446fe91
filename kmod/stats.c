// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cpu counters of each namespace, and /proc/net/sluice: the state of
 * sluice readable by anyone, with or without an agent, one "key value" a
 * line so that shell scripts can read it with awk.
 */
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/jiffies.h>

#include "sluice.h"

static const char *const sluice_stat_names[__SLUICE_STAT_MAX] =
	SLUICE_STAT_NAMES;

u64 sluice_stat_read(const struct sluice_net *sn, enum sluice_stat s)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(sn->stats, cpu)->count[s]);
	return sum;
}

static int sluice_proc_show(struct seq_file *seq, void *v)
{
	struct sluice_net *sn = sluice_pernet(seq_file_single_net(seq));
	unsigned long last_beat, handover_end;
	enum sluice_mode mode;
	bool handover;
	char names[32];
	pid_t pid;
	u32 portid;
	int s;

	spin_lock_bh(&sn->lock);
	mode = sluice_agent_mode(&sn->agent, jiffies,
				 msecs_to_jiffies(sluice_net_watchdog_ms(sn)));
	portid = sn->agent.portid;
	pid = sn->agent.pid;
	last_beat = sn->agent.last_beat;
	handover = sn->agent.handover;
	handover_end = sn->agent.handover_end;
	spin_unlock_bh(&sn->lock);

	seq_printf(seq, "mode %s\n", sluice_mode_name(mode));
	seq_printf(seq, "fail_mode %s\n",
		   sluice_fail_mode_name(sluice_net_fail_mode(sn)));
	seq_printf(seq, "agent_pid %d\n", pid);
	if (portid)
		seq_printf(seq, "heartbeat_age_ms %u\n",
			   jiffies_to_msecs(jiffies - last_beat));
	else
		seq_puts(seq, "heartbeat_age_ms -1\n");
	/* The successor of an agent being handed over has this long left. */
	if (handover && mode == SLUICE_MODE_ENFORCING)
		seq_printf(seq, "handover_left_ms %u\n",
			   jiffies_to_msecs(handover_end - jiffies));
	else
		seq_puts(seq, "handover_left_ms -1\n");
	seq_printf(seq, "queue_num %u\n", READ_ONCE(sn->queue_num));
	seq_printf(seq, "queue_count %u\n", READ_ONCE(sn->queue_count));
	seq_printf(seq, "watchdog_ms %u\n", sluice_net_watchdog_ms(sn));
	sluice_hooks_name(names, sizeof(names), READ_ONCE(sn->hooks));
	seq_printf(seq, "hooks %s\n", names[0] ? names : "none");
	for (s = SLUICE_STAT_SEEN; s < __SLUICE_STAT_MAX; s++) {
		if (!sluice_stat_names[s])
			continue;
		seq_printf(seq, "%s %llu\n", sluice_stat_names[s],
			   sluice_stat_read(sn, s));
	}
	seq_printf(seq, "deny_table %u\n", READ_ONCE(sn->deny.count));
	seq_printf(seq, "identity_table %u\n", READ_ONCE(sn->identity.count));
	/* Whether new flows' identities are recorded now (hooks.c). */
	seq_printf(seq, "identity_wanted %s\n",
		   READ_ONCE(sn->agent.want_identity) ? "yes" : "no");
	return 0;
}

int sluice_proc_init(struct net *net)
{
	if (!proc_create_net_single("sluice", 0444, net->proc_net,
				    sluice_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

void sluice_proc_exit(struct net *net)
{
	remove_proc_entry("sluice", net->proc_net);
}
