// SPDX-License-Identifier: GPL-2.0
/*
 * The "sluice" generic netlink family: how the agent registers, proves it
 * is alive, drains or hands over and leaves, and how sluicectl reads and
 * sets the state, and who a queued flow belongs to.
 * Every command needs CAP_NET_ADMIN over the caller's network namespace
 * (GENL_UNS_ADMIN_PERM: root of a container may run its own agent) and
 * acts on that namespace only. Attributes are checked by the policy
 * before a handler runs; those only the kernel sends are refused.
 */
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "sluice.h"

static struct genl_family sluice_genl_family;

/*
 * NLA_POLICY_RANGE keeps its bounds in s16: anything above 32767 needs a
 * full range (60000 there is a negative bound, and a WARN at validation).
 */
static struct netlink_range_validation sluice_watchdog_ms_range = {
	.min = SLUICE_WATCHDOG_MS_MIN,
	.max = SLUICE_WATCHDOG_MS_MAX,
};

static struct netlink_range_validation sluice_handover_ms_range = {
	.min = SLUICE_HANDOVER_MS_MIN,
	.max = SLUICE_HANDOVER_MS_MAX,
};

static const struct nla_policy sluice_genl_policy[SLUICE_A_MAX + 1] = {
	[SLUICE_A_QUEUE_NUM] = { .type = NLA_U16 },
	[SLUICE_A_FAIL_MODE] = NLA_POLICY_MAX(NLA_U8, SLUICE_FAIL_CLOSED),
	[SLUICE_A_WATCHDOG_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						       &sluice_watchdog_ms_range),
	[SLUICE_A_HOOKS] = NLA_POLICY_MASK(NLA_U32, SLUICE_HOOK_ALL),
	[SLUICE_A_MARK_MASK] = { .type = NLA_REJECT },
	[SLUICE_A_MODE] = { .type = NLA_REJECT },
	[SLUICE_A_AGENT_PID] = { .type = NLA_REJECT },
	[SLUICE_A_HEARTBEAT_AGE_MS] = { .type = NLA_REJECT },
	[SLUICE_A_STATS] = { .type = NLA_REJECT },
	[SLUICE_A_PAD] = { .type = NLA_REJECT },
	[SLUICE_A_QUEUE_COUNT] = NLA_POLICY_RANGE(NLA_U16, 1,
						  SLUICE_QUEUE_COUNT_MAX),
	[SLUICE_A_QUEUE_PORTIDS] = { .type = NLA_BINARY,
				     .len = SLUICE_QUEUE_COUNT_MAX * sizeof(u32) },
	[SLUICE_A_OWN_MARK] = { .type = NLA_REJECT },
	[SLUICE_A_HANDOVER_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						       &sluice_handover_ms_range),
	[SLUICE_A_CT_ID] = { .type = NLA_U32 },
	[SLUICE_A_IDENTITY] = { .type = NLA_REJECT },
	[SLUICE_A_WANT_IDENTITY] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* REGISTER and HEARTBEAT: does the agent's policy need flow identities? */
static void sluice_want_identity(struct sluice_agent *a,
				 const struct genl_info *info)
{
	const struct nlattr *want = info->attrs[SLUICE_A_WANT_IDENTITY];

	if (want)
		sluice_agent_want_identity(a, nla_get_u8(want));
}

static int sluice_put_config(struct sk_buff *msg, const struct sluice_net *sn)
{
	if (nla_put_u16(msg, SLUICE_A_QUEUE_NUM, READ_ONCE(sn->queue_num)) ||
	    nla_put_u16(msg, SLUICE_A_QUEUE_COUNT,
			READ_ONCE(sn->queue_count)) ||
	    nla_put_u8(msg, SLUICE_A_FAIL_MODE, sluice_net_fail_mode(sn)) ||
	    nla_put_u32(msg, SLUICE_A_WATCHDOG_MS, sluice_net_watchdog_ms(sn)) ||
	    nla_put_u32(msg, SLUICE_A_HOOKS, READ_ONCE(sn->hooks)) ||
	    nla_put_u32(msg, SLUICE_A_MARK_MASK, sluice_mark_mask) ||
	    nla_put_u32(msg, SLUICE_A_OWN_MARK, SLUICE_OWN_MARK))
		return -EMSGSIZE;
	return 0;
}

static int sluice_put_stats(struct sk_buff *msg, struct sluice_net *sn)
{
	unsigned long last_beat;
	struct nlattr *nest;
	enum sluice_mode mode;
	u32 age = U32_MAX;
	pid_t pid;
	int s;

	spin_lock_bh(&sn->lock);
	mode = sluice_agent_mode(&sn->agent, jiffies,
				 msecs_to_jiffies(sluice_net_watchdog_ms(sn)));
	pid = sn->agent.pid;
	last_beat = sn->agent.last_beat;
	if (sn->agent.portid)
		age = jiffies_to_msecs(jiffies - last_beat);
	spin_unlock_bh(&sn->lock);

	if (nla_put_u8(msg, SLUICE_A_MODE, mode) ||
	    nla_put_u32(msg, SLUICE_A_AGENT_PID, pid) ||
	    nla_put_u32(msg, SLUICE_A_HEARTBEAT_AGE_MS, age))
		return -EMSGSIZE;

	nest = nla_nest_start(msg, SLUICE_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (s = SLUICE_STAT_SEEN; s < __SLUICE_STAT_MAX; s++)
		if (s != SLUICE_STAT_PAD &&
		    nla_put_u64_64bit(msg, s, sluice_stat_read(sn, s),
				      SLUICE_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* Reply with the config, and the stats too when @stats. */
static int sluice_reply(struct genl_info *info, u8 cmd, bool stats)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &sluice_genl_family, 0, cmd);
	if (!hdr)
		goto err_size;
	if (sluice_put_config(msg, sn))
		goto err_size;
	if (stats && sluice_put_stats(msg, sn))
		goto err_size;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_size:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int sluice_cmd_register(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	struct nlattr *portids = info->attrs[SLUICE_A_QUEUE_PORTIDS];
	u16 queue = READ_ONCE(sluice_queue_num);
	u16 count = 1;

	if (portids && nla_len(portids) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(info->extack, portids,
				    "queue port ids are an array of u32");
		return -EINVAL;
	}
	if (info->attrs[SLUICE_A_QUEUE_NUM])
		queue = nla_get_u16(info->attrs[SLUICE_A_QUEUE_NUM]);
	if (info->attrs[SLUICE_A_QUEUE_COUNT])
		count = nla_get_u16(info->attrs[SLUICE_A_QUEUE_COUNT]);
	if (queue + count - 1 > U16_MAX) {
		GENL_SET_ERR_MSG(info, "the queues would run past queue 65535");
		return -ERANGE;
	}

	spin_lock_bh(&sn->lock);
	WRITE_ONCE(sn->queue_num, queue);
	WRITE_ONCE(sn->queue_count, count);
	sluice_agent_register(&sn->agent, info->snd_portid,
			      task_tgid_vnr(current), jiffies);
	if (portids) {
		sn->agent.n_queue_portids = nla_len(portids) / sizeof(u32);
		memcpy(sn->agent.queue_portids, nla_data(portids),
		       nla_len(portids));
	}
	sluice_want_identity(&sn->agent, info);
	sluice_watchdog_update(sn);
	spin_unlock_bh(&sn->lock);

	return sluice_reply(info, SLUICE_CMD_REGISTER, false);
}

static int sluice_agent_error(struct genl_info *info, int err)
{
	if (err == -ENOENT)
		GENL_SET_ERR_MSG(info, "no sluice agent is registered");
	else if (err == -EPERM)
		GENL_SET_ERR_MSG(info, "this socket is not the registered agent");
	return err;
}

static int sluice_cmd_unregister(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	int err = 0;

	spin_lock_bh(&sn->lock);
	err = sluice_agent_unregister(&sn->agent, info->snd_portid);
	if (!err)
		sluice_watchdog_update(sn);
	spin_unlock_bh(&sn->lock);

	return sluice_agent_error(info, err);
}

static int sluice_cmd_heartbeat(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	int err;

	spin_lock_bh(&sn->lock);
	err = sluice_agent_heartbeat(&sn->agent, info->snd_portid, jiffies);
	if (!err) {
		sluice_want_identity(&sn->agent, info);
		sluice_watchdog_update(sn);
	}
	spin_unlock_bh(&sn->lock);

	if (err)
		return sluice_agent_error(info, err);
	/* The config, so that a changed watchdog_ms reaches the agent. */
	return sluice_reply(info, SLUICE_CMD_HEARTBEAT, false);
}

static int sluice_cmd_drain(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	int err;

	spin_lock_bh(&sn->lock);
	err = sluice_agent_drain(&sn->agent, info->snd_portid);
	if (!err)
		sluice_watchdog_update(sn);
	spin_unlock_bh(&sn->lock);

	return sluice_agent_error(info, err);
}

/*
 * The agent is being replaced and leaves its queue sockets to its
 * successor: keep queueing to them, without heartbeats, for the grace.
 */
static int sluice_cmd_handover(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	u32 ms = SLUICE_HANDOVER_MS_DEFAULT;
	pid_t pid;
	int err;

	if (info->attrs[SLUICE_A_HANDOVER_MS])
		ms = nla_get_u32(info->attrs[SLUICE_A_HANDOVER_MS]);

	spin_lock_bh(&sn->lock);
	err = sluice_agent_handover(&sn->agent, info->snd_portid, jiffies,
				    msecs_to_jiffies(ms));
	if (!err)
		sluice_watchdog_update(sn);
	pid = sn->agent.pid;
	spin_unlock_bh(&sn->lock);

	if (err)
		return sluice_agent_error(info, err);
	pr_info("netns %u: agent pid %d hands its queues over (%u ms)\n",
		sn->net->ns.inum, pid, ms);
	return 0;
}

static int sluice_cmd_forget_denied(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	int err = 0;

	spin_lock_bh(&sn->lock);
	if (!sn->agent.portid)
		err = -ENOENT;
	else if (sn->agent.portid != info->snd_portid)
		err = -EPERM;
	spin_unlock_bh(&sn->lock);
	if (err)
		return sluice_agent_error(info, err);
	sluice_deny_forget_all(sn);
	return 0;
}

static int sluice_cmd_get_config(struct sk_buff *skb, struct genl_info *info)
{
	return sluice_reply(info, SLUICE_CMD_GET_CONFIG, false);
}

/*
 * Settings belong to the caller's namespace: nothing done inside one
 * namespace changes another's behaviour.
 */
static int sluice_cmd_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	struct nlattr **a = info->attrs;
	int err;

	if (a[SLUICE_A_QUEUE_NUM] || a[SLUICE_A_QUEUE_COUNT] ||
	    a[SLUICE_A_QUEUE_PORTIDS]) {
		GENL_SET_ERR_MSG(info, "queues are chosen by the agent when it registers");
		return -EOPNOTSUPP;
	}
	if (a[SLUICE_A_HOOKS]) {
		u32 hooks = nla_get_u32(a[SLUICE_A_HOOKS]);

		if (!hooks) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[SLUICE_A_HOOKS],
					    "at least one hook is needed");
			return -EINVAL;
		}
		err = sluice_hooks_set(genl_info_net(info), hooks);
		if (err)
			return err;
	}
	/*
	 * A new watchdog_ms counts from the agent's next heartbeat, whose
	 * reply tells it the new value: the deadline of the last one stays,
	 * so that a healthy agent never looks hung because of the change.
	 */
	spin_lock_bh(&sn->lock);
	if (a[SLUICE_A_FAIL_MODE])
		WRITE_ONCE(sn->fail_mode, nla_get_u8(a[SLUICE_A_FAIL_MODE]));
	if (a[SLUICE_A_WATCHDOG_MS])
		WRITE_ONCE(sn->watchdog_ms,
			   nla_get_u32(a[SLUICE_A_WATCHDOG_MS]));
	spin_unlock_bh(&sn->lock);
	return sluice_reply(info, SLUICE_CMD_SET_CONFIG, false);
}

static int sluice_cmd_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	return sluice_reply(info, SLUICE_CMD_GET_STATS, true);
}

/* The fields of @who that the module knows, in a SLUICE_A_IDENTITY nest. */
static int sluice_put_identity(struct sk_buff *msg,
			       const struct sluice_identity *who)
{
	struct nlattr *nest;
	u32 have = who->have;

	nest = nla_nest_start(msg, SLUICE_A_IDENTITY);
	if (!nest)
		return -EMSGSIZE;
	if (((have & BIT(SLUICE_ID_UID)) &&
	     nla_put_u32(msg, SLUICE_ID_UID, who->uid)) ||
	    ((have & BIT(SLUICE_ID_GID)) &&
	     nla_put_u32(msg, SLUICE_ID_GID, who->gid)) ||
	    ((have & BIT(SLUICE_ID_CGROUP)) &&
	     nla_put_u64_64bit(msg, SLUICE_ID_CGROUP, who->cgroup,
			       SLUICE_ID_PAD)) ||
	    ((have & BIT(SLUICE_ID_TGID)) &&
	     nla_put_u32(msg, SLUICE_ID_TGID, who->tgid)) ||
	    ((have & BIT(SLUICE_ID_START)) &&
	     nla_put_u64_64bit(msg, SLUICE_ID_START, who->start,
			       SLUICE_ID_PAD)) ||
	    ((have & BIT(SLUICE_ID_EXE_DEV_MAJOR)) &&
	     nla_put_u32(msg, SLUICE_ID_EXE_DEV_MAJOR, who->exe_major)) ||
	    ((have & BIT(SLUICE_ID_EXE_DEV_MINOR)) &&
	     nla_put_u32(msg, SLUICE_ID_EXE_DEV_MINOR, who->exe_minor)) ||
	    ((have & BIT(SLUICE_ID_EXE_INO)) &&
	     nla_put_u64_64bit(msg, SLUICE_ID_EXE_INO, who->exe_ino,
			       SLUICE_ID_PAD)) ||
	    ((have & BIT(SLUICE_ID_COMM)) &&
	     nla_put_string(msg, SLUICE_ID_COMM, who->comm)) ||
	    ((have & BIT(SLUICE_ID_INBOUND)) &&
	     nla_put_flag(msg, SLUICE_ID_INBOUND))) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * Who a queued flow belongs to, as the module recorded it in the caller's
 * namespace (identity.c); the agent asks with the conntrack id it got with
 * the flow's first packet.
 */
static int sluice_cmd_get_flow(struct sk_buff *skb, struct genl_info *info)
{
	struct sluice_net *sn = sluice_pernet(genl_info_net(info));
	struct sluice_identity who;
	struct sk_buff *msg;
	void *hdr;
	u32 ct_id;

	if (GENL_REQ_ATTR_CHECK(info, SLUICE_A_CT_ID))
		return -EINVAL;
	ct_id = nla_get_u32(info->attrs[SLUICE_A_CT_ID]);
	if (sluice_identity_get(&sn->identity, ct_id, &who, jiffies)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SLUICE_A_CT_ID],
				    "no identity is kept for this conntrack id");
		return -ENOENT;
	}

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &sluice_genl_family, 0,
				SLUICE_CMD_GET_FLOW);
	if (!hdr || nla_put_u32(msg, SLUICE_A_CT_ID, ct_id) ||
	    sluice_put_identity(msg, &who)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops sluice_genl_ops[] = {
	{
		.cmd = SLUICE_CMD_REGISTER,
		.doit = sluice_cmd_register,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_UNREGISTER,
		.doit = sluice_cmd_unregister,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_HEARTBEAT,
		.doit = sluice_cmd_heartbeat,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_GET_CONFIG,
		.doit = sluice_cmd_get_config,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_SET_CONFIG,
		.doit = sluice_cmd_set_config,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_GET_STATS,
		.doit = sluice_cmd_get_stats,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_DRAIN,
		.doit = sluice_cmd_drain,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_FORGET_DENIED,
		.doit = sluice_cmd_forget_denied,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_HANDOVER,
		.doit = sluice_cmd_handover,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SLUICE_CMD_GET_FLOW,
		.doit = sluice_cmd_get_flow,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family sluice_genl_family __ro_after_init = {
	.name = SLUICE_GENL_NAME,
	.version = SLUICE_GENL_VERSION,
	.maxattr = SLUICE_A_MAX,
	.policy = sluice_genl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = sluice_genl_ops,
	.n_small_ops = ARRAY_SIZE(sluice_genl_ops),
};

int sluice_genl_register(void)
{
	return genl_register_family(&sluice_genl_family);
}

void sluice_genl_unregister(void)
{
	genl_unregister_family(&sluice_genl_family);
}
