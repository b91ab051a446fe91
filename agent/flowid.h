/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who a flow belongs to, as it was when its first packet was judged, kept
 * for the flows that are judged again later: a TCP flow waiting for its
 * first payload to be named (pending.h), a QUIC flow whose Initial goes on
 * in its next datagram. Their later packet must be judged with the
 * identity of the first one, not asked again: the module keeps its record
 * for SLUICE_IDENTITY_KEEP_S at most (less under a flood of new flows),
 * a client may wait longer than that before it speaks, and by then the
 * sender may have exited or exec'd another program, so that its pid
 * names nothing or something else. So the names are resolved once, at the
 * first packet, and kept here until the flow is decided.
 *
 * Keyed by the conntrack id and the flow's tuple. Bounded: when every slot
 * is taken, the oldest entry goes (a flow that waited behind
 * SLUICE_FLOWID_SLOTS newer ones is judged with its identity unknown, as
 * when the module forgets it under a flood; a rule whose field is unknown
 * does not match). Memory is allocated once, at init.
 *
 * Threads: one table per verdict thread, no lock. Every packet of a flow
 * goes to the same queue, hence the same thread.
 */
#ifndef SLUICE_FLOWID_H
#define SLUICE_FLOWID_H

#include <limits.h>
#include <stdint.h>

#include "agent/identity.h"
#include "agent/flow.h"

#define SLUICE_FLOWID_SLOTS	1024

/* The resolved identity of one flow. */
struct sluice_flow_identity {
	int64_t uid;			/* -1 unknown */
	char exe[PATH_MAX];		/* "" unknown */
	char unit[SLUICE_UNIT_MAX];	/* "" unknown */
};

struct sluice_flowid_key {
	uint64_t born_ms;		/* 0: free */
	uint32_t ct_id;
	uint8_t family, proto;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct sluice_flowids {
	struct sluice_flowid_key *key;		/* SLUICE_FLOWID_SLOTS */
	struct sluice_flow_identity *id;	/* one per key */
};

/* 0, or -1 when the memory cannot be had. */
int sluice_flowids_init(struct sluice_flowids *t);
void sluice_flowids_free(struct sluice_flowids *t);

/* What was kept for flow @f of conntrack @ct_id into @out: 0, or -1. */
int sluice_flowids_get(const struct sluice_flowids *t, uint32_t ct_id,
		       const struct sluice_flow *f, struct sluice_flow_identity *out);

/* Keep @id for the flow (replacing what it had, else the oldest entry). */
void sluice_flowids_put(struct sluice_flowids *t, uint32_t ct_id,
			const struct sluice_flow *f,
			const struct sluice_flow_identity *id, uint64_t now_ms);

/* The flow is decided: forget it. */
void sluice_flowids_drop(struct sluice_flowids *t, uint32_t ct_id,
			 const struct sluice_flow *f);

#endif
