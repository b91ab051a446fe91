// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/namecache.h"

/* Slots looked at for one address; bounds every operation. */
#define PROBES	8

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

void sluice_namecache_put(struct sluice_namecache *c, int family,
			  const uint8_t *addr, const char *qname,
			  const char *owner, uint32_t ttl, uint64_t now_ms)
{
	struct sluice_namecache_entry *victim = NULL;
	size_t h = hash(family, addr), i;

	if (family != AF_INET && family != AF_INET6)
		return;
	if (ttl < SLUICE_NAMECACHE_MIN_TTL)
		ttl = SLUICE_NAMECACHE_MIN_TTL;
	if (ttl > SLUICE_NAMECACHE_MAX_TTL)
		ttl = SLUICE_NAMECACHE_MAX_TTL;

	for (i = 0; i < PROBES; i++) {
		struct sluice_namecache_entry *e = &c->slots[(h + i) & c->mask];

		if (e->expires_ms && e->expires_ms > now_ms &&
		    same(e, family, addr)) {
			victim = e;
			break;
		}
		if (!e->expires_ms || e->expires_ms <= now_ms) {
			if (!victim || victim->expires_ms > now_ms)
				victim = e;
		} else if (!victim || (victim->expires_ms > now_ms &&
				       e->used < victim->used)) {
			victim = e;
		}
	}
	if (victim->expires_ms > now_ms && !same(victim, family, addr))
		c->replaced++;
	victim->family = (uint8_t)family;
	memset(victim->addr, 0, sizeof(victim->addr));
	memcpy(victim->addr, addr, addr_len(family));
	copy_name(victim->qname, qname);
	copy_name(victim->owner, owner ? owner : qname);
	victim->expires_ms = now_ms + (uint64_t)ttl * 1000;
	victim->used = ++c->clock;
	c->learned++;
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
