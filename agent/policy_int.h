/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the compiled policy: what the compiler (policy_compile.c) hands the
 * matcher (policy_match.c). Not for the rest of the agent: policy.h is the
 * contract.
 */
#ifndef SLUICE_POLICY_INT_H
#define SLUICE_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "agent/cidr.h"
#include "agent/policy.h"

#define NFAMILIES	2	/* AF_INET, AF_INET6 */
#define NDIRS		3	/* SLUICE_DIR_IN .. SLUICE_DIR_FORWARD */
#define NPROTOS		5	/* tcp, udp, icmp, icmpv6, anything else */
#define NBUCKETS	(NFAMILIES * NDIRS * NPROTOS)
#define PROTO_OTHER	(NPROTOS - 1)

/* Columns of struct rule that constrain the match (rule.has). */
#define HAS_SRC		(1u << 0)
#define HAS_DST		(1u << 1)
#define HAS_PORT	(1u << 2)
#define HAS_UID		(1u << 3)
#define HAS_EXE		(1u << 4)
#define HAS_DOMAIN	(1u << 5)
#define HAS_UNIT	(1u << 6)
#define HAS_IDENTITY	(HAS_UID | HAS_EXE | HAS_UNIT)

/*
 * One entry of rules[]: 64 bytes. What few rules have (a program, a unit)
 * lives in idents[], so that a million address rules do not carry it.
 */
struct rule {
	int64_t id;
	struct sluice_cidr src, dst;
	uint16_t port_lo, port_hi;	/* inclusive */
	uint32_t uid;
	uint32_t ident;			/* its idents[] entry, HAS_EXE or HAS_UNIT */
	uint8_t has;			/* HAS_* */
	uint8_t allow;
	uint8_t direction;		/* SLUICE_DIR_*, 0 = any */
	int8_t proto;			/* protocol class 0..3, -1 = any */
	uint8_t family;			/* AF_INET or AF_INET6 from src/dst, 0 = any */
};

_Static_assert(sizeof(struct rule) == 64, "a rule in one cache line");

/* A rule's program and unit (the domain, HAS_DOMAIN, is in policy.names). */
struct rule_ident {
	char *exe;			/* or NULL */
	char *unit;			/* or NULL */
	uint32_t exe_dir;		/* exe is a directory and a star: the
					 * length of the directory and its slash */
};

struct sluice_policy {
	size_t nrules;			/* entries of rules[]: table rows and lists */
	size_t ntable_rules, nlists;
	size_t nidentity;		/* rules with a uid, exe or unit */
	size_t nname_allow;		/* entries that allow by domain */
	struct rule *rules;		/* by priority, rules before lists, then id;
					 * a list's id is -lists.id */
	struct rule_ident *idents;	/* rules' programs and units */
	size_t nidents;
	struct sluice_domains *names;	/* payload: index into rules[] */
	struct sluice_match_index *index; /* policy_match.c */
	/* settings: index of the value in setting_defs[].values, 0 the default */
	uint8_t default_deny, sinkhole_null, block_dot, block_doh;
	char *trusted_resolvers;	/* settings.trusted_resolvers, or NULL */
};

/* The program and unit of r (HAS_EXE or HAS_UNIT). */
static inline const struct rule_ident *sluice_rule_ident(const struct sluice_policy *p,
							 const struct rule *r)
{
	return &p->idents[r->ident];
}

/* Protocol class of a flow's protocol number: 0..3 as proto_names, else PROTO_OTHER. */
static inline int sluice_proto_class(uint8_t proto)
{
	static const uint8_t numbers[NPROTOS - 1] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6
	};
	int i;

	for (i = 0; i < NPROTOS - 1; i++)
		if (numbers[i] == proto)
			return i;
	return PROTO_OTHER;
}

static inline int sluice_family_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

/* Zeroed memory for a table that lookups touch at random (policy_match.c). */
void *sluice_policy_table_alloc(size_t n, size_t size);

/* Fill p's match index from p->rules and p->names (policy_match.c). */
int sluice_policy_index_build(struct sluice_policy *p);
void sluice_policy_index_free(struct sluice_policy *p);
/* Heap bytes of p's match index (beside rules[] and the domain set). */
size_t sluice_policy_index_bytes(const struct sluice_policy *p);

/* The database's file name for messages (policy_db.c). */
const char *sluice_policy_db_path(sqlite3 *db);


#endif
