/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sluicectl subcommands that work on the policy database rather than on
 * the kernel module (those are declared in status.h). Same contract:
 * argv[0] is the subcommand's name, the return value the exit code
 * (SLUICECTL_EXIT_*).
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

/* The policy database sluiced and sluicectl use when no --db is given. */
#define SLUICE_DEFAULT_POLICY_DB	"/var/lib/sluice/policy.db"

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/*
 * The policy database for a command that only reads it: a copy in memory
 * (an older schema migrated there; the file is left as it is). A missing
 * file is an error, never created. 0, or -1 after one sentence on stderr
 * that starts with "sluicectl CMD:".
 */
int sluicectl_policy_read(const char *cmd, const char *path, sqlite3 **db);

/*
 * The policy database for a command that edits it, opened as sluiced
 * opens it (sluice_policy_open: migrated, WAL, a busy timeout, so that it
 * can be written while sluiced runs). A missing file is created from the
 * default policy when create is set, an error otherwise. 0, or -1 after
 * one sentence on stderr.
 */
int sluicectl_policy_write(const char *cmd, const char *path, int create, sqlite3 **db);

/*
 * A bad command line, in one line on stderr: "sluicectl CMD: <fmt ...>
 * (sluicectl CMD --help shows the usage)"; returns SLUICECTL_EXIT_USAGE.
 * The usage itself is --help's, on stdout: an error stays one sentence.
 */
int sluicectl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The decision log a command reads (ctl_logdb.c): @path[@pathlen] holds
 * --log-db, or "" for the log of the agent running in this namespace (its
 * status file names it; @path gets that name). Opened read-only, never
 * created, and checked to hold the decisions table. 0, or -1 after one
 * sentence on stderr that starts with "sluicectl CMD:".
 */
int sluicectl_log_db_open(const char *cmd, char *path, size_t pathlen, sqlite3 **db);

/* "90s", "15m", "2h", "7d" (a bare number is seconds) into ms; -1 bad. */
int64_t sluicectl_parse_duration(const char *s);

/* CLOCK_REALTIME in unix milliseconds, the decision log's time. */
int64_t sluicectl_now_ms(void);

/*
 * A way of counting decisions (ctl_top.c): key_sql is the key of a row of
 * the decisions table as SQL, filter_sql which rows have one; title names
 * it in a column head. The four that top shows and report draws:
 */
struct sluicectl_tally {
	const char *title;
	const char *key_sql;
	const char *filter_sql;
};

extern const struct sluicectl_tally sluicectl_tally_programs, sluicectl_tally_destinations,
	sluicectl_tally_names, sluicectl_tally_rules;

/*
 * The @limit busiest keys of @t among the decisions since @since_ms (only
 * the denied ones with @denied_only), busiest first, each to @row with
 * its denied and allowed counts. 0, or -1 on an SQLite error.
 */
int sluicectl_tally(sqlite3 *db, const struct sluicectl_tally *t, int denied_only,
		    int64_t since_ms, int limit,
		    void (*row)(void *ctx, const char *key, int64_t denied, int64_t allowed),
		    void *ctx);

/* How many decisions since @since_ms were denied and allowed; 0 or -1. */
int sluicectl_tally_total(sqlite3 *db, int64_t since_ms, int64_t *denied, int64_t *allowed);

/* sluicectl top: the busiest programs, names and rules, live (ctl_top.c). */
int sluicectl_top_main(int argc, char *argv[]);

/* sluicectl report --html: a page of charts from the decision log (ctl_report.c). */
int sluicectl_report_main(int argc, char *argv[]);

/* sluicectl import: a hosts file or domain list into a list (ctl_import.c). */
int sluicectl_import_main(int argc, char *argv[]);

/* sluicectl explain: what the policy decides for a described flow (ctl_explain.c). */
int sluicectl_explain_main(int argc, char *argv[]);

/* sluicectl log: the decisions the agent logged (ctl_log.c). */
int sluicectl_log_main(int argc, char *argv[]);

/* sluicectl rules: every rule of the policy (ctl_rules.c). */
int sluicectl_rules_main(int argc, char *argv[]);

/* sluicectl allow|deny: adds a rule; delete|enable|disable ID (ctl_edit.c). */
int sluicectl_add_main(int argc, char *argv[]);
int sluicectl_change_main(int argc, char *argv[]);

#endif /* SLUICE_CTL_H */
