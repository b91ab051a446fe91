// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of sluice's pure logic: the hook decision table, the
 * watchdog state machine, the verdict bits in the conntrack mark and the
 * table of flow identities.
 *
 * They are linked into sluice.ko only when the build passes
 * CONFIG_SLUICE_KUNIT_TEST=y (see kmod/Kbuild), which tests/kunit/run.sh
 * does against its own KUnit kernel; they run when the module is loaded.
 *
 * The expected values below are written from the contract (DESIGN.md and
 * the comments of uapi/sluice.h and kmod/decide.c), not copied from the
 * code under test, and every table is checked to be complete: a new verdict
 * or mode that nobody thought about fails a test instead of slipping by.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sluice.h"

#define SLUICE_NR_VERDICTS	4	/* two mark bits: UNSET .. UNVETTED */
#define SLUICE_NR_MODES		4	/* NO_AGENT .. DRAINING */
#define SLUICE_NR_FAIL_MODES	2	/* OPEN, CLOSED */

static const char *const verdict_names[SLUICE_NR_VERDICTS] = {
	[SLUICE_FLOW_UNSET] = "unset",
	[SLUICE_FLOW_ALLOW] = "allow",
	[SLUICE_FLOW_DENY] = "deny",
	[SLUICE_FLOW_UNVETTED] = "unvetted",
};

static const char *const mode_names[SLUICE_NR_MODES] = {
	[SLUICE_MODE_NO_AGENT] = "no_agent",
	[SLUICE_MODE_ENFORCING] = "enforcing",
	[SLUICE_MODE_HUNG] = "hung",
	[SLUICE_MODE_DRAINING] = "draining",
};

static const char *const fail_mode_names[SLUICE_NR_FAIL_MODES] = {
	[SLUICE_FAIL_OPEN] = "open",
	[SLUICE_FAIL_CLOSED] = "closed",
};

/* ------------------------------------------------------------------ */
/* sluice_decide: what a hook does with a packet                       */
/* ------------------------------------------------------------------ */

struct decide_case {
	enum sluice_flow_verdict verdict;
	enum sluice_mode mode;
	enum sluice_fail_mode fail_mode;
	enum sluice_action want;
};

#define D(v, m, f, a) { SLUICE_FLOW_##v, SLUICE_MODE_##m, SLUICE_FAIL_##f, \
			SLUICE_ACT_##a }

/*
 * Every verdict x mode x fail mode. Decided flows never depend on the
 * agent (that is what keeps established connections alive through a
 * crash); undecided flows go to a live agent and otherwise follow the fail
 * mode; unvetted flows (admitted while failing open) go back to a live
 * agent for a re-check and otherwise stay admitted while the mode is open,
 * so that a hang never cuts what already works, but not in closed mode,
 * which admits nothing unjudged.
 */
static const struct decide_case decide_cases[] = {
	D(UNSET,    NO_AGENT,  OPEN,   FAIL_OPEN),
	D(UNSET,    NO_AGENT,  CLOSED, FAIL_CLOSED),
	D(UNSET,    ENFORCING, OPEN,   QUEUE),
	D(UNSET,    ENFORCING, CLOSED, QUEUE),
	D(UNSET,    HUNG,      OPEN,   FAIL_OPEN),
	D(UNSET,    HUNG,      CLOSED, FAIL_CLOSED),
	D(UNSET,    DRAINING,  OPEN,   FAIL_OPEN),
	D(UNSET,    DRAINING,  CLOSED, FAIL_CLOSED),

	D(ALLOW,    NO_AGENT,  OPEN,   ACCEPT),
	D(ALLOW,    NO_AGENT,  CLOSED, ACCEPT),
	D(ALLOW,    ENFORCING, OPEN,   ACCEPT),
	D(ALLOW,    ENFORCING, CLOSED, ACCEPT),
	D(ALLOW,    HUNG,      OPEN,   ACCEPT),
	D(ALLOW,    HUNG,      CLOSED, ACCEPT),
	D(ALLOW,    DRAINING,  OPEN,   ACCEPT),
	D(ALLOW,    DRAINING,  CLOSED, ACCEPT),

	D(DENY,     NO_AGENT,  OPEN,   DROP),
	D(DENY,     NO_AGENT,  CLOSED, DROP),
	D(DENY,     ENFORCING, OPEN,   DROP),
	D(DENY,     ENFORCING, CLOSED, DROP),
	D(DENY,     HUNG,      OPEN,   DROP),
	D(DENY,     HUNG,      CLOSED, DROP),
	D(DENY,     DRAINING,  OPEN,   DROP),
	D(DENY,     DRAINING,  CLOSED, DROP),

	D(UNVETTED, NO_AGENT,  OPEN,   ACCEPT),
	D(UNVETTED, NO_AGENT,  CLOSED, FAIL_CLOSED),
	D(UNVETTED, ENFORCING, OPEN,   QUEUE),
	D(UNVETTED, ENFORCING, CLOSED, QUEUE),
	D(UNVETTED, HUNG,      OPEN,   ACCEPT),
	D(UNVETTED, HUNG,      CLOSED, FAIL_CLOSED),
	D(UNVETTED, DRAINING,  OPEN,   ACCEPT),
	D(UNVETTED, DRAINING,  CLOSED, FAIL_CLOSED),
};

#undef D

static void decide_case_desc(const struct decide_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s_%s_fail_%s",
		 verdict_names[c->verdict], mode_names[c->mode],
		 fail_mode_names[c->fail_mode]);
}

KUNIT_ARRAY_PARAM(decide, decide_cases, decide_case_desc);

static void decide_follows_table(struct kunit *test)
{
	const struct decide_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, sluice_decide(c->verdict, c->mode, c->fail_mode),
			c->want);
}

/* The table above must hold every combination exactly once. */
static void decide_table_covers_every_state(struct kunit *test)
{
	int seen[SLUICE_NR_VERDICTS][SLUICE_NR_MODES][SLUICE_NR_FAIL_MODES];
	size_t i;
	int v, m, f;

	memset(seen, 0, sizeof(seen));
	KUNIT_ASSERT_EQ(test, ARRAY_SIZE(decide_cases),
			(size_t)(SLUICE_NR_VERDICTS * SLUICE_NR_MODES *
				 SLUICE_NR_FAIL_MODES));
	for (i = 0; i < ARRAY_SIZE(decide_cases); i++) {
		const struct decide_case *c = &decide_cases[i];

		KUNIT_ASSERT_LT(test, (int)c->verdict, SLUICE_NR_VERDICTS);
		KUNIT_ASSERT_LT(test, (int)c->mode, SLUICE_NR_MODES);
		KUNIT_ASSERT_LT(test, (int)c->fail_mode, SLUICE_NR_FAIL_MODES);
		seen[c->verdict][c->mode][c->fail_mode]++;
	}
	for (v = 0; v < SLUICE_NR_VERDICTS; v++)
		for (m = 0; m < SLUICE_NR_MODES; m++)
			for (f = 0; f < SLUICE_NR_FAIL_MODES; f++)
				KUNIT_EXPECT_EQ_MSG(test, seen[v][m][f], 1,
						    "%s/%s/%s",
						    verdict_names[v],
						    mode_names[m],
						    fail_mode_names[f]);
}

/*
 * The guarantees, stated once more as properties over the whole space, so
 * that a wrong row added to the table cannot hide them.
 */
static void decide_queues_only_to_enforcing_agent(struct kunit *test)
{
	int v, m, f;

	for (v = 0; v < SLUICE_NR_VERDICTS; v++)
		for (m = 0; m < SLUICE_NR_MODES; m++)
			for (f = 0; f < SLUICE_NR_FAIL_MODES; f++) {
				enum sluice_action a = sluice_decide(v, m, f);

				if (m != SLUICE_MODE_ENFORCING)
					KUNIT_EXPECT_NE_MSG(test, a,
							    SLUICE_ACT_QUEUE,
							    "%s/%s/%s",
							    verdict_names[v],
							    mode_names[m],
							    fail_mode_names[f]);
			}
}

static void decide_fail_open_never_drops_new_flows(struct kunit *test)
{
	int v, m;

	for (v = 0; v < SLUICE_NR_VERDICTS; v++)
		for (m = 0; m < SLUICE_NR_MODES; m++) {
			enum sluice_action a;

			if (v == SLUICE_FLOW_DENY)
				continue;
			a = sluice_decide(v, m, SLUICE_FAIL_OPEN);
			KUNIT_EXPECT_NE_MSG(test, a, SLUICE_ACT_DROP, "%s/%s",
					    verdict_names[v], mode_names[m]);
			KUNIT_EXPECT_NE_MSG(test, a, SLUICE_ACT_FAIL_CLOSED,
					    "%s/%s", verdict_names[v],
					    mode_names[m]);
		}
}

/* Closed mode without a live agent lets through only allowed flows. */
static void decide_fail_closed_admits_only_allowed(struct kunit *test)
{
	int v, m;

	for (v = 0; v < SLUICE_NR_VERDICTS; v++)
		for (m = 0; m < SLUICE_NR_MODES; m++) {
			enum sluice_action a;

			if (v == SLUICE_FLOW_ALLOW || m == SLUICE_MODE_ENFORCING)
				continue;
			a = sluice_decide(v, m, SLUICE_FAIL_CLOSED);
			KUNIT_EXPECT_TRUE_MSG(test, a == SLUICE_ACT_DROP ||
					      a == SLUICE_ACT_FAIL_CLOSED,
					      "%s/%s", verdict_names[v],
					      mode_names[m]);
		}
}

static struct kunit_case sluice_decide_cases[] = {
	KUNIT_CASE_PARAM(decide_follows_table, decide_gen_params),
	KUNIT_CASE(decide_table_covers_every_state),
	KUNIT_CASE(decide_queues_only_to_enforcing_agent),
	KUNIT_CASE(decide_fail_open_never_drops_new_flows),
	KUNIT_CASE(decide_fail_closed_admits_only_allowed),
	{}
};

static struct kunit_suite sluice_decide_suite = {
	.name = "sluice_decide",
	.test_cases = sluice_decide_cases,
};

/* ------------------------------------------------------------------ */
/* sluice_agent_*: the watchdog state machine                          */
/* ------------------------------------------------------------------ */

#define PORT_A		100
#define PORT_B		200
#define PID_A		1000
#define PID_B		2000
#define TIMEOUT		25	/* jiffies */

/* Field by field: a struct copy need not copy the padding memcmp sees. */
static void expect_agent_unchanged(struct kunit *test,
				   const struct sluice_agent *a,
				   const struct sluice_agent *before,
				   const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, a->portid, before->portid, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, a->pid, before->pid, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, a->last_beat, before->last_beat, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, a->draining, before->draining, "%s", what);
}

static void watchdog_starts_without_agent(struct kunit *test)
{
	struct sluice_agent a = {};

	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 0, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, ULONG_MAX, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
}

static void watchdog_register_makes_agent_enforcing(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 500);
	KUNIT_EXPECT_EQ(test, a.portid, (u32)PORT_A);
	KUNIT_EXPECT_EQ(test, a.pid, (pid_t)PID_A);
	KUNIT_EXPECT_EQ(test, a.last_beat, 500UL);
	KUNIT_EXPECT_FALSE(test, a.draining);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 500, TIMEOUT),
			SLUICE_MODE_ENFORCING);
}

static void watchdog_heartbeat_without_agent_is_enoent(struct kunit *test)
{
	struct sluice_agent a = {};
	struct sluice_agent before;

	before = a;
	KUNIT_EXPECT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, 10), -ENOENT);
	KUNIT_EXPECT_EQ(test, sluice_agent_drain(&a, PORT_A), -ENOENT);
	expect_agent_unchanged(test, &a, &before, "no agent");
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 10, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
}

static void watchdog_heartbeat_from_other_port_is_eperm(struct kunit *test)
{
	struct sluice_agent a = {};
	struct sluice_agent before;

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	before = a;
	KUNIT_EXPECT_EQ(test, sluice_agent_heartbeat(&a, PORT_B, 120), -EPERM);
	KUNIT_EXPECT_EQ(test, sluice_agent_drain(&a, PORT_B), -EPERM);
	/* An impostor neither keeps the agent alive nor drains it. */
	expect_agent_unchanged(test, &a, &before, "impostor");
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100 + TIMEOUT + 1, TIMEOUT),
			SLUICE_MODE_HUNG);
}

static void watchdog_heartbeat_keeps_agent_enforcing(struct kunit *test)
{
	struct sluice_agent a = {};
	unsigned long t = 1000;
	int i;

	sluice_agent_register(&a, PORT_A, PID_A, t);
	/* Beats just inside the timeout, many times its length in total. */
	for (i = 0; i < 10; i++) {
		t += TIMEOUT;
		KUNIT_ASSERT_EQ(test, sluice_agent_mode(&a, t, TIMEOUT),
				SLUICE_MODE_ENFORCING);
		KUNIT_ASSERT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, t), 0);
		KUNIT_EXPECT_EQ(test, a.last_beat, t);
	}
}

struct timeout_case {
	const char *name;
	unsigned long last_beat;
	unsigned long now;
	unsigned long timeout;
	enum sluice_mode want;
};

/*
 * The heartbeat timeout at its edges, also across a wrap of jiffies, and
 * from INITIAL_JIFFIES (5 minutes before the 32-bit wrap, on purpose to
 * catch code that forgets about it).
 */
static const struct timeout_case timeout_cases[] = {
	{ "at_beat", 1000, 1000, TIMEOUT, SLUICE_MODE_ENFORCING },
	{ "just_inside", 1000, 1000 + TIMEOUT - 1, TIMEOUT,
	  SLUICE_MODE_ENFORCING },
	{ "at_timeout", 1000, 1000 + TIMEOUT, TIMEOUT, SLUICE_MODE_ENFORCING },
	{ "one_past", 1000, 1000 + TIMEOUT + 1, TIMEOUT, SLUICE_MODE_HUNG },
	{ "long_past", 1000, 1000 + 100 * TIMEOUT, TIMEOUT, SLUICE_MODE_HUNG },
	/* A beat noted on another CPU after "now" was read is not a hang. */
	{ "clock_behind_beat", 1000, 999, TIMEOUT, SLUICE_MODE_ENFORCING },
	{ "zero_timeout_at_beat", 1000, 1000, 0, SLUICE_MODE_ENFORCING },
	{ "zero_timeout_past", 1000, 1001, 0, SLUICE_MODE_HUNG },
	{ "wrap_inside", ULONG_MAX - 10, 5, TIMEOUT, SLUICE_MODE_ENFORCING },
	{ "wrap_at_timeout", ULONG_MAX - 10, TIMEOUT - 11, TIMEOUT,
	  SLUICE_MODE_ENFORCING },
	{ "wrap_one_past", ULONG_MAX - 10, TIMEOUT - 10, TIMEOUT,
	  SLUICE_MODE_HUNG },
	{ "beat_at_max", ULONG_MAX, TIMEOUT - 1, TIMEOUT,
	  SLUICE_MODE_ENFORCING },
	{ "beat_at_max_past", ULONG_MAX, TIMEOUT, TIMEOUT, SLUICE_MODE_HUNG },
	{ "initial_jiffies", INITIAL_JIFFIES, INITIAL_JIFFIES + TIMEOUT,
	  TIMEOUT, SLUICE_MODE_ENFORCING },
	{ "initial_jiffies_past", INITIAL_JIFFIES,
	  INITIAL_JIFFIES + TIMEOUT + 1, TIMEOUT, SLUICE_MODE_HUNG },
	{ "wrap32_inside", 0xfffffff0UL, 0xfffffff0UL + TIMEOUT, TIMEOUT,
	  SLUICE_MODE_ENFORCING },
	{ "wrap32_past", 0xfffffff0UL, 0xfffffff0UL + TIMEOUT + 1, TIMEOUT,
	  SLUICE_MODE_HUNG },
};

static void timeout_case_desc(const struct timeout_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(timeout, timeout_cases, timeout_case_desc);

static void watchdog_timeout_marks_agent_hung(struct kunit *test)
{
	const struct timeout_case *c = test->param_value;
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, c->last_beat);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, c->now, c->timeout),
			c->want);
}

static void watchdog_heartbeat_revives_hung_agent(struct kunit *test)
{
	struct sluice_agent a = {};
	unsigned long t = ULONG_MAX - 5;

	/* SIGSTOP across a jiffies wrap, then SIGCONT. */
	sluice_agent_register(&a, PORT_A, PID_A, t);
	t += TIMEOUT + 1;
	KUNIT_ASSERT_EQ(test, sluice_agent_mode(&a, t, TIMEOUT),
			SLUICE_MODE_HUNG);
	KUNIT_ASSERT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, t), 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, t, TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, t + TIMEOUT, TIMEOUT),
			SLUICE_MODE_ENFORCING);
}

/* An upgrade: the new agent registers while the old one still runs. */
static void watchdog_reregister_replaces_agent(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	/* Long after A went quiet: B is fresh, not hung, not draining. */
	sluice_agent_register(&a, PORT_B, PID_B, 100 + 10 * TIMEOUT);
	KUNIT_EXPECT_EQ(test, a.portid, (u32)PORT_B);
	KUNIT_EXPECT_EQ(test, a.pid, (pid_t)PID_B);
	KUNIT_EXPECT_FALSE(test, a.draining);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100 + 10 * TIMEOUT,
						TIMEOUT),
			SLUICE_MODE_ENFORCING);
	/* The old agent has no say any more. */
	KUNIT_EXPECT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, 400), -EPERM);
	KUNIT_EXPECT_EQ(test, sluice_agent_drain(&a, PORT_A), -EPERM);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_EQ(test, a.portid, (u32)PORT_B);
}

static void watchdog_drain_stops_enforcing(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	KUNIT_EXPECT_TRUE(test, a.draining);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_DRAINING);
	/* Heartbeats while draining do not resume queueing ... */
	KUNIT_EXPECT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, 110), 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 110, TIMEOUT),
			SLUICE_MODE_DRAINING);
	/* ... nor does a missing one turn draining into hung. */
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 110 + TIMEOUT + 1, TIMEOUT),
			SLUICE_MODE_DRAINING);
	/* Draining twice is harmless. */
	KUNIT_EXPECT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 110, TIMEOUT),
			SLUICE_MODE_DRAINING);
}

/* The crash path: the netlink notifier reports the agent's socket gone. */
static void watchdog_release_of_agent_fails_over(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_EXPECT_TRUE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_EQ(test, a.portid, 0U);
	KUNIT_EXPECT_EQ(test, a.pid, 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	KUNIT_EXPECT_EQ(test, sluice_agent_heartbeat(&a, PORT_A, 101), -ENOENT);
	/* A second release of the same port is not a second failover. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
}

/* A dead verdict thread: one of the agent's queue sockets is released. */
static void watchdog_release_of_a_queue_socket_fails_over(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	a.n_queue_portids = 2;
	a.queue_portids[0] = PORT_A + 10;
	a.queue_portids[1] = PORT_A + 11;
	KUNIT_EXPECT_FALSE(test, sluice_agent_release_queue(&a, PORT_B));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_TRUE(test, sluice_agent_release_queue(&a, PORT_A + 11));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	/* The agent's other queue socket closing later changes nothing. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_release_queue(&a, PORT_A + 10));
	/* A new registration forgets the old agent's queue sockets. */
	sluice_agent_register(&a, PORT_B, PID_A, 200);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release_queue(&a, PORT_A + 10));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 200, TIMEOUT),
			SLUICE_MODE_ENFORCING);
}

static void watchdog_release_of_draining_agent_fails_over(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	KUNIT_EXPECT_TRUE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_FALSE(test, a.draining);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	/* The next agent starts clean. */
	sluice_agent_register(&a, PORT_B, PID_B, 150);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 150, TIMEOUT),
			SLUICE_MODE_ENFORCING);
}

/* Every generic netlink socket that closes is reported, not only ours. */
static void watchdog_release_of_other_port_changes_nothing(struct kunit *test)
{
	static const u32 others[] = { PORT_B, 0, PORT_A + 1, U32_MAX };
	struct sluice_agent a = {};
	struct sluice_agent before;
	size_t i;

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	before = a;
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		KUNIT_EXPECT_FALSE_MSG(test, sluice_agent_release(&a, others[i]),
				       "port %u", others[i]);
		expect_agent_unchanged(test, &a, &before, "other port");
	}
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_ENFORCING);
}

static void watchdog_release_without_agent_changes_nothing(struct kunit *test)
{
	struct sluice_agent a = {};

	/* Port 0 is the kernel's own: it must never look like our agent. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, 0));
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 0, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
}

/* An agent with two queue sockets, as REGISTER leaves it. */
static void register_with_queues(struct sluice_agent *a, u32 portid,
				 unsigned long now)
{
	sluice_agent_register(a, portid, PID_A, now);
	a->n_queue_portids = 2;
	a->queue_portids[0] = portid + 10;
	a->queue_portids[1] = portid + 11;
}

#define GRACE	500

/*
 * A restart in fail-closed mode: the old agent hands over and exits, its
 * control socket closes, and the namespace keeps queueing, without
 * heartbeats, until the successor registers.
 */
static void handover_keeps_enforcing_through_the_restart(struct kunit *test)
{
	struct sluice_agent a = {};

	register_with_queues(&a, PORT_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, 110, GRACE), 0);
	/* No heartbeat is due during the grace ... */
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 110 + 2 * TIMEOUT,
						TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_EQ(test, sluice_agent_deadline(&a, TIMEOUT),
			110UL + GRACE);
	/* ... and the old agent's exit is not a crash. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_EQ(test, a.portid, 0U);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 120, TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_FALSE(test, sluice_agent_expire(&a, 110 + GRACE));
	/* The successor registers on the same queue sockets. */
	register_with_queues(&a, PORT_A, 300);
	KUNIT_EXPECT_FALSE(test, a.handover);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 300, TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_EQ(test, sluice_agent_deadline(&a, TIMEOUT),
			300UL + TIMEOUT);
	/* From now on heartbeats count again. */
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 300 + TIMEOUT + 1,
						TIMEOUT),
			SLUICE_MODE_HUNG);
	KUNIT_EXPECT_FALSE(test, sluice_agent_expire(&a, 300 + 2 * GRACE));
}

/* Nobody came: after the grace the namespace follows its fail mode. */
static void handover_without_successor_ends_after_grace(struct kunit *test)
{
	unsigned long t = ULONG_MAX - GRACE / 2;	/* across a wrap */
	struct sluice_agent a = {};

	register_with_queues(&a, PORT_A, t);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, t, GRACE), 0);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, t + GRACE, TIMEOUT),
			SLUICE_MODE_ENFORCING);
	KUNIT_EXPECT_FALSE(test, sluice_agent_expire(&a, t + GRACE));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, t + GRACE + 1, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	KUNIT_EXPECT_TRUE(test, sluice_agent_expire(&a, t + GRACE + 1));
	KUNIT_EXPECT_FALSE(test, a.handover);
	KUNIT_EXPECT_EQ(test, a.n_queue_portids, 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, t + GRACE + 1, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	/* Only once. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_expire(&a, t + GRACE + 2));
}

/*
 * systemctl stop: systemd closes the stored queue sockets. Nobody will
 * answer what waits in them: fail over at once, not after the grace.
 */
static void handover_queue_socket_release_fails_over(struct kunit *test)
{
	struct sluice_agent a = {};

	register_with_queues(&a, PORT_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, 100, GRACE), 0);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_FALSE(test, sluice_agent_release_queue(&a, PORT_B));
	KUNIT_EXPECT_TRUE(test, sluice_agent_release_queue(&a, PORT_A + 10));
	KUNIT_EXPECT_FALSE(test, a.handover);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 101, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release_queue(&a, PORT_A + 11));
	/* Also while the old control socket is still open. */
	register_with_queues(&a, PORT_B, 200);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_B, 200, GRACE), 0);
	KUNIT_EXPECT_TRUE(test, sluice_agent_release_queue(&a, PORT_B + 11));
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 201, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
}

/* Only the agent hands over; a drain or an unregister takes it back. */
static void handover_only_by_the_agent(struct kunit *test)
{
	struct sluice_agent a = {};

	KUNIT_EXPECT_EQ(test, sluice_agent_handover(&a, PORT_A, 0, GRACE),
			-ENOENT);
	register_with_queues(&a, PORT_A, 100);
	KUNIT_EXPECT_EQ(test, sluice_agent_handover(&a, PORT_B, 100, GRACE),
			-EPERM);
	KUNIT_EXPECT_FALSE(test, a.handover);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, 100, GRACE), 0);
	KUNIT_ASSERT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	KUNIT_EXPECT_FALSE(test, a.handover);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 100, TIMEOUT),
			SLUICE_MODE_DRAINING);
	/* Drained, its exit is a plain goodbye again. */
	KUNIT_EXPECT_TRUE(test, sluice_agent_release(&a, PORT_A));

	register_with_queues(&a, PORT_A, 200);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, 200, GRACE), 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_unregister(&a, PORT_B), -EPERM);
	KUNIT_EXPECT_EQ(test, sluice_agent_unregister(&a, PORT_A), 0);
	KUNIT_EXPECT_EQ(test, sluice_agent_mode(&a, 200, TIMEOUT),
			SLUICE_MODE_NO_AGENT);
	KUNIT_EXPECT_EQ(test, sluice_agent_unregister(&a, PORT_A), -ENOENT);
}

/* A whole agent life, step by step, as the netlink handlers drive it. */
enum step_op { REG, BEAT, DRAIN, RELEASE, MODE };

struct step {
	enum step_op op;
	u32 portid;
	unsigned long now;
	int want_ret;		/* errno, or 1/0 for release */
	enum sluice_mode want_mode;
};

static const struct step life[] = {
	{ MODE,    0,      0,   0,       SLUICE_MODE_NO_AGENT },
	{ BEAT,    PORT_A, 10,  -ENOENT, SLUICE_MODE_NO_AGENT },
	{ REG,     PORT_A, 20,  0,       SLUICE_MODE_ENFORCING },
	{ BEAT,    PORT_A, 40,  0,       SLUICE_MODE_ENFORCING },
	{ MODE,    0,      65,  0,       SLUICE_MODE_ENFORCING },
	{ MODE,    0,      66,  0,       SLUICE_MODE_HUNG },
	{ BEAT,    PORT_B, 67,  -EPERM,  SLUICE_MODE_HUNG },
	{ BEAT,    PORT_A, 70,  0,       SLUICE_MODE_ENFORCING },
	{ DRAIN,   PORT_B, 71,  -EPERM,  SLUICE_MODE_ENFORCING },
	{ DRAIN,   PORT_A, 72,  0,       SLUICE_MODE_DRAINING },
	{ REG,     PORT_B, 80,  0,       SLUICE_MODE_ENFORCING },
	{ RELEASE, PORT_A, 81,  0,       SLUICE_MODE_ENFORCING },
	{ BEAT,    PORT_B, 90,  0,       SLUICE_MODE_ENFORCING },
	{ RELEASE, PORT_B, 91,  1,       SLUICE_MODE_NO_AGENT },
	{ BEAT,    PORT_B, 92,  -ENOENT, SLUICE_MODE_NO_AGENT },
	{ REG,     PORT_A, 100, 0,       SLUICE_MODE_ENFORCING },
	{ MODE,    0,      200, 0,       SLUICE_MODE_HUNG },
	{ RELEASE, PORT_A, 201, 1,       SLUICE_MODE_NO_AGENT },
};

static void watchdog_agent_life_follows_script(struct kunit *test)
{
	struct sluice_agent a = {};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(life); i++) {
		const struct step *s = &life[i];
		int ret = 0;

		switch (s->op) {
		case REG:
			sluice_agent_register(&a, s->portid, s->portid * 10,
					      s->now);
			break;
		case BEAT:
			ret = sluice_agent_heartbeat(&a, s->portid, s->now);
			break;
		case DRAIN:
			ret = sluice_agent_drain(&a, s->portid);
			break;
		case RELEASE:
			ret = sluice_agent_release(&a, s->portid);
			break;
		case MODE:
			break;
		}
		KUNIT_EXPECT_EQ_MSG(test, ret, s->want_ret, "step %zu", i);
		KUNIT_EXPECT_EQ_MSG(test,
				    sluice_agent_mode(&a, s->now, TIMEOUT),
				    s->want_mode, "step %zu", i);
	}
}

/*
 * Flow identities are recorded only while an agent wants them: one that
 * does not say (older than the attribute) gets them, one that says no
 * does not, and every way of losing the agent stops the recording.
 */
static void identity_wanted_follows_the_agent(struct kunit *test)
{
	struct sluice_agent a = {};

	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "no agent");
	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "registered, unsaid");
	sluice_agent_want_identity(&a, false);
	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "said no");
	sluice_agent_want_identity(&a, true);
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "said yes");
	/* Draining: the agent still answers what is queued. */
	KUNIT_ASSERT_EQ(test, sluice_agent_drain(&a, PORT_A), 0);
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "draining");
	/* Another socket's going changes nothing. */
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_B));
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "other port released");
	KUNIT_EXPECT_TRUE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "released");

	sluice_agent_register(&a, PORT_A, PID_A, 200);
	KUNIT_ASSERT_EQ(test, sluice_agent_unregister(&a, PORT_A), 0);
	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "unregistered");

	sluice_agent_register(&a, PORT_A, PID_A, 300);
	a.n_queue_portids = 1;
	a.queue_portids[0] = PORT_B;
	KUNIT_EXPECT_TRUE(test, sluice_agent_release_queue(&a, PORT_B));
	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "queue released");
}

/* A handed-over agent's policy judges until its successor registers. */
static void identity_wanted_through_a_handover(struct kunit *test)
{
	struct sluice_agent a = {};

	sluice_agent_register(&a, PORT_A, PID_A, 100);
	KUNIT_ASSERT_EQ(test, sluice_agent_handover(&a, PORT_A, 100, 50), 0);
	KUNIT_EXPECT_FALSE(test, sluice_agent_release(&a, PORT_A));
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "handed over");
	KUNIT_EXPECT_FALSE(test, sluice_agent_expire(&a, 150));
	KUNIT_EXPECT_TRUE_MSG(test, a.want_identity, "within the grace");
	KUNIT_EXPECT_TRUE(test, sluice_agent_expire(&a, 151));
	KUNIT_EXPECT_FALSE_MSG(test, a.want_identity, "grace over");
}

static struct kunit_case sluice_watchdog_cases[] = {
	KUNIT_CASE(watchdog_starts_without_agent),
	KUNIT_CASE(watchdog_register_makes_agent_enforcing),
	KUNIT_CASE(watchdog_heartbeat_without_agent_is_enoent),
	KUNIT_CASE(watchdog_heartbeat_from_other_port_is_eperm),
	KUNIT_CASE(watchdog_heartbeat_keeps_agent_enforcing),
	KUNIT_CASE_PARAM(watchdog_timeout_marks_agent_hung,
			 timeout_gen_params),
	KUNIT_CASE(watchdog_heartbeat_revives_hung_agent),
	KUNIT_CASE(watchdog_reregister_replaces_agent),
	KUNIT_CASE(watchdog_drain_stops_enforcing),
	KUNIT_CASE(watchdog_release_of_agent_fails_over),
	KUNIT_CASE(watchdog_release_of_a_queue_socket_fails_over),
	KUNIT_CASE(watchdog_release_of_draining_agent_fails_over),
	KUNIT_CASE(watchdog_release_of_other_port_changes_nothing),
	KUNIT_CASE(watchdog_release_without_agent_changes_nothing),
	KUNIT_CASE(watchdog_agent_life_follows_script),
	KUNIT_CASE(handover_keeps_enforcing_through_the_restart),
	KUNIT_CASE(handover_without_successor_ends_after_grace),
	KUNIT_CASE(handover_queue_socket_release_fails_over),
	KUNIT_CASE(handover_only_by_the_agent),
	KUNIT_CASE(identity_wanted_follows_the_agent),
	KUNIT_CASE(identity_wanted_through_a_handover),
	{}
};

static struct kunit_suite sluice_watchdog_suite = {
	.name = "sluice_watchdog",
	.test_cases = sluice_watchdog_cases,
};

/* ------------------------------------------------------------------ */
/* sluice_mark_*: the flow verdict in two bits of the conntrack mark   */
/* ------------------------------------------------------------------ */

struct mask_case {
	u32 mask;
	bool valid;
};

static const struct mask_case mask_cases[] = {
	{ SLUICE_MARK_MASK_DEFAULT, true },
	{ 0x00000003, true },
	{ 0x00000006, true },
	{ 0x00000030, true },
	{ 0x00018000, true },
	{ 0x60000000, true },
	{ 0x00000000, false },	/* no bits */
	{ 0x00000001, false },	/* one bit */
	{ 0x80000000, false },	/* one bit, the top one */
	{ 0x00000005, false },	/* two bits, not adjacent */
	{ 0x80000001, false },	/* two bits, adjacent only if it wrapped */
	{ 0x00000007, false },	/* three bits */
	{ 0x000000f0, false },	/* four bits */
	{ 0x00000033, false },	/* two pairs */
	{ 0xffffffff, false },	/* everything */
};

static void mask_case_desc(const struct mask_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "0x%08x_%s", c->mask,
		 c->valid ? "valid" : "invalid");
}

KUNIT_ARRAY_PARAM(mask, mask_cases, mask_case_desc);

static void mark_mask_valid_only_for_two_adjacent_bits(struct kunit *test)
{
	const struct mask_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, !!sluice_mark_mask_valid(c->mask), c->valid);
}

/* The masks the round trips run on: the default and two small ones. */
static const u32 valid_masks[] = { SLUICE_MARK_MASK_DEFAULT, 0x3, 0x30 };

static void valid_mask_desc(const u32 *mask, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "mask_0x%08x", *mask);
}

KUNIT_ARRAY_PARAM(valid_mask, valid_masks, valid_mask_desc);

/*
 * Known answers: the agent writes these bits through NFQA_CT, so the
 * values are ABI and must not move.
 */
struct encode_case {
	u32 mask;
	enum sluice_flow_verdict verdict;
	u32 mark;
};

static const struct encode_case encode_cases[] = {
	{ 0xc0000000, SLUICE_FLOW_UNSET,    0x00000000 },
	{ 0xc0000000, SLUICE_FLOW_ALLOW,    0x40000000 },
	{ 0xc0000000, SLUICE_FLOW_DENY,     0x80000000 },
	{ 0xc0000000, SLUICE_FLOW_UNVETTED, 0xc0000000 },
	{ 0x00000003, SLUICE_FLOW_UNSET,    0x00000000 },
	{ 0x00000003, SLUICE_FLOW_ALLOW,    0x00000001 },
	{ 0x00000003, SLUICE_FLOW_DENY,     0x00000002 },
	{ 0x00000003, SLUICE_FLOW_UNVETTED, 0x00000003 },
	{ 0x00000030, SLUICE_FLOW_UNSET,    0x00000000 },
	{ 0x00000030, SLUICE_FLOW_ALLOW,    0x00000010 },
	{ 0x00000030, SLUICE_FLOW_DENY,     0x00000020 },
	{ 0x00000030, SLUICE_FLOW_UNVETTED, 0x00000030 },
};

static void encode_case_desc(const struct encode_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "0x%08x_%s", c->mask,
		 verdict_names[c->verdict]);
}

KUNIT_ARRAY_PARAM(encode, encode_cases, encode_case_desc);

static void mark_encode_matches_known_answer(struct kunit *test)
{
	const struct encode_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, sluice_mark_encode(c->mask, c->verdict), c->mark);
	KUNIT_EXPECT_EQ(test, sluice_mark_decode(c->mask, c->mark), c->verdict);
}

static void mark_default_mask_is_valid(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, sluice_mark_mask_valid(SLUICE_MARK_MASK_DEFAULT));
	KUNIT_EXPECT_EQ(test, SLUICE_MARK_MASK_DEFAULT, 0xc0000000U);
}

static void mark_round_trips_every_verdict(struct kunit *test)
{
	const u32 mask = *(const u32 *)test->param_value;
	int v;

	KUNIT_ASSERT_TRUE(test, sluice_mark_mask_valid(mask));
	for (v = 0; v < SLUICE_NR_VERDICTS; v++) {
		u32 bits = sluice_mark_encode(mask, v);

		KUNIT_EXPECT_EQ_MSG(test, bits & ~mask, 0U, "%s",
				    verdict_names[v]);
		KUNIT_EXPECT_EQ_MSG(test, sluice_mark_decode(mask, bits), v,
				    "%s", verdict_names[v]);
	}
}

/* A fresh conntrack entry (mark 0) is an undecided flow. */
static void mark_zero_is_unset(struct kunit *test)
{
	const u32 mask = *(const u32 *)test->param_value;

	KUNIT_EXPECT_EQ(test, sluice_mark_decode(mask, 0), SLUICE_FLOW_UNSET);
	KUNIT_EXPECT_EQ(test, sluice_mark_encode(mask, SLUICE_FLOW_UNSET), 0U);
}

/*
 * The other 30 bits belong to the administrator: whatever they hold, the
 * verdict reads the same, and writing a verdict the way the agent does
 * (mark & ~mask | encode) keeps them.
 */
static void mark_other_bits_untouched(struct kunit *test)
{
	static const u32 others[] = { 0, 0xffffffff, 0x12345678, 0xa5a5a5a5 };
	const u32 mask = *(const u32 *)test->param_value;
	size_t i;
	int v, w;

	for (i = 0; i < ARRAY_SIZE(others); i++) {
		u32 other = others[i] & ~mask;

		for (v = 0; v < SLUICE_NR_VERDICTS; v++) {
			u32 mark = other | sluice_mark_encode(mask, v);

			KUNIT_EXPECT_EQ_MSG(test, sluice_mark_decode(mask, mark),
					    v, "other 0x%08x", other);
			for (w = 0; w < SLUICE_NR_VERDICTS; w++) {
				u32 next = (mark & ~mask) |
					   sluice_mark_encode(mask, w);

				KUNIT_EXPECT_EQ(test, next & ~mask, other);
				KUNIT_EXPECT_EQ(test,
						sluice_mark_decode(mask, next),
						w);
			}
		}
	}
}

static struct kunit_case sluice_mark_cases[] = {
	KUNIT_CASE_PARAM(mark_mask_valid_only_for_two_adjacent_bits,
			 mask_gen_params),
	KUNIT_CASE(mark_default_mask_is_valid),
	KUNIT_CASE_PARAM(mark_encode_matches_known_answer, encode_gen_params),
	KUNIT_CASE_PARAM(mark_round_trips_every_verdict,
			 valid_mask_gen_params),
	KUNIT_CASE_PARAM(mark_zero_is_unset, valid_mask_gen_params),
	KUNIT_CASE_PARAM(mark_other_bits_untouched, valid_mask_gen_params),
	{}
};

static struct kunit_suite sluice_mark_suite = {
	.name = "sluice_mark",
	.test_cases = sluice_mark_cases,
};

/* ------------------------------------------------------------------ */
/* identity.c: who a queued flow belongs to, by conntrack id           */
/* ------------------------------------------------------------------ */

/*
 * Times start just before jiffies wrap, so that every expiry below is also
 * checked across the wrap.
 */
#define T0		((unsigned long)-(SLUICE_IDENTITY_KEEP_S * HZ / 2))
#define KEEP		(SLUICE_IDENTITY_KEEP_S * HZ)

/*
 * A table of its own per test (a KUnit resource), emptied and freed when
 * the test ends, whether it passed or not.
 */
static int identity_table_init(struct kunit_resource *res, void *context)
{
	struct sluice_identity_table *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	sluice_identity_init(t);
	res->data = t;
	return 0;
}

static void identity_table_free(struct kunit_resource *res)
{
	sluice_identity_forget_all(res->data);
	kfree(res->data);
}

static struct sluice_identity_table *identity_table(struct kunit *test)
{
	struct sluice_identity_table *t;

	t = kunit_alloc_resource(test, identity_table_init,
				 identity_table_free, GFP_KERNEL, NULL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	return t;
}

/* An outbound identity whose every field is derived from @uid. */
static struct sluice_identity identity_of(u32 uid)
{
	struct sluice_identity who = {
		.have = BIT(SLUICE_ID_UID) | BIT(SLUICE_ID_GID) |
			BIT(SLUICE_ID_CGROUP) | BIT(SLUICE_ID_TGID) |
			BIT(SLUICE_ID_START) | BIT(SLUICE_ID_EXE_DEV_MAJOR) |
			BIT(SLUICE_ID_EXE_DEV_MINOR) | BIT(SLUICE_ID_EXE_INO) |
			BIT(SLUICE_ID_COMM),
		.uid = uid,
		.gid = uid + 1,
		.tgid = uid + 2,
		.cgroup = 0x100000000ULL + uid,
		.start = 0x200000000ULL + uid,
		.exe_ino = 0x300000000ULL + uid,
		.exe_major = 8,
		.exe_minor = uid & 0xff,
	};

	snprintf(who.comm, sizeof(who.comm), "client-%u", uid);
	return who;
}

/* The table keeps @ct_id, and what it keeps is identity_of(@uid). */
static void expect_kept(struct kunit *test, struct sluice_identity_table *t,
			u32 ct_id, u32 uid, unsigned long now)
{
	struct sluice_identity want = identity_of(uid), got;

	memset(&got, 0xa5, sizeof(got));
	KUNIT_ASSERT_EQ_MSG(test, sluice_identity_get(t, ct_id, &got, now), 0,
			    "conntrack id %u is not kept", ct_id);
	KUNIT_EXPECT_TRUE(test, sluice_identity_known(t, ct_id, now));
	KUNIT_EXPECT_EQ(test, got.have, want.have);
	KUNIT_EXPECT_EQ(test, got.uid, want.uid);
	KUNIT_EXPECT_EQ(test, got.gid, want.gid);
	KUNIT_EXPECT_EQ(test, got.tgid, want.tgid);
	KUNIT_EXPECT_EQ(test, got.cgroup, want.cgroup);
	KUNIT_EXPECT_EQ(test, got.start, want.start);
	KUNIT_EXPECT_EQ(test, got.exe_ino, want.exe_ino);
	KUNIT_EXPECT_EQ(test, got.exe_major, want.exe_major);
	KUNIT_EXPECT_EQ(test, got.exe_minor, want.exe_minor);
	KUNIT_EXPECT_STREQ(test, got.comm, want.comm);
}

static void expect_forgotten(struct kunit *test,
			     struct sluice_identity_table *t, u32 ct_id,
			     unsigned long now)
{
	struct sluice_identity got;

	KUNIT_EXPECT_EQ_MSG(test, sluice_identity_get(t, ct_id, &got, now),
			    -ENOENT, "conntrack id %u is still kept", ct_id);
	KUNIT_EXPECT_FALSE(test, sluice_identity_known(t, ct_id, now));
}

static void put(struct kunit *test, struct sluice_identity_table *t,
		u32 ct_id, u32 uid, unsigned long now, int want)
{
	struct sluice_identity who = identity_of(uid);

	KUNIT_ASSERT_EQ(test, sluice_identity_put(t, ct_id, &who, now), want);
}

static void identity_empty_table_knows_nothing(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);

	expect_forgotten(test, t, 0, T0);
	expect_forgotten(test, t, 1, T0);
	expect_forgotten(test, t, U32_MAX, T0);
	KUNIT_EXPECT_EQ(test, t->count, 0U);
}

static void identity_recorded_flow_is_found_with_every_field(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);

	put(test, t, 0xdeadbeef, 65534, T0, 0);
	put(test, t, 7, 1000, T0, 0);
	expect_kept(test, t, 0xdeadbeef, 65534, T0 + 1);
	expect_kept(test, t, 7, 1000, T0 + 1);
	expect_forgotten(test, t, 0xdeadbeee, T0 + 1);
	KUNIT_EXPECT_EQ(test, t->count, 2U);
}

/* Unknown fields stay unknown: only what @have names is there. */
static void identity_inbound_flow_keeps_only_what_it_had(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);
	struct sluice_identity who = {
		.have = BIT(SLUICE_ID_UID) | BIT(SLUICE_ID_INBOUND),
		.uid = 65534,
	}, got;

	KUNIT_ASSERT_EQ(test, sluice_identity_put(t, 42, &who, T0), 0);
	KUNIT_ASSERT_EQ(test, sluice_identity_get(t, 42, &got, T0), 0);
	KUNIT_EXPECT_EQ(test, got.have,
			(u32)(BIT(SLUICE_ID_UID) | BIT(SLUICE_ID_INBOUND)));
	KUNIT_EXPECT_EQ(test, got.uid, 65534U);
}

/* A new flow with an id that was seen before is a new record. */
static void identity_new_record_replaces_old_one(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);

	put(test, t, 5, 1000, T0, 0);
	put(test, t, 5, 1001, T0 + 10, 0);
	expect_kept(test, t, 5, 1001, T0 + 11);
	KUNIT_EXPECT_EQ(test, t->count, 1U);
	/* and it counts from its own recording */
	expect_kept(test, t, 5, 1001, T0 + KEEP + 9);
	expect_forgotten(test, t, 5, T0 + KEEP + 10);
}

static void identity_expires_after_keep_seconds(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);

	put(test, t, 9, 1000, T0, 0);
	expect_kept(test, t, 9, 1000, T0 + KEEP - 1);
	expect_forgotten(test, t, 9, T0 + KEEP);
	expect_forgotten(test, t, 9, T0 + 2 * KEEP);
}

/*
 * A flood of new flows cannot grow the table: it stays at the bound, and
 * what it keeps is the newest flows, each still with its own identity
 * (4096 ids in 1024 buckets share buckets).
 */
static void identity_table_stays_within_bound(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);
	u32 n = SLUICE_IDENTITY_MAX + 100, i;
	int evicted = 0;

	for (i = 1; i <= n; i++) {
		struct sluice_identity who = identity_of(i);
		int ret = sluice_identity_put(t, i * 2654435761U, &who, T0);

		KUNIT_ASSERT_GE(test, ret, 0);
		evicted += ret;
		KUNIT_ASSERT_LE(test, t->count, (unsigned int)SLUICE_IDENTITY_MAX);
	}
	KUNIT_EXPECT_EQ(test, t->count, (unsigned int)SLUICE_IDENTITY_MAX);
	KUNIT_EXPECT_EQ(test, evicted, 100);
	for (i = 1; i <= 100; i++)
		expect_forgotten(test, t, i * 2654435761U, T0);
	for (i = 101; i <= n; i++)
		expect_kept(test, t, i * 2654435761U, i, T0);
}

/* When full, the oldest record goes first; a replaced one is young again. */
static void identity_full_table_forgets_oldest_first(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);
	u32 i;

	for (i = 1; i <= SLUICE_IDENTITY_MAX; i++)
		put(test, t, i, i, T0 + i, 0);
	put(test, t, 1, 77, T0 + SLUICE_IDENTITY_MAX + 1, 0);	/* replaced */
	put(test, t, 100000, 100000, T0 + SLUICE_IDENTITY_MAX + 2, 1);
	expect_forgotten(test, t, 2, T0 + SLUICE_IDENTITY_MAX + 3);
	expect_kept(test, t, 1, 77, T0 + SLUICE_IDENTITY_MAX + 3);
	expect_kept(test, t, 3, 3, T0 + SLUICE_IDENTITY_MAX + 3);
	expect_kept(test, t, 100000, 100000, T0 + SLUICE_IDENTITY_MAX + 3);
	put(test, t, 100001, 100001, T0 + SLUICE_IDENTITY_MAX + 4, 1);
	expect_forgotten(test, t, 3, T0 + SLUICE_IDENTITY_MAX + 5);
	expect_kept(test, t, 4, 4, T0 + SLUICE_IDENTITY_MAX + 5);
	KUNIT_EXPECT_EQ(test, t->count, (unsigned int)SLUICE_IDENTITY_MAX);
}

/* Expired records make room before any live one is forgotten early. */
static void identity_expired_records_go_before_live_ones(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);
	u32 i;

	for (i = 1; i <= SLUICE_IDENTITY_MAX / 2; i++)
		put(test, t, i, i, T0, 0);
	for (; i <= SLUICE_IDENTITY_MAX; i++)
		put(test, t, i, i, T0 + KEEP / 2, 0);
	/* full; the first half has expired by now */
	put(test, t, 100000, 100000, T0 + KEEP, 0);
	KUNIT_EXPECT_EQ(test, t->count, SLUICE_IDENTITY_MAX / 2U + 1);
	expect_kept(test, t, SLUICE_IDENTITY_MAX / 2 + 1,
		    SLUICE_IDENTITY_MAX / 2 + 1, T0 + KEEP);
	expect_kept(test, t, SLUICE_IDENTITY_MAX, SLUICE_IDENTITY_MAX,
		    T0 + KEEP);
	expect_forgotten(test, t, 1, T0 + KEEP);
}

/* Each namespace has its own table: nothing is seen across them. */
static void identity_namespaces_keep_their_own(struct kunit *test)
{
	struct sluice_identity_table *a = identity_table(test);
	struct sluice_identity_table *b = identity_table(test);

	put(test, a, 11, 1000, T0, 0);
	expect_forgotten(test, b, 11, T0);
	put(test, b, 11, 2000, T0, 0);
	expect_kept(test, a, 11, 1000, T0);
	expect_kept(test, b, 11, 2000, T0);
	sluice_identity_forget_all(a);
	expect_forgotten(test, a, 11, T0);
	expect_kept(test, b, 11, 2000, T0);
}

static void identity_forget_all_empties_the_table(struct kunit *test)
{
	struct sluice_identity_table *t = identity_table(test);
	u32 i;

	for (i = 0; i < 1000; i++)
		put(test, t, i, i, T0, 0);
	sluice_identity_forget_all(t);
	KUNIT_EXPECT_EQ(test, t->count, 0U);
	for (i = 0; i < 1000; i += 111)
		expect_forgotten(test, t, i, T0);
	put(test, t, 3, 3, T0, 0);
	expect_kept(test, t, 3, 3, T0);
}

static struct kunit_case sluice_identity_cases[] = {
	KUNIT_CASE(identity_empty_table_knows_nothing),
	KUNIT_CASE(identity_recorded_flow_is_found_with_every_field),
	KUNIT_CASE(identity_inbound_flow_keeps_only_what_it_had),
	KUNIT_CASE(identity_new_record_replaces_old_one),
	KUNIT_CASE(identity_expires_after_keep_seconds),
	KUNIT_CASE(identity_table_stays_within_bound),
	KUNIT_CASE(identity_full_table_forgets_oldest_first),
	KUNIT_CASE(identity_expired_records_go_before_live_ones),
	KUNIT_CASE(identity_namespaces_keep_their_own),
	KUNIT_CASE(identity_forget_all_empties_the_table),
	{}
};

static struct kunit_suite sluice_identity_suite = {
	.name = "sluice_identity",
	.test_cases = sluice_identity_cases,
};

kunit_test_suites(&sluice_decide_suite, &sluice_watchdog_suite,
		  &sluice_mark_suite, &sluice_identity_suite);
