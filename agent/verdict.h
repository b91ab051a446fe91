/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the agent answers for one queued packet: the policy's decision,
 * with the flow's name when one can be known. Names come from where they
 * cross the wire, whatever program or resolver is involved:
 *
 *  - DNS (UDP or TCP port 53, to any server): a query is matched against
 *    the domain rules before it leaves; a denied one is dropped and the
 *    client gets a sinkhole answer at once (NXDOMAIN, or 0.0.0.0 / ::
 *    when settings.sinkhole = 'null'); over TCP it gets a reset. Answers
 *    that are let through teach the name cache which names each address
 *    was resolved from (the question and the CNAME chain), when they
 *    answer a query seen leaving (nametrust.h); an answer whose
 *    chain reaches a denied name is replaced by the sinkhole too. DNS
 *    flows are never decided in conntrack, so that every query and answer
 *    of them comes here.
 *  - A connection to an address the cache knows is matched with its names.
 *  - Otherwise, for TCP to any port while the policy has domain rules,
 *    the flow stays unvetted from its SYN until its first payload, and
 *    the TLS ClientHello's SNI or the HTTP Host header names it, however
 *    many segments it takes (pending.h); what its payload-less packets
 *    cost is nothing: they pass in the kernel.
 *  - UDP to any port, in the same case, is named by the SNI of its QUIC
 *    Initials, however many datagrams the ClientHello takes
 *    (quic_join.h); the flow stays unvetted until it is whole.
 *  - DNS that hides names from us can be refused, so that clients fall
 *    back to DNS we see: DNS over TLS or QUIC (port 853) with
 *    settings.block_dot, well-known DNS-over-HTTPS servers (by name) with
 *    settings.block_doh.
 *
 * Who the flow belongs to (rules.uid, exe, unit) is asked of the module
 * only while the policy in force has such a rule: sluice_verdict_thread_
 * decide() fetches the module's record of the flow by its conntrack id on
 * the thread's own control handle, resolves it (identity.h), and keeps
 * the result for flows judged again at a later packet (flowid.h). Without
 * the module's record (no module, an older one, a forwarded flow, a
 * record forgotten) uid falls back to NFQA_UID, and exe and unit are
 * unknown.
 *
 * Runs in the verdict threads: nothing here allocates; the name cache,
 * the queries awaiting answers and the trusted resolvers are shared under
 * one lock, each table of cut hellos (TLS, QUIC) under its own.
 */
#ifndef SLUICE_VERDICT_H
#define SLUICE_VERDICT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent/decision_log.h"
#include "agent/flowid.h"
#include "agent/identity.h"
#include "agent/inject.h"
#include "agent/namecache.h"
#include "agent/pending.h"
#include "agent/quic_join.h"
#include "agent/nametrust.h"
#include "agent/policy.h"
#include "agent/queue.h"

struct sluice_verdict_ctx {
	struct sluice_policy_loader *loader;
	struct sluice_log *log;		/* NULL: no decision log */
	/*
	 * Shared by the verdict threads: an answer read by one names the
	 * flows another one sees. names_lock guards names, queries and
	 * trusted, held for a few bounded probe sequences (the other lock on
	 * the verdict path is pending's).
	 */
	pthread_mutex_t names_lock;
	struct sluice_namecache names;
	struct sluice_queries queries;	/* queries let out, awaiting answers */
	struct sluice_trusted trusted;	/* settings.trusted_resolvers */
	struct sluice_inject inject;
	struct sluice_pending pending;	/* cut TLS hellos, under its own lock */
	struct sluice_quic_join quic;	/* cut QUIC hellos, under its own lock */
	atomic_int sinkhole_null;	/* settings.sinkhole = 'null' */
	atomic_int block_dot;		/* settings.block_dot = 'yes' */
	atomic_int block_doh;		/* settings.block_doh = 'yes' */
	atomic_uint_fast64_t answered;	/* every queued packet */
	atomic_uint_fast64_t allowed, denied, sinkholed, named;
};

/* 0, or -1 with one sentence in @err. */
int sluice_verdict_init(struct sluice_verdict_ctx *v,
			struct sluice_policy_loader *loader,
			struct sluice_log *log, char *err, size_t errlen);
void sluice_verdict_free(struct sluice_verdict_ctx *v);

/* Put settings.trusted_resolvers in force (any thread). */
void sluice_verdict_set_trusted(struct sluice_verdict_ctx *v,
				const struct sluice_trusted *tr);

/* Is @name a well-known DNS-over-HTTPS server? */
int sluice_is_doh_server(const char *name);

/*
 * The sluice_decide_fn of the queue engine without the module's identity
 * (uid from NFQA_UID only); @ctx is the verdict context.
 */
int sluice_verdict_decide(void *ctx, struct sluice_packet *p);

struct sluice_ctl;
struct sluice_verdict_thread;

/* How a thread asks the module about a flow (sluice_ctl_get_flow()'s shape). */
typedef int (*sluice_get_flow_fn)(struct sluice_verdict_thread *t,
				  uint32_t ct_id,
				  struct sluice_kernel_identity *out);

/* What one verdict thread owns. */
struct sluice_verdict_thread {
	struct sluice_verdict_ctx *v;
	struct sluice_ctl *ctl;		/* opened at the first need; NULL */
	uint64_t ctl_retry_ms;		/* no new open before this */
	sluice_get_flow_fn get_flow;	/* the module, or a test's */
	struct sluice_identity *resolver;
	struct sluice_flowids waiting;	/* flows judged again later */
	struct sluice_flow_identity id;	/* the flow being judged */
	uint64_t asked, unknown;	/* module asked; it knew nothing */
};

/* 0, or -1 with one sentence in @err. */
int sluice_verdict_thread_init(struct sluice_verdict_thread *t,
			       struct sluice_verdict_ctx *v,
			       char *err, size_t errlen);
void sluice_verdict_thread_free(struct sluice_verdict_thread *t);

/*
 * The sluice_decide_fn of a verdict thread; @thread is its
 * struct sluice_verdict_thread. As sluice_verdict_decide(), with the
 * flow's uid, exe and unit from the module when the policy needs them.
 */
int sluice_verdict_thread_decide(void *thread, struct sluice_packet *p);

#endif
