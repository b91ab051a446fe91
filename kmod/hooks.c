// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks: every packet at LOCAL_IN, LOCAL_OUT and FORWARD, for
 * IPv4 and IPv6, in every network namespace.
 *
 * Hooks run after conntrack has attached the flow to the packet and after
 * the filter table, so that a packet the administrator's own rules drop is
 * never queued. A decided flow is answered here from its conntrack mark;
 * only an undecided one goes to the agent.
 */
#include <linux/hash.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>

#include "sluice.h"

/*
 * The flow is admitted without a verdict while no agent is live: mark it
 * unvetted so that the agent re-checks it once it is back. Only sluice's
 * bits change, and only when they are still unset, so that a verdict the
 * agent wrote meanwhile is never overwritten.
 */
static void sluice_mark_unvetted(struct nf_conn *ct)
{
	u32 mark = READ_ONCE(ct->mark);

	if (sluice_mark_decode(sluice_mark_mask, mark) != SLUICE_FLOW_UNSET)
		return;
	if (cmpxchg(&ct->mark, mark, mark |
		    sluice_mark_encode(sluice_mark_mask,
				       SLUICE_FLOW_UNVETTED)) == mark)
		nf_conntrack_event_cache(IPCT_MARK, ct);
}

/*
 * The agent's mode as the hook needs it: an enforcing agent whose heartbeat
 * deadline has passed is treated as hung right now, without waiting for
 * the watchdog timer to notice.
 */
static enum sluice_mode sluice_live_mode(const struct sluice_net *sn)
{
	enum sluice_mode mode = READ_ONCE(sn->mode);

	if (mode == SLUICE_MODE_ENFORCING &&
	    time_after(jiffies, READ_ONCE(sn->beat_deadline)))
		return SLUICE_MODE_HUNG;
	return mode;
}

/*
 * The queue of a flow: with several verdict threads, flows are spread by
 * a hash of their conntrack entry, which every packet of the flow shares.
 */
static u16 sluice_queue_of(const struct sluice_net *sn, const struct nf_conn *ct)
{
	u16 queue = READ_ONCE(sn->queue_num);
	u16 count = READ_ONCE(sn->queue_count);

	if (count > 1)
		queue += reciprocal_scale(hash_ptr(ct, 32), count);
	return queue;
}

static unsigned int sluice_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct sluice_net *sn = sluice_pernet(state->net);
	enum ip_conntrack_info ctinfo;
	enum sluice_flow_verdict v;
	struct nf_conn *ct;

	sluice_count(sn, SLUICE_STAT_SEEN);

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct) {
		/* Untracked or invalid: nothing to remember a verdict in. */
		sluice_count(sn, SLUICE_STAT_UNTRACKED);
		return sluice_untracked_drop ? NF_DROP : NF_ACCEPT;
	}

	v = sluice_mark_decode(sluice_mark_mask, READ_ONCE(ct->mark));
	switch (sluice_decide(v, sluice_live_mode(sn),
			      READ_ONCE(sluice_fail_mode))) {
	case SLUICE_ACT_ACCEPT:
		sluice_count(sn, SLUICE_STAT_FAST_ACCEPTED);
		return NF_ACCEPT;
	case SLUICE_ACT_DROP:
		sluice_count(sn, SLUICE_STAT_FAST_DROPPED);
		return NF_DROP;
	case SLUICE_ACT_QUEUE:
		/*
		 * Bypass: if the agent's queue socket is already gone (it
		 * crashed a moment ago), the packet is accepted instead of
		 * dropped, and the release notifier fails over right after.
		 */
		sluice_count(sn, SLUICE_STAT_QUEUED);
		return NF_QUEUE_NR(sluice_queue_of(sn, ct)) |
		       NF_VERDICT_FLAG_QUEUE_BYPASS;
	case SLUICE_ACT_FAIL_OPEN:
		sluice_count(sn, SLUICE_STAT_FAILED_OPEN);
		sluice_mark_unvetted(ct);
		return NF_ACCEPT;
	case SLUICE_ACT_FAIL_CLOSED:
	default:
		sluice_count(sn, SLUICE_STAT_FAILED_CLOSED);
		return NF_DROP;
	}
}

/* After conntrack (-200) and the filter table (0). */
#define SLUICE_PRI	(NF_IP_PRI_FILTER + 10)

static const struct nf_hook_ops sluice_hook_ops[] = {
	{ .hook = sluice_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_IN, .priority = SLUICE_PRI },
	{ .hook = sluice_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = SLUICE_PRI },
	{ .hook = sluice_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_FORWARD, .priority = SLUICE_PRI },
	{ .hook = sluice_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_IN, .priority = SLUICE_PRI },
	{ .hook = sluice_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = SLUICE_PRI },
	{ .hook = sluice_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_FORWARD, .priority = SLUICE_PRI },
};

/* Serialises changes of the hooks of any namespace. */
static DEFINE_MUTEX(sluice_hooks_mutex);

static unsigned int sluice_hook_bit(const struct nf_hook_ops *ops)
{
	switch (ops->hooknum) {
	case NF_INET_LOCAL_IN:
		return SLUICE_HOOK_IN;
	case NF_INET_LOCAL_OUT:
		return SLUICE_HOOK_OUT;
	case NF_INET_FORWARD:
		return SLUICE_HOOK_FORWARD;
	default:
		return 0;
	}
}

/*
 * Make the namespace's hooks exactly @mask: hooks are added before any is
 * removed, so that a change never leaves a gap; on failure the hooks stay
 * as they were.
 */
int sluice_hooks_set(struct net *net, unsigned int mask)
{
	struct sluice_net *sn = sluice_pernet(net);
	unsigned int added = 0;
	int i, err = 0;

	mutex_lock(&sluice_hooks_mutex);
	for (i = 0; i < ARRAY_SIZE(sluice_hook_ops); i++) {
		unsigned int bit = sluice_hook_bit(&sluice_hook_ops[i]);

		if (!(mask & bit) || (sn->hooks & bit))
			continue;
		err = nf_register_net_hook(net, &sluice_hook_ops[i]);
		if (err)
			goto err_unwind;
		added |= bit;
	}
	for (i = ARRAY_SIZE(sluice_hook_ops) - 1; i >= 0; i--) {
		unsigned int bit = sluice_hook_bit(&sluice_hook_ops[i]);

		if (!(mask & bit) && (sn->hooks & bit))
			nf_unregister_net_hook(net, &sluice_hook_ops[i]);
	}
	WRITE_ONCE(sn->hooks, mask);
	mutex_unlock(&sluice_hooks_mutex);
	return 0;

err_unwind:
	while (--i >= 0)
		if (added & sluice_hook_bit(&sluice_hook_ops[i]))
			nf_unregister_net_hook(net, &sluice_hook_ops[i]);
	mutex_unlock(&sluice_hooks_mutex);
	return err;
}

static const char *const sluice_hook_names[] = SLUICE_HOOK_NAMES;

/* The SLUICE_HOOK_* bit named @name ("all": every one), or 0. */
unsigned int sluice_hook_by_name(const char *name)
{
	int i;

	if (!strcmp(name, "all"))
		return SLUICE_HOOK_ALL;
	for (i = 0; i < ARRAY_SIZE(sluice_hook_names); i++)
		if (!strcmp(name, sluice_hook_names[i]))
			return BIT(i);
	return 0;
}

/* "in,out,forward" for a SLUICE_HOOK_* mask, as the parameter takes it. */
int sluice_hooks_name(char *buf, size_t len, unsigned int mask)
{
	const char *const *names = sluice_hook_names;
	int i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(sluice_hook_names); i++)
		if (mask & BIT(i))
			n += scnprintf(buf + n, len - n, "%s%s", n ? "," : "",
				       names[i]);
	return n;
}

int sluice_hooks_register(struct net *net)
{
	return sluice_hooks_set(net, READ_ONCE(sluice_hooks_mask));
}

void sluice_hooks_unregister(struct net *net)
{
	sluice_hooks_set(net, 0);
}
