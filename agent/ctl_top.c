// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl top [--interval S] [--window DURATION] [--limit N] [--once]
 *               [--log-db PATH]
 *
 * The busiest programs, destinations, names and rules of the last
 * DURATION (default 60 s), each with the flows denied and allowed, read
 * from the decision log with GROUP BY: the log is the one count, top adds
 * none of its own. On a terminal the view is drawn again every S seconds
 * (plain ANSI, the terminal in cbreak mode until q, SIGINT or SIGTERM,
 * then given back as it was). When stdout is not a terminal, or with
 * --once, one snapshot is printed and top exits: that is what scripts
 * read. A snapshot's lines:
 *
 *	sluicectl top: last 60s of PATH: N decisions, D denied, A allowed
 *	<blank>
 *	  DENIED  ALLOWED  PROGRAM
 *	       3        1  /usr/bin/curl
 *	...
 *
 * then DESTINATION, NAME and RULE sections the same way, busiest first
 * (most flows, then most denied, then by name).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

#define DEFAULT_INTERVAL_S	2
#define DEFAULT_WINDOW_MS	60000
#define DEFAULT_LIMIT		8

/*
 * What top and report count by: the key of a decision as SQL over the
 * decisions table, and which decisions have one.
 */
const struct sluicectl_tally sluicectl_tally_programs = {
	"PROGRAM", "coalesce(exe, unit, 'unknown')", "1",
};
const struct sluicectl_tally sluicectl_tally_destinations = {
	"DESTINATION",
	"CASE WHEN dport IS NULL THEN ifnull(dst, '?')"
	" WHEN instr(dst, ':') THEN '[' || dst || ']:' || dport"
	" ELSE dst || ':' || dport END", "1",
};
const struct sluicectl_tally sluicectl_tally_names = {
	"NAME", "domain", "domain IS NOT NULL",
};
const struct sluicectl_tally sluicectl_tally_rules = {
	"RULE",
	"CASE WHEN ifnull(rule_id, 0) > 0 THEN 'rule ' || rule_id"
	" WHEN rule_id < 0 THEN 'list ' || -rule_id ELSE 'default action' END", "1",
};

int sluicectl_tally(sqlite3 *db, const struct sluicectl_tally *t, int denied_only,
		    int64_t since_ms, int limit,
		    void (*row)(void *ctx, const char *key, int64_t denied, int64_t allowed),
		    void *ctx)
{
	sqlite3_stmt *st;
	char sql[1024];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT %s AS k, sum(action = 'deny') AS d, sum(action = 'allow') AS a"
		 " FROM decisions WHERE time >= ?1 AND %s%s"
		 " GROUP BY k ORDER BY %s DESC, d DESC, k LIMIT ?2",
		 t->key_sql, t->filter_sql, denied_only ? " AND action = 'deny'" : "",
		 denied_only ? "d" : "d + a");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(ctx, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int sluicectl_tally_total(sqlite3 *db, int64_t since_ms, int64_t *denied, int64_t *allowed)
{
	sqlite3_stmt *st;
	int rc;

	*denied = *allowed = 0;
	if (sqlite3_prepare_v2(db, "SELECT ifnull(sum(action = 'deny'), 0), ifnull(sum(action = 'allow'), 0)"
			       " FROM decisions WHERE time >= ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, since_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*denied = sqlite3_column_int64(st, 0);
		*allowed = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static void top_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl top [--interval S] [--window DURATION] [--limit N] [--once]\n"
		"                     [--log-db PATH]\n"
		"\n"
		"The busiest programs, destinations, names and rules of the last DURATION,\n"
		"with the flows denied and allowed, from the decision log. On a terminal\n"
		"it is drawn again every S seconds until q (or Ctrl-C); when stdout is\n"
		"not a terminal, or with --once, one snapshot is printed and top exits.\n"
		"\n"
		"  --interval S       seconds between redraws, 1 to 3600 (default %d)\n"
		"  --window DURATION  the span counted: 90s, 15m, 2h, 7d (default 60s)\n"
		"  --limit N          lines a section, 1 to 1000 (default %d)\n"
		"  --once             one snapshot, even on a terminal\n"
		"  --log-db PATH      the decision log (default: the running agent's)\n",
		DEFAULT_INTERVAL_S, DEFAULT_LIMIT);
}

/* A key as the terminal may show it: control bytes (escapes) become '?'. */
static void print_key(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
	fputc('\n', f);
}

static void print_row(void *ctx, const char *key, int64_t denied, int64_t allowed)
{
	FILE *f = ctx;

	fprintf(f, "%8lld %8lld  ", (long long)denied, (long long)allowed);
	print_key(f, key);
}

/* One view of the log into @f; -1 when the log could not be read. */
static int snapshot(FILE *f, sqlite3 *db, const char *path, int64_t window_ms, int limit)
{
	const struct sluicectl_tally *sections[] = {
		&sluicectl_tally_programs, &sluicectl_tally_destinations,
		&sluicectl_tally_names, &sluicectl_tally_rules,
	};
	int64_t since = sluicectl_now_ms() - window_ms, denied, allowed;
	size_t i;

	if (sluicectl_tally_total(db, since, &denied, &allowed) < 0)
		return -1;
	fprintf(f, "sluicectl top: last %llds of %s: %lld decisions, %lld denied, %lld allowed\n",
		(long long)(window_ms / 1000), path, (long long)(denied + allowed),
		(long long)denied, (long long)allowed);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		fprintf(f, "\n  DENIED  ALLOWED  %s\n", sections[i]->title);
		if (sluicectl_tally(db, sections[i], 0, since, limit, print_row, f) < 0)
			return -1;
	}
	return 0;
}

static volatile sig_atomic_t top_stop;

static void top_on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/*
 * Redraw until q, SIGINT or SIGTERM. The terminal (stdin) is put in
 * cbreak mode, so that q needs no Enter and is not echoed, and given
 * back as it was on every way out.
 */
static int live(sqlite3 *db, const char *path, int64_t window_ms, int limit, int interval_s)
{
	struct sigaction sa = { .sa_handler = top_on_signal };
	int keys = isatty(STDIN_FILENO), rc = 0;
	struct termios saved, raw;
	char *view = NULL;
	size_t viewlen;
	FILE *f;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll() returns */
	sigaction(SIGTERM, &sa, NULL);
	if (keys && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		keys = 0;
	}
	fputs("\033[?25l", stdout);	/* cursor hidden while drawing */
	while (!top_stop) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		char c;

		/* Built whole first, so that the screen never shows half a view. */
		f = open_memstream(&view, &viewlen);
		if (!f || snapshot(f, db, path, window_ms, limit) < 0) {
			if (f)
				fclose(f);
			free(view);
			rc = -1;
			break;
		}
		fprintf(f, "\n(q quits; drawn every %ds)", interval_s);
		fclose(f);
		printf("\033[H\033[2J%s", view);
		fflush(stdout);
		free(view);
		view = NULL;
		if (poll(&pfd, keys ? 1 : 0, interval_s * 1000) > 0 &&
		    read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			break;
	}
	fputs("\033[?25h\n", stdout);
	fflush(stdout);
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}

/* A whole number from @min to @max, or -1. */
static long parse_count(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -1;
	return v;
}

int sluicectl_top_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "window", required_argument, NULL, 'w' },
		{ "limit", required_argument, NULL, 'l' },
		{ "once", no_argument, NULL, 'o' },
		{ "log-db", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long interval = DEFAULT_INTERVAL_S, limit = DEFAULT_LIMIT;
	int64_t window = DEFAULT_WINDOW_MS;
	char path[4096] = "";
	int once = 0, c, rc;
	sqlite3 *db;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interval = parse_count(optarg, 1, 3600);
			if (interval < 0)
				return sluicectl_usage_error("top", "--interval must be a whole number of seconds from 1 to 3600, not \"%s\"", optarg);
			break;
		case 'w':
			window = sluicectl_parse_duration(optarg);
			if (window < 1000)
				return sluicectl_usage_error("top", "--window must be a duration of at least a second such as 90s, 15m, 2h or 7d, not \"%s\"", optarg);
			break;
		case 'l':
			limit = parse_count(optarg, 1, 1000);
			if (limit < 0)
				return sluicectl_usage_error("top", "--limit must be a whole number from 1 to 1000, not \"%s\"", optarg);
			break;
		case 'o': once = 1; break;
		case 'L':
			if (strlen(optarg) >= sizeof(path))
				return sluicectl_usage_error("top", "--log-db path too long");
			strcpy(path, optarg);
			break;
		case 'h':
			top_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return sluicectl_usage_error("top", "unknown option or missing value: \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sluicectl_usage_error("top", "unexpected argument \"%s\"", argv[optind]);
	if (sluicectl_log_db_open("top", path, sizeof(path), &db) < 0)
		return SLUICECTL_EXIT_FAILED;
	if (once || !isatty(STDOUT_FILENO))
		rc = snapshot(stdout, db, path, window, (int)limit);
	else
		rc = live(db, path, window, (int)limit, (int)interval);
	if (rc < 0)
		fprintf(stderr, "sluicectl top: cannot read the decision log %s: %s\n",
			path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc < 0 ? SLUICECTL_EXIT_FAILED : SLUICECTL_EXIT_OK;
}
