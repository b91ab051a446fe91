// SPDX-License-Identifier: GPL-2.0
/*
 * Who a queued flow belongs to.
 *
 * An application firewall must answer "which user, unit and program is
 * this?". Scanning /proc for the socket after the packet is queued is slow
 * and wrong once the program has exited or passed the socket on; the hook
 * sees the socket, and often the sending task, at the moment the flow
 * starts. So when the module queues a flow's first packet it records what
 * it knows here, keyed by the conntrack id the agent receives with the
 * packet (CTA_ID in NFQA_CT), and the agent asks with SLUICE_CMD_GET_FLOW
 * only when its policy needs it: flows whose rules need no identity cost
 * one allocation and no round trip.
 *
 * A table rather than conntrack labels: labels are shared with every other
 * user of "ct label" (nft rules, other daemons), whose bits we would
 * clobber, and 128 bits cannot hold a cgroup id, uid, pid, start time and
 * the executable's device and inode.
 *
 * What is known, and when (uapi/sluice.h, "Flow identity"):
 *   LOCAL_OUT  the sending socket's owner and cgroup; the sending task
 *              too when the packet leaves in its context (connect,
 *              sendmsg), never from softirq, a kernel thread or a kernel
 *              socket;
 *   LOCAL_IN   the socket that will receive the flow (a listener, a bound
 *              UDP socket): owner and cgroup, no task;
 *   FORWARD    nothing: no local socket.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/kdev_t.h>
#include <linux/math64.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/netfilter.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_socket.h>

#include "sluice.h"

struct sluice_identity_entry {
	struct hlist_node node;		/* in sluice_identity_table.hash */
	struct list_head age;		/* in sluice_identity_table.age */
	u32 ct_id;
	unsigned long recorded;		/* jiffies */
	struct sluice_identity who;
	struct rcu_head rcu;
};

#define SLUICE_IDENTITY_KEEP	(SLUICE_IDENTITY_KEEP_S * HZ)

/* Conntrack ids are siphash values already: any bits make a bucket. */
static struct hlist_head *sluice_identity_bucket(struct sluice_identity_table *t,
						 u32 ct_id)
{
	return &t->hash[hash_32(ct_id, SLUICE_IDENTITY_BITS)];
}

static bool sluice_identity_expired(const struct sluice_identity_entry *e,
				    unsigned long now)
{
	return time_after_eq(now, e->recorded + SLUICE_IDENTITY_KEEP);
}

/* Under RCU or @t->lock. */
static struct sluice_identity_entry *
sluice_identity_find(struct sluice_identity_table *t, u32 ct_id)
{
	struct sluice_identity_entry *e;

	hlist_for_each_entry_rcu(e, sluice_identity_bucket(t, ct_id), node,
				 lockdep_is_held(&t->lock))
		if (e->ct_id == ct_id)
			return e;
	return NULL;
}

/* Does the table keep a live identity for @ct_id? */
bool sluice_identity_known(struct sluice_identity_table *t, u32 ct_id,
			   unsigned long now)
{
	struct sluice_identity_entry *e;
	bool known;

	rcu_read_lock();
	e = sluice_identity_find(t, ct_id);
	known = e && !sluice_identity_expired(e, now);
	rcu_read_unlock();
	return known;
}

/* Copy the identity kept for @ct_id into @who; -ENOENT when none. */
int sluice_identity_get(struct sluice_identity_table *t, u32 ct_id,
			struct sluice_identity *who, unsigned long now)
{
	struct sluice_identity_entry *e;
	int err = -ENOENT;

	rcu_read_lock();
	e = sluice_identity_find(t, ct_id);
	if (e && !sluice_identity_expired(e, now)) {
		*who = e->who;
		err = 0;
	}
	rcu_read_unlock();
	return err;
}

static void sluice_identity_unlink(struct sluice_identity_table *t,
				   struct sluice_identity_entry *e)
{
	hlist_del_rcu(&e->node);
	list_del(&e->age);
	WRITE_ONCE(t->count, t->count - 1);
	kfree_rcu(e, rcu);
}

/*
 * Keep @who for @ct_id, replacing what was kept for it. Expired entries go
 * first; at the bound, the oldest live one goes too. Returns how many live
 * entries were forgotten early (0 or 1), or -ENOMEM.
 */
int sluice_identity_put(struct sluice_identity_table *t, u32 ct_id,
			const struct sluice_identity *who, unsigned long now)
{
	struct sluice_identity_entry *e, *old;
	int evicted = 0;

	e = kmalloc(sizeof(*e), GFP_ATOMIC);
	if (!e)
		return -ENOMEM;	/* the flow's identity is unknown */
	e->ct_id = ct_id;
	e->recorded = now;
	e->who = *who;

	spin_lock_bh(&t->lock);
	old = sluice_identity_find(t, ct_id);
	if (old)
		sluice_identity_unlink(t, old);
	while (!list_empty(&t->age)) {
		old = list_first_entry(&t->age, struct sluice_identity_entry,
				       age);
		if (!sluice_identity_expired(old, now) &&
		    t->count < SLUICE_IDENTITY_MAX)
			break;
		if (!sluice_identity_expired(old, now))
			evicted++;
		sluice_identity_unlink(t, old);
	}
	hlist_add_head_rcu(&e->node, sluice_identity_bucket(t, ct_id));
	list_add_tail(&e->age, &t->age);
	WRITE_ONCE(t->count, t->count + 1);
	spin_unlock_bh(&t->lock);
	return evicted;
}

void sluice_identity_forget_all(struct sluice_identity_table *t)
{
	struct sluice_identity_entry *e, *next;

	spin_lock_bh(&t->lock);
	list_for_each_entry_safe(e, next, &t->age, age)
		sluice_identity_unlink(t, e);
	spin_unlock_bh(&t->lock);
}

void sluice_identity_init(struct sluice_identity_table *t)
{
	int i;

	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->age);
	t->count = 0;
	for (i = 0; i < ARRAY_SIZE(t->hash); i++)
		INIT_HLIST_HEAD(&t->hash[i]);
}

/*
 * The socket's owner and cgroup. The gid is the opener's, read from the
 * socket's file as nfnetlink_queue reads NFQA_GID: sk_callback_lock keeps
 * sk_socket and its file from going away under us.
 */
static void sluice_identity_of_sock(struct sluice_identity *who,
				    struct sock *sk)
{
	who->uid = from_kuid_munged(&init_user_ns, sk->sk_uid);
	who->have |= BIT(SLUICE_ID_UID);

	read_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_socket && sk->sk_socket->file) {
		const struct cred *cred = sk->sk_socket->file->f_cred;

		who->gid = from_kgid_munged(&init_user_ns, cred->fsgid);
		who->have |= BIT(SLUICE_ID_GID);
	}
	read_unlock_bh(&sk->sk_callback_lock);

#ifdef CONFIG_SOCK_CGROUP_DATA
	/* Set when the socket was created, and held as long as it lives. */
	who->cgroup = cgroup_id(sock_cgroup_ptr(&sk->sk_cgrp_data));
	who->have |= BIT(SLUICE_ID_CGROUP);
#endif
}

/*
 * Is the packet on @sk sent by current? Only in task context (not a
 * softirq, which runs on behalf of whoever was interrupted), by a user
 * process (not a kernel thread), on a socket that a process opened (a
 * kernel socket, such as the one an NFS mount or icmp_send() uses, may send
 * from any task's context).
 */
static bool sluice_sent_by_current(const struct sock *sk)
{
	return in_task() && !(current->flags & PF_KTHREAD) && current->mm &&
	       !sk->sk_kern_sock;
}

/*
 * The sending task: its pid and start time (what /proc/PID/stat says in
 * the initial namespaces), its executable and comm. get_mm_exe_file() is
 * not exported, so this does what it does: the exe_file pointer is read
 * under RCU and pinned only if it is still alive. Device and inode are
 * those of the file's inode, as fdinfo and mountinfo show them (stat(2)
 * differs on btrfs subvolumes and overlayfs).
 */
static void sluice_identity_of_current(struct sluice_identity *who)
{
	struct file *exe;

	/* nsec_to_clock_t() is not exported: its common case, checked. */
	BUILD_BUG_ON(NSEC_PER_SEC % USER_HZ);

	who->tgid = task_tgid_nr(current);
	rcu_read_lock();
	who->start = div_u64(READ_ONCE(current->group_leader)->start_boottime,
			     NSEC_PER_SEC / USER_HZ);
	exe = rcu_dereference(current->mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
	rcu_read_unlock();
	get_task_comm(who->comm, current);
	who->have |= BIT(SLUICE_ID_TGID) | BIT(SLUICE_ID_START) |
		     BIT(SLUICE_ID_COMM);
	if (!exe)
		return;
	who->exe_major = MAJOR(file_inode(exe)->i_sb->s_dev);
	who->exe_minor = MINOR(file_inode(exe)->i_sb->s_dev);
	who->exe_ino = file_inode(exe)->i_ino;
	who->have |= BIT(SLUICE_ID_EXE_DEV_MAJOR) |
		     BIT(SLUICE_ID_EXE_DEV_MINOR) | BIT(SLUICE_ID_EXE_INO);
	fput(exe);
}

/* The full socket that sends @skb from this namespace, or NULL. */
static struct sock *sluice_sending_sock(const struct sk_buff *skb,
					const struct net *net)
{
	struct sock *sk = skb_to_full_sk(skb);

	if (!sk || !sk_fullsock(sk) || !net_eq(sock_net(sk), net))
		return NULL;
	return sk;
}

/*
 * The socket that will receive @skb: the one early demux attached, or the
 * listening or bound socket that the stack will find. A reference taken
 * by the lookup is returned in @ref, for sock_gen_put().
 */
static struct sock *sluice_receiving_sock(const struct sk_buff *skb,
					  const struct nf_hook_state *state,
					  struct sock **ref)
{
	struct sock *sk = skb->sk;

	*ref = NULL;
	if (!sk) {
		switch (state->pf) {
#if IS_ENABLED(CONFIG_NF_SOCKET_IPV4)
		case NFPROTO_IPV4:
			sk = nf_sk_lookup_slow_v4(state->net, skb, state->in);
			break;
#endif
#if IS_ENABLED(CONFIG_NF_SOCKET_IPV6)
		case NFPROTO_IPV6:
			sk = nf_sk_lookup_slow_v6(state->net, skb, state->in);
			break;
#endif
		default:
			break;
		}
		*ref = sk;
	}
	/* A request socket stands for its listener; a timewait for nobody. */
	sk = sk ? sk_to_full_sk(sk) : NULL;
	return sk && sk_fullsock(sk) ? sk : NULL;
}

/*
 * The conntrack id as userspace knows it: ctnetlink puts nf_ct_get_id()
 * into CTA_ID as a big-endian attribute, so the agent (and conntrack -L
 * -o id) reads the byte-swapped value on a little-endian machine.
 */
static u32 sluice_ct_id(const struct nf_conn *ct)
{
	return be32_to_cpu((__force __be32)nf_ct_get_id(ct));
}

/*
 * Record who @ct's flow belongs to, as its packet @skb is queued to the
 * agent. The first packet of a flow (an unconfirmed entry) always records,
 * replacing whatever an earlier flow with the same id left; a later queued
 * packet (an unvetted flow's payload) records only if nothing is kept yet,
 * and only in the flow's original direction, where the local socket is
 * the one that started or receives it.
 */
void sluice_identity_record(struct sluice_net *sn, struct nf_conn *ct,
			    const struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct sluice_identity who = { };
	struct sock *sk, *ref = NULL;
	u32 ct_id;
	int ret;

	if (state->hook != NF_INET_LOCAL_OUT && state->hook != NF_INET_LOCAL_IN)
		return;		/* forwarded: no local socket */
	ct_id = sluice_ct_id(ct);
	if (nf_ct_is_confirmed(ct) &&
	    sluice_identity_known(&sn->identity, ct_id, jiffies))
		return;

	if (state->hook == NF_INET_LOCAL_OUT) {
		sk = sluice_sending_sock(skb, state->net);
		if (!sk)
			return;
		sluice_identity_of_sock(&who, sk);
		if (sluice_sent_by_current(sk))
			sluice_identity_of_current(&who);
	} else {
		sk = sluice_receiving_sock(skb, state, &ref);
		if (sk) {
			sluice_identity_of_sock(&who, sk);
			who.have |= BIT(SLUICE_ID_INBOUND);
		}
		if (ref)
			sock_gen_put(ref);
		if (!sk)
			return;
	}

	ret = sluice_identity_put(&sn->identity, ct_id, &who, jiffies);
	if (ret < 0)
		return;
	sluice_count(sn, SLUICE_STAT_IDENTITY_RECORDED);
	if (ret > 0)
		sluice_count(sn, SLUICE_STAT_IDENTITY_EVICTED);
}
