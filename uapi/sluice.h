/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sluice: the one contract between the kernel module and the agent.
 *
 * Everything that crosses the boundary lives here once: the generic netlink
 * family, its commands and attributes, and the layout of the flow verdict
 * kept in the conntrack mark. Both kmod/ and agent/ include this file.
 */
#ifndef _UAPI_SLUICE_H
#define _UAPI_SLUICE_H

#include <linux/types.h>

#define SLUICE_GENL_NAME	"sluice"
#define SLUICE_GENL_VERSION	1

/*
 * Commands. All of them need CAP_NET_ADMIN in the user namespace that owns
 * the caller's network namespace, and each acts on that namespace only:
 * settings, agent and counters are per namespace, so root in a container
 * runs its own agent and chooses its own fail mode without touching the
 * host's (whose hooks still judge whatever leaves the container).
 *
 * REGISTER	the caller becomes the namespace's agent. The sending socket's
 *		port id is remembered: its release (agent crash) fails over at
 *		once. It may ask for SLUICE_A_QUEUE_NUM and SLUICE_A_QUEUE_COUNT
 *		(flows are spread over the queues by a hash of the flow, so
 *		every packet of a flow meets the same verdict thread). Reply:
 *		SLUICE_CMD_REGISTER with the config attributes, including the
 *		queues the agent must bind. SLUICE_A_QUEUE_PORTIDS names the
 *		agent's bound queue sockets: the release of any of them
 *		fails over too, so a dead verdict thread is never bypassed.
 *		SLUICE_A_WANT_IDENTITY says whether the module records who
 *		each queued flow belongs to (see "Flow identity" below);
 *		without it, it does, as before the attribute existed.
 * UNREGISTER	orderly goodbye; only the registered socket may send it.
 * HEARTBEAT	proves the agent's verdict loop is alive. A missing heartbeat
 *		for SLUICE_A_WATCHDOG_MS fails over just like a crash. The
 *		reply carries the config, so that a changed watchdog or fail
 *		mode reaches the agent at its next beat. SLUICE_A_WANT_IDENTITY,
 *		when present, replaces what REGISTER or the last beat said:
 *		the agent sends it with every beat, from the policy in force.
 * GET_CONFIG	reply: fail mode, watchdog, hooks, queue, mark mask.
 * SET_CONFIG	any of SLUICE_A_FAIL_MODE, SLUICE_A_WATCHDOG_MS,
 *		SLUICE_A_HOOKS, for the caller's namespace only. A namespace
 *		that never set one follows the module parameter.
 * GET_STATS	reply: mode, agent pid, heartbeat age and every counter.
 * DRAIN	stop queueing new flows (they follow the fail mode) so that the
 *		agent can answer what is queued and leave without loss.
 * FORGET_DENIED  the agent's policy changed: forget the flows denied on
 *		their first packet (see "Denied flows" below).
 * HANDOVER	the agent is being replaced and leaves its queue sockets open
 *		for its successor (under systemd: in the service's file
 *		descriptor store). For SLUICE_A_HANDOVER_MS (default
 *		SLUICE_HANDOVER_MS_DEFAULT) the namespace keeps queueing new
 *		flows to those sockets without heartbeats, and the release of
 *		the agent's control socket is no longer a crash. The release
 *		of any of its queue sockets still fails over at once (nobody
 *		will answer what waits there: that is what stopping the
 *		service does when systemd closes the stored sockets). The next
 *		REGISTER ends the handover; if none comes in time, the
 *		namespace follows its fail mode. Only the registered socket
 *		may send it.
 * GET_FLOW	who a queued flow belongs to (see "Flow identity" below).
 *		Request: SLUICE_A_CT_ID, the conntrack id the agent got in
 *		NFQA_CT (CTA_ID) with the flow's first queued packet, in host
 *		order: CTA_ID is big-endian on the wire, so this is ntohl()
 *		of it, what libnetfilter_conntrack's ATTR_ID and
 *		"conntrack -L -o id" give. Reply:
 *		SLUICE_A_CT_ID and SLUICE_A_IDENTITY; -ENOENT with an extended
 *		ack message when the module keeps nothing for that conntrack
 *		id (the message tells it from a family that is gone).
 */
enum sluice_cmd {
	SLUICE_CMD_UNSPEC,
	SLUICE_CMD_REGISTER,
	SLUICE_CMD_UNREGISTER,
	SLUICE_CMD_HEARTBEAT,
	SLUICE_CMD_GET_CONFIG,
	SLUICE_CMD_SET_CONFIG,
	SLUICE_CMD_GET_STATS,
	SLUICE_CMD_DRAIN,
	SLUICE_CMD_FORGET_DENIED,
	SLUICE_CMD_HANDOVER,
	SLUICE_CMD_GET_FLOW,

	__SLUICE_CMD_MAX,
};

#define SLUICE_CMD_MAX (__SLUICE_CMD_MAX - 1)

enum sluice_attr {
	SLUICE_A_UNSPEC,
	SLUICE_A_QUEUE_NUM,		/* u16 */
	SLUICE_A_FAIL_MODE,		/* u8, enum sluice_fail_mode */
	SLUICE_A_WATCHDOG_MS,		/* u32, 10 .. 60000 */
	SLUICE_A_HOOKS,			/* u32, SLUICE_HOOK_* bits */
	SLUICE_A_MARK_MASK,		/* u32, the two connmark bits of sluice */
	SLUICE_A_MODE,			/* u8, enum sluice_mode */
	SLUICE_A_AGENT_PID,		/* u32 */
	SLUICE_A_HEARTBEAT_AGE_MS,	/* u32, U32_MAX when never */
	SLUICE_A_STATS,			/* nest of SLUICE_STAT_* u64 */
	SLUICE_A_PAD,
	/* u16, 1 .. SLUICE_QUEUE_COUNT_MAX: queues QUEUE_NUM and after */
	SLUICE_A_QUEUE_COUNT,
	/* u32[], REGISTER: the port ids of the agent's queue sockets */
	SLUICE_A_QUEUE_PORTIDS,
	SLUICE_A_OWN_MARK,		/* u32, reply: see SLUICE_OWN_MARK */
	/* u32, HANDOVER: how long the successor may take, in ms */
	SLUICE_A_HANDOVER_MS,
	SLUICE_A_CT_ID,			/* u32, GET_FLOW: a conntrack id (CTA_ID) */
	SLUICE_A_IDENTITY,		/* nest of SLUICE_ID_*, GET_FLOW reply */
	/* u8 0 or 1, REGISTER and HEARTBEAT: record flow identities */
	SLUICE_A_WANT_IDENTITY,

	__SLUICE_A_MAX,
};

#define SLUICE_A_MAX (__SLUICE_A_MAX - 1)

/* Bounds of SLUICE_A_HANDOVER_MS, and what HANDOVER means without it. */
#define SLUICE_HANDOVER_MS_MIN		100
#define SLUICE_HANDOVER_MS_MAX		60000
#define SLUICE_HANDOVER_MS_DEFAULT	5000

/* An agent serves at most this many queues, one verdict thread each. */
#define SLUICE_QUEUE_COUNT_MAX	64

/* Counters, in SLUICE_A_STATS and /proc/net/sluice, per namespace. */
enum sluice_stat {
	SLUICE_STAT_UNSPEC,
	SLUICE_STAT_SEEN,		/* packets that reached a sluice hook */
	SLUICE_STAT_QUEUED,		/* handed to the agent */
	SLUICE_STAT_FAST_ACCEPTED,	/* decided in the kernel: allow */
	SLUICE_STAT_FAST_DROPPED,	/* decided in the kernel: deny */
	SLUICE_STAT_FAILED_OPEN,	/* new flows accepted, no live agent */
	SLUICE_STAT_FAILED_CLOSED,	/* new flows dropped, no live agent */
	SLUICE_STAT_UNTRACKED,		/* no conntrack entry: see untracked= */
	SLUICE_STAT_TRANSITIONS,	/* agent live <-> not live changes */
	SLUICE_STAT_PAD,
	SLUICE_STAT_RELATED,		/* ICMP errors: their flow's verdict */
	SLUICE_STAT_OWN,		/* the agent's own packets, untracked */
	SLUICE_STAT_DENY_REMEMBERED,	/* first packets denied, remembered */
	SLUICE_STAT_UNQUEUEABLE,	/* shared unconfirmed: fail mode applies */
	SLUICE_STAT_IDENTITY_RECORDED,	/* flow identities kept for GET_FLOW */
	SLUICE_STAT_IDENTITY_EVICTED,	/* forgotten early: the table was full */

	__SLUICE_STAT_MAX,
};

#define SLUICE_STAT_MAX (__SLUICE_STAT_MAX - 1)

/* The counters' names in /proc/net/sluice and sluicectl, indexed by stat. */
#define SLUICE_STAT_NAMES {					\
	[SLUICE_STAT_SEEN] = "seen",				\
	[SLUICE_STAT_QUEUED] = "queued",			\
	[SLUICE_STAT_FAST_ACCEPTED] = "fast_accepted",		\
	[SLUICE_STAT_FAST_DROPPED] = "fast_dropped",		\
	[SLUICE_STAT_FAILED_OPEN] = "failed_open",		\
	[SLUICE_STAT_FAILED_CLOSED] = "failed_closed",		\
	[SLUICE_STAT_UNTRACKED] = "untracked",			\
	[SLUICE_STAT_TRANSITIONS] = "transitions",		\
	[SLUICE_STAT_RELATED] = "related",			\
	[SLUICE_STAT_OWN] = "own",				\
	[SLUICE_STAT_DENY_REMEMBERED] = "deny_remembered",	\
	[SLUICE_STAT_UNQUEUEABLE] = "unqueueable",		\
	[SLUICE_STAT_IDENTITY_RECORDED] = "identity_recorded",	\
	[SLUICE_STAT_IDENTITY_EVICTED] = "identity_evicted",	\
}

enum sluice_fail_mode {
	SLUICE_FAIL_OPEN,
	SLUICE_FAIL_CLOSED,
};

/* What the namespace does with a new flow right now. */
enum sluice_mode {
	SLUICE_MODE_NO_AGENT,		/* nobody registered: fail mode applies */
	/* live agent, or one being handed over: new flows are queued */
	SLUICE_MODE_ENFORCING,
	SLUICE_MODE_HUNG,		/* registered, heartbeat late */
	SLUICE_MODE_DRAINING,		/* agent is leaving in order */
};

/* The modes' tokens in /proc/net/sluice, indexed by mode. */
#define SLUICE_MODE_TOKENS {					\
	[SLUICE_MODE_NO_AGENT] = "no-agent",			\
	[SLUICE_MODE_ENFORCING] = "enforcing",			\
	[SLUICE_MODE_HUNG] = "hung",				\
	[SLUICE_MODE_DRAINING] = "draining",			\
}

/* Hook points, module parameter hooks= and SLUICE_A_HOOKS. */
#define SLUICE_HOOK_IN		(1U << 0)	/* NF_INET_LOCAL_IN */
#define SLUICE_HOOK_OUT		(1U << 1)	/* NF_INET_LOCAL_OUT */
#define SLUICE_HOOK_FORWARD	(1U << 2)	/* NF_INET_FORWARD */
#define SLUICE_HOOK_ALL		(SLUICE_HOOK_IN | SLUICE_HOOK_OUT | \
				 SLUICE_HOOK_FORWARD)

/* Their names in hooks=, /proc/net/sluice and sluicectl, in bit order. */
#define SLUICE_HOOK_NAMES	{ "in", "out", "forward" }

/*
 * A flow's verdict lives in two adjacent bits of the conntrack mark,
 * SLUICE_A_MARK_MASK (module parameter mark_mask, default below). The agent
 * writes them with the NFQUEUE verdict (NFQA_CT carrying CTA_MARK and
 * CTA_MARK_MASK), so every later packet of the flow is decided in the
 * kernel. The other 30 bits of the mark are left to the administrator.
 */
#define SLUICE_MARK_MASK_DEFAULT	0xc0000000U

enum sluice_flow_verdict {
	SLUICE_FLOW_UNSET,	/* never decided: queue it */
	SLUICE_FLOW_ALLOW,
	SLUICE_FLOW_DENY,
	SLUICE_FLOW_UNVETTED,	/* admitted unjudged: judge its next payload */
};

/*
 * UNVETTED has two sources with one meaning, "admitted, not judged yet":
 * a flow the module admitted while failing open, and a TCP flow that the
 * agent admits on purpose (allow the packet, write UNVETTED) because it
 * waits for the flow's first payload to name it (TLS SNI, HTTP Host, on
 * any port). While an agent is live, the module lets the payload-less
 * segments of an unvetted flow pass (handshake, bare ACKs) and queues the
 * first one that carries payload, where the agent writes the verdict. With
 * no live agent it follows the fail mode: admitted when open, dropped when
 * closed.
 */

/*
 * Denied flows. A flow denied on its first packet never gets a conntrack
 * entry (the entry is confirmed only by a packet that passes), so the mark
 * alone cannot stop its next packets. The agent therefore answers a deny
 * with NF_REPEAT and the DENY bits: the module's hook runs again, finds
 * the DENY bits on the unconfirmed entry, remembers the flow's original
 * tuple (bounded per namespace, forgotten after SLUICE_DENY_IDLE_S without
 * a packet or on SLUICE_CMD_FORGET_DENIED) and drops it. Later packets of
 * the flow (retransmitted SYNs, a UDP stream) are dropped in the kernel.
 */
#define SLUICE_DENY_IDLE_S	30

/*
 * Flow identity. When the module queues the first packet of a new flow that
 * has a local socket, and the namespace's agent wants it, it records who
 * the flow belongs to, keyed by the conntrack id (nf_ct_get_id(), what the
 * agent gets as CTA_ID in NFQA_CT), and the agent asks with
 * SLUICE_CMD_GET_FLOW (SLUICE_A_CT_ID: ntohl() of CTA_ID, see GET_FLOW).
 * Outbound (LOCAL_OUT): the sending socket. Inbound (LOCAL_IN): the
 * listening or bound socket that will receive the flow. Forwarded flows
 * have no local socket and no identity. An attribute is present only when
 * the module knows it; a missing one is "unknown":
 *   UID, GID	the socket's owner, in the initial user namespace (sk_uid;
 *		the gid of the socket file's opener, as NFQA_GID)
 *   CGROUP	the cgroup v2 id of the socket, fixed when it was created
 *		(what "nft socket cgroupv2" matches; a directory's inode
 *		number under /sys/fs/cgroup)
 *   TGID, START, EXE_*, COMM  only when the packet was sent in the
 *		context of the task that owns the socket's send (connect,
 *		sendmsg), never from softirq, a kernel thread or a kernel
 *		socket, never for inbound flows: the sender's pid in the
 *		initial pid namespace, its start time in clock ticks since
 *		boot (field 22 of /proc/PID/stat as the initial time namespace
 *		shows it), the device and inode of its executable's inode
 *		(mm->exe_file: the inode's i_sb->s_dev and i_ino, which are
 *		what fdinfo and mountinfo show; stat(2) differs on btrfs
 *		subvolumes and overlayfs) and its comm. The agent checks
 *		/proc/PID/exe against them, so that exec and pid reuse cannot
 *		fool it.
 * The agent wants it while its policy has a rule on uid, exe or unit: it
 * says so with SLUICE_A_WANT_IDENTITY in REGISTER and in every HEARTBEAT,
 * so a reloaded policy reaches the module at the next beat (a quarter of
 * the watchdog period at most; a flow queued before that has no record,
 * so its identity is unknown, but for the uid of an outgoing full socket,
 * which NFQA_UID gives). Without an agent, nothing is recorded, and
 * while it does not want it, a new flow costs no allocation, lock or
 * socket lookup (identity_recorded stays flat).
 * The module keeps at most SLUICE_IDENTITY_MAX flows per namespace, each
 * for SLUICE_IDENTITY_KEEP_S after it was recorded; when full, the oldest
 * is forgotten first (an unprivileged flood cannot grow the table, only
 * make identities unknown, and a rule whose field is unknown does not
 * match).
 */
enum sluice_id_attr {
	SLUICE_ID_UNSPEC,
	SLUICE_ID_UID,			/* u32 */
	SLUICE_ID_GID,			/* u32 */
	SLUICE_ID_CGROUP,		/* u64 */
	SLUICE_ID_TGID,			/* u32 */
	SLUICE_ID_START,		/* u64, clock ticks since boot */
	SLUICE_ID_EXE_DEV_MAJOR,	/* u32 */
	SLUICE_ID_EXE_DEV_MINOR,	/* u32 */
	SLUICE_ID_EXE_INO,		/* u64 */
	SLUICE_ID_COMM,			/* string, at most 15 bytes + NUL */
	SLUICE_ID_INBOUND,		/* flag: from the receiving socket */
	SLUICE_ID_PAD,

	__SLUICE_ID_MAX,
};

#define SLUICE_ID_MAX (__SLUICE_ID_MAX - 1)

#define SLUICE_IDENTITY_MAX	4096
#define SLUICE_IDENTITY_KEEP_S	120

/*
 * The agent's own packets (DNS sinkhole answers, TCP resets) carry this
 * packet mark (SO_MARK, which needs CAP_NET_ADMIN). The module lets them
 * out untracked before conntrack sees them: they are never queued, never
 * judged, and never leave conntrack state that a later packet could ride.
 */
#define SLUICE_OWN_MARK		0x51ce0a9eU

/* Lowest set bit of a mask, for shifting a verdict into place. */
static inline unsigned int sluice_mark_shift(__u32 mask)
{
	return mask ? __builtin_ctz(mask) : 0;
}

static inline __u32 sluice_mark_encode(__u32 mask, enum sluice_flow_verdict v)
{
	return ((__u32)v << sluice_mark_shift(mask)) & mask;
}

static inline enum sluice_flow_verdict sluice_mark_decode(__u32 mask,
							  __u32 mark)
{
	return (enum sluice_flow_verdict)((mark & mask) >>
					  sluice_mark_shift(mask));
}

/* A mask is usable when it is exactly two adjacent bits. */
static inline int sluice_mark_mask_valid(__u32 mask)
{
	return mask && (mask >> sluice_mark_shift(mask)) == 3;
}

#endif /* _UAPI_SLUICE_H */
