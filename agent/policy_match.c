// SPDX-License-Identifier: GPL-2.0
/*
 * The compiled policy's index and the matcher: which rule decides a flow.
 *
 * Semantics (the contract, unchanged from the linear matcher that tests
 * keep as an oracle in tests/unit/policy_oracle.h): rules[] holds every
 * enabled rule and list in first-match order (priority, rules before lists
 * of the same priority, then id); the first entry whose every non-NULL
 * column matches the flow wins. A column on uid, exe, unit or domain that
 * the flow does not know does not match; when every known column of such an
 * entry before the winner matched, the decision is partial and says which.
 *
 * Index. Every entry is filed once, under the one column that selects it
 * best: dst (a prefix longer than 0), else src, else a single dst port,
 * else uid, unit, exe (exact path), domain, in that order; what has none of
 * these (port ranges, directory-glob programs, family, direction or
 * protocol alone) goes to a short list, "rest". Address, port, uid, unit
 * and exe filings go into one hash table keyed by (column, family, prefix
 * length, masked address) or the value, whose slots list their entries'
 * indexes in rule order. For each family and prefix length the index also
 * keeps the smallest entry index filed under it, and the lengths sorted by
 * that, and a prefix filter: a hashed table, indexed by the address masked
 * to a length L chosen at compile time (the longest with nine in ten of the
 * column's entries at L or longer), of which longer lengths hold any entry
 * in that block. Domains are the domain set's (domains.h): it answers "the
 * lowest entry >= i whose pattern matches this name" in one walk over the
 * name's labels.
 *
 * A match keeps best, the smallest index that matched so far (none yet:
 * past the end), and visits candidate lists only below best: the rest list;
 * one hash probe each for the flow's dst port, uid, unit and exe; the
 * flow's dst and src masked to each prefix length in use, in the order of
 * their smallest index, stopping at the first length whose smallest index
 * is not below best, and skipping the lengths from L on that the prefix
 * filter says hold nothing in the flow's block; and the domain set from 0.
 * Every candidate below best is tested on all its columns; a match lowers
 * best. As lists are in rule order, a list is left at its first entry not
 * below best. Since every entry that can match the flow is in one of the
 * lists visited, best ends as the first entry that matches: the linear
 * answer.
 *
 * When the flow lacks a uid, exe, unit or domain that some entry wants, a
 * second walk below best, with the lists of entries filed under exactly
 * those columns added, collects which unknown columns kept an otherwise
 * matching entry out (decision.unknown). It stops as soon as it has every
 * such column the policy uses at all; with one list of names and no
 * identity rules that is the first list entry.
 *
 * Cost. Compile: O(n) hashing plus sorting 2 x 129 prefix lengths. Memory:
 * 4 bytes of list, ~11 bytes of hash slot and 8 to 16 of prefix filter per
 * filed entry, beside the entry itself (64 bytes). Lookup: one word of the
 * prefix filter per column, a probe for each length below L and for each
 * length the filter lets through (random /16 to /32 rules: 3 probes and one
 * candidate per lookup at 10 000 and at 100 000 rules), a few more probes,
 * and a test of each candidate below best, whatever the number of rules.
 * The tables are in huge pages where the kernel has them (see
 * sluice_policy_table_alloc()), so that the few cache lines a lookup
 * touches do not each cost a TLB miss as the tables grow. The worst case,
 * honestly: entries filed under the same key (many rules for one dst prefix
 * differing only in port ranges or programs), the rest list (port ranges or
 * directory-glob programs without an address, rules on direction or
 * protocol only), and in the second walk the entries filed under an unknown
 * column, are tested one by one: O(those entries), as before.
 *
 * Wildcard mask. The match also records what it looked at: the bits of dst
 * and src of every prefix length probed, and L's when the prefix filter was
 * asked (the same first L bits, the same answer), the port, uid, unit, exe
 * and domain when entries filed under them lie below best (whether the
 * probe found anything or not: an other value might find one), and for
 * every candidate tested the one column that failed it (its prefix length
 * for an address), or, for the winner, all its columns. A flow that agrees
 * on all of that meets the same candidates with the same results below
 * best, and so the same winner.
 */
#include "agent/policy.h"

#include <endian.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "agent/domains.h"
#include "agent/policy_int.h"

#define NONE		UINT32_MAX
#define MAXLEN		129		/* prefix lengths 0..128 */

/* Under which column an entry is filed (hashed kinds first). */
enum filing { F_DST, F_SRC, F_PORT, F_UID, F_UNIT, F_EXE, F_DOMAIN, F_REST, NFILINGS };

/*
 * Which prefix lengths of one column and family can hold an entry for an
 * address: lengths below len are always probed; for the others, the
 * address masked to len hashes to a word of classes, one bit per class of
 * lengths (len + (bit << shift) ...), set when an entry of such a length
 * lies in that block. A false bit (two blocks in one word) costs a probe,
 * never a miss.
 */
struct prefix_filter {
	uint32_t *classes;		/* NULL: no filter, every length probed */
	uint32_t mask;			/* words - 1 (a power of two) */
	uint8_t len, shift;
};

/* A list of entry indexes, ascending. */
struct ilist {
	uint32_t *v;
	uint32_t n;
};

struct sluice_match_index {
	/*
	 * Open addressing, linear probing. A slot is a 32-bit fingerprint of
	 * its key (0: empty) over the start of its list: slot s lists
	 * cand[start(s) .. start(s + 1)). Fingerprints that collide merge
	 * their lists, which only adds candidates: each is tested in full.
	 */
	uint64_t *slot;			/* nslots + 1: the last holds the end */
	uint32_t *cand;
	size_t nslots;
	struct prefix_filter filter[2][2];	/* [dst/src][family] */
	/* Smallest entry index filed under each family and prefix length, and
	 * the lengths in use sorted by it. */
	uint32_t min_len[2][2][MAXLEN];		/* [dst/src][family][len] */
	uint8_t order[2][2][MAXLEN];
	uint8_t norder[2][2];
	uint32_t min_filed[NFILINGS];		/* smallest index per filing */
	uint32_t min_domain;			/* smallest entry with a domain */
	struct ilist filed[NFILINGS];		/* F_UID..F_REST: their entries */
	unsigned int has_any;			/* HAS_* of any entry */
	unsigned int has_allow, has_deny;	/* HAS_* of any allowing, denying one */
};

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t key_done(uint64_t h)
{
	h = mix64(h);
	return h ? h : 1;
}

/* An address (network byte order) as two host-order words. */
struct addr_words {
	uint64_t hi, lo;
};

static struct addr_words addr_words(const uint8_t *addr)
{
	struct addr_words w;

	memcpy(&w.hi, addr, 8);
	memcpy(&w.lo, addr + 8, 8);
	w.hi = be64toh(w.hi);
	w.lo = be64toh(w.lo);
	return w;
}

/* Key of an address masked to plen bits, filed as what (F_DST or F_SRC). */
static uint64_t addr_key(int what, int fam, unsigned int plen, struct addr_words a)
{
	uint64_t hi = plen >= 64 ? a.hi : plen ? a.hi & ~(UINT64_MAX >> plen) : 0;
	uint64_t lo = plen <= 64 ? 0 : plen >= 128 ? a.lo : a.lo & ~(UINT64_MAX >> (plen - 64));
	uint64_t seed = (uint64_t)(what << 16 | fam << 8 | (int)plen) * 0x9e3779b97f4a7c15ULL;

	return key_done(mix64(mix64(hi ^ seed) ^ lo));
}

static uint64_t num_key(int what, uint64_t v)
{
	return key_done(0xcbf29ce484222325ULL ^ ((uint64_t)what << 56) ^ mix64(v + 1));
}

static uint64_t str_key(int what, const char *s)
{
	return key_done(hash_bytes(0xcbf29ce484222325ULL ^ (uint64_t)what, (const uint8_t *)s,
				   strlen(s)));
}

static enum filing filing_of(const struct sluice_policy *p, const struct rule *r)
{
	if ((r->has & HAS_DST) && r->dst.plen)
		return F_DST;
	if ((r->has & HAS_SRC) && r->src.plen)
		return F_SRC;
	if ((r->has & HAS_PORT) && r->port_lo == r->port_hi)
		return F_PORT;
	if (r->has & HAS_UID)
		return F_UID;
	if (r->has & HAS_UNIT)
		return F_UNIT;
	if ((r->has & HAS_EXE) && !sluice_rule_ident(p, r)->exe_dir)
		return F_EXE;
	if (r->has & HAS_DOMAIN)
		return F_DOMAIN;
	return F_REST;
}

static uint64_t rule_key(const struct sluice_policy *p, const struct rule *r, enum filing k)
{
	int fam = sluice_family_index(r->family);

	switch (k) {
	case F_DST:
		return addr_key(F_DST, fam, r->dst.plen, addr_words(r->dst.addr));
	case F_SRC:
		return addr_key(F_SRC, fam, r->src.plen, addr_words(r->src.addr));
	case F_PORT:
		return num_key(F_PORT, r->port_lo);
	case F_UID:
		return num_key(F_UID, r->uid);
	case F_UNIT:
		return str_key(F_UNIT, sluice_rule_ident(p, r)->unit);
	case F_EXE:
		return str_key(F_EXE, sluice_rule_ident(p, r)->exe);
	default:
		return 0;
	}
}

static size_t slot_of(const struct sluice_match_index *x, uint64_t key)
{
	return (size_t)(((unsigned __int128)key * x->nslots) >> 64);
}

/* A key's fingerprint in its slot: never 0, the empty slot's. */
static uint32_t fingerprint(uint64_t key)
{
	return (uint32_t)key ? (uint32_t)key : 1;
}

static uint32_t slot_fp(uint64_t slot)
{
	return (uint32_t)(slot >> 32);
}

static uint32_t slot_start(uint64_t slot)
{
	return (uint32_t)slot;
}

/* The list filed under key; n 0 when none. */
static struct ilist probe(const struct sluice_match_index *x, uint64_t key)
{
	struct ilist l = { NULL, 0 };
	uint32_t fp = fingerprint(key);
	size_t s = slot_of(x, key);

	for (; slot_fp(x->slot[s]); s = s + 1 == x->nslots ? 0 : s + 1) {
		if (slot_fp(x->slot[s]) == fp) {
			l.v = x->cand + slot_start(x->slot[s]);
			l.n = slot_start(x->slot[s + 1]) - slot_start(x->slot[s]);
			break;
		}
	}
	return l;
}

/* ------------------------------------------------------------------ */
/* Building the index                                                  */
/* ------------------------------------------------------------------ */

#define HUGE_PAGE	(2u << 20)

/*
 * Zeroed memory for a table that lookups touch at random: from 2 MiB on,
 * asked of the kernel in huge pages before it is first touched. A lookup
 * touches a few cache lines wherever they are, but at a million rules, in
 * 4 KiB pages, each of them also missed the TLB (a page walk, two under a
 * hypervisor): that, more than the cache, made lookups slow down as the
 * policy grew. A large block of glibc's is a mapping of its own, so the
 * advice reaches no other memory; without transparent huge pages it is
 * ignored.
 */
void *sluice_policy_table_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	uintptr_t start = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)p + n * size) & ~(uintptr_t)4095;

	if (p && n * size >= HUGE_PAGE)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	return p;
}

static void sort_lengths(struct sluice_match_index *x, int col, int fam)
{
	const uint32_t *min = x->min_len[col][fam];
	uint8_t *o = x->order[col][fam];
	int n = 0, i, j;

	for (i = 0; i < MAXLEN; i++) {
		if (min[i] == NONE)
			continue;
		for (j = n++; j > 0 && min[o[j - 1]] > min[i]; j--)
			o[j] = o[j - 1];
		o[j] = (uint8_t)i;
	}
	x->norder[col][fam] = (uint8_t)n;
}

/* Slot of key, counted once more (its fingerprint set when it was free). */
static size_t claim(struct sluice_match_index *x, uint64_t key)
{
	uint32_t fp = fingerprint(key);
	size_t s = slot_of(x, key);

	while (slot_fp(x->slot[s]) && slot_fp(x->slot[s]) != fp)
		s = s + 1 == x->nslots ? 0 : s + 1;
	x->slot[s] = (uint64_t)fp << 32 | (slot_start(x->slot[s]) + 1);
	return s;
}

static int fill_hash(struct sluice_match_index *x, const struct sluice_policy *p,
		     const uint8_t *kind, size_t nhashed)
{
	uint32_t *slot = malloc((p->nrules ? p->nrules : 1) * sizeof(*slot));
	uint32_t *pos = NULL, sum = 0, c;
	size_t i, s;

	x->nslots = nhashed + nhashed / 3 + 2;
	x->slot = sluice_policy_table_alloc(x->nslots + 1, sizeof(*x->slot));
	x->cand = sluice_policy_table_alloc(nhashed, sizeof(*x->cand));
	if (slot && x->slot && x->cand)
		pos = malloc(x->nslots * sizeof(*pos));
	if (!pos) {
		free(slot);
		return -1;
	}
	for (i = 0; i < p->nrules; i++) {		/* count per slot */
		if (kind[i] >= F_DOMAIN)
			continue;
		slot[i] = (uint32_t)claim(x, rule_key(p, &p->rules[i], kind[i]));
	}
	for (s = 0; s <= x->nslots; s++) {		/* counts to starts */
		c = slot_start(x->slot[s]);
		if (s < x->nslots)
			pos[s] = sum;
		x->slot[s] = (uint64_t)slot_fp(x->slot[s]) << 32 | sum;
		sum += c;
	}
	for (i = 0; i < p->nrules; i++)			/* in rule order */
		if (kind[i] < F_DOMAIN)
			x->cand[pos[slot[i]]++] = (uint32_t)i;
	free(pos);
	free(slot);
	return 0;
}

/*
 * The prefix filter of a column and family, from the number of entries
 * filed under each length (count): its len is the longest that leaves at
 * least nine in ten entries at or above it, so that few lengths are probed
 * blind and the blocks are small.
 */
static int fill_filter(struct sluice_match_index *x, const struct sluice_policy *p,
		       const uint8_t *kind, int col, int fam, const uint32_t *count)
{
	struct prefix_filter *pf = &x->filter[col][fam];
	enum filing k = col ? F_SRC : F_DST;
	unsigned int len, top = fam ? 128 : 32;
	uint64_t total = 0, above = 0, words = 2;
	size_t i;

	for (len = 0; len < MAXLEN; len++)
		total += count[len];
	if (!total)
		return 0;
	for (len = top + 1; len-- > 0;) {
		above += count[len];
		if (count[len] && above * 10 >= total * 9)
			break;
	}
	pf->len = (uint8_t)len;
	while ((top - len) >> pf->shift >= 32)
		pf->shift++;
	while (words < 2 * above)
		words *= 2;
	pf->mask = (uint32_t)(words - 1);
	pf->classes = sluice_policy_table_alloc(words, sizeof(*pf->classes));
	if (!pf->classes)
		return -1;
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		const struct sluice_cidr *c = col ? &r->src : &r->dst;

		if (kind[i] != k || sluice_family_index(r->family) != fam || c->plen < len)
			continue;
		pf->classes[addr_key(k, fam, len, addr_words(c->addr)) & pf->mask] |=
			1u << ((c->plen - len) >> pf->shift);
	}
	return 0;
}

static int fill_lists(struct sluice_match_index *x, const uint8_t *kind, size_t n)
{
	size_t i;
	int k;

	for (k = F_UID; k < NFILINGS; k++) {
		x->filed[k].v = malloc((x->filed[k].n ? x->filed[k].n : 1) * sizeof(uint32_t));
		if (!x->filed[k].v)
			return -1;
		x->filed[k].n = 0;
	}
	for (i = 0; i < n; i++)
		if (kind[i] >= F_UID)
			x->filed[kind[i]].v[x->filed[kind[i]].n++] = (uint32_t)i;
	return 0;
}

int sluice_policy_index_build(struct sluice_policy *p)
{
	struct sluice_match_index *x = calloc(1, sizeof(*x));
	uint8_t *kind = malloc(p->nrules ? p->nrules : 1);
	uint32_t count[2][2][MAXLEN] = { { { 0 } } };	/* entries per length */
	size_t i, nhashed = 0;
	int col, fam, ok;

	if (!x || !kind) {
		free(x);
		free(kind);
		return -1;
	}
	p->index = x;
	memset(x->min_len, 0xff, sizeof(x->min_len));
	memset(x->min_filed, 0xff, sizeof(x->min_filed));
	x->min_domain = NONE;
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		enum filing k = filing_of(p, r);
		int f = sluice_family_index(r->family);
		uint32_t *m = NULL;

		kind[i] = (uint8_t)k;
		x->has_any |= r->has;
		if (r->allow)
			x->has_allow |= r->has;
		else
			x->has_deny |= r->has;
		if ((r->has & HAS_DOMAIN) && x->min_domain == NONE)
			x->min_domain = (uint32_t)i;
		if (x->min_filed[k] == NONE)
			x->min_filed[k] = (uint32_t)i;
		if (k == F_DST) {
			m = &x->min_len[0][f][r->dst.plen];
			count[0][f][r->dst.plen]++;
		} else if (k == F_SRC) {
			m = &x->min_len[1][f][r->src.plen];
			count[1][f][r->src.plen]++;
		}
		if (m && *m == NONE)
			*m = (uint32_t)i;
		if (k < F_DOMAIN)
			nhashed++;
		else
			x->filed[k].n++;
		if (k >= F_UID && k < F_DOMAIN)
			x->filed[k].n++;
	}
	ok = fill_hash(x, p, kind, nhashed) == 0 && fill_lists(x, kind, p->nrules) == 0;
	for (col = 0; col < 2; col++) {
		for (fam = 0; fam < 2; fam++) {
			sort_lengths(x, col, fam);
			ok = ok && fill_filter(x, p, kind, col, fam, count[col][fam]) == 0;
		}
	}
	free(kind);
	return ok ? 0 : -1;
}

void sluice_policy_index_free(struct sluice_policy *p)
{
	struct sluice_match_index *x = p->index;
	int k;

	if (!x)
		return;
	free(x->slot);
	free(x->cand);
	for (k = 0; k < 4; k++)
		free(x->filter[k / 2][k % 2].classes);
	for (k = 0; k < NFILINGS; k++)
		free(x->filed[k].v);
	free(x);
	p->index = NULL;
}

size_t sluice_policy_index_bytes(const struct sluice_policy *p)
{
	const struct sluice_match_index *x = p ? p->index : NULL;
	size_t n = 0;
	int k;

	if (!x)
		return 0;
	n = sizeof(*x) + (x->nslots + 1) * sizeof(*x->slot);
	n += slot_start(x->slot[x->nslots]) * sizeof(*x->cand);
	for (k = 0; k < 4; k++)
		if (x->filter[k / 2][k % 2].classes)
			n += (x->filter[k / 2][k % 2].mask + 1ul) * sizeof(uint32_t);
	for (k = 0; k < NFILINGS; k++)
		n += x->filed[k].n * sizeof(uint32_t);
	return n;
}

/* ------------------------------------------------------------------ */
/* Matching (hot path: no allocation, no locks, no SQL)                 */
/* ------------------------------------------------------------------ */

struct walk {
	const struct sluice_policy *p;
	const struct sluice_flow *f;
	struct addr_words addr[2];	/* the flow's dst and src */
	size_t name_len;
	uint32_t best;			/* first entry that matched so far, NONE */
	bool second;			/* the walk that collects unknown columns */
	unsigned int unknown, wanted;	/* second walk: found, and all there are */
	struct sluice_flow_mask mask;
};

static bool walk_done(const struct walk *w)
{
	return w->second && (w->unknown & w->wanted) == w->wanted;
}

static void mask_len(uint8_t *len, unsigned int plen)
{
	if (*len < plen)
		*len = (uint8_t)plen;
}

/* The flow's program against the rule's: exact, or below '/dir/'. */
static bool exe_matches(const struct rule_ident *r, const char *exe)
{
	if (r->exe_dir)
		return strncmp(exe, r->exe, r->exe_dir) == 0 && exe[r->exe_dir];
	return strcmp(exe, r->exe) == 0;
}

/*
 * Test entry index on every column. Returns true when it matches; else
 * *missing holds the SLUICE_UNKNOWN_* columns the flow lacks when only
 * they failed it (0 when a known column failed it). The mask gets the one
 * column that failed it, or all of a match's.
 */
static bool test_entry(struct walk *w, uint32_t index, unsigned int *missing)
{
	const struct rule *r = &w->p->rules[index];
	const struct sluice_flow *f = w->f;
	struct sluice_flow_mask *m = &w->mask;
	unsigned int miss = 0, miss_mask = 0;

	*missing = 0;
	if ((r->family && r->family != f->family) ||
	    (r->direction && r->direction != f->direction) ||
	    (r->proto >= 0 && r->proto != sluice_proto_class(f->proto)))
		return false;		/* family, direction, proto: always masked */
	if (r->has & HAS_SRC) {
		if (!sluice_cidr_contains(&r->src, f->family, f->src)) {
			mask_len(&m->src_len, r->src.plen);
			return false;
		}
	}
	if (r->has & HAS_DST) {
		if (!sluice_cidr_contains(&r->dst, f->family, f->dst)) {
			mask_len(&m->dst_len, r->dst.plen);
			return false;
		}
	}
	if ((r->has & HAS_PORT) && (f->dport < r->port_lo || f->dport > r->port_hi)) {
		m->fields |= SLUICE_MASK_DPORT;
		return false;
	}
	if (r->has & HAS_UID) {
		if (f->uid < 0) {
			miss |= SLUICE_UNKNOWN_UID;
			miss_mask = miss_mask ? miss_mask : SLUICE_MASK_UID;
		} else if (f->uid != (int64_t)r->uid) {
			m->fields |= SLUICE_MASK_UID;
			return false;
		}
	}
	if (r->has & HAS_EXE) {
		if (!f->exe) {
			miss |= SLUICE_UNKNOWN_EXE;
			miss_mask = miss_mask ? miss_mask : SLUICE_MASK_EXE;
		} else if (!exe_matches(sluice_rule_ident(w->p, r), f->exe)) {
			m->fields |= SLUICE_MASK_EXE;
			return false;
		}
	}
	if (r->has & HAS_UNIT) {
		if (!f->unit) {
			miss |= SLUICE_UNKNOWN_UNIT;
			miss_mask = miss_mask ? miss_mask : SLUICE_MASK_UNIT;
		} else if (strcmp(f->unit, sluice_rule_ident(w->p, r)->unit) != 0) {
			m->fields |= SLUICE_MASK_UNIT;
			return false;
		}
	}
	if (r->has & HAS_DOMAIN) {
		if (!f->domain) {
			miss |= SLUICE_UNKNOWN_DOMAIN;
			miss_mask = miss_mask ? miss_mask : SLUICE_MASK_DOMAIN;
		} else if (sluice_domains_lookup_from(w->p->names, f->domain, w->name_len,
						      index) != index) {
			m->fields |= SLUICE_MASK_DOMAIN;
			return false;
		}
	}
	if (miss) {
		m->fields |= miss_mask;
		*missing = miss;
		return false;
	}
	/* The winner: every column it has decided. */
	if (r->has & HAS_SRC)
		mask_len(&m->src_len, r->src.plen);
	if (r->has & HAS_DST)
		mask_len(&m->dst_len, r->dst.plen);
	m->fields |= (r->has & HAS_PORT ? SLUICE_MASK_DPORT : 0) |
		     (r->has & HAS_UID ? SLUICE_MASK_UID : 0) |
		     (r->has & HAS_EXE ? SLUICE_MASK_EXE : 0) |
		     (r->has & HAS_UNIT ? SLUICE_MASK_UNIT : 0) |
		     (r->has & HAS_DOMAIN ? SLUICE_MASK_DOMAIN : 0);
	return true;
}

static void visit(struct walk *w, uint32_t index)
{
	unsigned int missing;

	if (index >= w->best)
		return;
	if (test_entry(w, index, &missing)) {
		w->best = index;	/* only in the first walk: none matches below it */
		return;
	}
	if (w->second)
		w->unknown |= missing;
}

static void visit_list(struct walk *w, struct ilist l)
{
	uint32_t k;

	for (k = 0; k < l.n && l.v[k] < w->best && !walk_done(w); k++)
		visit(w, l.v[k]);
}

/*
 * Every length of dst (col 0) or src (col 1) in use, best-first, but for
 * the lengths the prefix filter rules out. Consulting the filter looks at
 * the address's first filter.len bits, and so masks them.
 */
static void walk_prefixes(struct walk *w, int col, int fam)
{
	const struct sluice_match_index *x = w->p->index;
	const struct prefix_filter *pf = &x->filter[col][fam];
	const uint8_t *o = x->order[col][fam];
	uint8_t *mask = col ? &w->mask.src_len : &w->mask.dst_len;
	enum filing k = col ? F_SRC : F_DST;
	uint32_t classes = 0;
	bool consulted = false;
	int j;

	for (j = 0; j < x->norder[col][fam] && !walk_done(w); j++) {
		unsigned int len = o[j];

		if (x->min_len[col][fam][len] >= w->best)
			break;		/* sorted: the later lengths start later still */
		if (pf->classes && len >= pf->len) {
			if (!consulted) {
				consulted = true;
				mask_len(mask, pf->len);
				classes = pf->classes[addr_key(k, fam, pf->len, w->addr[col]) &
						      pf->mask];
			}
			if (!(classes >> ((len - pf->len) >> pf->shift) & 1))
				continue;
		}
		mask_len(mask, len);
		visit_list(w, probe(x, addr_key(k, fam, len, w->addr[col])));
	}
}

/* A hashed column: probe it with the flow's value when it has one. */
static void walk_hashed(struct walk *w, enum filing k, unsigned int mask_bit, bool known,
			uint64_t key)
{
	const struct sluice_match_index *x = w->p->index;

	if (x->min_filed[k] >= w->best)
		return;
	w->mask.fields |= mask_bit;	/* another value (or knowing it) may find more */
	if (known)
		visit_list(w, probe(x, key));
	else if (w->second)
		visit_list(w, x->filed[k]);
}

static void walk_domains(struct walk *w)
{
	const struct sluice_match_index *x = w->p->index;
	uint32_t i;

	if (x->min_domain >= w->best)
		return;
	w->mask.fields |= SLUICE_MASK_DOMAIN;
	if (!w->f->domain) {
		if (w->second)
			visit_list(w, x->filed[F_DOMAIN]);
		return;
	}
	for (i = sluice_domains_lookup_from(w->p->names, w->f->domain, w->name_len, 0);
	     i < w->best && !walk_done(w);
	     i = sluice_domains_lookup_from(w->p->names, w->f->domain, w->name_len, i + 1))
		visit(w, i);
}

static void walk(struct walk *w, int fam)
{
	const struct sluice_match_index *x = w->p->index;
	const struct sluice_flow *f = w->f;

	/*
	 * The first walk starts with the addresses, which find an early match
	 * most often and so leave the least to look at (and to mask); the
	 * second with the unknown columns' own lists, which end it soonest.
	 */
	if (w->second)
		walk_domains(w);
	walk_prefixes(w, 0, fam);
	walk_prefixes(w, 1, fam);
	walk_hashed(w, F_PORT, SLUICE_MASK_DPORT, true, num_key(F_PORT, f->dport));
	walk_hashed(w, F_UID, SLUICE_MASK_UID, f->uid >= 0,
		    f->uid >= 0 ? num_key(F_UID, (uint64_t)f->uid) : 0);
	walk_hashed(w, F_UNIT, SLUICE_MASK_UNIT, f->unit, f->unit ? str_key(F_UNIT, f->unit) : 0);
	walk_hashed(w, F_EXE, SLUICE_MASK_EXE, f->exe, f->exe ? str_key(F_EXE, f->exe) : 0);
	visit_list(w, x->filed[F_REST]);
	if (!w->second)
		walk_domains(w);
}

struct sluice_decision sluice_policy_match(const struct sluice_policy *p,
					   const struct sluice_flow *f)
{
	struct sluice_decision d = { .allow = 1, .rule_id = 0, .partial = 0 };
	struct walk w = { .p = p, .f = f, .best = NONE };
	unsigned int lacks = 0;
	int fam = sluice_family_index(f->family);

	if (!p)
		return d;	/* no policy compiled yet: fail open */
	d.allow = !p->default_deny;
	/* A flow no rule can match (bad family or direction) gets the default. */
	if (fam < 0 || f->direction < SLUICE_DIR_IN || f->direction > SLUICE_DIR_FORWARD)
		return d;
	if (f->domain)
		w.name_len = strlen(f->domain);
	w.addr[0] = addr_words(f->dst);
	w.addr[1] = addr_words(f->src);
	walk(&w, fam);
	if (w.best != NONE) {
		d.allow = p->rules[w.best].allow;
		d.rule_id = p->rules[w.best].id;
	}
	d.mask = w.mask;
	/* Which columns the flow lacks that some entry wants. */
	lacks = (f->uid < 0 && (p->index->has_any & HAS_UID) ? SLUICE_UNKNOWN_UID : 0) |
		(!f->exe && (p->index->has_any & HAS_EXE) ? SLUICE_UNKNOWN_EXE : 0) |
		(!f->unit && (p->index->has_any & HAS_UNIT) ? SLUICE_UNKNOWN_UNIT : 0) |
		(!f->domain && (p->index->has_any & HAS_DOMAIN) ? SLUICE_UNKNOWN_DOMAIN : 0);
	if (lacks && w.best) {
		w.second = true;
		w.wanted = lacks;
		walk(&w, fam);
	}
	d.partial = w.unknown != 0;
	d.unknown = w.unknown;
	return d;
}

/*
 * Only entries of the other action that want one of the columns the flow
 * lacks can be the rules skipped before the winner and decide otherwise.
 */
int sluice_decision_settled(const struct sluice_policy *p,
			    const struct sluice_decision *d)
{
	unsigned int other, wanted;

	if (!d->partial)
		return 1;
	if (!p)
		return 0;
	other = d->allow ? p->index->has_deny : p->index->has_allow;
	wanted = (d->unknown & SLUICE_UNKNOWN_UID ? HAS_UID : 0) |
		 (d->unknown & SLUICE_UNKNOWN_EXE ? HAS_EXE : 0) |
		 (d->unknown & SLUICE_UNKNOWN_UNIT ? HAS_UNIT : 0) |
		 (d->unknown & SLUICE_UNKNOWN_DOMAIN ? HAS_DOMAIN : 0);
	return !(other & wanted);
}

int sluice_flow_mask_format(const struct sluice_flow_mask *m, char *out, size_t outlen)
{
	return snprintf(out, outlen, "proto dir%s%.0u%s%.0u%s%s%s%s%s",
			m->src_len ? " src/" : "", m->src_len,
			m->dst_len ? " dst/" : "", m->dst_len,
			m->fields & SLUICE_MASK_DPORT ? " dport" : "",
			m->fields & SLUICE_MASK_UID ? " uid" : "",
			m->fields & SLUICE_MASK_EXE ? " exe" : "",
			m->fields & SLUICE_MASK_UNIT ? " unit" : "",
			m->fields & SLUICE_MASK_DOMAIN ? " domain" : "");
}
