// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/nametrust.h"

/* Slots looked at for one query; bounds every operation. */
#define PROBES	8

int sluice_queries_init(struct sluice_queries *p, size_t slots)
{
	size_t n = 1;

	while (n < slots)
		n <<= 1;
	memset(p, 0, sizeof(*p));
	p->slots = calloc(n, sizeof(*p->slots));
	if (!p->slots)
		return -1;
	p->mask = n - 1;
	return 0;
}

void sluice_queries_free(struct sluice_queries *p)
{
	free(p->slots);
	p->slots = NULL;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The question's name is left out: it is compared, not hashed. */
static size_t hash(const struct sluice_dns_tuple *t, uint16_t id)
{
	uint64_t h = 1469598103934665603ULL;

	h = fnv(h, &t->family, 1);
	h = fnv(h, &t->proto, 1);
	h = fnv(h, &t->client_port, 2);
	h = fnv(h, &t->server_port, 2);
	h = fnv(h, t->client, addr_len(t->family));
	h = fnv(h, t->server, addr_len(t->family));
	h = fnv(h, &id, 2);
	return (size_t)(h ^ (h >> 32));
}

static int same_tuple(const struct sluice_dns_tuple *a,
		      const struct sluice_dns_tuple *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       a->client_port == b->client_port &&
	       a->server_port == b->server_port &&
	       memcmp(a->client, b->client, addr_len(a->family)) == 0 &&
	       memcmp(a->server, b->server, addr_len(a->family)) == 0;
}

static int same_query(const struct sluice_queries_query *q,
		      const struct sluice_dns_tuple *t, uint16_t id,
		      uint16_t qtype, uint16_t qclass, const char *qname)
{
	return q->id == id && q->qtype == qtype && q->qclass == qclass &&
	       same_tuple(&q->t, t) && strcmp(q->qname, qname) == 0;
}

static int usable(int family)
{
	return family == AF_INET || family == AF_INET6;
}

void sluice_queries_add(struct sluice_queries *p,
			const struct sluice_dns_tuple *t, uint16_t id,
			uint16_t qtype, uint16_t qclass, const char *qname,
			uint64_t now_ms)
{
	struct sluice_queries_query *victim = NULL;
	size_t h, i, n;

	if (!usable(t->family) || !qname)
		return;
	h = hash(t, id);
	for (i = 0; i < PROBES; i++) {
		struct sluice_queries_query *q = &p->slots[(h + i) & p->mask];

		if (q->expires_ms <= now_ms) {		/* free or expired */
			victim = q;
			break;
		}
		if (same_query(q, t, id, qtype, qclass, qname)) {
			victim = q;			/* asked again */
			break;
		}
		if (!victim || q->expires_ms < victim->expires_ms)
			victim = q;
	}
	if (victim->expires_ms > now_ms &&
	    !same_query(victim, t, id, qtype, qclass, qname))
		p->overwritten++;
	memset(victim, 0, sizeof(*victim));
	victim->t = *t;
	victim->id = id;
	victim->qtype = qtype;
	victim->qclass = qclass;
	n = strnlen(qname, sizeof(victim->qname) - 1);
	memcpy(victim->qname, qname, n);
	victim->expires_ms = now_ms + SLUICE_PENDING_TTL_MS;
	p->added++;
}

int sluice_queries_take(struct sluice_queries *p,
			const struct sluice_dns_tuple *t, uint16_t id,
			uint16_t qtype, uint16_t qclass, const char *qname,
			uint64_t now_ms)
{
	size_t h, i;

	if (!usable(t->family) || !qname)
		return 0;
	h = hash(t, id);
	for (i = 0; i < PROBES; i++) {
		struct sluice_queries_query *q = &p->slots[(h + i) & p->mask];

		if (q->expires_ms > now_ms &&
		    same_query(q, t, id, qtype, qclass, qname)) {
			q->expires_ms = 0;
			p->matched++;
			return 1;
		}
	}
	p->unmatched++;
	return 0;
}

int sluice_trusted_parse(const char *text, struct sluice_trusted *tr,
			 char *err, size_t errlen)
{
	const char *s = text;
	char word[64];
	int rc = 0;

	memset(tr, 0, sizeof(*tr));
	while (s && *s) {
		size_t n = strcspn(s, ", \t\n");
		uint8_t a[16];
		int family = AF_INET;

		if (n == 0) {
			s++;
			continue;
		}
		tr->set = 1;
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, s, n);
		word[n] = '\0';
		s += strcspn(s, ", \t\n");
		memset(a, 0, sizeof(a));
		if (inet_pton(AF_INET, word, a) != 1) {
			family = AF_INET6;
			if (inet_pton(AF_INET6, word, a) != 1) {
				if (!rc)
					snprintf(err, errlen,
						 "settings.trusted_resolvers: '%s' is not an IP address; it is skipped",
						 word);
				rc = -1;
				continue;
			}
		}
		if (tr->n == SLUICE_TRUSTED_MAX) {
			if (!rc)
				snprintf(err, errlen,
					 "settings.trusted_resolvers: more than %d servers; '%s' and later ones are skipped",
					 SLUICE_TRUSTED_MAX, word);
			rc = -1;
			continue;
		}
		tr->server[tr->n].family = (uint8_t)family;
		memcpy(tr->server[tr->n].addr, a, sizeof(a));
		tr->n++;
	}
	return rc;
}

int sluice_trusted_allows(const struct sluice_trusted *tr, int family,
			  const uint8_t *server)
{
	unsigned int i;

	if (!tr->set)
		return 1;
	for (i = 0; i < tr->n; i++)
		if (tr->server[i].family == family &&
		    memcmp(tr->server[i].addr, server, addr_len(family)) == 0)
			return 1;
	return 0;
}
