// SPDX-License-Identifier: GPL-2.0
/* Identities of flows judged again later; see flowid.h. */
#include "agent/flowid.h"

#include <stdlib.h>
#include <string.h>

int sluice_flowids_init(struct sluice_flowids *t)
{
	t->key = calloc(SLUICE_FLOWID_SLOTS, sizeof(*t->key));
	t->id = calloc(SLUICE_FLOWID_SLOTS, sizeof(*t->id));
	if (!t->key || !t->id) {
		sluice_flowids_free(t);
		return -1;
	}
	return 0;
}

void sluice_flowids_free(struct sluice_flowids *t)
{
	free(t->key);
	free(t->id);
	t->key = NULL;
	t->id = NULL;
}

static void key_of(uint32_t ct_id, const struct sluice_flow *f,
		   struct sluice_flowid_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ct_id = ct_id;
	k->family = (uint8_t)f->family;
	k->proto = f->proto;
	k->sport = f->sport;
	k->dport = f->dport;
	memcpy(k->src, f->src, sizeof(k->src));
	memcpy(k->dst, f->dst, sizeof(k->dst));
}

static int same_flow(const struct sluice_flowid_key *a,
		     const struct sluice_flowid_key *b)
{
	return a->born_ms && a->ct_id == b->ct_id && a->family == b->family &&
	       a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, sizeof(a->src)) &&
	       !memcmp(a->dst, b->dst, sizeof(a->dst));
}

static long find(const struct sluice_flowids *t, const struct sluice_flowid_key *k)
{
	long i;

	for (i = 0; t->key && i < SLUICE_FLOWID_SLOTS; i++)
		if (t->key[i].ct_id == k->ct_id && same_flow(&t->key[i], k))
			return i;
	return -1;
}

int sluice_flowids_get(const struct sluice_flowids *t, uint32_t ct_id,
		       const struct sluice_flow *f, struct sluice_flow_identity *out)
{
	struct sluice_flowid_key k;
	long i;

	key_of(ct_id, f, &k);
	i = find(t, &k);
	if (i < 0)
		return -1;
	*out = t->id[i];
	return 0;
}

void sluice_flowids_put(struct sluice_flowids *t, uint32_t ct_id,
			const struct sluice_flow *f,
			const struct sluice_flow_identity *id, uint64_t now_ms)
{
	struct sluice_flowid_key k;
	long i, j;

	if (!t->key)
		return;
	key_of(ct_id, f, &k);
	k.born_ms = now_ms ? now_ms : 1;
	i = find(t, &k);
	if (i >= 0) {
		k.born_ms = t->key[i].born_ms;	/* the age stays the flow's */
	} else {
		/* A free slot, else the oldest. */
		for (i = 0, j = 0; j < SLUICE_FLOWID_SLOTS; j++) {
			if (!t->key[j].born_ms) {
				i = j;
				break;
			}
			if (t->key[j].born_ms < t->key[i].born_ms)
				i = j;
		}
	}
	t->key[i] = k;
	if (&t->id[i] != id)
		t->id[i] = *id;
}

void sluice_flowids_drop(struct sluice_flowids *t, uint32_t ct_id,
			 const struct sluice_flow *f)
{
	struct sluice_flowid_key k;
	long i;

	key_of(ct_id, f, &k);
	i = find(t, &k);
	if (i >= 0)
		t->key[i].born_ms = 0;
}
