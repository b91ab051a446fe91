// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/namecache.h"

/* Slots looked at for one address; bounds every operation. */
#define PROBES	8
/* Slots the expiry sweep looks at per put: the whole table every
 * slots / SWEEP puts. */
#define SWEEP	8

int sluice_namecache_init(struct sluice_namecache *c, size_t slots)
{
	size_t n = 1;

	while (n < slots)
		n <<= 1;
	memset(c, 0, sizeof(*c));
	c->slots = calloc(n, sizeof(*c->slots));
	if (!c->slots)
		return -1;
	c->mask = n - 1;
	c->quota = n / SLUICE_NAMECACHE_SHARE ? n / SLUICE_NAMECACHE_SHARE : 1;
	return 0;
}

void sluice_namecache_free(struct sluice_namecache *c)
{
	free(c->slots);
	c->slots = NULL;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* FNV-1a over the address bytes. */
static size_t hash(int family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)family;
	size_t i;

	for (i = 0; i < addr_len(family); i++) {
		h ^= addr[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

static int same(const struct sluice_namecache_entry *e, int family,
		const uint8_t *addr)
{
	return e->family == family &&
	       memcmp(e->addr, addr, addr_len(family)) == 0;
}

static void copy_name(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= SLUICE_NAMECACHE_NAME)
		n = SLUICE_NAMECACHE_NAME - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

unsigned int sluice_namecache_source(int family, const uint8_t *resolver,
				     const uint8_t *client)
{
	size_t h = hash(family, resolver) * 31 + hash(family, client);

	return (unsigned int)(h % SLUICE_NAMECACHE_SOURCES);
}

static int live(const struct sluice_namecache_entry *e, uint64_t now_ms)
{
	return e->expires_ms > now_ms;
}

/* An expired entry gives its slot back, and its source's count. */
static void release(struct sluice_namecache *c, struct sluice_namecache_entry *e)
{
	if (e->expires_ms && c->held[e->source])
		c->held[e->source]--;
	e->expires_ms = 0;
}

/* Release the expired entries among the next few slots. */
static void sweep(struct sluice_namecache *c, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < SWEEP; i++) {
		struct sluice_namecache_entry *e = &c->slots[c->sweep];

		if (e->expires_ms && !live(e, now_ms))
			release(c, e);
		c->sweep = (c->sweep + 1) & c->mask;
	}
}

/*
 * The slot a new address of @source goes to in its probe window starting
 * at @h, under the fairness rules of namecache.h; NULL: refused.
 */
static struct sluice_namecache_entry *
choose(struct sluice_namecache *c, size_t h, unsigned int source,
       uint64_t now_ms)
{
	struct sluice_namecache_entry *free_slot = NULL, *victim = NULL;
	uint32_t mine = c->held[source] + 1, weight = 0;
	int at_quota = c->held[source] >= c->quota;
	size_t i;

	for (i = 0; i < PROBES; i++) {
		struct sluice_namecache_entry *e = &c->slots[(h + i) & c->mask];
		uint32_t w;

		if (!live(e, now_ms)) {
			if (!free_slot)
				free_slot = e;
			continue;
		}
		if (at_quota && e->source != source)
			continue;
		w = e->source == source ? mine : c->held[e->source];
		if (!victim || w > weight ||
		    (w == weight && e->used < victim->used)) {
			victim = e;
			weight = w;
		}
	}
	if (free_slot && !at_quota)
		return free_slot;
	if (victim && weight >= mine)
		return victim;
	return NULL;
}

int sluice_namecache_put(struct sluice_namecache *c, int family,
			 const uint8_t *addr, const char *qname,
			 const char *owner, uint32_t ttl, unsigned int source,
			 uint64_t now_ms)
{
	struct sluice_namecache_entry *victim = NULL;
	size_t h = hash(family, addr), i;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	source %= SLUICE_NAMECACHE_SOURCES;
	if (ttl < SLUICE_NAMECACHE_MIN_TTL)
		ttl = SLUICE_NAMECACHE_MIN_TTL;
	if (ttl > SLUICE_NAMECACHE_MAX_TTL)
		ttl = SLUICE_NAMECACHE_MAX_TTL;
	sweep(c, now_ms);

	/*
	 * The address learnt again: the newest answer wins, unless its
	 * source holds its quota already.
	 */
	for (i = 0; i < PROBES && !victim; i++) {
		struct sluice_namecache_entry *e = &c->slots[(h + i) & c->mask];

		if (live(e, now_ms) && same(e, family, addr))
			victim = e;
	}
	if (victim && victim->source != source &&
	    c->held[source] >= c->quota) {
		c->refused++;
		return 0;
	}
	if (!victim) {
		victim = choose(c, h, source, now_ms);
		if (!victim) {
			c->refused++;
			return 0;
		}
		if (live(victim, now_ms))
			c->replaced++;
	}
	release(c, victim);
	c->held[source]++;
	victim->source = (uint16_t)source;
	victim->family = (uint8_t)family;
	memset(victim->addr, 0, sizeof(victim->addr));
	memcpy(victim->addr, addr, addr_len(family));
	copy_name(victim->qname, qname);
	copy_name(victim->owner, owner ? owner : qname);
	victim->expires_ms = now_ms + (uint64_t)ttl * 1000;
	victim->used = ++c->clock;
	c->learned++;
	return 1;
}

const struct sluice_namecache_entry *
sluice_namecache_get(struct sluice_namecache *c, int family,
		     const uint8_t *addr, uint64_t now_ms)
{
	size_t h = hash(family, addr), i;

	if (family != AF_INET && family != AF_INET6)
		return NULL;
	for (i = 0; i < PROBES; i++) {
		struct sluice_namecache_entry *e = &c->slots[(h + i) & c->mask];

		if (e->expires_ms > now_ms && same(e, family, addr)) {
			e->used = ++c->clock;
			return e;
		}
	}
	return NULL;
}
