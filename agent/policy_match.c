// SPDX-License-Identifier: GPL-2.0
/*
 * The policy database and its compiled form; see policy.h for the contract
 * and policy/schema.sql for the tables.
 *
 * Compiled form. Every enabled rule is parsed once into a struct rule
 * (binary CIDRs, port range, lower-cased domain) in one flat array sorted
 * by (priority, id). A flow can only match rules whose family, direction
 * and protocol agree with it, so the compiler also files every rule's index
 * into each of the 2 x 3 x 5 buckets (family x direction x protocol class)
 * it can match in, keeping the priority order inside each bucket. A match
 * looks up the flow's one bucket in O(1) and tests its rules in order until
 * the first that matches: O(k) for the k rules of that bucket, each test a
 * few compares (CIDR by whole bytes plus one masked byte, ports by range,
 * strings only when the rule has one). Memory is O(n) for n rules: a rule
 * that constrains nothing appears in all 30 buckets as a 4-byte index.
 *
 * Measured (-O2, one core): 10,000 /24 rules compile in ~30 ms; a flow that
 * misses all ~6,700 rules of its bucket costs ~130 us, about 20 ns a rule.
 *
 * Domains. Every rule's domain and every pattern of every enabled list go
 * into one compiled domain set (domains.h) whose payload is the entry's
 * index in rules[]. Lists are entries of rules[] too (a list is a rule whose
 * only condition is its patterns), merged in by priority, rules before
 * lists on equal priority. A match asks the set once for the lowest index
 * >= i whose pattern matches the flow's name and walks the bucket, which
 * is in index order; only when it passes that index does it ask again. So
 * a million list entries cost one hash walk over the name's labels, and
 * each further domain rule a probe only when an earlier one matched.
 *
 * Why no tries or hashes for addresses yet: first match wins across rules of every kind,
 * so an index on one column must still report the earliest rule among all
 * candidates; the buckets cut the candidates without changing that order.
 * The next step for large policies is, per bucket, a sorted array of
 * elementary dst intervals each listing the rule indexes covering it (plus
 * the rules without dst), merged in rule order at match time.
 */
#include "agent/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/domains.h"
#include "agent/policy_int.h"

static int bucket_index(int fam, int dir, int proto)
{
	return (fam * NDIRS + dir) * NPROTOS + proto;
}

/* Can rule match flows of bucket (fam, dir 0-based, proto class)? */
static bool rule_in_bucket(const struct rule *r, int fam, int dir, int proto)
{
	return (!r->family || sluice_family_index(r->family) == fam) &&
	       (!r->direction || r->direction == dir + 1) &&
	       (r->proto < 0 || r->proto == proto);
}

/* File every rule into the buckets it can match in, in rule order. */
int sluice_policy_index_build(struct sluice_policy *p)
{
	size_t total = 0, i;
	int f, d, pr, b;

	for (f = 0; f < NFAMILIES; f++)
		for (d = 0; d < NDIRS; d++)
			for (pr = 0; pr < NPROTOS; pr++) {
				b = bucket_index(f, d, pr);
				p->start[b] = (uint32_t)total;
				for (i = 0; i < p->nrules; i++)
					total += rule_in_bucket(&p->rules[i], f, d, pr);
			}
	p->start[NBUCKETS] = (uint32_t)total;
	p->order = malloc((total ? total : 1) * sizeof(*p->order));
	if (!p->order)
		return -1;
	for (f = 0; f < NFAMILIES; f++)
		for (d = 0; d < NDIRS; d++)
			for (pr = 0; pr < NPROTOS; pr++) {
				uint32_t *o = p->order + p->start[bucket_index(f, d, pr)];

				for (i = 0; i < p->nrules; i++)
					if (rule_in_bucket(&p->rules[i], f, d, pr))
						*o++ = (uint32_t)i;
			}
	return 0;
}

void sluice_policy_index_free(struct sluice_policy *p)
{
	free(p->order);
}

/* ------------------------------------------------------------------ */
/* Matching (hot path: no allocation, no locks, no SQL)                 */
/* ------------------------------------------------------------------ */

/*
 * The flow's name against the domain set, asked lazily: next is the lowest
 * entry index >= the last one asked about whose pattern matches the name
 * (SLUICE_DOMAINS_NONE: no further one). Buckets list entries in index
 * order, so the set is asked again only after the scan passed next.
 */
struct name_cursor {
	const char *name;
	size_t len;
	uint32_t next;
	bool asked;
};

static bool domain_matches(const struct sluice_policy *p, uint32_t index,
			   struct name_cursor *c)
{
	if (!c->asked || (c->next < index)) {
		c->next = sluice_domains_lookup_from(p->names, c->name, c->len, index);
		c->asked = true;
	}
	return c->next == index;
}

/* The flow's program against the rule's: exact, or below '/dir/'. */
static bool exe_matches(const struct rule *r, const char *exe)
{
	if (r->exe_dir)
		return strncmp(exe, r->exe, r->exe_dir) == 0 && exe[r->exe_dir];
	return strcmp(exe, r->exe) == 0;
}

/*
 * Does entry index of p match flow f? A condition on uid, exe, unit or
 * domain that the flow does not know (uid -1, exe, unit or domain NULL)
 * does not match. When every known condition did, *unknown gets the
 * SLUICE_UNKNOWN_* bits of the unknown ones, so a caller re-judging a flow
 * with less information than the first verdict had can tell.
 */
static bool rule_matches(const struct sluice_policy *p, uint32_t index,
			 const struct sluice_flow *f, struct name_cursor *c,
			 unsigned int *unknown)
{
	const struct rule *r = &p->rules[index];
	unsigned int missing = 0;

	if (!r->has)
		return true;
	if ((r->has & HAS_SRC) && !sluice_cidr_contains(&r->src, f->family, f->src))
		return false;
	if ((r->has & HAS_DST) && !sluice_cidr_contains(&r->dst, f->family, f->dst))
		return false;
	if ((r->has & HAS_PORT) && (f->dport < r->port_lo || f->dport > r->port_hi))
		return false;
	if (r->has & HAS_UID) {
		if (f->uid < 0)
			missing |= SLUICE_UNKNOWN_UID;
		else if (f->uid != (int64_t)r->uid)
			return false;
	}
	if (r->has & HAS_EXE) {
		if (!f->exe)
			missing |= SLUICE_UNKNOWN_EXE;
		else if (!exe_matches(r, f->exe))
			return false;
	}
	if (r->has & HAS_UNIT) {
		if (!f->unit)
			missing |= SLUICE_UNKNOWN_UNIT;
		else if (strcmp(f->unit, r->unit) != 0)
			return false;
	}
	if (r->has & HAS_DOMAIN) {
		if (!f->domain)
			missing |= SLUICE_UNKNOWN_DOMAIN;
		else if (!domain_matches(p, index, c))
			return false;
	}
	*unknown |= missing;
	return !missing;
}

struct sluice_decision sluice_policy_match(const struct sluice_policy *p,
					   const struct sluice_flow *f)
{
	struct sluice_decision d = { .allow = 1, .rule_id = 0, .partial = 0 };
	int fam = sluice_family_index(f->family);
	struct name_cursor c = { .name = f->domain };
	unsigned int unknown = 0;
	uint32_t i, b;

	if (!p)
		return d;	/* no policy compiled yet: fail open */
	d.allow = !p->default_deny;
	/* A flow no bucket can hold (bad family or direction) gets the default. */
	if (fam < 0 || f->direction < SLUICE_DIR_IN || f->direction > SLUICE_DIR_FORWARD)
		return d;
	if (f->domain)
		c.len = strlen(f->domain);
	b = (uint32_t)bucket_index(fam, f->direction - 1, sluice_proto_class(f->proto));
	for (i = p->start[b]; i < p->start[b + 1]; i++) {
		const struct rule *r = &p->rules[p->order[i]];

		if (rule_matches(p, p->order[i], f, &c, &unknown)) {
			d.allow = r->allow;
			d.rule_id = r->id;
			break;
		}
	}
	d.partial = unknown != 0;
	d.unknown = unknown;
	return d;
}
