// SPDX-License-Identifier: GPL-2.0
/* A TCP flow's name from its first payload, joined over segments: see pending.h. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/pending.h"
#include "agent/sni.h"

int sluice_payload_name(const uint8_t *d, size_t len, char *name, size_t namelen)
{
	int rc = sluice_tls_sni(d, len, name, namelen);

	if (rc != SLUICE_SNI_NOT_HELLO)
		return rc;
	return sluice_http_host(d, len, name, namelen);
}

/*
 * A parser's result as the caller acts on it. @final: no more bytes will
 * be joined (a limit was reached), so a cut hello or request is judged
 * now: by the Host already read, or as unreadable.
 */
static int naming_of(int rc, const char *name, int final)
{
	switch (rc) {
	case SLUICE_SNI_FOUND:
		return SLUICE_NAMING_NAMED;
	case SLUICE_SNI_ECH:	/* the outer name, when there is one */
		return name[0] ? SLUICE_NAMING_NAMED : SLUICE_NAMING_NO_NAME;
	case SLUICE_SNI_TRUNCATED:
		if (!final)
			return SLUICE_NAMING_WAIT;
		return name[0] ? SLUICE_NAMING_NAMED : SLUICE_NAMING_UNREADABLE;
	default:		/* no name, not a hello or request, a bad name */
		return SLUICE_NAMING_NO_NAME;
	}
}

int sluice_pending_init(struct sluice_pending *t)
{
	memset(t->slot, 0, sizeof(t->slot));
	t->bytes = calloc(SLUICE_PENDING_SLOTS, sizeof(*t->bytes));
	if (!t->bytes)
		return -1;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void sluice_pending_free(struct sluice_pending *t)
{
	if (!t->bytes)
		return;
	free(t->bytes);
	t->bytes = NULL;
	pthread_mutex_destroy(&t->lock);
}

static int expired(const struct sluice_pending_slot *s, uint64_t now)
{
	return now >= s->born_ms + SLUICE_PENDING_TTL_MS;
}

void sluice_flow_key_set(struct sluice_flow_key *k, const struct sluice_flow *f)
{
	memcpy(k->src, f->src, sizeof(k->src));
	memcpy(k->dst, f->dst, sizeof(k->dst));
	k->sport = f->sport;
	k->dport = f->dport;
	k->v6 = f->family == AF_INET6;
}

int sluice_flow_key_is(const struct sluice_flow_key *k, const struct sluice_flow *f)
{
	size_t alen = f->family == AF_INET6 ? 16 : 4;

	return k->sport == f->sport && k->dport == f->dport &&
	       k->v6 == (f->family == AF_INET6) &&
	       !memcmp(k->src, f->src, alen) && !memcmp(k->dst, f->dst, alen);
}

/* The flow's waiting entry, or NULL; an expired one is freed on the way. */
static struct sluice_pending_slot *find(struct sluice_pending *t,
					const struct sluice_flow *f, uint64_t now)
{
	int i;

	for (i = 0; i < SLUICE_PENDING_SLOTS; i++) {
		struct sluice_pending_slot *s = &t->slot[i];

		if (!s->born_ms || !sluice_flow_key_is(&s->key, f))
			continue;
		if (!expired(s, now))
			return s;
		s->born_ms = 0;
	}
	return NULL;
}

/* A free or expired slot for @f, or NULL when every slot still waits. */
static struct sluice_pending_slot *take(struct sluice_pending *t,
					const struct sluice_flow *f,
					uint32_t seq, uint64_t now)
{
	struct sluice_pending_slot *s = NULL;
	int i;

	for (i = 0; i < SLUICE_PENDING_SLOTS && !s; i++)
		if (!t->slot[i].born_ms || expired(&t->slot[i], now))
			s = &t->slot[i];
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->born_ms = now ? now : 1;
	sluice_flow_key_set(&s->key, f);
	s->seq = seq;
	return s;
}

/*
 * Join @len bytes at @seq to what @s kept. Returns 1 when they added
 * bytes, 0 when they were all kept already (a retransmission; the copy
 * we kept first stands, as the receiving TCP keeps its first copy too),
 * -1 when they start after a gap. *full: the join stopped at the limit.
 */
static int join(struct sluice_pending *t, struct sluice_pending_slot *s,
		uint32_t seq, const uint8_t *pl, size_t len, int *full)
{
	int32_t off = (int32_t)(seq - s->seq);
	size_t skip, room;

	if (off > (int32_t)s->len)
		return -1;
	/* Bytes before what we kept, or already kept: skipped. */
	skip = (size_t)((int64_t)s->len - off);
	if (skip >= len)
		return 0;
	pl += skip;
	len -= skip;
	room = SLUICE_PENDING_BYTES - s->len;
	if (len > room) {
		len = room;
		*full = 1;
	}
	memcpy(t->bytes[s - t->slot] + s->len, pl, len);
	s->len = (uint16_t)(s->len + len);
	s->segments++;
	if (s->len >= SLUICE_PENDING_BYTES || s->segments >= SLUICE_PENDING_SEGMENTS)
		*full = 1;
	return 1;
}

int sluice_pending_feed(struct sluice_pending *t, const struct sluice_flow *f,
			uint32_t seq, const uint8_t *pl, size_t len, int cut,
			uint64_t now_ms, char *name, size_t namelen)
{
	struct sluice_pending_slot *s;
	int rc, full = 0, naming;

	if (namelen)
		name[0] = '\0';
	pthread_mutex_lock(&t->lock);
	s = find(t, f, now_ms);
	if (!s) {
		/* The usual case: the first payload says it all. */
		rc = sluice_payload_name(pl, len, name, namelen);
		if (rc != SLUICE_SNI_TRUNCATED) {
			pthread_mutex_unlock(&t->lock);
			return naming_of(rc, name, 0);
		}
		s = take(t, f, seq, now_ms);
		if (!s) {
			pthread_mutex_unlock(&t->lock);
			return SLUICE_NAMING_HOLD;
		}
	}
	switch (join(t, s, seq, pl, len, &full)) {
	case -1:
		pthread_mutex_unlock(&t->lock);
		return SLUICE_NAMING_HOLD;
	case 0:
		pthread_mutex_unlock(&t->lock);
		return SLUICE_NAMING_WAIT;
	default:
		break;
	}
	rc = sluice_payload_name(t->bytes[s - t->slot], s->len, name, namelen);
	/* Bytes the copy did not bring can never be joined. */
	naming = naming_of(rc, name, full || cut);
	if (naming != SLUICE_NAMING_WAIT)
		s->born_ms = 0;
	pthread_mutex_unlock(&t->lock);
	return naming;
}

int sluice_pending_reply(struct sluice_pending *t, const struct sluice_flow *f,
			 uint64_t now_ms, char *name, size_t namelen)
{
	struct sluice_pending_slot *s;
	int rc, naming = SLUICE_NAMING_NO_NAME;

	if (namelen)
		name[0] = '\0';
	pthread_mutex_lock(&t->lock);
	s = find(t, f, now_ms);
	if (s) {
		const uint8_t *d = t->bytes[s - t->slot];

		rc = sluice_payload_name(d, s->len, name, namelen);
		if (rc != SLUICE_SNI_TRUNCATED)
			naming = naming_of(rc, name, 1);
		else if (name[0])
			naming = SLUICE_NAMING_NAMED;	/* HTTP, after its Host */
		else if (sluice_tls_sni(d, s->len, name, namelen) == SLUICE_SNI_TRUNCATED)
			naming = SLUICE_NAMING_UNREADABLE;
		s->born_ms = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return naming;
}
