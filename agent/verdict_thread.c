// SPDX-License-Identifier: GPL-2.0
/*
 * A verdict thread's own part of the verdict: who the flow belongs to,
 * asked of the module only while the policy needs it; see verdict.h.
 *
 * The control handle is opened at the first flow that needs it (a policy
 * without identity rules never opens one). A module that is absent, gone
 * or too old to answer GET_FLOW leaves the handle closed for
 * CTL_RETRY_MS, so that a policy with identity rules on a host without the
 * module costs one failed open a second, not one per flow.
 */
#include "agent/verdict.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/control.h"

#define CTL_RETRY_MS	1000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The module, on the thread's own handle (one request at a time). */
static int get_flow_from_module(struct sluice_verdict_thread *t, uint32_t ct_id,
				struct sluice_kernel_identity *out)
{
	char err[256];
	uint64_t now;
	int rc;

	if (!t->ctl) {
		now = now_ms();
		if (now < t->ctl_retry_ms)
			return -EAGAIN;
		t->ctl = sluice_ctl_open(err, sizeof(err));
		if (!t->ctl) {
			t->ctl_retry_ms = now + CTL_RETRY_MS;
			return -ENOENT;
		}
	}
	rc = sluice_ctl_get_flow(t->ctl, ct_id, out);
	if (rc < 0) {
		/* Gone, or a module without GET_FLOW: try again later. */
		sluice_ctl_close(t->ctl);
		t->ctl = NULL;
		t->ctl_retry_ms = now_ms() + CTL_RETRY_MS;
	}
	return rc;
}

int sluice_verdict_thread_init(struct sluice_verdict_thread *t,
			       struct sluice_verdict_ctx *v,
			       char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->v = v;
	t->get_flow = get_flow_from_module;
	t->resolver = sluice_identity_new(NULL, NULL);
	if (!t->resolver || sluice_flowids_init(&t->waiting) < 0) {
		snprintf(err, errlen, "out of memory for the flow identity caches");
		sluice_identity_free(t->resolver);
		t->resolver = NULL;
		return -1;
	}
	return 0;
}

void sluice_verdict_thread_free(struct sluice_verdict_thread *t)
{
	if (t->ctl)
		sluice_ctl_close(t->ctl);
	t->ctl = NULL;
	sluice_identity_free(t->resolver);
	t->resolver = NULL;
	sluice_flowids_free(&t->waiting);
}

/*
 * The module's record of the flow, resolved into t->id. uid: the
 * module's, else what NFQA_UID said (@nfqa_uid, -1 none).
 */
static void fetch_identity(struct sluice_verdict_thread *t,
			   const struct sluice_packet *p, int64_t nfqa_uid)
{
	struct sluice_kernel_identity kid = { 0 };

	t->id.uid = nfqa_uid;
	t->id.exe[0] = '\0';
	t->id.unit[0] = '\0';
	t->asked++;
	if (t->get_flow(t, p->ct_id, &kid) < 0 || !kid.have) {
		t->unknown++;
		return;
	}
	if (kid.have & SLUICE_KID_UID)
		t->id.uid = kid.uid;
	if (kid.have & SLUICE_KID_TASK)
		sluice_identity_exe(t->resolver, &kid, t->id.exe, sizeof(t->id.exe));
	if (kid.have & SLUICE_KID_CGROUP)
		sluice_identity_unit(t->resolver, kid.cgroup_id, now_ms(),
				     t->id.unit, sizeof(t->id.unit));
}

int sluice_verdict_thread_decide(void *thread, struct sluice_packet *p)
{
	struct sluice_verdict_thread *t = thread;
	const struct sluice_policy *pol = sluice_policy_loader_current(t->v->loader);
	struct sluice_flow *f = &p->flow;
	int rc;

	/* No identity rule: nothing asked, nothing kept (issue 11). */
	if (!sluice_policy_needs_identity(pol) || !p->has_ct_id)
		return sluice_verdict_decide(t->v, p);
	/* A flow judged again keeps what its first packet was told. */
	if (sluice_flowids_get(&t->waiting, p->ct_id, f, &t->id) < 0)
		fetch_identity(t, p, f->uid);
	f->uid = t->id.uid;
	f->exe = t->id.exe[0] ? t->id.exe : NULL;
	f->unit = t->id.unit[0] ? t->id.unit : NULL;

	rc = sluice_verdict_decide(t->v, p);

	/* Waiting for its name: the flow comes back with a later packet. */
	if (rc == SLUICE_Q_PENDING ||
	    (rc == SLUICE_Q_PASS && f->proto == IPPROTO_UDP && f->dport != 53))
		sluice_flowids_put(&t->waiting, p->ct_id, f, &t->id, now_ms());
	else if (rc == SLUICE_Q_ALLOW || rc == SLUICE_Q_DENY)
		sluice_flowids_drop(&t->waiting, p->ct_id, f);
	f->exe = NULL;
	f->unit = NULL;
	return rc;
}
