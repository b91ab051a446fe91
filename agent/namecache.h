/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which names an address was resolved from, learnt from DNS answers seen
 * on the wire (whatever resolver gave them), so that a later connection
 * to the address can be matched against domain rules.
 *
 * A fixed table allocated once: no allocation when learning or looking
 * up. Entries expire with the record's TTL (at least a minimum, since
 * clients keep using addresses a little past it); when the probe window of
 * a new address is full, the least recently used entry in it is replaced.
 * One thread owns a cache (the verdict thread): no locks.
 */
#ifndef SLUICE_NAMECACHE_H
#define SLUICE_NAMECACHE_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_NAMECACHE_NAME	256
#define SLUICE_NAMECACHE_MIN_TTL	60	/* seconds */
#define SLUICE_NAMECACHE_MAX_TTL	86400

struct sluice_namecache_entry {
	uint64_t expires_ms;		/* 0: free */
	uint64_t used;			/* LRU clock */
	uint8_t family;
	uint8_t addr[16];
	char qname[SLUICE_NAMECACHE_NAME];	/* the name the client asked for */
	char owner[SLUICE_NAMECACHE_NAME];	/* the record's owner (CNAME end) */
};

struct sluice_namecache {
	struct sluice_namecache_entry *slots;
	size_t mask;
	uint64_t clock;
	uint64_t learned, replaced;
};

/* @slots is rounded up to a power of two. 0 or -1 (out of memory). */
int sluice_namecache_init(struct sluice_namecache *c, size_t slots);
void sluice_namecache_free(struct sluice_namecache *c);

void sluice_namecache_put(struct sluice_namecache *c, int family,
			  const uint8_t *addr, const char *qname,
			  const char *owner, uint32_t ttl, uint64_t now_ms);

/* The entry for the address, or NULL when unknown or expired. */
const struct sluice_namecache_entry *
sluice_namecache_get(struct sluice_namecache *c, int family,
		     const uint8_t *addr, uint64_t now_ms);

#endif
