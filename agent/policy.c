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
#include "agent/util.h"
#include "agent/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "agent/cidr.h"
#include "agent/domains.h"
#include "agent/identity.h"
#include "agent/policy_sql.h"

#define NFAMILIES	2	/* AF_INET, AF_INET6 */
#define NDIRS		3	/* SLUICE_DIR_IN .. SLUICE_DIR_FORWARD */
#define NPROTOS		5	/* tcp, udp, icmp, icmpv6, anything else */
#define NBUCKETS	(NFAMILIES * NDIRS * NPROTOS)
#define PROTO_OTHER	(NPROTOS - 1)

/* Columns of struct rule that constrain the match (rule.has). */
#define HAS_SRC		(1u << 0)
#define HAS_DST		(1u << 1)
#define HAS_PORT	(1u << 2)
#define HAS_UID		(1u << 3)
#define HAS_EXE		(1u << 4)
#define HAS_DOMAIN	(1u << 5)
#define HAS_UNIT	(1u << 6)
#define HAS_IDENTITY	(HAS_UID | HAS_EXE | HAS_UNIT)

struct rule {
	int64_t id;
	unsigned int has;		/* HAS_* */
	uint8_t allow;
	uint8_t direction;		/* SLUICE_DIR_*, 0 = any */
	int8_t proto;			/* protocol class 0..3, -1 = any */
	uint8_t family;			/* AF_INET or AF_INET6 from src/dst, 0 = any */
	uint16_t port_lo, port_hi;	/* inclusive */
	uint32_t uid;
	struct sluice_cidr src, dst;
	char *exe;			/* the domain (HAS_DOMAIN) is in policy.names */
	size_t exe_dir;			/* exe is a directory and a star: the
					 * length of the directory and its slash */
	char *unit;
};

struct sluice_policy {
	size_t nrules;			/* entries of rules[]: table rows and lists */
	size_t ntable_rules, nlists;
	size_t nidentity;		/* rules with a uid, exe or unit */
	struct rule *rules;		/* by priority, rules before lists, then id;
					 * a list's id is -lists.id */
	struct sluice_domains *names;	/* payload: index into rules[] */
	uint32_t *order;		/* rule indexes, bucket after bucket */
	uint32_t start[NBUCKETS + 1];	/* bucket b is order[start[b] .. start[b + 1]) */
	/* settings: index of the value in setting_defs[].values, 0 the default */
	uint8_t default_deny, sinkhole_null, block_dot, block_doh;
	char *trusted_resolvers;	/* settings.trusted_resolvers, or NULL */
};

static const char *const proto_names[NPROTOS - 1] = { "tcp", "udp", "icmp", "icmpv6" };
static const uint8_t proto_numbers[NPROTOS - 1] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6
};


/* ------------------------------------------------------------------ */
/* Opening, creating and migrating the database                        */
/* ------------------------------------------------------------------ */

/*
 * Schema migrations. policy/schema.sql always describes the newest version
 * and is built up of parts: what version 1 had, then for each later version
 * N a part that starts at the line "-- @@ schema version N @@" and holds the
 * SQL that brings version N - 1 to N (new tables, triggers, views). Creating
 * a database runs the whole file; a database at version V >= 1 runs
 * everything after the marker of version V + 1. So the migration of every
 * version is the very text that builds a new database, never a copy of it.
 */
static const char *migration_sql(int from)
{
	char marker[48];

	if (from == 0)
		return sluice_schema_sql;
	snprintf(marker, sizeof(marker), "\n-- @@ schema version %d @@\n", from + 1);
	return strstr(sluice_schema_sql, marker);
}

static const char *db_path(sqlite3 *db)
{
	const char *p = sqlite3_db_filename(db, "main");

	return p && *p ? p : "the policy database";
}

/* The first column of the first row of sql as an integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* mkdir -p of path's parent directory. */
static int make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* PRAGMA quick_check must say "ok"; anything else is the first problem. */
static int check_sound(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	const char *res;
	char *p;

	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		res = (const char *)sqlite3_column_text(st, 0);
		if (res && strcmp(res, "ok") == 0) {
			sqlite3_finalize(st);
			return 0;
		}
		/* "*** in database main ***\nPage 2: ...": keep it one line. */
		if (res && strncmp(res, "*** in database main ***\n", 25) == 0)
			res += 25;
		sluice_seterr(err, errlen, "%s is a corrupt SQLite database (%s); restore it from a backup or remove it to start from the default policy",
		       path, res ? res : "unknown problem");
		for (p = err; p && *p; p++)
			if (*p == '\n')
				*p = ' ';
	} else {
		sluice_seterr(err, errlen, "%s is not a usable SQLite database (%s); restore it from a backup or remove it to start from the default policy",
		       path, sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return -1;
}

/* Copy the database to PATH.bak-v<from> unless such a copy exists already. */
static int backup_before_migration(sqlite3 *db, const char *path, int from,
				   char *err, size_t errlen)
{
	char bak[PATH_MAX];
	sqlite3_stmt *st;
	struct stat sb;
	int rc;

	if (snprintf(bak, sizeof(bak), "%s.bak-v%d", path, from) >= (int)sizeof(bak)) {
		sluice_seterr(err, errlen, "%s: the backup file name is too long", path);
		return -1;
	}
	if (stat(bak, &sb) == 0)
		return 0;	/* an earlier attempt already saved the original */
	rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, bak, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		sluice_seterr(err, errlen, "%s: cannot save a copy to %s before migrating its schema: %s",
		       path, bak, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Bring the schema from version from to SLUICE_POLICY_SCHEMA_VERSION. */
static int migrate(sqlite3 *db, const char *path, int from, char *err, size_t errlen)
{
	char *msg = NULL;
	char sql[64];

	if (from > 0 && sqlite3_db_filename(db, "main")[0] &&
	    backup_before_migration(db, path, from, err, errlen) < 0)
		return -1;
	if (!migration_sql(from)) {
		sluice_seterr(err, errlen, "%s: this sluiced has no migration from policy schema version %d (its built-in schema lacks the version %d part)",
		       path, from, from + 1);
		return -1;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SLUICE_POLICY_SCHEMA_VERSION);
	if (sqlite3_exec(db, migration_sql(from), NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (from == 0 && sqlite3_exec(db, sluice_default_sql, NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	if (from == 0)
		sluice_seterr(err, errlen, "%s: cannot create the policy: %s", path,
		       msg ? msg : sqlite3_errmsg(db));
	else
		sluice_seterr(err, errlen, "%s: cannot migrate the policy schema from version %d to %d: %s",
		       path, from, SLUICE_POLICY_SCHEMA_VERSION, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Write-ahead logging, which stays with the file: readers (sluiced
 * compiling a long list) and a writer (sqlite3 committing an edit) no
 * longer wait for each other. Best effort: a file system without shared
 * memory keeps the rollback journal, and the policy works as before.
 */
static void use_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	const char *mode;
	bool wal = false;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (!wal)
		sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
}

/* Check the version of an open database and create or migrate it. */
static int prepare_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int64_t version, objects;

	if (query_int(db, "PRAGMA user_version", &version) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s is not an SQLite database (%s); restore it from a backup or remove it to start from the default policy",
		       path, sqlite3_errmsg(db));
		return -1;
	}
	if (check_sound(db, path, err, errlen) < 0)
		return -1;
	if (version > SLUICE_POLICY_SCHEMA_VERSION) {
		sluice_seterr(err, errlen, "%s has policy schema version %lld, newer than version %d that this sluiced understands; upgrade sluice or use an older copy of the file",
		       path, (long long)version, SLUICE_POLICY_SCHEMA_VERSION);
		return -1;
	}
	if (version < 0) {
		sluice_seterr(err, errlen, "%s has an invalid policy schema version %lld", path,
		       (long long)version);
		return -1;
	}
	if (version == 0) {
		if (query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != SQLITE_OK)
			objects = -1;
		if (objects != 0) {
			sluice_seterr(err, errlen, "%s is an SQLite database but not a sluice policy (it has tables and PRAGMA user_version 0)",
			       path);
			return -1;
		}
	}
	use_wal(db);
	if (version == SLUICE_POLICY_SCHEMA_VERSION)
		return 0;
	return migrate(db, path, (int)version, err, errlen);
}

int sluice_policy_open(const char *path, sqlite3 **dbp, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	sqlite3 *db = NULL;
	struct stat sb;

	*dbp = NULL;
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			sluice_seterr(err, errlen, "%s is not a regular file", path);
			return -1;
		}
	} else if (errno != ENOENT || make_parent_dirs(path) < 0) {
		sluice_seterr(err, errlen, "%s: cannot create the policy database: %s", path, strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: cannot open: %s", path,
		       db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	/* The sqlite3 CLI may hold a write lock for a moment. */
	sqlite3_busy_timeout(db, 2000);
	/* The schema's triggers read pragma_ignore_check_constraints. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 1, NULL);
	if (prepare_schema(db, path, err, errlen) < 0) {
		sqlite3_close(db);
		return -1;
	}
	*dbp = db;
	return 0;
}

int sluice_policy_open_memory(const char *copy, int default_allow, sqlite3 **dbp,
			      char *err, size_t errlen)
{
	const char *name = copy ? copy : "the built-in default policy";
	sqlite3 *db = NULL, *src = NULL;
	sqlite3_backup *b;
	int rc;

	*dbp = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sluice_seterr(err, errlen, "%s: out of memory", name);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 1, NULL);
	if (copy) {
		rc = sqlite3_open_v2(copy, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
		b = rc == SQLITE_OK ? sqlite3_backup_init(db, "main", src, "main") : NULL;
		if (b) {
			rc = sqlite3_backup_step(b, -1);
			sqlite3_backup_finish(b);
		}
		if (!b || rc != SQLITE_DONE) {
			sluice_seterr(err, errlen, "%s: cannot read: %s", copy,
				      sqlite3_errmsg(b ? db : src));
			sqlite3_close(src);
			sqlite3_close(db);
			return -1;
		}
		sqlite3_close(src);
	}
	/* An older copy is migrated in memory; the file is left as it is. */
	if (prepare_schema(db, name, err, errlen) < 0 ||
	    (!default_allow && sqlite3_exec(db, "UPDATE settings SET value = 'deny'"
					    " WHERE key = 'default_action'", NULL, NULL, NULL) != SQLITE_OK)) {
		sqlite3_close(db);
		return -1;
	}
	*dbp = db;
	return 0;
}

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
static int compile_exe(const struct row *r, struct rule *rule)
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
	rule->exe = strdup(exe);
	if (!rule->exe) {
		sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
		return -1;
	}
	len = strlen(exe);
	if (len >= 2 && !strcmp(exe + len - 2, "/*"))
		rule->exe_dir = len - 1;
	rule->has |= HAS_EXE;
	return 0;
}

static int compile_unit(const struct row *r, struct rule *rule)
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
	rule->unit = strdup(unit);
	if (!rule->unit) {
		sluice_seterr(r->err, r->errlen, "rules row %lld: out of memory", (long long)r->id);
		return -1;
	}
	rule->has |= HAS_UNIT;
	return 0;
}

static int compile_identity(const struct row *r, struct rule *rule)
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
	return compile_exe(r, rule) < 0 ? -1 : compile_unit(r, rule);
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

static void rule_release(struct rule *rule)
{
	free(rule->exe);
	free(rule->unit);
}

/*
 * Parse the current row into rule, which will be rules[index]; -1 with
 * r->err set when it is bad.
 */
static int compile_row(const struct row *r, struct rule *rule,
		       struct sluice_domains *names, uint32_t index)
{
	memset(rule, 0, sizeof(*rule));
	rule->id = r->id;
	if (compile_kind(r, rule) < 0 ||
	    compile_cidr(r, COL_SRC, &rule->src, HAS_SRC, rule) < 0 ||
	    compile_cidr(r, COL_DST, &rule->dst, HAS_DST, rule) < 0 ||
	    compile_port(r, rule) < 0 ||
	    compile_domain(r, rule, names, index) < 0 ||
	    compile_identity(r, rule) < 0) {
		rule_release(rule);
		return -1;
	}
	return 0;
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
	size_t cap = 0;
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
		if (compile_row(&r, rule, p->names, (uint32_t)p->nrules) < 0)
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

static int family_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static int proto_class(uint8_t proto)
{
	int i;

	for (i = 0; i < NPROTOS - 1; i++)
		if (proto_numbers[i] == proto)
			return i;
	return PROTO_OTHER;
}

static int bucket_index(int fam, int dir, int proto)
{
	return (fam * NDIRS + dir) * NPROTOS + proto;
}

/* Can rule match flows of bucket (fam, dir 0-based, proto class)? */
static bool rule_in_bucket(const struct rule *r, int fam, int dir, int proto)
{
	return (!r->family || family_index(r->family) == fam) &&
	       (!r->direction || r->direction == dir + 1) &&
	       (r->proto < 0 || r->proto == proto);
}

/* File every rule into the buckets it can match in, in rule order. */
static int build_buckets(struct sluice_policy *p)
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
	if (ok && build_buckets(p) < 0) {
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
	for (i = 0; i < p->nrules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	free(p->order);
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
	int fam = family_index(f->family);
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
	b = (uint32_t)bucket_index(fam, f->direction - 1, proto_class(f->proto));
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

/* ------------------------------------------------------------------ */
/* Noticing changes and reloading                                      */
/* ------------------------------------------------------------------ */

int sluice_policy_changed(sqlite3 *db, struct sluice_policy_watch *w)
{
	struct sluice_policy_watch now = { .primed = 1 };
	const char *path = sqlite3_db_filename(db, "main");
	int64_t version;
	struct stat sb;
	int ret;

	if (query_int(db, "PRAGMA data_version", &version) != SQLITE_OK)
		return -1;
	if (!path || !*path || stat(path, &sb) < 0)
		return -1;
	now.data_version = (int)version;
	now.dev = sb.st_dev;
	now.ino = sb.st_ino;
	now.size = sb.st_size;
	now.mtime = sb.st_mtim;
	if (!w->primed)
		ret = SLUICE_POLICY_CHANGED;
	else if (now.dev != w->dev || now.ino != w->ino)
		ret = SLUICE_POLICY_REPLACED;
	else if (now.data_version != w->data_version || now.size != w->size ||
		 now.mtime.tv_sec != w->mtime.tv_sec || now.mtime.tv_nsec != w->mtime.tv_nsec)
		ret = SLUICE_POLICY_CHANGED;
	else
		ret = SLUICE_POLICY_UNCHANGED;
	*w = now;
	return ret;
}
