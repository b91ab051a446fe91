// SPDX-License-Identifier: GPL-2.0
/*
 * What the sluicectl commands that read or edit the policy database share:
 * how they open it, and how they report a bad command line. See ctl.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/ctl.h"
#include "agent/policy.h"
#include "agent/status.h"

int sluicectl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluicectl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (sluicectl %s --help shows the usage)\n", cmd);
	return SLUICECTL_EXIT_USAGE;
}

/* 0 when path exists; otherwise says so, as cmd, and -1. */
static int policy_exists(const char *cmd, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		return 0;
	if (errno == ENOENT)
		fprintf(stderr, "sluicectl %s: there is no policy database %s (sluiced creates it when it first starts; --db names another)\n",
			cmd, path);
	else
		fprintf(stderr, "sluicectl %s: cannot read the policy database %s: %s\n",
			cmd, path, strerror(errno));
	return -1;
}

int sluicectl_policy_read(const char *cmd, const char *path, sqlite3 **db)
{
	char err[512];

	if (policy_exists(cmd, path) < 0)
		return -1;
	if (sluice_policy_open_memory(path, 1, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl %s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}

int sluicectl_policy_write(const char *cmd, const char *path, int create, sqlite3 **db)
{
	char err[512];

	if (!create && policy_exists(cmd, path) < 0)
		return -1;
	if (sluice_policy_open(path, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl %s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}
