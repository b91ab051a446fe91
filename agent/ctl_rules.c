// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl rules [--json] [--db PATH]
 *
 * Every row of the rules table, in the order the agent tries them
 * (priority, then id), disabled ones included: aligned columns for people,
 * "-" for a NULL (any); with --json one object a line, NULL as null and
 * the integer columns as numbers. The rows are those `sqlite3 PATH
 * 'SELECT * FROM rules ORDER BY priority, id'` shows; the file is read
 * into memory and left as it is (an older schema is migrated in memory).
 *
 * Exit codes: 0 listed (even none), 1 the database could not be read,
 * 2 bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

/* The columns shown, in order; the ones whose values are numbers. */
static const struct {
	const char *name;
	int number;
} rules_cols[] = {
	{ "id", 1 }, { "priority", 1 }, { "action", 0 }, { "direction", 0 },
	{ "proto", 0 }, { "src", 0 }, { "dst", 0 }, { "dst_port", 0 },
	{ "domain", 0 }, { "uid", 1 }, { "exe", 0 }, { "unit", 0 },
	{ "enabled", 1 }, { "comment", 0 },
};

#define RULES_NCOLS	((int)(sizeof(rules_cols) / sizeof(rules_cols[0])))

static const char rules_list_sql[] =
	"SELECT id, priority, action, direction, proto, src, dst, dst_port,"
	" domain, uid, exe, unit, enabled, comment FROM rules ORDER BY priority, id";

static void rules_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl rules [--json] [--db PATH]\n"
		"\n"
		"Lists every rule of the policy in the order sluiced tries them (lower\n"
		"priority first, then lower id; the first enabled rule that matches decides).\n"
		"\"-\" is a column that matches anything.\n"
		"\n"
		"  --json      one JSON object a line, null for a column that matches anything\n"
		"  --db PATH   the policy database (default %s)\n",
		SLUICE_DEFAULT_POLICY_DB);
}

static const char *cell(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? s : "-";
}

static void print_json_row(sqlite3_stmt *st)
{
	int i;

	for (i = 0; i < RULES_NCOLS; i++) {
		printf("%s\"%s\":", i ? "," : "{", rules_cols[i].name);
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			fputs("null", stdout);
		else if (rules_cols[i].number && sqlite3_column_type(st, i) == SQLITE_INTEGER)
			printf("%lld", (long long)sqlite3_column_int64(st, i));
		else
			sluice_json_string(stdout, (const char *)sqlite3_column_text(st, i));
	}
	fputs("}\n", stdout);
}

/* One line: every column padded to its width but the last. */
static void print_text_row(const char *const cells[], const int width[])
{
	int i;

	for (i = 0; i < RULES_NCOLS - 1; i++)
		printf("%-*s  ", width[i], cells[i]);
	printf("%s\n", cells[i]);
}

/* Two passes over the rows: the widths of the columns, then the lines. */
static int print_rules(sqlite3 *db, int json)
{
	const char *cells[RULES_NCOLS];
	int width[RULES_NCOLS], i, rc, pass;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, rules_list_sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < RULES_NCOLS; i++)
		width[i] = (int)strlen(rules_cols[i].name);
	for (pass = json ? 1 : 0; pass < 2; pass++) {
		if (pass == 1 && !json) {
			for (i = 0; i < RULES_NCOLS; i++)
				cells[i] = rules_cols[i].name;
			print_text_row(cells, width);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (json) {
				print_json_row(st);
				continue;
			}
			for (i = 0; i < RULES_NCOLS; i++) {
				cells[i] = cell(st, i);
				if (pass == 0 && (int)strlen(cells[i]) > width[i])
					width[i] = (int)strlen(cells[i]);
			}
			if (pass == 1)
				print_text_row(cells, width);
		}
		if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int sluicectl_rules_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = SLUICE_DEFAULT_POLICY_DB;
	int c, json = 0;
	sqlite3 *db;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'D':
			path = optarg;
			break;
		case 'h':
			rules_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return sluicectl_usage_error("rules", "unknown option or missing value \"%s\"",
						     argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sluicectl_usage_error("rules", "unexpected argument \"%s\"",
					     argv[optind]);
	if (sluicectl_policy_read("rules", path, &db) < 0)
		return SLUICECTL_EXIT_FAILED;
	if (print_rules(db, json) < 0) {
		fprintf(stderr, "sluicectl rules: cannot read the rules of %s: %s\n", path,
			sqlite3_errmsg(db));
		sqlite3_close(db);
		return SLUICECTL_EXIT_FAILED;
	}
	sqlite3_close(db);
	return SLUICECTL_EXIT_OK;
}
