/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which names an address was resolved from, learnt from DNS answers seen
 * on the wire (whatever resolver gave them), so that a later connection
 * to the address can be matched against domain rules.
 *
 * A fixed table allocated once: no allocation when learning or looking
 * up. Entries expire with the record's TTL (at least a minimum, since
 * clients keep using addresses a little past it).
 *
 * Every entry belongs to the source that taught it (a resolver and the
 * client that asked it, hashed into SLUICE_NAMECACHE_SOURCES buckets), and
 * eviction is fair between sources, so that one source flooding answers
 * cannot push out what others taught:
 *  - a source holds at most 1/SLUICE_NAMECACHE_SHARE of the slots; past
 *    that, it only replaces its own entries;
 *  - when the probe window of a new address is full, the entry given up is
 *    the least recently used one of the source holding the most entries
 *    (the newcomer's own source counted with the entry it adds); a source
 *    never evicts one that holds fewer entries than it would: the new
 *    entry is not learnt instead (counted in refused).
 * Expired entries are released by a sweep of a few slots at each put, so
 * that the counts stay true.
 *
 * Not thread-safe: the caller serialises (the verdict context's lock).
 */
#ifndef SLUICE_NAMECACHE_H
#define SLUICE_NAMECACHE_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_NAMECACHE_NAME	256
#define SLUICE_NAMECACHE_MIN_TTL	60	/* seconds */
#define SLUICE_NAMECACHE_MAX_TTL	86400
#define SLUICE_NAMECACHE_SOURCES	1024	/* buckets of source counts */
#define SLUICE_NAMECACHE_SHARE		8	/* a source's quota: slots / 8 */

struct sluice_namecache_entry {
	uint64_t expires_ms;		/* 0: free */
	uint64_t used;			/* LRU clock */
	uint16_t source;		/* bucket of the source that taught it */
	uint8_t family;
	uint8_t addr[16];
	char qname[SLUICE_NAMECACHE_NAME];	/* the name the client asked for */
	char owner[SLUICE_NAMECACHE_NAME];	/* the record's owner (CNAME end) */
};

struct sluice_namecache {
	struct sluice_namecache_entry *slots;
	size_t mask;
	size_t quota;			/* entries one source may hold */
	size_t sweep;			/* next slot the expiry sweep looks at */
	uint32_t held[SLUICE_NAMECACHE_SOURCES];	/* live entries per source */
	uint64_t clock;
	uint64_t learned, replaced, refused;
};

/* @slots is rounded up to a power of two. 0 or -1 (out of memory). */
int sluice_namecache_init(struct sluice_namecache *c, size_t slots);
void sluice_namecache_free(struct sluice_namecache *c);

/*
 * The source bucket of answers from @resolver to @client (both of
 * @family, as in struct sluice_flow).
 */
unsigned int sluice_namecache_source(int family, const uint8_t *resolver,
				     const uint8_t *client);

/*
 * Learn that @addr was resolved from @qname (through the CNAME chain to
 * @owner), taught by @source. 1 learnt, 0 refused by the fairness rules
 * or a bad family.
 */
int sluice_namecache_put(struct sluice_namecache *c, int family,
			 const uint8_t *addr, const char *qname,
			 const char *owner, uint32_t ttl, unsigned int source,
			 uint64_t now_ms);

/* The entry for the address, or NULL when unknown or expired. */
const struct sluice_namecache_entry *
sluice_namecache_get(struct sluice_namecache *c, int family,
		     const uint8_t *addr, uint64_t now_ms);

#endif
