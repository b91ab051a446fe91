/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy: the SQLite file people edit (rules, settings, lists; see
 * policy/schema.sql), its compiled in-memory form that decides every new
 * flow, and the hot reload that swaps a new compiled policy in while keeping
 * the last good one when an edit does not compile.
 *
 * Threads: a compiled struct sluice_policy is immutable and may be matched
 * from any number of threads at once. A sqlite3 handle and a
 * struct sluice_policy_loader belong to one thread (the reload thread);
 * only sluice_policy_loader_current() may be called from others.
 */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agent/flow.h"

/* The handle's type, without all of sqlite3.h for every includer. */
typedef struct sqlite3 sqlite3;

/* PRAGMA user_version of policy/schema.sql. */
#define SLUICE_POLICY_SCHEMA_VERSION 4

/*
 * Open the policy database at path for the agent: create it from the built-in
 * schema and default policy when it is missing or empty (creating the parent
 * directory), migrate an older schema (after copying the file to
 * PATH.bak-v<N>), refuse a newer one or a file that is not a sound SQLite
 * database; switch it to WAL mode (which stays with the file). On failure err gets one sentence naming the file and the problem,
 * and -1 is returned; on success *db is the open handle and 0 is returned.
 */
int sluice_policy_open(const char *path, sqlite3 **db, char *err, size_t errlen);

/*
 * An in-memory policy database: a copy of the file copy (opened read-only
 * and left as it is; migrated in memory when older), or, with copy NULL,
 * the built-in schema and default policy with default_action 'allow' or,
 * default_allow 0, 'deny'. 0, or -1 with err naming the file and problem.
 */
int sluice_policy_open_memory(const char *copy, int default_allow, sqlite3 **db,
			      char *err, size_t errlen);

/*
 * The built-in schema and default policy in memory, sql run on it, compiled
 * (sluice_policy_compile): a policy from SQL text, for tests and fuzz
 * targets. NULL with err set when the SQL fails or the result does not
 * compile.
 */
struct sluice_policy *sluice_policy_compile_sql(const char *sql, char *err, size_t errlen);

/*
 * Compile every enabled rule, every enabled list with its domains and the
 * settings, read in one transaction (the caller's, when one is open), into
 * a new policy. Rules and lists form
 * one first-match order: by priority, a rule before a list of the same
 * priority, then by id; a list matches a flow whose domain matches one of
 * its patterns (domains.h). On a bad row: NULL, and err names the row,
 * column and value and why ("rules row 7: dst '10.0.0.300/8' is not a
 * CIDR: ...", "list 'ads' (lists row 3): domain 'a..b' is not ...").
 */
struct sluice_policy *sluice_policy_compile(sqlite3 *db, char *err, size_t errlen);

void sluice_policy_free(struct sluice_policy *p);

/* Number of enabled rules (rows of the rules table) compiled into p. */
size_t sluice_policy_rule_count(const struct sluice_policy *p);

/* Number of enabled lists compiled into p. */
size_t sluice_policy_list_count(const struct sluice_policy *p);

/* Distinct domain patterns of p's rules and enabled lists. */
size_t sluice_policy_domain_count(const struct sluice_policy *p);

/*
 * Whether a rule or list of p allows by domain: without one, a flow that
 * p denies with its name unknown stays denied whatever its name.
 */
int sluice_policy_names_can_allow(const struct sluice_policy *p);

/*
 * The settings compiled into p, read in the same transaction as its rules
 * (NULL p: the defaults). default_action: 1 allow, 0 deny; sinkhole
 * 'null': 1 (0 'nxdomain'); block_dot, block_doh 'yes': 1.
 */
int sluice_policy_default_allow(const struct sluice_policy *p);
int sluice_policy_sinkhole_null(const struct sluice_policy *p);
int sluice_policy_block_dot(const struct sluice_policy *p);
int sluice_policy_block_doh(const struct sluice_policy *p);
/* settings.trusted_resolvers as written (NULL when not set). */
const char *sluice_policy_trusted_resolvers(const struct sluice_policy *p);

/* What sluice_policy_changed() saw last. Zero it before first use. */
struct sluice_policy_watch {
	int primed;
	int data_version;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

#define SLUICE_POLICY_UNCHANGED	0	/* nothing to do */
#define SLUICE_POLICY_CHANGED	1	/* a commit happened: compile again */
#define SLUICE_POLICY_REPLACED	2	/* another file now has the path: reopen, compile */

/*
 * Cheap check whether the database changed since the last call: PRAGMA
 * data_version catches commits by other connections (the sqlite3 CLI), the
 * file's identity, size and mtime catch a file replaced or rewritten under
 * the same name. The first call on a zeroed watch returns CHANGED. Returns
 * one of SLUICE_POLICY_*, or -1 when the file cannot be checked (for
 * example it was removed); the watch is then left as it was.
 */
int sluice_policy_changed(sqlite3 *db, struct sluice_policy_watch *w);

/*
 * Hot reload that keeps the last good policy. The reload thread calls
 * sluice_policy_loader_poll() a few times a second (and with force=1 on
 * SIGHUP); verdict threads read sluice_policy_loader_current(). A policy
 * that does not compile never replaces the current one: the reason stays in
 * error[] until a later compile succeeds.
 */
#define SLUICE_POLICY_FROM_DATABASE	0	/* the policy in force is the database's */
#define SLUICE_POLICY_FROM_LAST_GOOD	1	/* ... PATH.last-good's, since start */
#define SLUICE_POLICY_FROM_BUILT_IN	2	/* ... the built-in default policy's */

struct sluice_policy_loader {
	char *path;
	sqlite3 *db;				/* NULL while the file cannot be opened */
	struct sluice_policy_watch watch;
	struct sluice_policy *_Atomic current;	/* last good, NULL before the first */
	uint64_t generation;			/* successful swaps so far */
	int source;				/* SLUICE_POLICY_FROM_* of current */
	time_t source_time;			/* FROM_LAST_GOOD: when the copy was written */
	char error[512];			/* why the last reload failed, "" if it did not */
	char save_error[320];			/* why the last good copy was not saved, or "" */
};

#define SLUICE_RELOAD_FAILED	-1	/* error[] says why; current is unchanged */
#define SLUICE_RELOAD_NONE	0	/* nothing changed */
#define SLUICE_RELOAD_SWAPPED	1	/* current is a new policy; *retired the old one */

/* PATH.last-good: where the loader keeps a copy of what compiled last. */
void sluice_policy_last_good_path(const char *path, char *out, size_t outlen);

/*
 * The agent's start: open path and compile it. When it cannot be opened or
 * does not compile, enforce its last good copy (PATH.last-good, written
 * after every good compile) or, when there is none that compiles, the
 * built-in default policy with default_action allow (default_allow 1) or
 * deny. Returns SLUICE_POLICY_FROM_*; error[] then says why the database
 * is not in force, and polls go on watching it. -1 (err set): out of memory.
 */
int sluice_policy_loader_start(struct sluice_policy_loader *l, const char *path,
			       int default_allow, char *err, size_t errlen);

/* Open path (see sluice_policy_open); current stays NULL until the first poll. */
int sluice_policy_loader_open(struct sluice_policy_loader *l, const char *path,
			      char *err, size_t errlen);

/*
 * When the database changed (or force), compile it and swap the result in.
 * On SWAPPED, *retired is the policy that was current (may be NULL): the
 * caller frees it once no verdict thread can still be matching against it.
 * retired may be NULL when no reader can exist yet (start-up): the old
 * policy is then freed at once.
 */
int sluice_policy_loader_poll(struct sluice_policy_loader *l, int force,
			      struct sluice_policy **retired);

/* The policy in force, for any thread; NULL before the first good compile. */
static inline const struct sluice_policy *
sluice_policy_loader_current(struct sluice_policy_loader *l)
{
	return atomic_load_explicit(&l->current, memory_order_acquire);
}

/* Close the database and free the current policy (no reader may be left). */
void sluice_policy_loader_close(struct sluice_policy_loader *l);

#endif
