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
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/file.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
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
 * the watchdog timer to notice. While the agent is handed over, the
 * deadline is the end of the grace its successor has to register.
 */
static enum sluice_mode sluice_live_mode(const struct sluice_net *sn)
{
	enum sluice_mode mode = READ_ONCE(sn->mode);

	/* Hooks are going (sluice_hooks_drain()): queue nothing more. */
	if (READ_ONCE(sn->unhooking))
		return SLUICE_MODE_NO_AGENT;

	if (mode == SLUICE_MODE_ENFORCING &&
	    time_after(jiffies, READ_ONCE(sn->beat_deadline)))
		return SLUICE_MODE_HUNG;
	return mode;
}

/*
 * The queue of a flow: with several verdict threads, flows are spread by
 * a hash of their original tuple, which every packet of the flow shares
 * (the first packets' conntrack entries are one per packet).
 */
static u16 sluice_queue_of(const struct sluice_net *sn, const struct nf_conn *ct)
{
	u16 queue = READ_ONCE(sn->queue_num);
	u16 count = READ_ONCE(sn->queue_count);

	if (count > 1)
		queue += reciprocal_scale(sluice_flow_hash(ct), count);
	return queue;
}

/*
 * Where @skb's transport header starts, and its protocol in @proto; -1
 * when there is none to read (a later fragment, a broken header chain).
 */
static int sluice_transport(const struct sk_buff *skb, u8 pf, u8 *proto)
{
	unsigned int off = skb_network_offset(skb);
	__be16 frag_off;
	int thoff;

	if (pf == NFPROTO_IPV4) {
		if (ip_is_fragment(ip_hdr(skb)) &&
		    (ip_hdr(skb)->frag_off & htons(IP_OFFSET)))
			return -1;
		*proto = ip_hdr(skb)->protocol;
		return off + ip_hdrlen(skb);
	}
	*proto = ipv6_hdr(skb)->nexthdr;
	thoff = ipv6_skip_exthdr(skb, off + sizeof(struct ipv6hdr), proto,
				 &frag_off);
	if (thoff < 0 || (frag_off & htons(~0x7)))
		return -1;
	return thoff;
}

/* The ICMP or ICMPv6 type of @skb, or -1 when it is neither. */
static int sluice_icmp_type(const struct sk_buff *skb, u8 pf)
{
	u8 proto, type, *tp;
	int thoff;

	thoff = sluice_transport(skb, pf, &proto);
	if (thoff < 0 || proto != (pf == NFPROTO_IPV4 ? IPPROTO_ICMP :
						       IPPROTO_ICMPV6))
		return -1;
	tp = skb_header_pointer(skb, thoff, sizeof(type), &type);
	return tp ? *tp : -1;
}

/* A TCP segment that carries no data: a handshake packet, a bare ACK. */
static bool sluice_tcp_bare(const struct sk_buff *skb, u8 pf)
{
	struct tcphdr _th;
	const struct tcphdr *th;
	u8 proto;
	int thoff;

	thoff = sluice_transport(skb, pf, &proto);
	if (thoff < 0 || proto != IPPROTO_TCP)
		return false;
	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	return th && skb->len <= thoff + th->doff * 4;
}

/*
 * An ICMP error quoting a flow is RELATED to it and carries its conntrack
 * entry: it follows the flow's verdict and never makes one, so that a
 * forged "fragmentation needed" can neither decide a flow that waits for
 * its name nor, with ICMP denied, kill an allowed one.
 */
static unsigned int sluice_related(struct sluice_net *sn,
				   enum sluice_flow_verdict v)
{
	sluice_count(sn, SLUICE_STAT_RELATED);
	if (v == SLUICE_FLOW_DENY)
		return NF_DROP;
	if (v == SLUICE_FLOW_ALLOW)
		return NF_ACCEPT;
	/* Undecided: its flow is judged by its own packets. */
	if (sluice_live_mode(sn) != SLUICE_MODE_ENFORCING &&
	    sluice_net_fail_mode(sn) == SLUICE_FAIL_CLOSED)
		return NF_DROP;
	return NF_ACCEPT;
}

/*
 * IPv6 neighbour discovery and multicast listener messages: conntrack
 * does not follow them, and without them a link stops working.
 */
static bool sluice_link_control(const struct sk_buff *skb, u8 pf)
{
	int type;

	if (pf != NFPROTO_IPV6)
		return false;
	type = sluice_icmp_type(skb, pf);
	return (type >= ICMPV6_MGM_QUERY && type <= NDISC_REDIRECT) ||
	       type == ICMPV6_MLD2_REPORT;
}

static unsigned int sluice_untracked(struct sluice_net *sn,
				     const struct sk_buff *skb, u8 pf)
{
	sluice_count(sn, SLUICE_STAT_UNTRACKED);
	if (!READ_ONCE(sluice_untracked_drop) || sluice_link_control(skb, pf))
		return NF_ACCEPT;
	return NF_DROP;
}

/*
 * nfnetlink_queue refuses a packet whose unconfirmed entry another clone
 * shares (bridged or multicast traffic): such a packet follows the fail
 * mode rather than being lost in the queue.
 */
static bool sluice_unqueueable(const struct nf_conn *ct)
{
	return !nf_ct_is_confirmed(ct) &&
	       refcount_read(&ct->ct_general.use) > 1;
}

/*
 * Hand @skb to the agent. Only here, never on the fast path, does the
 * module find out who the flow belongs to (identity.c): the agent may ask
 * with the conntrack id it gets with the packet. Only in the flow's
 * original direction, where the local socket started or receives it, and
 * only while the agent's policy has a rule that needs it: otherwise
 * nobody would ask, and the allocation, lock and socket lookup are saved.
 */
static unsigned int sluice_queue(struct sluice_net *sn, struct nf_conn *ct,
				 enum ip_conntrack_info ctinfo,
				 struct sk_buff *skb,
				 const struct nf_hook_state *state,
				 enum sluice_fail_mode fail_mode)
{
	unsigned int verdict;

	if (sluice_unqueueable(ct)) {
		sluice_count(sn, SLUICE_STAT_UNQUEUEABLE);
		return fail_mode == SLUICE_FAIL_OPEN ? NF_ACCEPT : NF_DROP;
	}
	if (CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL &&
	    READ_ONCE(sn->agent.want_identity))
		sluice_identity_record(sn, ct, skb, state);
	sluice_count(sn, SLUICE_STAT_QUEUED);
	verdict = NF_QUEUE_NR(sluice_queue_of(sn, ct));
	/*
	 * Bypass: if the agent's queue socket is already gone (it crashed a
	 * moment ago), the packet is accepted instead of dropped, and the
	 * release notifier fails over right after. Only when failing open:
	 * in closed mode a packet nobody can judge is dropped.
	 */
	if (fail_mode == SLUICE_FAIL_OPEN)
		verdict |= NF_VERDICT_FLAG_QUEUE_BYPASS;
	return verdict;
}

/*
 * Whether @skb leaves from a socket opened by a holder of CAP_NET_ADMIN
 * over @net, as the agent's are. The mark alone proves nothing: since
 * Linux 5.17, CAP_NET_RAW is enough to set SO_MARK. The opener's
 * credentials are read from the socket's file, as xt_owner reads them.
 */
static bool sluice_sent_by_admin(const struct sk_buff *skb,
				 const struct net *net)
{
	const struct sock *sk = skb_to_full_sk(skb);
	const struct file *file;

	if (!sk || !sk->sk_socket || !net_eq(net, sock_net(sk)))
		return false;
	file = READ_ONCE(sk->sk_socket->file);
	return file && file_ns_capable(file, net->user_ns, CAP_NET_ADMIN);
}

static unsigned int sluice_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct sluice_net *sn = sluice_pernet(state->net);
	enum sluice_fail_mode fail_mode;
	enum ip_conntrack_info ctinfo;
	enum sluice_flow_verdict v;
	enum sluice_mode mode;
	struct nf_conn *ct;

	sluice_count(sn, SLUICE_STAT_SEEN);

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct && ctinfo == IP_CT_UNTRACKED && skb->mark == SLUICE_OWN_MARK &&
	    (state->hook != NF_INET_LOCAL_OUT ||
	     sluice_sent_by_admin(skb, state->net))) {
		/*
		 * The agent's own packet, untracked by sluice_own_hook (on its
		 * way out, or back in over loopback). A packet that only
		 * carries the mark is tracked, and judged below; one the raw
		 * table's NOTRACK untracked is asked for its socket again on
		 * its way out, and goes as untracked if it is not the agent's.
		 */
		sluice_count(sn, SLUICE_STAT_OWN);
		return NF_ACCEPT;
	}
	if (!ct)	/* untracked or invalid: nowhere to keep a verdict */
		return sluice_untracked(sn, skb, state->pf);

	v = sluice_mark_decode(sluice_mark_mask, READ_ONCE(ct->mark));
	if ((ctinfo == IP_CT_RELATED || ctinfo == IP_CT_RELATED_REPLY) &&
	    sluice_icmp_type(skb, state->pf) >= 0)
		return sluice_related(sn, v);

	if (v == SLUICE_FLOW_UNSET && !nf_ct_is_confirmed(ct) &&
	    sluice_deny_known(sn, ct)) {
		sluice_count(sn, SLUICE_STAT_FAST_DROPPED);
		return NF_DROP;
	}

	/*
	 * An unvetted flow goes to a live agent with its next packet; one
	 * that waits for its name (the agent left it unvetted on purpose)
	 * needs only payload: its handshake and bare ACKs pass here.
	 */
	mode = sluice_live_mode(sn);
	if (v == SLUICE_FLOW_UNVETTED && mode == SLUICE_MODE_ENFORCING &&
	    sluice_tcp_bare(skb, state->pf)) {
		sluice_count(sn, SLUICE_STAT_FAST_ACCEPTED);
		return NF_ACCEPT;
	}

	fail_mode = sluice_net_fail_mode(sn);
	switch (sluice_decide(v, mode, fail_mode)) {
	case SLUICE_ACT_ACCEPT:
		sluice_count(sn, SLUICE_STAT_FAST_ACCEPTED);
		return NF_ACCEPT;
	case SLUICE_ACT_DROP:
		/* Denied on its first packet (NF_REPEAT): remember it. */
		if (!nf_ct_is_confirmed(ct))
			sluice_deny_remember(sn, ct);
		sluice_count(sn, SLUICE_STAT_FAST_DROPPED);
		return NF_DROP;
	case SLUICE_ACT_QUEUE:
		return sluice_queue(sn, ct, ctinfo, skb, state, fail_mode);
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

/*
 * Before conntrack: the agent's own packets (SLUICE_OWN_MARK, from a
 * socket opened with CAP_NET_ADMIN) leave untracked, as the raw table's
 * NOTRACK would do, so that a DNS sinkhole answer creates no entry for the
 * client's next query to ride. Anyone else's marked packet is tracked and
 * judged like any other.
 */
static unsigned int sluice_own_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	if (skb->mark == SLUICE_OWN_MARK && !skb_nfct(skb) &&
	    sluice_sent_by_admin(skb, state->net))
		nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
	return NF_ACCEPT;
}

static const struct nf_hook_ops sluice_own_ops[] = {
	{ .hook = sluice_own_hook, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP_PRI_RAW },
	{ .hook = sluice_own_hook, .pf = NFPROTO_IPV6,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP6_PRI_RAW },
};

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
 * Before a hook that queues goes, nothing it queued may be left: a
 * verdict is applied by nf_reinject(), which finds the packet's hook again
 * by its index in the namespace's hook array. The core flushes the queues
 * when a hook is removed, but only after it has swapped in the array
 * without the hook, so a verdict that took its packet off the queue just
 * before meets the new array: the index is past its end (a WARN, a panic
 * with panic_on_warn) or points at another hook. So: queue nothing more,
 * wait until no CPU is still in the hook, flush what is queued while the
 * array still holds the hook, and wait until no verdict taken off a queue
 * before the flush is still being applied (verdicts are applied under
 * rcu_read_lock()). The flush drops, as the core's own would have.
 */
static void sluice_hooks_drain(struct net *net, struct sluice_net *sn)
{
	WRITE_ONCE(sn->unhooking, true);
	synchronize_net();
	nf_queue_nf_hook_drop(net);
	synchronize_net();
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
	if (sn->hooks & ~mask)
		sluice_hooks_drain(net, sn);
	for (i = ARRAY_SIZE(sluice_hook_ops) - 1; i >= 0; i--) {
		unsigned int bit = sluice_hook_bit(&sluice_hook_ops[i]);

		if (!(mask & bit) && (sn->hooks & bit))
			nf_unregister_net_hook(net, &sluice_hook_ops[i]);
	}
	WRITE_ONCE(sn->unhooking, false);
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
	int err;

	err = nf_register_net_hooks(net, sluice_own_ops,
				    ARRAY_SIZE(sluice_own_ops));
	if (err)
		return err;
	err = sluice_hooks_set(net, READ_ONCE(sluice_hooks_mask));
	if (err)
		nf_unregister_net_hooks(net, sluice_own_ops,
					ARRAY_SIZE(sluice_own_ops));
	return err;
}

void sluice_hooks_unregister(struct net *net)
{
	sluice_hooks_set(net, 0);
	nf_unregister_net_hooks(net, sluice_own_ops, ARRAY_SIZE(sluice_own_ops));
}
