/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the name cache may believe. An answer on the wire teaches which
 * names an address was resolved from only when
 *
 *  - it answers a query the agent saw leave: same transport tuple (client
 *    address and port, server address and port, protocol), same DNS id,
 *    same question (name, type, class), within SLUICE_PENDING_TTL_MS; the
 *    query is consumed, so a second answer to it teaches nothing, and
 *  - when settings.trusted_resolvers lists servers, it comes from one of
 *    them.
 *
 * Without the first, anyone who can send a packet from port 53 (or run a
 * server that answers questions nobody asked) writes the cache; without
 * the second, a user who runs their own resolver still can, by asking it.
 *
 * Both tables are fixed in size, allocated once, and used under the
 * verdict context's names_lock: no allocation on the verdict path.
 */
#ifndef SLUICE_NAMETRUST_H
#define SLUICE_NAMETRUST_H

#include <stddef.h>
#include <stdint.h>

#include "agent/dns.h"

#define SLUICE_PENDING_TTL_MS	10000	/* a query waits this long for its answer */
#define SLUICE_TRUSTED_MAX	16	/* servers in settings.trusted_resolvers */

/* A DNS exchange as the query left: client to server. */
struct sluice_dns_tuple {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t proto;			/* IPPROTO_UDP or IPPROTO_TCP */
	uint16_t client_port, server_port;
	uint8_t client[16], server[16];	/* v4 in the first 4 bytes */
};

struct sluice_queries_query {
	uint64_t expires_ms;		/* 0: free */
	struct sluice_dns_tuple t;
	uint16_t id, qtype, qclass;
	char qname[SLUICE_DNS_NAME_BUF];
};

struct sluice_queries {
	struct sluice_queries_query *slots;
	size_t mask;
	uint64_t added, matched, unmatched, overwritten;
};

/* @slots is rounded up to a power of two. 0 or -1 (out of memory). */
int sluice_queries_init(struct sluice_queries *p, size_t slots);
void sluice_queries_free(struct sluice_queries *p);

/*
 * Remember a query that was let out. When its probe window is full, the
 * query closest to expiry gives way (counted in overwritten).
 */
void sluice_queries_add(struct sluice_queries *p,
			const struct sluice_dns_tuple *t, uint16_t id,
			uint16_t qtype, uint16_t qclass, const char *qname,
			uint64_t now_ms);

/*
 * Does an answer (id, question) on tuple @t answer a query still
 * pending? 1 and the query is consumed, or 0.
 */
int sluice_queries_take(struct sluice_queries *p,
			const struct sluice_dns_tuple *t, uint16_t id,
			uint16_t qtype, uint16_t qclass, const char *qname,
			uint64_t now_ms);

/* settings.trusted_resolvers, parsed. */
struct sluice_trusted {
	int set;			/* 0: the setting is absent or empty */
	unsigned int n;
	struct {
		uint8_t family;
		uint8_t addr[16];
	} server[SLUICE_TRUSTED_MAX];
};

/*
 * Parse a list of IPv4 and IPv6 addresses split by commas and/or spaces.
 * Unparsable entries, and entries past SLUICE_TRUSTED_MAX, are skipped;
 * the first of them is described in @err (one sentence) and -1 returned;
 * the addresses that parsed are kept either way, so a typo trusts fewer
 * servers, never more. NULL or blank: not set, 0.
 */
int sluice_trusted_parse(const char *text, struct sluice_trusted *tr,
			 char *err, size_t errlen);

/* May an answer from @server (of @family) teach? Yes when the list is not set. */
int sluice_trusted_allows(const struct sluice_trusted *tr, int family,
			  const uint8_t *server);

#endif
