// SPDX-License-Identifier: GPL-2.0
/*
 * What the sluicectl commands that read the decision log (log, top,
 * report) share: which log database to read (--log-db, or the one the
 * agent running in this namespace names in its status file) and how a
 * person writes a span of time (--since).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

int64_t sluicectl_parse_duration(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-' || v > 100000000ULL)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return (int64_t)v * 1000;
	if (!strcmp(end, "m"))
		return (int64_t)v * 60000;
	if (!strcmp(end, "h"))
		return (int64_t)v * 3600000;
	if (!strcmp(end, "d"))
		return (int64_t)v * 86400000;
	return -1;
}

int64_t sluicectl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The running agent's status file; SLUICE_STATUS_FILE replaces it, for tests. */
static const char *agent_status_path(void)
{
	const char *p = getenv("SLUICE_STATUS_FILE");

	return p && *p ? p : SLUICE_AGENT_STATUS_PATH;
}

/* log_db= of the running agent's status file, into @out; -1 none. */
static int agent_log_db(char *out, size_t outlen)
{
	char line[4200];
	FILE *f = fopen(agent_status_path(), "re");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "log_db=", 7)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[7] && strlen(line + 7) < outlen) {
				strcpy(out, line + 7);
				found = 0;
			}
		}
	fclose(f);
	return found;
}

int sluicectl_log_db_open(const char *cmd, char *path, size_t pathlen, sqlite3 **db)
{
	*db = NULL;
	if (!path[0] && agent_log_db(path, pathlen) < 0) {
		fprintf(stderr, "sluicectl %s: no --log-db given, and no sluiced running in this namespace names a decision log in %s\n",
			cmd, agent_status_path());
		return -1;
	}
	/* Read-only and never created: a mistyped path is an error, not an empty log. */
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(*db, "SELECT 1 FROM decisions LIMIT 0", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "sluicectl %s: cannot read the decision log %s: %s\n",
			cmd, path, *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 1000);
	return 0;
}
