// SPDX-License-Identifier: GPL-2.0
/*
 * The watchdog: sluice must never cut a machine off its network because
 * its agent died, hung or is being replaced. The agent is live only while
 * it is registered and heart-beating; the moment it is not, new flows
 * follow the fail mode instead of waiting in a queue nobody reads.
 *
 * Crash: the agent's generic netlink socket is released, the netlink
 * notifier below sees it and fails over at once.
 * Hang: the socket stays open but heartbeats stop. The hooks compare the
 * heartbeat deadline themselves, so no packet is queued to a hung agent
 * even if this timer runs late; the timer only records the transition.
 * Handover: the agent leaves its queue sockets to its successor; until the
 * successor registers or the grace ends (the deadline then), packets wait
 * in those sockets and the control socket may close. If the queue sockets
 * close instead, nobody is coming: fail over at once.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/jiffies.h>
#include <linux/printk.h>

#include "sluice.h"

static const char *const sluice_mode_tokens[] = SLUICE_MODE_TOKENS;

const char *sluice_mode_name(enum sluice_mode mode)
{
	if ((unsigned int)mode >= ARRAY_SIZE(sluice_mode_tokens))
		return "unknown";
	return sluice_mode_tokens[mode];
}

static unsigned long sluice_watchdog_timeout(const struct sluice_net *sn)
{
	return msecs_to_jiffies(sluice_net_watchdog_ms(sn));
}

/*
 * Recompute the mode after any change of the agent or of the clock.
 * Called with sn->lock held. Each change between live and not live is
 * logged once and counted.
 */
void sluice_watchdog_update(struct sluice_net *sn)
{
	unsigned long timeout = sluice_watchdog_timeout(sn);
	enum sluice_mode old = sn->mode;
	unsigned long deadline;
	enum sluice_mode new;
	bool was_live, live;

	if (sluice_agent_expire(&sn->agent, jiffies))
		pr_info("netns %u: no agent registered within the handover's grace\n",
			sn->net->ns.inum);
	new = sluice_agent_mode(&sn->agent, jiffies, timeout);
	deadline = sluice_agent_deadline(&sn->agent, timeout);
	WRITE_ONCE(sn->beat_deadline, deadline);
	WRITE_ONCE(sn->mode, new);

	if (new == SLUICE_MODE_ENFORCING)
		mod_timer(&sn->watchdog, deadline + 1);

	if (old == new)
		return;
	was_live = old == SLUICE_MODE_ENFORCING;
	live = new == SLUICE_MODE_ENFORCING;
	if (was_live != live)
		sluice_count(sn, SLUICE_STAT_TRANSITIONS);
	pr_info("netns %u: %s -> %s (agent pid %d, fail_mode %s)\n",
		sn->net->ns.inum, sluice_mode_name(old), sluice_mode_name(new),
		sn->agent.pid, sluice_fail_mode_name(sluice_net_fail_mode(sn)));
}

static void sluice_watchdog_fire(struct timer_list *t)
{
	struct sluice_net *sn = from_timer(sn, t, watchdog);

	spin_lock(&sn->lock);
	sluice_watchdog_update(sn);
	spin_unlock(&sn->lock);
}

void sluice_watchdog_init(struct sluice_net *sn)
{
	spin_lock_init(&sn->lock);
	sn->mode = SLUICE_MODE_NO_AGENT;
	timer_setup(&sn->watchdog, sluice_watchdog_fire, 0);
}

void sluice_watchdog_stop(struct sluice_net *sn)
{
	del_timer_sync(&sn->watchdog);
}

/*
 * The agent's control socket or one of its queue sockets is gone: a crash
 * looks exactly like this.
 */
static int sluice_netlink_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct sluice_net *sn;
	bool gone;

	if (event != NETLINK_URELEASE || (n->protocol != NETLINK_GENERIC &&
					  n->protocol != NETLINK_NETFILTER))
		return NOTIFY_DONE;

	sn = sluice_pernet(n->net);
	spin_lock_bh(&sn->lock);
	if (n->protocol == NETLINK_GENERIC)
		gone = sluice_agent_release(&sn->agent, n->portid);
	else
		gone = sluice_agent_release_queue(&sn->agent, n->portid);
	if (gone)
		sluice_watchdog_update(sn);
	spin_unlock_bh(&sn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block sluice_netlink_notifier = {
	.notifier_call = sluice_netlink_event,
};

int sluice_notifier_register(void)
{
	return netlink_register_notifier(&sluice_netlink_notifier);
}

void sluice_notifier_unregister(void)
{
	netlink_unregister_notifier(&sluice_netlink_notifier);
}
