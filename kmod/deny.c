// SPDX-License-Identifier: GPL-2.0
/*
 * Flows denied on their first packet.
 *
 * A verdict lives in the conntrack entry, but an entry is only confirmed
 * (put in the table) by a packet that passes: when the agent denies the
 * first packet of a flow, its entry dies with the packet, and the next
 * packet of the same flow (a retransmitted SYN, the next datagram of a
 * stream) would be a "new" flow again and be queued. A flood of one denied
 * flow would reach the agent packet by packet and, past the queue's
 * length, be let through by the queue's fail-open flag.
 *
 * So the agent answers a deny with NF_REPEAT: the hook runs again, sees
 * the DENY bits on the unconfirmed entry and remembers the flow here by
 * its original tuple and zone before dropping the packet. Later packets of
 * the flow find it and are dropped in the kernel. An entry lives while the
 * flow keeps sending, and SLUICE_DENY_IDLE_S after its last packet; the
 * agent forgets them all when its policy changes, since a flow it denied
 * may now be allowed.
 */
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "sluice.h"

struct sluice_deny {
	struct hlist_node node;		/* in sluice_deny_table.hash */
	struct list_head age;		/* in sluice_deny_table.age */
	struct nf_conntrack_tuple tuple;
	u16 zone;
	unsigned long expires;		/* jiffies; refreshed lockless */
	struct rcu_head rcu;
};

/*
 * The part of a tuple that names the flow: conntrack zeroes a tuple before
 * filling it, so these bytes compare and hash as they are.
 */
#define SLUICE_TUPLE_LEN offsetofend(struct nf_conntrack_tuple, dst.protonum)

static u32 sluice_flow_seed __read_mostly;

static u32 sluice_tuple_hash(const struct nf_conntrack_tuple *t, u16 zone)
{
	net_get_random_once(&sluice_flow_seed, sizeof(sluice_flow_seed));
	return jhash(t, SLUICE_TUPLE_LEN, sluice_flow_seed ^ zone);
}

static const struct nf_conntrack_tuple *sluice_orig(const struct nf_conn *ct)
{
	return &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
}

static u16 sluice_zone(const struct nf_conn *ct)
{
	return nf_ct_zone_id(nf_ct_zone(ct), IP_CT_DIR_ORIGINAL);
}

/*
 * A flow's hash: the same for every packet of the flow, including the
 * first ones, whose entries are unconfirmed and so one per packet. Used
 * to spread flows over the agent's queues too.
 */
u32 sluice_flow_hash(const struct nf_conn *ct)
{
	return sluice_tuple_hash(sluice_orig(ct), sluice_zone(ct));
}

static struct hlist_head *sluice_deny_bucket(struct sluice_deny_table *t,
					     u32 hash)
{
	return &t->hash[hash >> (32 - SLUICE_DENY_BITS)];
}

static struct sluice_deny *sluice_deny_find(struct sluice_deny_table *t,
					    const struct nf_conn *ct)
{
	const struct nf_conntrack_tuple *tuple = sluice_orig(ct);
	u16 zone = sluice_zone(ct);
	struct hlist_head *bucket;
	struct sluice_deny *d;

	bucket = sluice_deny_bucket(t, sluice_tuple_hash(tuple, zone));
	hlist_for_each_entry_rcu(d, bucket, node)
		if (d->zone == zone && !memcmp(&d->tuple, tuple,
					       SLUICE_TUPLE_LEN))
			return d;
	return NULL;
}

/* Is @ct's flow one the agent denied? A hit keeps the memory alive. */
bool sluice_deny_known(struct sluice_net *sn, const struct nf_conn *ct)
{
	struct sluice_deny *d;
	bool known = false;

	if (!READ_ONCE(sn->deny.count))
		return false;
	rcu_read_lock();
	d = sluice_deny_find(&sn->deny, ct);
	if (d && time_before(jiffies, READ_ONCE(d->expires))) {
		WRITE_ONCE(d->expires, jiffies + SLUICE_DENY_IDLE_S * HZ);
		known = true;
	}
	rcu_read_unlock();
	return known;
}

static void sluice_deny_unlink(struct sluice_deny_table *t,
			       struct sluice_deny *d)
{
	hlist_del_rcu(&d->node);
	list_del(&d->age);
	WRITE_ONCE(t->count, t->count - 1);
	kfree_rcu(d, rcu);
}

/* Remember @ct's flow as denied; at the bound, the oldest is forgotten. */
void sluice_deny_remember(struct sluice_net *sn, const struct nf_conn *ct)
{
	struct sluice_deny_table *t = &sn->deny;
	struct sluice_deny *d;

	spin_lock_bh(&t->lock);
	d = sluice_deny_find(t, ct);
	if (d) {
		WRITE_ONCE(d->expires, jiffies + SLUICE_DENY_IDLE_S * HZ);
		goto out;
	}
	d = kmalloc(sizeof(*d), GFP_ATOMIC);
	if (!d)
		goto out;	/* its next packet is queued and denied again */
	if (t->count >= SLUICE_DENY_MAX)
		sluice_deny_unlink(t, list_first_entry(&t->age,
						       struct sluice_deny, age));
	memcpy(&d->tuple, sluice_orig(ct), sizeof(d->tuple));
	d->zone = sluice_zone(ct);
	d->expires = jiffies + SLUICE_DENY_IDLE_S * HZ;
	hlist_add_head_rcu(&d->node,
			   sluice_deny_bucket(t, sluice_tuple_hash(&d->tuple,
								   d->zone)));
	list_add_tail(&d->age, &t->age);
	WRITE_ONCE(t->count, t->count + 1);
	sluice_count(sn, SLUICE_STAT_DENY_REMEMBERED);
out:
	spin_unlock_bh(&t->lock);
}

void sluice_deny_forget_all(struct sluice_net *sn)
{
	struct sluice_deny_table *t = &sn->deny;
	struct sluice_deny *d, *next;

	spin_lock_bh(&t->lock);
	list_for_each_entry_safe(d, next, &t->age, age)
		sluice_deny_unlink(t, d);
	spin_unlock_bh(&t->lock);
}

void sluice_deny_init(struct sluice_net *sn)
{
	struct sluice_deny_table *t = &sn->deny;
	int i;

	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->age);
	t->count = 0;
	for (i = 0; i < ARRAY_SIZE(t->hash); i++)
		INIT_HLIST_HEAD(&t->hash[i]);
}
