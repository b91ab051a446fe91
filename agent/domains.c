// SPDX-License-Identifier: GPL-2.0
/*
 * The compiled domain set; see domains.h for the matching contract.
 *
 * Hashing. A key is (name, wild). Its hash is FNV-1a over the name's bytes
 * taken from the LAST to the first, then mixed with the wild flag and a
 * finaliser. Going right to left means that one pass over a looked-up name
 * yields the running hash of every label suffix at each dot, so a name of
 * L labels costs one pass plus L probes, not L passes.
 *
 * Table. Linear probing over 16-byte slots (four to a cache line); a slot
 * keeps the key's full 32-bit hash, checked before any byte compare, so a
 * probe that misses rarely touches the arena. len == 0 marks an empty slot
 * (no pattern is empty). The table doubles when it would pass 70 % load;
 * growing needs no rehash of strings since each slot keeps its hash.
 *
 * Repeated patterns. The first payload of a key sits in its slot. A
 * different payload for the same key is set aside in dups[] while adding;
 * finish() sorts them and gives each such key a run in multi[]:
 * multi[i] = n, then n payloads ascending, and the slot points at i.
 * Lookups pick the lowest payload >= from with a binary search of the run.
 */
#include "agent/domains.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_WILD	0x01	/* key is "*.<name>" */
#define SLOT_MULTI	0x02	/* value indexes multi[] */

#define FNV_OFFSET	0xcbf29ce484222325ull
#define FNV_PRIME	0x100000001b3ull
#define WILD_SALT	0x9e3779b97f4a7c15ull

struct slot {
	uint32_t hash;		/* hash_final() of the key */
	uint32_t off;		/* name in arena[off .. off + len) */
	uint32_t value;		/* payload, or index into multi[] (SLOT_MULTI) */
	uint8_t len;		/* 0: empty slot */
	uint8_t flags;		/* SLOT_* */
	uint16_t pad;
};

struct dup {			/* another payload for the key at arena offset off */
	uint32_t off;
	uint32_t payload;
	uint32_t hash;		/* the key's, to find its slot again */
	uint8_t len;
	bool wild;
};

struct sluice_domains {
	struct slot *slots;
	uint32_t mask;		/* slots - 1, a power of two minus one */
	size_t nkeys;
	char *arena;		/* every distinct name once, lower case, no NUL */
	size_t arena_len, arena_cap;
	uint32_t *multi;	/* runs of payloads of repeated keys */
	size_t nmulti, multi_cap;
	struct dup *dups;	/* while adding; freed by finish */
	size_t ndups, dups_cap;
	bool finished;
};

static inline char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline uint64_t hash_step(uint64_t h, char c)
{
	return (h ^ (uint8_t)ascii_lower(c)) * FNV_PRIME;
}

/* The hash of a key from the running hash of its name. */
static inline uint32_t hash_final(uint64_t h, bool wild)
{
	h ^= wild ? WILD_SALT : 0;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint32_t hash_key(const char *name, size_t len, bool wild)
{
	uint64_t h = FNV_OFFSET;

	while (len)
		h = hash_step(h, name[--len]);
	return hash_final(h, wild);
}

/* ------------------------------------------------------------------ */
/* Normalising patterns                                                */
/* ------------------------------------------------------------------ */

static bool name_char(char c)
{
	return c == '-' || c == '_' || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int sluice_domain_normalise(const char *in, size_t len, char *out, size_t *outlen,
			    bool *wild, const char **why)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		if ((unsigned char)in[i] >= 0x80) {
			*why = "is not ASCII: write an internationalised name in its A-label form, e.g. xn--bcher-kva.example for b\xc3\xbc" "cher.example";
			return -1;
		}
	}
	if (len && in[len - 1] == '.')
		len--;
	*wild = len >= 2 && in[0] == '*' && in[1] == '.';
	if (*wild) {
		in += 2;
		len -= 2;
	}
	if (len == 0) {
		*why = "is not a domain name: it is empty";
		return -1;
	}
	if (len > SLUICE_DOMAIN_MAX) {
		*why = "is not a domain name: it is longer than 253 bytes";
		return -1;
	}
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '.') {
			if (label == 0) {
				*why = "is not a domain name: it has an empty label (a leading dot or two dots in a row)";
				return -1;
			}
			label = 0;
		} else if (name_char(c)) {
			if (++label > 63) {
				*why = "is not a domain name: a label is longer than 63 bytes";
				return -1;
			}
		} else if (c == '*') {
			*why = "is not a domain pattern: '*' is only allowed as a leading '*.', e.g. *.example.com";
			return -1;
		} else {
			*why = "is not a domain name: only letters, digits, '-', '_' and dots are allowed";
			return -1;
		}
		out[i] = ascii_lower(c);
	}
	if (label == 0) {
		*why = "is not a domain name: it has an empty label (a leading dot or two dots in a row)";
		return -1;
	}
	out[len] = '\0';
	*outlen = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

static size_t table_size_for(size_t keys)
{
	size_t n = 64;

	while (n * 7 < keys * 10 + 10)
		n *= 2;
	return n;
}

struct sluice_domains *sluice_domains_new(size_t expected)
{
	struct sluice_domains *d = calloc(1, sizeof(*d));
	size_t n = table_size_for(expected);

	if (!d || n > (size_t)UINT32_MAX + 1)
		goto fail;
	d->slots = calloc(n, sizeof(*d->slots));
	if (!d->slots)
		goto fail;
	d->mask = (uint32_t)(n - 1);
	return d;
fail:
	free(d);
	return NULL;
}

static int grow_table(struct sluice_domains *d)
{
	size_t oldn = (size_t)d->mask + 1, n = oldn * 2, i, j;
	struct slot *slots;

	if (n > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < oldn; i++) {
		if (!d->slots[i].len)
			continue;
		for (j = d->slots[i].hash & (n - 1); slots[j].len; j = (j + 1) & (n - 1))
			;
		slots[j] = d->slots[i];
	}
	free(d->slots);
	d->slots = slots;
	d->mask = (uint32_t)(n - 1);
	return 0;
}

/* Append len bytes to the arena; their offset, or -1 when out of memory. */
static int64_t arena_put(struct sluice_domains *d, const char *s, size_t len)
{
	size_t off = d->arena_len;

	if (d->arena_len + len > d->arena_cap) {
		size_t cap = d->arena_cap ? d->arena_cap * 2 : 4096;
		char *a;

		while (cap < d->arena_len + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -1;
		a = realloc(d->arena, cap);
		if (!a)
			return -1;
		d->arena = a;
		d->arena_cap = cap;
	}
	memcpy(d->arena + off, s, len);
	d->arena_len += len;
	return (int64_t)off;
}

/* The slot of a (lower-case) key, or the empty slot where it would go. */
static struct slot *find_slot(const struct sluice_domains *d, const char *name,
			      size_t len, bool wild, uint32_t h)
{
	uint8_t flag = wild ? SLOT_WILD : 0;
	uint32_t i;

	for (i = h & d->mask;; i = (i + 1) & d->mask) {
		struct slot *s = &d->slots[i];

		if (!s->len)
			return s;
		if (s->hash == h && s->len == len && (s->flags & SLOT_WILD) == flag &&
		    memcmp(d->arena + s->off, name, len) == 0)
			return s;
	}
}

static int add_dup(struct sluice_domains *d, const struct slot *s, uint32_t payload)
{
	if (d->ndups == d->dups_cap) {
		size_t cap = d->dups_cap ? d->dups_cap * 2 : 64;
		struct dup *n = realloc(d->dups, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->dups = n;
		d->dups_cap = cap;
	}
	d->dups[d->ndups++] = (struct dup){ .off = s->off, .payload = payload, .hash = s->hash,
					    .len = s->len, .wild = s->flags & SLOT_WILD };
	return 0;
}

int sluice_domains_add(struct sluice_domains *d, const char *pattern, size_t len,
		       uint32_t payload, const char **why)
{
	char name[SLUICE_DOMAIN_MAX + 1];
	struct slot *s;
	size_t n;
	int64_t off;
	bool wild;
	uint32_t h;

	if (d->finished || payload == SLUICE_DOMAINS_NONE) {
		*why = "cannot be added: the set is finished or the payload is reserved";
		return -EINVAL;
	}
	if (sluice_domain_normalise(pattern, len, name, &n, &wild, why) < 0)
		return -EINVAL;
	h = hash_key(name, n, wild);
	s = find_slot(d, name, n, wild, h);
	if (s->len)
		return s->value == payload ? 0 : add_dup(d, s, payload);
	if ((d->nkeys + 1) * 10 > ((size_t)d->mask + 1) * 7) {
		if (grow_table(d) < 0)
			return -ENOMEM;
		s = find_slot(d, name, n, wild, h);
	}
	off = arena_put(d, name, n);
	if (off < 0)
		return -ENOMEM;
	*s = (struct slot){ .hash = h, .off = (uint32_t)off, .value = payload,
			    .len = (uint8_t)n, .flags = wild ? SLOT_WILD : 0 };
	d->nkeys++;
	return 0;
}

static int dup_cmp(const void *a, const void *b)
{
	const struct dup *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->payload < y->payload ? -1 : x->payload > y->payload;
}

int sluice_domains_finish(struct sluice_domains *d)
{
	size_t i, j;

	if (d->finished)
		return 0;
	if (d->ndups) {
		qsort(d->dups, d->ndups, sizeof(*d->dups), dup_cmp);
		/* At most every dup starts its own run: count, slot's payload, dup. */
		d->multi = malloc(d->ndups * 3 * sizeof(*d->multi));
		if (!d->multi)
			return -ENOMEM;
		for (i = 0; i < d->ndups; i = j) {
			const struct dup *g = &d->dups[i];
			struct slot *s = find_slot(d, d->arena + g->off, g->len, g->wild, g->hash);
			uint32_t first = s->value;
			size_t start = d->nmulti++, n = 0;
			bool placed = false;

			/* The slot's payload and the group's, ascending, once each. */
			for (j = i; j < d->ndups && d->dups[j].off == g->off; j++) {
				uint32_t p = d->dups[j].payload;

				if (!placed && first <= p) {
					if (first < p)
						d->multi[start + 1 + n++] = first;
					placed = true;
				}
				if (n && d->multi[start + n] == p)
					continue;
				d->multi[start + 1 + n++] = p;
			}
			if (!placed)
				d->multi[start + 1 + n++] = first;
			d->multi[start] = (uint32_t)n;
			d->nmulti += n;
			s->value = (uint32_t)start;
			s->flags |= SLOT_MULTI;
		}
		d->multi_cap = d->ndups * 3;
	}
	free(d->dups);
	d->dups = NULL;
	d->ndups = d->dups_cap = 0;
	/* Give back what the doubling arena did not use. */
	if (d->arena_len && d->arena_len < d->arena_cap) {
		char *a = realloc(d->arena, d->arena_len);

		if (a) {
			d->arena = a;
			d->arena_cap = d->arena_len;
		}
	}
	d->finished = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lookup (no allocation)                                              */
/* ------------------------------------------------------------------ */

/* The lowest payload >= from of slot s, or SLUICE_DOMAINS_NONE. */
static uint32_t slot_payload_from(const struct sluice_domains *d, const struct slot *s,
				  uint32_t from)
{
	const uint32_t *run;
	size_t lo, hi;

	if (!(s->flags & SLOT_MULTI))
		return s->value >= from ? s->value : SLUICE_DOMAINS_NONE;
	run = d->multi + s->value + 1;
	lo = 0;
	hi = d->multi[s->value];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->multi[s->value] ? run[lo] : SLUICE_DOMAINS_NONE;
}

/* Equal to a lower-case arena name, ignoring the ASCII case of name. */
static bool equal_lower(const char *arena, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (ascii_lower(name[i]) != arena[i])
			return false;
	return true;
}

static uint32_t probe(const struct sluice_domains *d, const char *name, size_t len,
		      bool wild, uint32_t h, uint32_t from)
{
	uint8_t flag = wild ? SLOT_WILD : 0;
	uint32_t i;

	for (i = h & d->mask;; i = (i + 1) & d->mask) {
		const struct slot *s = &d->slots[i];

		if (!s->len)
			return SLUICE_DOMAINS_NONE;
		if (s->hash == h && s->len == len && (s->flags & SLOT_WILD) == flag &&
		    equal_lower(d->arena + s->off, name, len))
			return slot_payload_from(d, s, from);
	}
}

uint32_t sluice_domains_lookup_from(const struct sluice_domains *d, const char *name,
				    size_t len, uint32_t from)
{
	uint32_t best = SLUICE_DOMAINS_NONE, p;
	uint64_t h = FNV_OFFSET;
	size_t i;

	if (!d || !d->nkeys)
		return SLUICE_DOMAINS_NONE;
	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SLUICE_DOMAIN_MAX)
		return SLUICE_DOMAINS_NONE;
	/* Right to left: at each dot, h is the hash of the suffix after it. */
	for (i = len; i-- > 0;) {
		if (name[i] == '.' && i + 1 < len) {
			p = probe(d, name + i + 1, len - i - 1, true, hash_final(h, true), from);
			if (p < best)
				best = p;
		}
		h = hash_step(h, name[i]);
	}
	p = probe(d, name, len, false, hash_final(h, false), from);
	return p < best ? p : best;
}

size_t sluice_domains_count(const struct sluice_domains *d)
{
	return d ? d->nkeys : 0;
}

size_t sluice_domains_bytes(const struct sluice_domains *d)
{
	if (!d)
		return 0;
	return sizeof(*d) + ((size_t)d->mask + 1) * sizeof(*d->slots) + d->arena_cap +
	       d->multi_cap * sizeof(*d->multi) + d->dups_cap * sizeof(*d->dups);
}

void sluice_domains_free(struct sluice_domains *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d->arena);
	free(d->multi);
	free(d->dups);
	free(d);
}
