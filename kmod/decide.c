// SPDX-License-Identifier: GPL-2.0
/*
 * The decisions of sluice as pure functions of their inputs: what a hook
 * does with a packet, and what the watchdog thinks of the agent. Nothing
 * here touches a packet, a lock or the clock, so that the KUnit suites can
 * walk every row of the tables.
 */
#include <linux/errno.h>
#include <linux/jiffies.h>

#include "sluice.h"

/**
 * sluice_decide - what to do with a packet of a flow
 * @v: the flow's verdict bits from its conntrack mark
 * @mode: the namespace's agent mode, heartbeat deadline already applied
 * @fail_mode: what to do with undecided flows when no agent is live
 *
 * Decided flows never leave the kernel, whatever the agent does: that is
 * what keeps established connections alive through an agent crash.
 * Undecided and unvetted flows go to a live agent; without one, undecided
 * flows follow the fail mode. Unvetted ones (admitted while failing open)
 * stay admitted while the mode is open, so that a hang never cuts what
 * already works; in closed mode nothing unjudged passes, so they do not.
 */
enum sluice_action sluice_decide(enum sluice_flow_verdict v,
				 enum sluice_mode mode,
				 enum sluice_fail_mode fail_mode)
{
	switch (v) {
	case SLUICE_FLOW_ALLOW:
		return SLUICE_ACT_ACCEPT;
	case SLUICE_FLOW_DENY:
		return SLUICE_ACT_DROP;
	case SLUICE_FLOW_UNVETTED:
		/* The agent is back: let it re-check the flow. */
		if (mode == SLUICE_MODE_ENFORCING)
			return SLUICE_ACT_QUEUE;
		if (fail_mode == SLUICE_FAIL_CLOSED)
			return SLUICE_ACT_FAIL_CLOSED;
		return SLUICE_ACT_ACCEPT;
	case SLUICE_FLOW_UNSET:
	default:
		if (mode == SLUICE_MODE_ENFORCING)
			return SLUICE_ACT_QUEUE;
		if (fail_mode == SLUICE_FAIL_CLOSED)
			return SLUICE_ACT_FAIL_CLOSED;
		return SLUICE_ACT_FAIL_OPEN;
	}
}

/**
 * sluice_agent_mode - the agent's mode at time @now
 * @a: the agent
 * @now: jiffies
 * @timeout: heartbeat timeout in jiffies
 *
 * An agent is enforcing only while it is registered, not draining, and its
 * last heartbeat is younger than @timeout. An agent being handed over is
 * enforcing until the end of its grace, heartbeat or not: its queue
 * sockets wait for the successor, and what comes meanwhile waits in them.
 * time_after() keeps this right across a jiffies wrap.
 */
enum sluice_mode sluice_agent_mode(const struct sluice_agent *a,
				   unsigned long now, unsigned long timeout)
{
	if (a->handover)
		return time_after(now, a->handover_end) ?
		       SLUICE_MODE_NO_AGENT : SLUICE_MODE_ENFORCING;
	if (!a->portid)
		return SLUICE_MODE_NO_AGENT;
	if (a->draining)
		return SLUICE_MODE_DRAINING;
	if (time_after(now, a->last_beat + timeout))
		return SLUICE_MODE_HUNG;
	return SLUICE_MODE_ENFORCING;
}

/*
 * A new agent replaces any previous one: the last to register wins. Its
 * queue sockets, if it named them, are set by the caller afterwards, and
 * so is SLUICE_A_WANT_IDENTITY: an agent that does not say it (one older
 * than the attribute) gets flow identities recorded, as it always did.
 */
void sluice_agent_register(struct sluice_agent *a, u32 portid, pid_t pid,
			   unsigned long now)
{
	a->portid = portid;
	a->pid = pid;
	a->last_beat = now;
	a->draining = false;
	a->handover = false;
	a->n_queue_portids = 0;
	WRITE_ONCE(a->want_identity, true);
}

/* Whether the agent's policy needs flow identities, as it said last. */
void sluice_agent_want_identity(struct sluice_agent *a, bool want)
{
	WRITE_ONCE(a->want_identity, want);
}

/*
 * No agent at all: what a crash, an unregister or a lost handover leave.
 * Nobody will ask who a flow belongs to: nothing is recorded.
 */
static void sluice_agent_forget(struct sluice_agent *a)
{
	a->portid = 0;
	a->pid = 0;
	a->draining = false;
	a->handover = false;
	a->n_queue_portids = 0;
	WRITE_ONCE(a->want_identity, false);
}

/*
 * When the hooks must stop trusting the agent: its next heartbeat is due,
 * or, while it is handed over, the successor is.
 */
unsigned long sluice_agent_deadline(const struct sluice_agent *a,
				    unsigned long timeout)
{
	return a->handover ? a->handover_end : a->last_beat + timeout;
}

int sluice_agent_heartbeat(struct sluice_agent *a, u32 portid,
			   unsigned long now)
{
	if (!a->portid)
		return -ENOENT;
	if (a->portid != portid)
		return -EPERM;
	a->last_beat = now;
	return 0;
}

/* A drain also takes back a handover: the agent answers what is queued. */
int sluice_agent_drain(struct sluice_agent *a, u32 portid)
{
	if (!a->portid)
		return -ENOENT;
	if (a->portid != portid)
		return -EPERM;
	a->draining = true;
	a->handover = false;
	return 0;
}

/*
 * The agent leaves its queue sockets to a successor, who must register
 * within @grace jiffies. Its heartbeats are no longer expected, and the
 * release of its control socket from now on is not a crash.
 */
int sluice_agent_handover(struct sluice_agent *a, u32 portid,
			  unsigned long now, unsigned long grace)
{
	if (!a->portid)
		return -ENOENT;
	if (a->portid != portid)
		return -EPERM;
	a->handover = true;
	a->handover_end = now + grace;
	a->draining = false;
	return 0;
}

/*
 * The grace of a handover is over and nobody registered: the agent is
 * gone. Returns true when that happened, so the caller fails over.
 */
bool sluice_agent_expire(struct sluice_agent *a, unsigned long now)
{
	if (!a->handover || !time_after(now, a->handover_end))
		return false;
	sluice_agent_forget(a);
	return true;
}

/*
 * The agent's socket is gone (crash, exit or unregister). Returns true when
 * it was the registered agent, so the caller fails over. An agent being
 * handed over closes its control socket on purpose: its queue sockets
 * live on, and with them the agent, until the successor registers.
 */
bool sluice_agent_release(struct sluice_agent *a, u32 portid)
{
	if (!a->portid || a->portid != portid)
		return false;
	if (a->handover) {
		a->portid = 0;
		return false;
	}
	sluice_agent_forget(a);
	return true;
}

/* UNREGISTER from the agent's socket: gone, handover or not. */
int sluice_agent_unregister(struct sluice_agent *a, u32 portid)
{
	if (!a->portid)
		return -ENOENT;
	if (a->portid != portid)
		return -EPERM;
	sluice_agent_forget(a);
	return 0;
}

/*
 * One of the agent's queue sockets is gone (a verdict thread died, the
 * agent is exiting, or systemd closed the sockets it kept for a successor
 * that will not come): its flows would be bypassed or dropped from now on,
 * so the whole agent counts as gone, handover or not. Returns true when
 * that happened.
 */
bool sluice_agent_release_queue(struct sluice_agent *a, u32 portid)
{
	int i;

	if (!a->portid && !a->handover)
		return false;
	for (i = 0; i < a->n_queue_portids; i++) {
		if (a->queue_portids[i] == portid) {
			sluice_agent_forget(a);
			return true;
		}
	}
	return false;
}
