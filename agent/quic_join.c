// SPDX-License-Identifier: GPL-2.0
/* A UDP flow's name from its QUIC Initials, joined over datagrams: see quic_join.h. */
#include <stdlib.h>
#include <string.h>

#include "agent/quic_join.h"
#include "agent/sni.h"

/* What sluice_quic_sni() would read, kept for a first datagram's hello. */
static _Thread_local struct sluice_quic_hello quic_first;

/*
 * What sluice_quic_hello_sni()'s @rc makes of the flow. @final: no more
 * datagrams will be joined, so a hello still cut is unreadable.
 */
static int naming_of(int rc, const char *name, int final)
{
	switch (rc) {
	case SLUICE_SNI_FOUND:
		return SLUICE_NAMING_NAMED;
	case SLUICE_SNI_ECH:	/* the outer name, when there is one */
		return name[0] ? SLUICE_NAMING_NAMED : SLUICE_NAMING_NO_NAME;
	case SLUICE_SNI_TRUNCATED:
		return final ? SLUICE_NAMING_UNREADABLE : SLUICE_NAMING_WAIT;
	case SLUICE_QUIC_UNREADABLE:
		return SLUICE_NAMING_UNREADABLE;
	default:		/* no name, not a hello (its server refuses it), a bad name */
		return SLUICE_NAMING_NO_NAME;
	}
}

int sluice_quic_join_init(struct sluice_quic_join *t)
{
	memset(t->slot, 0, sizeof(t->slot));
	t->hello = calloc(SLUICE_QUIC_SLOTS, sizeof(*t->hello));
	if (!t->hello)
		return -1;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void sluice_quic_join_free(struct sluice_quic_join *t)
{
	if (!t->hello)
		return;
	free(t->hello);
	t->hello = NULL;
	pthread_mutex_destroy(&t->lock);
}

static int expired(const struct sluice_quic_slot *s, uint64_t now)
{
	return now >= s->born_ms + SLUICE_QUIC_TTL_MS;
}

/* The flow's entry, expired or not, or NULL. */
static struct sluice_quic_slot *find(struct sluice_quic_join *t,
				     const struct sluice_flow *f)
{
	int i;

	for (i = 0; i < SLUICE_QUIC_SLOTS; i++)
		if (t->slot[i].born_ms && sluice_flow_key_is(&t->slot[i].key, f))
			return &t->slot[i];
	return NULL;
}

/*
 * A slot for @f: a free one, else the one expired longest ago; NULL when
 * every slot still waits.
 */
static struct sluice_quic_slot *take(struct sluice_quic_join *t,
				     const struct sluice_flow *f, uint64_t now)
{
	struct sluice_quic_slot *s = NULL;
	int i;

	for (i = 0; i < SLUICE_QUIC_SLOTS; i++) {
		struct sluice_quic_slot *c = &t->slot[i];

		if (!c->born_ms) {
			s = c;
			break;
		}
		if (expired(c, now) && (!s || c->born_ms < s->born_ms))
			s = c;
	}
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->born_ms = now ? now : 1;
	sluice_flow_key_set(&s->key, f);
	return s;
}

/*
 * A datagram of a flow with no entry: the usual case, a hello whole in
 * its first Initial. A cut one is kept in a new entry.
 */
static int first(struct sluice_quic_join *t, const struct sluice_flow *f,
		 const uint8_t *pl, size_t len, int cut, uint64_t now,
		 char *name, size_t namelen)
{
	struct sluice_quic_slot *s;
	int rc, naming;

	sluice_quic_hello_reset(&quic_first);
	rc = sluice_quic_read(&quic_first, pl, len);
	if (rc == 0) {
		/* 0-RTT or Handshake before any Initial was read. */
		if (sluice_quic_is_long_v1(pl, len) && !cut && ((pl[0] >> 4) & 3))
			return SLUICE_NAMING_UNREADABLE;
		return SLUICE_NAMING_NO_NAME;	/* not QUIC: any UDP flow */
	}
	if (rc < 0)
		return SLUICE_NAMING_UNREADABLE;
	naming = naming_of(sluice_quic_hello_sni(&quic_first, name, namelen), name, 0);
	if (naming != SLUICE_NAMING_WAIT)
		return naming;
	pthread_mutex_lock(&t->lock);
	s = take(t, f, now);
	if (s) {
		s->datagrams = 1;
		t->hello[s - t->slot] = quic_first;
	}
	pthread_mutex_unlock(&t->lock);
	return s ? SLUICE_NAMING_WAIT : SLUICE_NAMING_HOLD;
}

int sluice_quic_join_feed(struct sluice_quic_join *t, const struct sluice_flow *f,
			  const uint8_t *pl, size_t len, int cut,
			  uint64_t now_ms, char *name, size_t namelen)
{
	struct sluice_quic_slot *s;
	struct sluice_quic_hello *h;
	int rc, naming;

	if (namelen)
		name[0] = '\0';
	pthread_mutex_lock(&t->lock);
	s = find(t, f);
	if (!s) {
		pthread_mutex_unlock(&t->lock);
		return first(t, f, pl, len, cut, now_ms, name, namelen);
	}
	h = &t->hello[s - t->slot];
	if (expired(s, now_ms)) {
		naming = SLUICE_NAMING_UNREADABLE;	/* it stopped half-way */
	} else {
		s->datagrams++;
		rc = sluice_quic_read(h, pl, len);
		if (rc <= 0)	/* not this connection's next Initial */
			naming = SLUICE_NAMING_UNREADABLE;
		else
			naming = naming_of(sluice_quic_hello_sni(h, name, namelen), name,
					   s->datagrams >= SLUICE_QUIC_DATAGRAMS);
	}
	if (naming != SLUICE_NAMING_WAIT)
		s->born_ms = 0;
	pthread_mutex_unlock(&t->lock);
	return naming;
}

int sluice_quic_join_reply(struct sluice_quic_join *t, const struct sluice_flow *f,
			   uint64_t now_ms)
{
	struct sluice_quic_slot *s;
	int naming = SLUICE_NAMING_UNREADABLE;

	pthread_mutex_lock(&t->lock);
	s = find(t, f);
	if (s && !expired(s, now_ms))
		naming = SLUICE_NAMING_HOLD;
	else if (s)
		s->born_ms = 0;
	pthread_mutex_unlock(&t->lock);
	return naming;
}
