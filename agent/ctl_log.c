// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl log [--denied] [--since DURATION] [--limit N] [--follow]
 *               [--json] [--log-db PATH]
 *
 * The decisions the agent logged (decision_log.h), oldest first: the last
 * N (default 50) that match, then, with --follow, each new one as it is
 * written. A line a decision: time, action, direction, protocol, source
 * and destination, the name, who the flow belonged to (uid, unit, exe:
 * "unknown" when the agent could not tell), and the rule. --json prints one
 * object a line with the keys time, action, direction, proto, src, sport,
 * dst, dport, domain, uid, exe, unit, rule; an unknown value is null
 * there, and rule is null for the default action (a list's decisions
 * have "list" instead). Without --log-db, the log of the agent running in
 * this namespace, as its status file names it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

#define DEFAULT_LIMIT	50
#define FOLLOW_MS	500

enum { C_ID, C_TIME, C_ACTION, C_DIR, C_PROTO, C_SRC, C_SPORT, C_DST, C_DPORT,
       C_DOMAIN, C_UID, C_EXE, C_UNIT, C_RULE };

static const char select_sql[] =
	"SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', time / 1000.0, 'unixepoch'),"
	" action, direction, proto, src, sport, dst, dport, domain, uid, exe, unit, rule_id"
	" FROM decisions WHERE id > ?1 AND time >= ?2 AND (?3 = 0 OR action = 'deny')";

static void log_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl log [--denied] [--since DURATION] [--limit N] [--follow]\n"
		"                     [--json] [--log-db PATH]\n"
		"\n"
		"  --denied          only the flows denied\n"
		"  --since DURATION  only the last DURATION: 90s, 15m, 2h, 7d\n"
		"  --limit N         the last N decisions (default %d)\n"
		"  --follow          then print new decisions as they come\n"
		"  --json            one JSON object a line\n"
		"  --log-db PATH     the decision log (default: the running agent's)\n",
		DEFAULT_LIMIT);
}

static int log_usage_error(const char *fmt, const char *arg)
{
	return sluicectl_usage_error("log", fmt, arg);
}

static void json_string(const unsigned char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (*s < 0x20 || *s == 0x7f)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_int(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		fputs("null", stdout);
	else
		printf("%lld", (long long)sqlite3_column_int64(st, col));
}

static void print_json(sqlite3_stmt *st)
{
	static const struct { const char *key; int col; int num; } keys[] = {
		{ "time", C_TIME, 0 }, { "action", C_ACTION, 0 }, { "direction", C_DIR, 0 },
		{ "proto", C_PROTO, 0 }, { "src", C_SRC, 0 }, { "sport", C_SPORT, 1 },
		{ "dst", C_DST, 0 }, { "dport", C_DPORT, 1 }, { "domain", C_DOMAIN, 0 },
		{ "uid", C_UID, 1 }, { "exe", C_EXE, 0 }, { "unit", C_UNIT, 0 },
	};
	int64_t rule = sqlite3_column_int64(st, C_RULE);
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		printf("%s\"%s\":", i ? "," : "{", keys[i].key);
		if (keys[i].num)
			json_int(st, keys[i].col);
		else
			json_string(sqlite3_column_text(st, keys[i].col));
	}
	if (rule < 0)
		printf(",\"rule\":null,\"list\":%lld}\n", -(long long)rule);
	else if (rule > 0)
		printf(",\"rule\":%lld}\n", (long long)rule);
	else
		printf(",\"rule\":null}\n");
}

static const char *text_or(sqlite3_stmt *st, int col, const char *none)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : none;
}

/*
 * An address and port as people write them, [v6]:port or v4:port, padded
 * to the width of the longest IPv4 one so that the columns line up (a
 * longer IPv6 one pushes its line's rest to the right).
 */
static void print_endpoint(sqlite3_stmt *st, int addr, int port)
{
	const char *a = text_or(st, addr, "?");
	char buf[80];

	if (sqlite3_column_type(st, port) == SQLITE_NULL)
		snprintf(buf, sizeof(buf), "%s", a);
	else if (strchr(a, ':'))
		snprintf(buf, sizeof(buf), "[%s]:%lld", a, (long long)sqlite3_column_int64(st, port));
	else
		snprintf(buf, sizeof(buf), "%s:%lld", a, (long long)sqlite3_column_int64(st, port));
	printf("%-21s", buf);
}

static void print_text(sqlite3_stmt *st)
{
	int64_t rule = sqlite3_column_int64(st, C_RULE);

	printf("%s %-5s %-7s %-6s ", text_or(st, C_TIME, "?"), text_or(st, C_ACTION, "?"),
	       text_or(st, C_DIR, "?"), text_or(st, C_PROTO, "?"));
	print_endpoint(st, C_SRC, C_SPORT);
	printf(" -> ");
	print_endpoint(st, C_DST, C_DPORT);
	printf(" %-24s", text_or(st, C_DOMAIN, "-"));
	if (sqlite3_column_type(st, C_UID) == SQLITE_NULL)
		printf(" uid=unknown");
	else
		printf(" uid=%lld", (long long)sqlite3_column_int64(st, C_UID));
	printf(" unit=%s exe=%s", text_or(st, C_UNIT, "unknown"), text_or(st, C_EXE, "unknown"));
	if (rule > 0)
		printf(" rule %lld\n", (long long)rule);
	else if (rule < 0)
		printf(" list %lld\n", -(long long)rule);
	else
		printf(" default action\n");
}

struct log_opts {
	int denied, json, follow;
	int64_t since_ms, limit;
};

/* Print the matching rows after id @*last (the last @limit, -1 all). */
static int print_rows(sqlite3 *db, const struct log_opts *o, int64_t *last, int64_t limit)
{
	char sql[512];
	sqlite3_stmt *st;
	struct timespec ts;
	int64_t since = 0;
	int rc;

	if (o->since_ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		since = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - o->since_ms;
	}
	/* The last N, shown oldest first. */
	snprintf(sql, sizeof(sql), "SELECT * FROM (%s ORDER BY id DESC LIMIT %lld) ORDER BY id",
		 select_sql, (long long)limit);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, *last);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, o->denied);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*last = sqlite3_column_int64(st, C_ID);
		if (o->json)
			print_json(st);
		else
			print_text(st);
	}
	sqlite3_finalize(st);
	fflush(stdout);
	return rc == SQLITE_DONE ? 0 : -1;
}

int sluicectl_log_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "denied", no_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "log-db", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_opts o = { .since_ms = -1, .limit = DEFAULT_LIMIT };
	char path[4096] = "";
	int64_t last = 0;
	unsigned long long v;
	sqlite3 *db;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.denied = 1; break;
		case 'f': o.follow = 1; break;
		case 'j': o.json = 1; break;
		case 's':
			o.since_ms = sluicectl_parse_duration(optarg);
			if (o.since_ms < 0)
				return log_usage_error("--since must be a duration such as 90s, 15m, 2h or 7d, not \"%s\"", optarg);
			break;
		case 'l':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || optarg[0] == '-' || !v || v > 100000000ULL)
				return log_usage_error("--limit must be a whole number from 1, not \"%s\"", optarg);
			o.limit = (int64_t)v;
			break;
		case 'L':
			if (strlen(optarg) >= sizeof(path))
				return log_usage_error("--log-db path too long%s", "");
			strcpy(path, optarg);
			break;
		case 'h':
			log_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return log_usage_error("unknown option or missing value: \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return log_usage_error("unexpected argument \"%s\"", argv[optind]);
	if (sluicectl_log_db_open("log", path, sizeof(path), &db) < 0)
		return SLUICECTL_EXIT_FAILED;
	if (print_rows(db, &o, &last, o.limit) < 0) {
		fprintf(stderr, "sluicectl log: cannot read the decision log %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return SLUICECTL_EXIT_FAILED;
	}
	while (o.follow) {
		usleep(FOLLOW_MS * 1000);
		if (print_rows(db, &o, &last, -1) < 0) {
			fprintf(stderr, "sluicectl log: cannot read the decision log %s: %s\n", path, sqlite3_errmsg(db));
			sqlite3_close(db);
			return SLUICECTL_EXIT_FAILED;
		}
	}
	sqlite3_close(db);
	return SLUICECTL_EXIT_OK;
}
