/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sluice: internal declarations of the kernel module.
 *
 * One file per responsibility:
 *   main.c      module parameters, per-namespace state, init and exit
 *   hooks.c     netfilter hooks: fast path and hand-off to the agent
 *   decide.c    the pure decision table and watchdog state machine
 *   watchdog.c  agent liveness: heartbeat timer, socket release notifier
 *   deny.c      flows denied on their first packet, remembered by tuple
 *   identity.c  who a queued flow belongs to, kept by conntrack id
 *   netlink.c   the "sluice" generic netlink family
 *   stats.c     per-cpu counters and /proc/net/sluice
 */
#ifndef _SLUICE_H
#define _SLUICE_H

#include <linux/types.h>
#include <linux/sched.h>
#include <linux/timer.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "../uapi/sluice.h"

/* What a hook does with one packet. */
enum sluice_action {
	SLUICE_ACT_ACCEPT,		/* fast path: the flow is allowed */
	SLUICE_ACT_DROP,		/* fast path: the flow is denied */
	SLUICE_ACT_QUEUE,		/* hand the packet to the agent */
	SLUICE_ACT_FAIL_OPEN,		/* accept, mark the flow unvetted */
	SLUICE_ACT_FAIL_CLOSED,		/* drop, no live agent */
};

/*
 * The agent as the watchdog sees it. Pure data so that decide.c can be
 * tested without a kernel network stack; the lock that guards it is in
 * struct sluice_net.
 */
struct sluice_agent {
	u32 portid;			/* netlink port of the agent, 0: none */
	pid_t pid;			/* for people: who is the agent */
	unsigned long last_beat;	/* jiffies of the last heartbeat */
	bool draining;			/* agent asked to stop queueing */
	/*
	 * Handing over (SLUICE_CMD_HANDOVER): queue to the agent's queue
	 * sockets without heartbeats until @handover_end, whether or not
	 * its control socket (@portid, 0 once released) is still there.
	 */
	bool handover;
	unsigned long handover_end;	/* jiffies */
	/* its bound NFQUEUE sockets: losing any one is losing the agent */
	u16 n_queue_portids;
	u32 queue_portids[SLUICE_QUEUE_COUNT_MAX];
	/*
	 * Record who each queued flow belongs to (identity.c): the agent's
	 * policy has a rule that needs it. Read by the hooks without the
	 * lock, so written with WRITE_ONCE; false while there is no agent.
	 */
	bool want_identity;
};

enum sluice_action sluice_decide(enum sluice_flow_verdict v,
				 enum sluice_mode mode,
				 enum sluice_fail_mode fail_mode);
enum sluice_mode sluice_agent_mode(const struct sluice_agent *a,
				   unsigned long now, unsigned long timeout);
void sluice_agent_register(struct sluice_agent *a, u32 portid, pid_t pid,
			   unsigned long now);
int sluice_agent_heartbeat(struct sluice_agent *a, u32 portid,
			   unsigned long now);
void sluice_agent_want_identity(struct sluice_agent *a, bool want);
int sluice_agent_drain(struct sluice_agent *a, u32 portid);
int sluice_agent_handover(struct sluice_agent *a, u32 portid,
			  unsigned long now, unsigned long grace);
unsigned long sluice_agent_deadline(const struct sluice_agent *a,
				    unsigned long timeout);
bool sluice_agent_expire(struct sluice_agent *a, unsigned long now);
bool sluice_agent_release(struct sluice_agent *a, u32 portid);
int sluice_agent_unregister(struct sluice_agent *a, u32 portid);
bool sluice_agent_release_queue(struct sluice_agent *a, u32 portid);

struct sluice_stats {
	u64 count[__SLUICE_STAT_MAX];
};

/*
 * Flows denied on their first packet (deny.c), by original tuple and zone.
 * Readers (the hooks) walk a bucket under RCU; @lock serialises inserts,
 * evictions and flushes. At most SLUICE_DENY_MAX entries: the oldest goes
 * first, so a flood of denied tuples costs at most that much memory.
 */
#define SLUICE_DENY_BITS	8
#define SLUICE_DENY_MAX		4096

struct sluice_deny_table {
	spinlock_t lock;		/* see above */
	unsigned int count;
	struct list_head age;		/* oldest first */
	struct hlist_head hash[1 << SLUICE_DENY_BITS];
};

/*
 * What the module knows about who a flow belongs to (uapi/sluice.h, "Flow
 * identity"): @have holds BIT(SLUICE_ID_*) of every field that is known,
 * SLUICE_ID_INBOUND included.
 */
struct sluice_identity {
	u32 have;
	u32 uid;
	u32 gid;
	u32 tgid;
	u64 cgroup;
	u64 start;			/* clock ticks since boot */
	u64 exe_ino;
	u32 exe_major;
	u32 exe_minor;
	char comm[TASK_COMM_LEN];
};

/*
 * Identities of queued flows (identity.c), by conntrack id. Readers
 * (GET_FLOW) find an entry under RCU and copy it out: an entry never
 * changes once published, a new record of the same id replaces it. @lock
 * serialises inserts, evictions and flushes. @age is in recording order,
 * so the expired entries and, when the table is full, the oldest live one
 * are at its head: at most SLUICE_IDENTITY_MAX entries, each for
 * SLUICE_IDENTITY_KEEP_S, whatever the traffic.
 */
#define SLUICE_IDENTITY_BITS	10

struct sluice_identity_table {
	spinlock_t lock;		/* see above */
	unsigned int count;
	struct list_head age;		/* oldest first */
	struct hlist_head hash[1 << SLUICE_IDENTITY_BITS];
};

/* Per network namespace state, reached through net_generic(). */
struct sluice_net {
	struct net *net;

	/*
	 * @lock serialises every change of @agent and of the config below
	 * (netlink handlers, the release notifier, the watchdog timer).
	 * Hooks read without it: @mode is the one word they need, written
	 * with WRITE_ONCE under @lock, and the heartbeat deadline is checked
	 * against @beat_deadline so that a hung agent stops getting packets
	 * at once even if the timer runs late. During a handover the
	 * deadline is the end of the handover's grace instead.
	 */
	spinlock_t lock;
	struct sluice_agent agent;
	enum sluice_mode mode;
	unsigned long beat_deadline;	/* jiffies; hooks read it lockless */

	u16 queue_num;			/* the first queue of the agent */
	u16 queue_count;		/* how many queues it serves */

	/*
	 * This namespace's own settings, chosen with SET_CONFIG by its root;
	 * -1 and 0: never set, the module parameter applies. Written under
	 * @lock, read lockless with READ_ONCE (sluice_net_fail_mode()).
	 */
	int fail_mode;
	unsigned int watchdog_ms;

	struct sluice_deny_table deny;
	struct sluice_identity_table identity;

	struct timer_list watchdog;
	struct sluice_stats __percpu *stats;
	/* SLUICE_HOOK_* registered here, changed under sluice_hooks_mutex */
	unsigned int hooks;
	/* set while hooks are being removed: nothing is queued meanwhile */
	bool unhooking;
};

/*
 * Module parameters. fail_mode and watchdog_ms may change at any time
 * through sysfs: they are the defaults of every namespace that did not
 * choose its own, so readers use READ_ONCE, or rather the accessors below.
 * The others are fixed at load time.
 */
extern unsigned int sluice_net_id;
extern unsigned int sluice_fail_mode;
extern unsigned int sluice_watchdog_ms;
extern unsigned short sluice_queue_num;
extern unsigned int sluice_hooks_mask;
extern u32 sluice_mark_mask;
extern bool sluice_untracked_drop;

/*
 * Exported by the kernel (net/netfilter/nf_queue.c) but declared only in
 * its private nf_internals.h: drops every packet queued in @net, as the
 * core does itself after a hook is removed. sluice_hooks_drain() needs it
 * before, while the queued packets' hooks are still there.
 */
void nf_queue_nf_hook_drop(struct net *net);

#define SLUICE_WATCHDOG_MS_MIN	10
#define SLUICE_WATCHDOG_MS_MAX	60000

static inline struct sluice_net *sluice_pernet(const struct net *net)
{
	return net_generic(net, sluice_net_id);
}

static inline enum sluice_fail_mode
sluice_net_fail_mode(const struct sluice_net *sn)
{
	int mode = READ_ONCE(sn->fail_mode);

	return mode >= 0 ? mode : READ_ONCE(sluice_fail_mode);
}

static inline unsigned int sluice_net_watchdog_ms(const struct sluice_net *sn)
{
	unsigned int ms = READ_ONCE(sn->watchdog_ms);

	return ms ? ms : READ_ONCE(sluice_watchdog_ms);
}

static inline const char *sluice_fail_mode_name(enum sluice_fail_mode mode)
{
	return mode == SLUICE_FAIL_CLOSED ? "closed" : "open";
}

/* hooks.c */
int sluice_hooks_register(struct net *net);
int sluice_hooks_set(struct net *net, unsigned int mask);
int sluice_hooks_name(char *buf, size_t len, unsigned int mask);
unsigned int sluice_hook_by_name(const char *name);
void sluice_hooks_unregister(struct net *net);

/* deny.c */
struct nf_conn;
u32 sluice_flow_hash(const struct nf_conn *ct);
bool sluice_deny_known(struct sluice_net *sn, const struct nf_conn *ct);
void sluice_deny_remember(struct sluice_net *sn, const struct nf_conn *ct);
void sluice_deny_forget_all(struct sluice_net *sn);
void sluice_deny_init(struct sluice_net *sn);

/* identity.c */
struct sk_buff;
struct nf_hook_state;
void sluice_identity_init(struct sluice_identity_table *t);
bool sluice_identity_known(struct sluice_identity_table *t, u32 ct_id,
			   unsigned long now);
int sluice_identity_put(struct sluice_identity_table *t, u32 ct_id,
			const struct sluice_identity *who, unsigned long now);
int sluice_identity_get(struct sluice_identity_table *t, u32 ct_id,
			struct sluice_identity *who, unsigned long now);
void sluice_identity_forget_all(struct sluice_identity_table *t);
void sluice_identity_record(struct sluice_net *sn, struct nf_conn *ct,
			    const struct sk_buff *skb,
			    const struct nf_hook_state *state);

/* watchdog.c */
void sluice_watchdog_init(struct sluice_net *sn);
void sluice_watchdog_stop(struct sluice_net *sn);
void sluice_watchdog_update(struct sluice_net *sn);
int sluice_notifier_register(void);
void sluice_notifier_unregister(void);

/* netlink.c */
int sluice_genl_register(void);
void sluice_genl_unregister(void);

/* stats.c */
static inline void sluice_count(struct sluice_net *sn, enum sluice_stat s)
{
	this_cpu_inc(sn->stats->count[s]);
}

u64 sluice_stat_read(const struct sluice_net *sn, enum sluice_stat s);
int sluice_proc_init(struct net *net);
void sluice_proc_exit(struct net *net);
const char *sluice_mode_name(enum sluice_mode mode);

#endif /* _SLUICE_H */
