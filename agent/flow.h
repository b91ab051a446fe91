/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a new flow is and what the policy decides for it: the vocabulary
 * shared by the packet parser, the verdict engine, the decision log and the
 * compiled policy, kept apart from policy.h so that none of them needs
 * SQLite to know what a flow is.
 */
#ifndef SLUICE_FLOW_H
#define SLUICE_FLOW_H

#include <stddef.h>
#include <stdint.h>

/* struct sluice_flow.direction; 0 is never a flow's direction. */
#define SLUICE_DIR_IN		1
#define SLUICE_DIR_OUT		2
#define SLUICE_DIR_FORWARD	3

struct sluice_flow {			/* one new flow, as the queue engine sees it */
	int family;			/* AF_INET or AF_INET6 */
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	uint8_t direction;		/* SLUICE_DIR_IN, SLUICE_DIR_OUT, SLUICE_DIR_FORWARD */
	uint8_t src[16], dst[16];	/* network byte order; v4 in the first 4 bytes */
	uint16_t sport, dport;		/* host byte order; 0 when the proto has none */
	int64_t uid;			/* -1 unknown */
	const char *exe;		/* NULL unknown */
	const char *unit;		/* systemd unit, NULL unknown */
	const char *domain;		/* NULL unknown */
};

/* struct sluice_decision.unknown: the fields a skipped rule wanted. */
#define SLUICE_UNKNOWN_UID	(1u << 0)
#define SLUICE_UNKNOWN_EXE	(1u << 1)
#define SLUICE_UNKNOWN_UNIT	(1u << 2)
#define SLUICE_UNKNOWN_DOMAIN	(1u << 3)
#define SLUICE_UNKNOWN_IDENTITY	(SLUICE_UNKNOWN_UID | SLUICE_UNKNOWN_EXE | \
				 SLUICE_UNKNOWN_UNIT)

/*
 * Which fields of a flow decided its verdict (a megaflow's wildcard mask):
 * every flow that agrees with it on the flow's family, direction and
 * protocol (always part of the mask), on the first src_len bits of src,
 * the first dst_len bits of dst and on the fields named in fields (an
 * unknown uid, exe, unit or domain agrees only with an unknown one) gets
 * the same rule and verdict.
 */
#define SLUICE_MASK_DPORT	(1u << 0)
#define SLUICE_MASK_UID		(1u << 1)
#define SLUICE_MASK_EXE		(1u << 2)
#define SLUICE_MASK_UNIT	(1u << 3)
#define SLUICE_MASK_DOMAIN	(1u << 4)

struct sluice_flow_mask {
	uint8_t src_len, dst_len;	/* leading bits of the addresses */
	uint8_t fields;			/* SLUICE_MASK_* */
};

/* "proto dir dst/24 dport" and so on; the length written, as snprintf. */
int sluice_flow_mask_format(const struct sluice_flow_mask *m, char *out, size_t outlen);

struct sluice_decision {
	int allow;			/* 1 allow, 0 deny */
	int64_t rule_id;		/* rules.id that decided; 0 = default_action;
					 * negative: the list lists.id = -rule_id */
	int partial;			/* a rule before it was skipped only because
					 * the flow's uid, exe, unit or domain is
					 * unknown (unknown != 0) */
	unsigned int unknown;		/* SLUICE_UNKNOWN_*: which of them; a rule
					 * whose other columns failed counts not */
	struct sluice_flow_mask mask;	/* what decided it */
};

struct sluice_policy;			/* compiled, immutable, shareable between threads */

/* Decide one flow: no allocation, no locks, no SQL. p NULL: allow (fail open). */
struct sluice_decision sluice_policy_match(const struct sluice_policy *p,
					   const struct sluice_flow *f);

/*
 * Whether d holds whatever the columns the flow lacked (d->unknown): it
 * was not partial, or no entry of the other action wants any of them (a
 * deny by address behind a deny by name is a deny for every name).
 */
int sluice_decision_settled(const struct sluice_policy *p,
			    const struct sluice_decision *d);

/*
 * Does an enabled rule of p need who the flow belongs to (uid, exe or
 * unit)? Only then does the agent ask the kernel; 0 for NULL.
 */
int sluice_policy_needs_identity(const struct sluice_policy *p);

#endif
