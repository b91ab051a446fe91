// SPDX-License-Identifier: GPL-2.0
/*
 * The policy database: open, create, migrate, back up, and notice changes.
 * See policy.h for the contract and policy/schema.sql for the tables.
 */
#include "agent/util.h"
#include "agent/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "agent/policy_int.h"
#include "agent/policy_sql.h"

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

const char *sluice_policy_db_path(sqlite3 *db)
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

struct sluice_policy *sluice_policy_compile_sql(const char *sql, char *err, size_t errlen)
{
	struct sluice_policy *p = NULL;
	sqlite3 *db;

	if (sluice_policy_open_memory(NULL, 1, &db, err, errlen) < 0)
		return NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		sluice_seterr(err, errlen, "policy SQL: %s", sqlite3_errmsg(db));
	else
		p = sluice_policy_compile(db, err, errlen);
	sqlite3_close(db);
	return p;
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

