// SPDX-License-Identifier: GPL-2.0
/*
 * The policy compiler: every enabled rule, list and setting, read in one
 * transaction, parsed and checked once into the struct rule array that
 * policy_match.c indexes. A bad row stops the compile with one sentence
 * naming the row, the column and the value.
 */
#include "agent/util.h"
#include "agent/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agent/domains.h"
#include "agent/identity.h"
#include "agent/policy_int.h"

static const char *const proto_names[NPROTOS - 1] = { "tcp", "udp", "icmp", "icmpv6" };

#define db_path sluice_policy_db_path

/* ------------------------------------------------------------------ */
/* Compiling rules                                                     */
/* ------------------------------------------------------------------ */

enum rule_col {
	COL_ID, COL_PRIORITY, COL_ACTION, COL_DIRECTION, COL_PROTO, COL_SRC,
	COL_DST, COL_DST_PORT, COL_DOMAIN, COL_UID, COL_EXE, COL_UNIT, COL_ENABLED,
};

static const char rules_sql[] =
	"SELECT id, priority, action, direction, proto, src, dst, dst_port,"
	" domain, uid, exe, unit, enabled FROM rules ORDER BY priority, id";

/* Reading one rules row: the statement, and where to say what is wrong. */
struct row {
	sqlite3_stmt *st;
	int64_t id;
	char *err;
	size_t errlen;
};

/* Report column col of the current row as bad, quoting its value. */
static void row_error(const struct row *r, int col, const char *why)
{
	const char *name = sqlite3_column_name(r->st, col);
	const unsigned char *text;

	switch (sqlite3_column_type(r->st, col)) {
	case SQLITE_NULL:
		sluice_seterr(r->err, r->errlen, "rules row %lld: %s NULL %s",
		       (long long)r->id, name, why);
		break;
	case SQLITE_BLOB:
		sluice_seterr(r->err, r->errlen, "rules row %lld: %s (a blob) %s",
		       (long long)r->id, name, why);
		break;
	default:
		text = sqlite3_column_text(r->st, col);
		sluice_seterr(r->err, r->errlen, "rules row %lld: %s '%.80s' %s",
		       (long long)r->id, name, text ? (const char *)text : "", why);
	}
}

/*
 * Text of a column: NULL when the column is NULL, else the text; a blob or
 * text with a NUL byte in it is an error (-1).
 */
static int row_text(const struct row *r, int col, const char **out)
{
	int type = sqlite3_column_type(r->st, col);
	const char *text;

	*out = NULL;
	if (type == SQLITE_NULL)
		return 0;
	if (type == SQLITE_BLOB) {
		row_error(r, col, "must be text");
		return -1;
	}
	text = (const char *)sqlite3_column_text(r->st, col);
	if (!text || (int)strlen(text) != sqlite3_column_bytes(r->st, col)) {
		row_error(r, col, "contains a NUL byte");
		return -1;
	}
	*out = text;
	return 0;
}

/* Index of text in names[n], or -1. */
static int lookup(const char *text, const char *const *names, int n)
{
	int i;

	for (i = 0; text && i < n; i++)
		if (strcmp(text, names[i]) == 0)
			return i;
	return -1;
}

/* Strict decimal 1..65535, no sign, spaces or leading zeros; end at *end. */
static int parse_port(const char *s, const char **end, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9' && p - s < 5; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	*end = p;
	return 0;
}

static int compile_port(const struct row *r, struct rule *rule)
{
	const char *text, *end;

	if (row_text(r, COL_DST_PORT, &text) < 0)
		return -1;
	if (!text)
		return 0;
	if (parse_port(text, &end, &rule->port_lo) < 0)
		goto bad;
	rule->port_hi = rule->port_lo;
	if (*end == '-' && parse_port(end + 1, &end, &rule->port_hi) < 0)
		goto bad;
	if (*end)
		goto bad;
	if (rule->port_lo > rule->port_hi) {
		row_error(r, COL_DST_PORT, "is a range whose low end is above its high end");
		return -1;
	}
	rule->has |= HAS_PORT;
	return 0;
bad:
	row_error(r, COL_DST_PORT, "is not a port 1..65535 or a range lo-hi of them");
	return -1;
}

static int compile_cidr(const struct row *r, int col, struct sluice_cidr *c,
			unsigned int flag, struct rule *rule)
{
	const char *text, *why;
	char msg[96];

	if (row_text(r, col, &text) < 0)
		return -1;
	if (!text)
		return 0;
	if (sluice_cidr_parse(text, c, &why) < 0) {
		snprintf(msg, sizeof(msg), "is not a CIDR: %s", why);
		row_error(r, col, msg);
		return -1;
	}
	if (rule->family && rule->family != c->family) {
		row_error(r, col, "is not of the same address family as src, so the rule could never match");
		return -1;
	}
	rule->family = c->family;
	rule->has |= flag;
	return 0;
}

/* The rule's domain goes into the policy's name set under its index. */
static int compile_domain(const struct row *r, struct rule *rule,
			  struct sluice_domains *names, uint32_t index)
{
	const char *text, *why;
	int rc;

	if (row_text(r, COL_DOMAIN, &text) < 0)
		return -1;
	if (!text)
		return 0;
	rc = sluice_domains_add(names, text, strlen(text), index, &why);
	if (rc == -EINVAL) {
		row_error(r, COL_DOMAIN, why);
		return -1;
	}
	if (rc < 0) {
		sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
		return -1;
	}
	rule->has |= HAS_DOMAIN;
	return 0;
}

/*
 * exe: an absolute path, exact; one ending in a slash and a star is every
 * program below that directory. Nothing else is refused here: schema version 4 refuses
 * other stars and paths the kernel never writes, but rows from before it
 * must still compile (a '*' elsewhere is a plain character).
 */
static int compile_exe(const struct row *r, struct rule *rule, struct rule_ident *ident)
{
	const char *exe;
	size_t len;

	if (row_text(r, COL_EXE, &exe) < 0)
		return -1;
	if (!exe)
		return 0;
	if (exe[0] != '/') {
		row_error(r, COL_EXE, "is not an absolute path");
		return -1;
	}
	ident->exe = strdup(exe);
	if (!ident->exe) {
		sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
		return -1;
	}
	len = strlen(exe);
	if (len >= 2 && !strcmp(exe + len - 2, "/*"))
		ident->exe_dir = (uint32_t)(len - 1);	/* SQLite text is < 2^31 */
	rule->has |= HAS_EXE;
	return 0;
}

static int compile_unit(const struct row *r, struct rule *rule, struct rule_ident *ident)
{
	const char *unit, *why;

	if (row_text(r, COL_UNIT, &unit) < 0)
		return -1;
	if (!unit)
		return 0;
	why = sluice_unit_name_problem(unit);
	if (why) {
		row_error(r, COL_UNIT, why);
		return -1;
	}
	ident->unit = strdup(unit);
	if (!ident->unit) {
		sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
		return -1;
	}
	rule->has |= HAS_UNIT;
	return 0;
}

static int compile_identity(const struct row *r, struct rule *rule, struct rule_ident *ident)
{
	int64_t uid;

	switch (sqlite3_column_type(r->st, COL_UID)) {
	case SQLITE_NULL:
		break;
	case SQLITE_INTEGER:
		uid = sqlite3_column_int64(r->st, COL_UID);
		if (uid >= 0 && uid < UINT32_MAX) {
			rule->uid = (uint32_t)uid;
			rule->has |= HAS_UID;
			break;
		}
		/* fall through */
	default:
		row_error(r, COL_UID, "is not a uid 0..4294967294");
		return -1;
	}
	return compile_exe(r, rule, ident) < 0 ? -1 : compile_unit(r, rule, ident);
}

/*
 * Column col must hold one of names[n]: its index, -1 when it is NULL and
 * null_ok, else -2 with the row's error set (why completes the sentence).
 */
static int row_enum(const struct row *r, int col, const char *const *names, int n,
		    bool null_ok, const char *why)
{
	const char *text;
	int i;

	if (row_text(r, col, &text) < 0)
		return -2;
	if (!text && null_ok)
		return -1;
	i = lookup(text, names, n);
	if (i < 0) {
		row_error(r, col, why);
		return -2;
	}
	return i;
}

/* action, direction, proto and priority: the enumerated columns. */
static int compile_kind(const struct row *r, struct rule *rule)
{
	static const char *const actions[] = { "deny", "allow" };
	/* Index = SLUICE_DIR_*, 0 = any. */
	static const char *const directions[] = { "any", "in", "out", "forward" };
	int action, direction, proto;

	if (sqlite3_column_type(r->st, COL_PRIORITY) != SQLITE_INTEGER) {
		row_error(r, COL_PRIORITY, "is not an integer");
		return -1;
	}
	action = row_enum(r, COL_ACTION, actions, 2, false, "is not 'allow' or 'deny'");
	direction = action < 0 ? -2 :
		row_enum(r, COL_DIRECTION, directions, 4, false,
			 "is not 'in', 'out', 'forward' or 'any'");
	proto = direction < 0 ? -2 :
		row_enum(r, COL_PROTO, proto_names, NPROTOS - 1, true,
			 "is not 'tcp', 'udp', 'icmp', 'icmpv6' or NULL");
	if (proto < -1)
		return -1;
	rule->allow = (uint8_t)action;
	rule->direction = (uint8_t)direction;
	rule->proto = (int8_t)proto;	/* -1 any */
	return 0;
}

static void ident_release(struct rule_ident *ident)
{
	free(ident->exe);
	free(ident->unit);
}

/* Keep ident as p->idents[rule->ident]; -1 when out of memory. */
static int add_ident(struct sluice_policy *p, struct rule *rule, struct rule_ident *ident,
		     size_t *cap)
{
	if (p->nidents == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct rule_ident *n = ncap <= UINT32_MAX ?
			realloc(p->idents, ncap * sizeof(*n)) : NULL;

		if (!n)
			return -1;
		p->idents = n;
		*cap = ncap;
	}
	rule->ident = (uint32_t)p->nidents;
	p->idents[p->nidents++] = *ident;
	return 0;
}

/*
 * Parse the current row into rule, which will be rules[index]; -1 with
 * r->err set when it is bad. Its program and unit go to p->idents.
 */
static int compile_row(const struct row *r, struct rule *rule, struct sluice_policy *p,
		       uint32_t index, size_t *ident_cap)
{
	struct rule_ident ident = { NULL, NULL, 0 };

	memset(rule, 0, sizeof(*rule));
	rule->id = r->id;
	if (compile_kind(r, rule) < 0 ||
	    compile_cidr(r, COL_SRC, &rule->src, HAS_SRC, rule) < 0 ||
	    compile_cidr(r, COL_DST, &rule->dst, HAS_DST, rule) < 0 ||
	    compile_port(r, rule) < 0 ||
	    compile_domain(r, rule, p->names, index) < 0 ||
	    compile_identity(r, rule, &ident) < 0)
		goto fail;
	if (!(rule->has & (HAS_EXE | HAS_UNIT)) || add_ident(p, rule, &ident, ident_cap) == 0)
		return 0;
	sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
fail:
	ident_release(&ident);
	return -1;
}

/* Is the row enabled? -1 (error set) when enabled is not 0 or 1. */
static int row_enabled(const struct row *r)
{
	if (sqlite3_column_type(r->st, COL_ENABLED) == SQLITE_INTEGER) {
		int64_t v = sqlite3_column_int64(r->st, COL_ENABLED);

		if (v == 0 || v == 1)
			return (int)v;
	}
	row_error(r, COL_ENABLED, "is not 1 (in force) or 0 (ignored)");
	return -1;
}

/*
 * End of a read of the lists: rc the last sqlite3_step(), ok whether the
 * rows were good (err set when not). 0 or -1; st is finalized either way.
 */
static int lists_read_end(sqlite3 *db, sqlite3_stmt *st, int rc, bool ok,
			  char *err, size_t errlen)
{
	if (ok && rc != SQLITE_DONE) {
		sluice_seterr(err, errlen, "%s: cannot read the lists: %s", db_path(db), sqlite3_errmsg(db));
		ok = false;
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* An enabled list as read before the rules, to be merged among them. */
struct list_head {
	int64_t id, priority;
	uint8_t allow;
	uint32_t index;			/* its entry in rules[] */
	char name[64];			/* for error messages */
};

struct list_heads {
	struct list_head *v;		/* by priority, then id */
	size_t n, next;			/* next: first not yet merged */
};

/* One more entry at the end of p->rules; NULL when out of memory. */
static struct rule *grow_rules(struct sluice_policy *p, size_t *cap)
{
	if (p->nrules == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct rule *n = ncap <= UINT32_MAX - 1 ?
			realloc(p->rules, ncap * sizeof(*n)) : NULL;

		if (!n)
			return NULL;
		p->rules = n;
		*cap = ncap;
	}
	return &p->rules[p->nrules];
}

/* Append the lists that come before priority (all lists: INT64_MAX + 1). */
static int merge_lists(struct sluice_policy *p, struct list_heads *lh, size_t *cap,
		       int64_t priority, bool all)
{
	while (lh->next < lh->n && (all || lh->v[lh->next].priority < priority)) {
		struct list_head *h = &lh->v[lh->next++];
		struct rule *rule = grow_rules(p, cap);

		if (!rule)
			return -1;
		memset(rule, 0, sizeof(*rule));
		rule->id = -h->id;
		rule->allow = h->allow;
		rule->proto = -1;
		rule->has = HAS_DOMAIN;
		h->index = (uint32_t)p->nrules++;
	}
	return 0;
}

/* Every enabled list, by priority then id; checks what the schema checks. */
static int read_lists(sqlite3 *db, struct list_heads *lh, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id, priority, action, enabled, name FROM lists"
			       " ORDER BY priority, id", -1, &st, NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot read the lists: %s", db_path(db), sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *action = (const char *)sqlite3_column_text(st, 2);
		const char *name = (const char *)sqlite3_column_text(st, 4);
		struct list_head *h;

		if (sqlite3_column_type(st, 3) != SQLITE_INTEGER ||
		    (sqlite3_column_int64(st, 3) != 0 && sqlite3_column_int64(st, 3) != 1)) {
			sluice_seterr(err, errlen, "lists row %lld: enabled is not 1 (in force) or 0 (ignored)",
			       (long long)id);
			goto fail;
		}
		if (!sqlite3_column_int64(st, 3))
			continue;
		if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
			sluice_seterr(err, errlen, "lists row %lld: priority is not an integer", (long long)id);
			goto fail;
		}
		if (!action || (strcmp(action, "allow") && strcmp(action, "deny"))) {
			sluice_seterr(err, errlen, "lists row %lld: action '%.80s' is not 'allow' or 'deny'",
			       (long long)id, action ? action : "NULL");
			goto fail;
		}
		if (lh->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct list_head *n = realloc(lh->v, ncap * sizeof(*n));

			if (!n) {
				sluice_seterr(err, errlen, "%s: out of memory compiling the lists", db_path(db));
				goto fail;
			}
			lh->v = n;
			cap = ncap;
		}
		h = &lh->v[lh->n++];
		h->id = id;
		h->priority = sqlite3_column_int64(st, 1);
		h->allow = strcmp(action, "allow") == 0;
		snprintf(h->name, sizeof(h->name), "%s", name ? name : "");
	}
	return lists_read_end(db, st, rc, true, err, errlen);
fail:
	return lists_read_end(db, st, rc, false, err, errlen);
}

static int read_rules(sqlite3 *db, struct sluice_policy *p, struct list_heads *lh,
		      char *err, size_t errlen)
{
	struct row r = { .err = err, .errlen = errlen };
	struct rule *rule;
	size_t cap = 0, ident_cap = 0;
	int rc, on;

	if (sqlite3_prepare_v2(db, rules_sql, -1, &r.st, NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot read the rules: %s", db_path(db), sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(r.st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(r.st, COL_ID);
		on = row_enabled(&r);
		if (on < 0)
			goto fail;
		if (!on)
			continue;
		/* Lists of a lower priority go first; a list never beats a rule of its own priority. */
		if (sqlite3_column_type(r.st, COL_PRIORITY) == SQLITE_INTEGER &&
		    merge_lists(p, lh, &cap, sqlite3_column_int64(r.st, COL_PRIORITY), false) < 0)
			goto oom;
		rule = grow_rules(p, &cap);
		if (!rule)
			goto oom;
		if (compile_row(&r, rule, p, (uint32_t)p->nrules, &ident_cap) < 0)
			goto fail;
		p->nrules++;
		p->ntable_rules++;
		p->nidentity += (rule->has & HAS_IDENTITY) != 0;
	}
	if (rc != SQLITE_DONE) {
		sluice_seterr(err, errlen, "%s: cannot read the rules: %s", db_path(db), sqlite3_errmsg(db));
		goto fail;
	}
	if (merge_lists(p, lh, &cap, 0, true) < 0)
		goto oom;
	p->nlists = lh->n;
	for (size_t i = 0; i < p->nrules; i++)
		p->nname_allow += (p->rules[i].has & HAS_DOMAIN) && p->rules[i].allow;
	sqlite3_finalize(r.st);
	return 0;
oom:
	sluice_seterr(err, errlen, "%s: out of memory compiling the rules", db_path(db));
fail:
	sqlite3_finalize(r.st);
	return -1;
}

static int list_head_by_id(const void *key, const void *elem)
{
	int64_t id = *(const int64_t *)key, other = ((const struct list_head *)elem)->id;

	return id < other ? -1 : id > other;
}

static int list_head_cmp_id(const void *a, const void *b)
{
	return list_head_by_id(&((const struct list_head *)a)->id, b);
}

/* Every pattern of every enabled list into p->names under its list's index. */
static int read_list_domains(sqlite3 *db, struct sluice_policy *p, struct list_heads *lh,
			     char *err, size_t errlen)
{
	const struct list_head *h = NULL;
	sqlite3_stmt *st;
	int64_t id, last = 0;
	const char *name, *why;
	int rc, added;

	if (!lh->n)
		return 0;
	qsort(lh->v, lh->n, sizeof(*lh->v), list_head_cmp_id);
	if (sqlite3_prepare_v2(db, "SELECT list_id, domain FROM list_domains", -1, &st,
			       NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot read the lists: %s", db_path(db), sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (!h || id != last) {		/* rows come grouped by list_id */
			h = bsearch(&id, lh->v, lh->n, sizeof(*lh->v), list_head_by_id);
			last = id;
		}
		if (!h)
			continue;		/* a disabled list, or no list at all */
		name = (const char *)sqlite3_column_text(st, 1);
		if (!name || sqlite3_column_type(st, 1) != SQLITE_TEXT) {
			sluice_seterr(err, errlen, "list '%s' (lists row %lld): a domain is not text",
			       h->name, (long long)id);
			goto fail;
		}
		added = sluice_domains_add(p->names, name, (size_t)sqlite3_column_bytes(st, 1),
					   h->index, &why);
		if (added == -EINVAL) {
			sluice_seterr(err, errlen, "list '%s' (lists row %lld): domain '%.80s' %s",
			       h->name, (long long)id, name, why);
			goto fail;
		}
		if (added < 0) {
			sluice_seterr(err, errlen, "%s: out of memory compiling the lists", db_path(db));
			goto fail;
		}
	}
	return lists_read_end(db, st, rc, true, err, errlen);
fail:
	return lists_read_end(db, st, rc, false, err, errlen);
}

/*
 * Every setting sluiced reads, with the values it understands; the first
 * is what a missing key means. policy/schema.sql lists the same in the
 * view settings_values, and refuses anything else when it is written.
 */
static const struct setting_def {
	const char *key;
	const char *values[2];		/* index 0: the default */
	size_t offset;			/* of the uint8_t in struct sluice_policy */
} setting_defs[] = {
	{ "default_action", { "allow", "deny" }, offsetof(struct sluice_policy, default_deny) },
	{ "sinkhole", { "nxdomain", "null" }, offsetof(struct sluice_policy, sinkhole_null) },
	{ "block_dot", { "no", "yes" }, offsetof(struct sluice_policy, block_dot) },
	{ "block_doh", { "no", "yes" }, offsetof(struct sluice_policy, block_doh) },
};

/* One settings row into p; -1 with err set when sluiced cannot act on it. */
static int apply_setting(struct sluice_policy *p, sqlite3_stmt *st, char *err, size_t errlen)
{
	const char *key = (const char *)sqlite3_column_text(st, 0);
	const char *v = (const char *)sqlite3_column_text(st, 1);
	bool plain = sqlite3_column_type(st, 1) == SQLITE_TEXT && v &&
		     (int)strlen(v) == sqlite3_column_bytes(st, 1);
	size_t i, k;

	for (k = 0; k < sizeof(setting_defs) / sizeof(setting_defs[0]); k++) {
		const struct setting_def *d = &setting_defs[k];

		if (!key || sqlite3_column_type(st, 0) != SQLITE_TEXT || strcmp(key, d->key) ||
		    (int)strlen(key) != sqlite3_column_bytes(st, 0))
			continue;
		for (i = 0; plain && i < 2; i++) {
			if (!strcmp(v, d->values[i])) {
				*((uint8_t *)p + d->offset) = (uint8_t)i;
				return 0;
			}
		}
		sluice_seterr(err, errlen, "settings %s '%.80s' is not '%s' or '%s'", d->key,
			      v ? v : "NULL", d->values[0], d->values[1]);
		return -1;
	}
	/* A list of addresses: sluiced parses it (agent/nametrust.h). */
	if (key && !strcmp(key, "trusted_resolvers")) {
		free(p->trusted_resolvers);
		p->trusted_resolvers = plain ? strdup(v) : NULL;
		if (plain && !p->trusted_resolvers) {
			sluice_seterr(err, errlen, "out of memory reading settings trusted_resolvers");
			return -1;
		}
		return 0;
	}
	return 0;	/* a key of its own from before schema version 3: no effect */
}

/* The settings, in the compile's transaction: they belong to the policy. */
static int read_settings(sqlite3 *db, struct sluice_policy *p, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT key, value FROM settings", -1, &st, NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot read the settings: %s", db_path(db), sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (apply_setting(p, st, err, errlen) < 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sluice_seterr(err, errlen, "%s: cannot read the settings: %s", db_path(db), sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}


struct sluice_policy *sluice_policy_compile(sqlite3 *db, char *err, size_t errlen)
{
	struct sluice_policy *p = calloc(1, sizeof(*p));
	struct list_heads lists = { 0 };
	int ok, own;

	if (p)
		p->names = sluice_domains_new(0);
	if (!p || !p->names) {
		sluice_seterr(err, errlen, "%s: out of memory compiling the rules", db_path(db));
		free(p);
		return NULL;
	}
	/*
	 * One read transaction: rules and settings from the same commit. A
	 * caller that opened one already (to copy what compiled) keeps it.
	 */
	own = sqlite3_get_autocommit(db);
	if (own && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot read: %s", db_path(db), sqlite3_errmsg(db));
		free(p);
		return NULL;
	}
	ok = read_lists(db, &lists, err, errlen) == 0 &&
	     read_rules(db, p, &lists, err, errlen) == 0 &&
	     read_list_domains(db, p, &lists, err, errlen) == 0 &&
	     read_settings(db, p, err, errlen) == 0;
	if (own)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(lists.v);
	if (ok && sluice_domains_finish(p->names) < 0) {
		sluice_seterr(err, errlen, "%s: out of memory compiling the domains", db_path(db));
		ok = 0;
	}
	if (ok && p->nrules) {		/* give back what doubling left over */
		struct rule *exact = sluice_policy_table_alloc(p->nrules, sizeof(*p->rules));

		if (exact) {
			memcpy(exact, p->rules, p->nrules * sizeof(*p->rules));
			free(p->rules);
			p->rules = exact;
		}
	}
	if (ok && sluice_policy_index_build(p) < 0) {
		sluice_seterr(err, errlen, "%s: out of memory compiling the rules", db_path(db));
		ok = 0;
	}
	if (!ok) {
		sluice_policy_free(p);
		return NULL;
	}
	return p;
}

void sluice_policy_free(struct sluice_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nidents; i++)
		ident_release(&p->idents[i]);
	free(p->idents);
	free(p->rules);
	sluice_policy_index_free(p);
	sluice_domains_free(p->names);
	free(p->trusted_resolvers);
	free(p);
}

size_t sluice_policy_rule_count(const struct sluice_policy *p)
{
	return p ? p->ntable_rules : 0;
}

int sluice_policy_needs_identity(const struct sluice_policy *p)
{
	return p && p->nidentity > 0;
}

size_t sluice_policy_list_count(const struct sluice_policy *p)
{
	return p ? p->nlists : 0;
}

size_t sluice_policy_domain_count(const struct sluice_policy *p)
{
	return p ? sluice_domains_count(p->names) : 0;
}

int sluice_policy_names_can_allow(const struct sluice_policy *p)
{
	return p && p->nname_allow > 0;
}

int sluice_policy_default_allow(const struct sluice_policy *p)
{
	return p ? !p->default_deny : 1;
}

int sluice_policy_sinkhole_null(const struct sluice_policy *p)
{
	return p && p->sinkhole_null;
}

int sluice_policy_block_dot(const struct sluice_policy *p)
{
	return p && p->block_dot;
}

int sluice_policy_block_doh(const struct sluice_policy *p)
{
	return p && p->block_doh;
}

const char *sluice_policy_trusted_resolvers(const struct sluice_policy *p)
{
	return p ? p->trusted_resolvers : NULL;
}
