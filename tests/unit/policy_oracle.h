/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The linear matcher sluice had before the index (policy_match.c): every
 * entry of rules[] in (priority, id) order, the first that matches wins.
 * Kept for tests and benchmarks only, as the oracle the index must agree
 * with; never linked into sluiced.
 */
#ifndef SLUICE_POLICY_ORACLE_H
#define SLUICE_POLICY_ORACLE_H

#include <stdbool.h>
#include <string.h>

#include "agent/cidr.h"
#include "agent/domains.h"
#include "agent/policy_int.h"

static bool oracle_in_bucket(const struct rule *r, const struct sluice_flow *f)
{
	return (!r->family || r->family == f->family) &&
	       (!r->direction || r->direction == f->direction) &&
	       (r->proto < 0 || r->proto == sluice_proto_class(f->proto));
}

static bool oracle_rule_matches(const struct sluice_policy *p, uint32_t index,
				const struct sluice_flow *f, unsigned int *unknown)
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
		else if (sluice_rule_ident(p, r)->exe_dir ?
			 strncmp(f->exe, sluice_rule_ident(p, r)->exe, sluice_rule_ident(p, r)->exe_dir) ||
			 !f->exe[sluice_rule_ident(p, r)->exe_dir] :
			 strcmp(f->exe, sluice_rule_ident(p, r)->exe) != 0)
			return false;
	}
	if (r->has & HAS_UNIT) {
		if (!f->unit)
			missing |= SLUICE_UNKNOWN_UNIT;
		else if (strcmp(f->unit, sluice_rule_ident(p, r)->unit) != 0)
			return false;
	}
	if (r->has & HAS_DOMAIN) {
		if (!f->domain)
			missing |= SLUICE_UNKNOWN_DOMAIN;
		else if (sluice_domains_lookup_from(p->names, f->domain, strlen(f->domain),
						    index) != index)
			return false;
	}
	*unknown |= missing;
	return !missing;
}

static struct sluice_decision oracle_match(const struct sluice_policy *p,
					   const struct sluice_flow *f)
{
	struct sluice_decision d = { .allow = 1 };
	unsigned int unknown = 0;
	uint32_t i;

	if (!p)
		return d;
	d.allow = sluice_policy_default_allow(p);
	if (sluice_family_index(f->family) < 0 || f->direction < SLUICE_DIR_IN ||
	    f->direction > SLUICE_DIR_FORWARD)
		return d;
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		if (oracle_in_bucket(r, f) && oracle_rule_matches(p, i, f, &unknown)) {
			d.allow = r->allow;
			d.rule_id = r->id;
			break;
		}
	}
	d.partial = unknown != 0;
	d.unknown = unknown;
	return d;
}

#endif
