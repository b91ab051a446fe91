// SPDX-License-Identifier: GPL-2.0
/*
 * The hot reload of the policy and its last good copy; see policy.h.
 *
 * Last good copy. After every compile of the database that succeeds, the
 * very snapshot that compiled (the copy is taken inside the compile's read
 * transaction) is written with SQLite's backup API to PATH.last-good.tmp,
 * switched to a plain rollback journal, and renamed to PATH.last-good. A
 * fresh agent whose database cannot be opened or does not compile loads
 * that copy into memory (migrating it there if it is older) and enforces
 * it, while it keeps watching the database; when neither works it enforces
 * the built-in default policy. So a row that slipped past the schema never
 * leaves a restarted agent with nothing to enforce.
 */
#include "agent/util.h"
#include "agent/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

/* An empty loader of path: nothing open, nothing in force. */
static int loader_init(struct sluice_policy_loader *l, const char *path, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	atomic_init(&l->current, NULL);
	l->path = strdup(path);
	if (!l->path) {
		sluice_seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

int sluice_policy_loader_open(struct sluice_policy_loader *l, const char *path,
			      char *err, size_t errlen)
{
	if (loader_init(l, path, err, errlen) < 0)
		return -1;
	if (sluice_policy_open(path, &l->db, err, errlen) < 0) {
		free(l->path);
		l->path = NULL;
		return -1;
	}
	return 0;
}

/*
 * Drop the handle of a replaced file and open what now has its name. The
 * -wal file goes by the name, not the file: SQLite leaves the frames of a
 * file that was moved away in it, and the next connection would read them
 * as part of the new file. Checkpointing into the old file first and
 * truncating the log leaves the new file nothing stale to read.
 */
static int loader_reopen(struct sluice_policy_loader *l)
{
	if (l->db)
		sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(l->db);
	l->db = NULL;
	memset(&l->watch, 0, sizeof(l->watch));
	if (sluice_policy_open(l->path, &l->db, l->error, sizeof(l->error)) < 0)
		return -1;
	return sluice_policy_changed(l->db, &l->watch) < 0 ? -1 : 0;
}

void sluice_policy_last_good_path(const char *path, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s.last-good", path);
}

/*
 * Copy the snapshot db is reading (inside its open read transaction) to
 * PATH.last-good, through a temporary file and a rename, so that the
 * copy is always whole. Failure is reported in l->save_error only: the
 * policy in force does not depend on it.
 */
static void save_last_good(struct sluice_policy_loader *l)
{
	char copy[PATH_MAX], tmp[PATH_MAX + 8];
	sqlite3 *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc;

	sluice_policy_last_good_path(l->path, copy, sizeof(copy));
	snprintf(tmp, sizeof(tmp), "%s.tmp", copy);
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		b = sqlite3_backup_init(dst, "main", l->db, "main");
	if (b) {
		rc = sqlite3_backup_step(b, -1);
		sqlite3_backup_finish(b);
	}
	/* The copy is read alone, maybe read-only: no -wal, no -shm. */
	if (b && rc == SQLITE_DONE &&
	    sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_close(dst) == SQLITE_OK) {
		dst = NULL;
		if (rename(tmp, copy) == 0) {
			l->save_error[0] = '\0';
			return;
		}
		sluice_seterr(l->save_error, sizeof(l->save_error), "%s: cannot save the last good copy: %s",
			      copy, strerror(errno));
	} else {
		sluice_seterr(l->save_error, sizeof(l->save_error), "%s: cannot save the last good copy: %s",
			      copy, dst ? sqlite3_errmsg(dst) : "out of memory");
	}
	sqlite3_close(dst);
	unlink(tmp);
}

/* Compile the database and, when it compiles, copy what compiled. */
static struct sluice_policy *compile_database(struct sluice_policy_loader *l)
{
	struct sluice_policy *p;

	if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		sluice_seterr(l->error, sizeof(l->error), "%s: cannot read: %s", l->path,
			      sqlite3_errmsg(l->db));
		return NULL;
	}
	p = sluice_policy_compile(l->db, l->error, sizeof(l->error));
	if (p)
		save_last_good(l);
	sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	return p;
}

static void swap_in(struct sluice_policy_loader *l, struct sluice_policy *p, int source,
		    struct sluice_policy **retired)
{
	struct sluice_policy *old = atomic_exchange_explicit(&l->current, p, memory_order_acq_rel);

	if (retired)
		*retired = old;
	else
		sluice_policy_free(old);
	l->source = source;
	l->generation++;
}

int sluice_policy_loader_poll(struct sluice_policy_loader *l, int force,
			      struct sluice_policy **retired)
{
	struct sluice_policy *p;
	int c;

	if (retired)
		*retired = NULL;
	if (!l->db) {
		/* The last reopen failed: try again, the file may be fixed. */
		if (loader_reopen(l) < 0)
			return SLUICE_RELOAD_FAILED;
		c = SLUICE_POLICY_CHANGED;
	} else {
		errno = 0;
		c = sluice_policy_changed(l->db, &l->watch);
	}
	if (c < 0) {
		sluice_seterr(l->error, sizeof(l->error), "%s: cannot check the policy file for changes: %s",
		       l->path, errno ? strerror(errno) : sqlite3_errmsg(l->db));
		return SLUICE_RELOAD_FAILED;
	}
	if (c == SLUICE_POLICY_REPLACED && loader_reopen(l) < 0)
		return SLUICE_RELOAD_FAILED;
	if (c == SLUICE_POLICY_UNCHANGED && !force)
		return SLUICE_RELOAD_NONE;
	p = compile_database(l);
	if (!p)
		return SLUICE_RELOAD_FAILED;
	l->error[0] = '\0';
	swap_in(l, p, SLUICE_POLICY_FROM_DATABASE, retired);
	return SLUICE_RELOAD_SWAPPED;
}

/* The last good copy, or the built-in default policy; -1 only when out of memory. */
static int start_from_fallback(struct sluice_policy_loader *l, int default_allow)
{
	char copy[PATH_MAX], why[512];
	struct sluice_policy *p = NULL;
	struct stat sb;
	sqlite3 *db;

	sluice_policy_last_good_path(l->path, copy, sizeof(copy));
	if (stat(copy, &sb) == 0 &&
	    sluice_policy_open_memory(copy, 1, &db, why, sizeof(why)) == 0) {
		p = sluice_policy_compile(db, why, sizeof(why));
		sqlite3_close(db);
		if (p) {
			l->source_time = sb.st_mtime;
			swap_in(l, p, SLUICE_POLICY_FROM_LAST_GOOD, NULL);
			return SLUICE_POLICY_FROM_LAST_GOOD;
		}
	}
	if (sluice_policy_open_memory(NULL, default_allow, &db, why, sizeof(why)) < 0)
		return -1;
	p = sluice_policy_compile(db, why, sizeof(why));
	sqlite3_close(db);
	if (!p)
		return -1;
	swap_in(l, p, SLUICE_POLICY_FROM_BUILT_IN, NULL);
	return SLUICE_POLICY_FROM_BUILT_IN;
}

int sluice_policy_loader_start(struct sluice_policy_loader *l, const char *path,
			       int default_allow, char *err, size_t errlen)
{
	struct sluice_policy *p;
	int rc;

	if (loader_init(l, path, err, errlen) < 0)
		return -1;
	if (sluice_policy_open(path, &l->db, l->error, sizeof(l->error)) == 0 &&
	    sluice_policy_changed(l->db, &l->watch) >= 0) {
		p = compile_database(l);
		if (p) {
			l->error[0] = '\0';
			swap_in(l, p, SLUICE_POLICY_FROM_DATABASE, NULL);
			return SLUICE_POLICY_FROM_DATABASE;
		}
	}
	/* l->error says why; l->db (when open) goes on being watched. */
	rc = start_from_fallback(l, default_allow);
	if (rc < 0)
		sluice_seterr(err, errlen, "%s; and out of memory for the built-in default policy",
			      l->error);
	return rc;
}

void sluice_policy_loader_close(struct sluice_policy_loader *l)
{
	sluice_policy_free(atomic_exchange(&l->current, NULL));
	sqlite3_close(l->db);
	l->db = NULL;
	free(l->path);
	l->path = NULL;
}
