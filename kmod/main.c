// SPDX-License-Identifier: GPL-2.0
/*
 * sluice: a content filter whose kernel half can never cut a machine off
 * its network. This file holds the module parameters, the per-namespace
 * state and the order in which everything is set up and torn down.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack.h>

#include "sluice.h"

unsigned int sluice_net_id __read_mostly;

/*
 * fail_mode=open|closed: what new flows get while no agent is live, in
 * every namespace whose root did not choose otherwise (sluicectl set).
 */
unsigned int sluice_fail_mode __read_mostly = SLUICE_FAIL_OPEN;

static int sluice_fail_mode_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "open"))
		WRITE_ONCE(sluice_fail_mode, SLUICE_FAIL_OPEN);
	else if (sysfs_streq(val, "closed"))
		WRITE_ONCE(sluice_fail_mode, SLUICE_FAIL_CLOSED);
	else
		return -EINVAL;
	return 0;
}

static int sluice_fail_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  sluice_fail_mode_name(READ_ONCE(sluice_fail_mode)));
}

static const struct kernel_param_ops sluice_fail_mode_ops = {
	.set = sluice_fail_mode_set,
	.get = sluice_fail_mode_get,
};

module_param_cb(fail_mode, &sluice_fail_mode_ops, NULL, 0644);
MODULE_PARM_DESC(fail_mode, "open (default) or closed: new flows while no agent is live");

/* watchdog_ms: how long an agent may stay silent before it counts as hung. */
unsigned int sluice_watchdog_ms __read_mostly = 250;

static int sluice_watchdog_ms_set(const char *val,
				  const struct kernel_param *kp)
{
	unsigned int ms;
	int err;

	err = kstrtouint(val, 0, &ms);
	if (err)
		return err;
	if (ms < SLUICE_WATCHDOG_MS_MIN || ms > SLUICE_WATCHDOG_MS_MAX)
		return -ERANGE;
	WRITE_ONCE(sluice_watchdog_ms, ms);
	return 0;
}

static const struct kernel_param_ops sluice_watchdog_ms_ops = {
	.set = sluice_watchdog_ms_set,
	.get = param_get_uint,
};

module_param_cb(watchdog_ms, &sluice_watchdog_ms_ops, &sluice_watchdog_ms,
		0644);
MODULE_PARM_DESC(watchdog_ms, "agent heartbeat timeout in ms, 10..60000 (default 250)");

unsigned short sluice_queue_num __read_mostly;
module_param_named(queue_num, sluice_queue_num, ushort, 0644);
MODULE_PARM_DESC(queue_num, "NFQUEUE number an agent gets unless it asks for one (default 0)");

/* hooks=in,out,forward (default all), or "all". */
unsigned int sluice_hooks_mask __read_mostly = SLUICE_HOOK_ALL;

static int sluice_hooks_param_set(const char *val, const struct kernel_param *kp)
{
	char *buf, *s, *tok;
	unsigned int mask = 0;
	int err = 0;

	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	s = strim(buf);
	while ((tok = strsep(&s, ",")) != NULL) {
		unsigned int bit = sluice_hook_by_name(tok);

		if (!bit)
			err = -EINVAL;
		mask |= bit;
	}
	kfree(buf);
	if (err || !mask)
		return -EINVAL;
	sluice_hooks_mask = mask;
	return 0;
}

static int sluice_hooks_param_get(char *buf, const struct kernel_param *kp)
{
	char names[32];

	sluice_hooks_name(names, sizeof(names), sluice_hooks_mask);
	return sysfs_emit(buf, "%s\n", names);
}

static const struct kernel_param_ops sluice_hooks_ops = {
	.set = sluice_hooks_param_set,
	.get = sluice_hooks_param_get,
};

module_param_cb(hooks, &sluice_hooks_ops, NULL, 0444);
MODULE_PARM_DESC(hooks, "comma list of in,out,forward (default all) for each namespace; sluicectl set hooks changes one namespace");

u32 sluice_mark_mask __read_mostly = SLUICE_MARK_MASK_DEFAULT;
module_param_named(mark_mask, sluice_mark_mask, uint, 0444);
MODULE_PARM_DESC(mark_mask, "two adjacent connmark bits that hold a flow's verdict (default 0xc0000000)");

/* untracked=accept|drop: packets conntrack does not follow. */
bool sluice_untracked_drop __read_mostly;

static int sluice_untracked_set(const char *val,
				const struct kernel_param *kp)
{
	if (sysfs_streq(val, "accept"))
		WRITE_ONCE(sluice_untracked_drop, false);
	else if (sysfs_streq(val, "drop"))
		WRITE_ONCE(sluice_untracked_drop, true);
	else
		return -EINVAL;
	return 0;
}

static int sluice_untracked_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(sluice_untracked_drop) ? "drop" : "accept");
}

static const struct kernel_param_ops sluice_untracked_ops = {
	.set = sluice_untracked_set,
	.get = sluice_untracked_get,
};

module_param_cb(untracked, &sluice_untracked_ops, NULL, 0644);
MODULE_PARM_DESC(untracked, "accept (default) or drop: untracked and invalid packets");

static int __net_init sluice_net_init(struct net *net)
{
	struct sluice_net *sn = sluice_pernet(net);
	int err;

	sn->net = net;
	sn->queue_num = READ_ONCE(sluice_queue_num);
	sn->queue_count = 1;
	sn->fail_mode = -1;	/* the module parameters apply */
	sn->watchdog_ms = 0;
	sluice_watchdog_init(sn);
	sluice_deny_init(sn);
	sluice_identity_init(&sn->identity);

	sn->stats = alloc_percpu(struct sluice_stats);
	if (!sn->stats)
		return -ENOMEM;

	err = sluice_proc_init(net);
	if (err)
		goto err_proc;

	/* Conntrack only tracks a namespace somebody asked it to. */
	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		goto err_conntrack;

	err = sluice_hooks_register(net);
	if (err)
		goto err_hooks;
	return 0;

err_hooks:
	nf_ct_netns_put(net, NFPROTO_INET);
err_conntrack:
	sluice_proc_exit(net);
err_proc:
	free_percpu(sn->stats);
	return err;
}

/*
 * Hooks go in .pre_exit: removing a hook does not wait for CPUs still
 * running it, but the core waits an RCU grace period between .pre_exit
 * and .exit, so nothing runs a hook on the state .exit frees.
 */
static void __net_exit sluice_net_pre_exit(struct net *net)
{
	sluice_hooks_unregister(net);
}

static void __net_exit sluice_net_exit(struct net *net)
{
	struct sluice_net *sn = sluice_pernet(net);

	nf_ct_netns_put(net, NFPROTO_INET);
	sluice_proc_exit(net);
	sluice_watchdog_stop(sn);
	sluice_deny_forget_all(sn);
	sluice_identity_forget_all(&sn->identity);
	free_percpu(sn->stats);
}

static struct pernet_operations sluice_net_ops = {
	.init = sluice_net_init,
	.pre_exit = sluice_net_pre_exit,
	.exit = sluice_net_exit,
	.id = &sluice_net_id,
	.size = sizeof(struct sluice_net),
};

static int __init sluice_init(void)
{
	int err;

	if (!sluice_mark_mask_valid(sluice_mark_mask)) {
		pr_err("mark_mask 0x%08x is not two adjacent bits\n",
		       sluice_mark_mask);
		return -EINVAL;
	}

	err = register_pernet_subsys(&sluice_net_ops);
	if (err)
		goto err_pernet;

	err = sluice_notifier_register();
	if (err)
		goto err_notifier;

	err = sluice_genl_register();
	if (err)
		goto err_genl;

	pr_info("loaded: fail_mode=%s watchdog_ms=%u queue_num=%u mark_mask=0x%08x\n",
		sluice_fail_mode_name(sluice_fail_mode),
		sluice_watchdog_ms, sluice_queue_num, sluice_mark_mask);
	return 0;

err_genl:
	sluice_notifier_unregister();
err_notifier:
	unregister_pernet_subsys(&sluice_net_ops);
err_pernet:
	return err;
}

static void __exit sluice_exit(void)
{
	sluice_genl_unregister();
	sluice_notifier_unregister();
	unregister_pernet_subsys(&sluice_net_ops);
	pr_info("unloaded\n");
}

module_init(sluice_init);
module_exit(sluice_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
MODULE_DESCRIPTION("sluice content filter: conntrack fast path, NFQUEUE hand-off, fail-open watchdog");
MODULE_SOFTDEP("pre: nfnetlink_queue nf_conntrack_netlink");
