// SPDX-License-Identifier: GPL-2.0
/*
 * sluicectl allow|deny [--direction D] [--proto P] [--src CIDR] [--dst CIDR]
 *                      [--port P] [--domain D] [--uid N] [--exe PATH]
 *                      [--unit NAME] [--priority N] [--comment TEXT] [--db PATH]
 * sluicectl delete|enable|disable [--db PATH] ID
 *
 * The edits one would make with sqlite3, one statement each: allow and deny
 * INSERT one rules row holding the options given (the others keep the
 * schema's defaults) and print its id; delete, enable and disable DELETE or
 * UPDATE the row with that id. The values are not checked here: the
 * schema's own triggers refuse a bad one, with an error that names the
 * column ("rules.dst: not an IPv4 or IPv6 address ..."), and the row is not
 * written. A running sluiced sees the change by its usual reload (PRAGMA
 * data_version and the file's size and time) within a second.
 *
 * allow and deny create a missing database from the default policy, as
 * sluiced and sluicectl import do; delete, enable and disable have no rule
 * to change there, and say so without creating it.
 *
 * Exit codes: 0 done, 1 refused by the schema, no rule with that id, or
 * the database could not be written; 2 bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "agent/ctl.h"
#include "agent/status.h"

/* The options of allow and deny, each a column of rules. */
static const struct rule_field {
	const char *option;
	const char *column;
	const char *value;	/* what the help shows */
	const char *help;
	int condition;		/* narrows which flows the rule matches */
} rule_fields[] = {
	{ "direction", "direction", "D", "in, out, forward or any (default any)", 1 },
	{ "proto", "proto", "P", "tcp, udp, icmp or icmpv6 (default any)", 1 },
	{ "src", "src", "CIDR", "source address or network, e.g. 10.0.0.0/8", 1 },
	{ "dst", "dst", "CIDR", "destination address or network, e.g. 2001:db8::/32", 1 },
	{ "port", "dst_port", "P", "destination port or range, e.g. 443 or 8000-8100", 1 },
	{ "domain", "domain", "D", "the flow's name, example.com or *.example.com", 1 },
	{ "uid", "uid", "N", "owner of the local socket", 1 },
	{ "exe", "exe", "PATH", "absolute path of the local program", 1 },
	{ "unit", "unit", "NAME", "systemd unit of the local socket, e.g. nginx.service", 1 },
	{ "priority", "priority", "N", "lower is tried first (default 100)", 0 },
	{ "comment", "comment", "TEXT", "free text for people", 0 },
};

#define RULE_NFIELDS	((int)(sizeof(rule_fields) / sizeof(rule_fields[0])))
#define OPT_DB		RULE_NFIELDS
#define OPT_HELP	(RULE_NFIELDS + 1)

static const char *add_action;	/* for add_usage, which takes only the stream */

static void add_usage(FILE *f)
{
	int i;

	fprintf(f, "Usage: sluicectl %s [OPTION VALUE]... [--db PATH]\n"
		"\n"
		"Adds a rule: the flows that match every option given are %s.\n"
		"Prints the new rule's id. The policy database's own checks refuse a bad\n"
		"value, naming it; a running sluiced applies the rule within a second.\n"
		"\n", add_action, strcmp(add_action, "allow") ? "denied" : "allowed");
	for (i = 0; i < RULE_NFIELDS; i++)
		fprintf(f, "  --%-9s %-5s %s\n", rule_fields[i].option, rule_fields[i].value,
			rule_fields[i].help);
	fprintf(f, "  --db        PATH  the policy database (default %s;\n"
		"                    created from the default policy when missing)\n",
		SLUICE_DEFAULT_POLICY_DB);
}

/* "rules.COL: why" names a column: that option and the value it was given. */
static void report_refused(const char *const values[], const char *msg)
{
	int i;

	for (i = 0; i < RULE_NFIELDS; i++) {
		size_t n = strlen(rule_fields[i].column);

		if (values[i] && !strncmp(msg, "rules.", 6) &&
		    !strncmp(msg + 6, rule_fields[i].column, n) && msg[6 + n] == ':') {
			fprintf(stderr, "sluicectl %s: --%s \"%s\" refused: %s\n", add_action,
				rule_fields[i].option, values[i], msg);
			return;
		}
	}
	fprintf(stderr, "sluicectl %s: the rule was refused: %s\n", add_action, msg);
}

/* INSERT the row; its id, or -1 after saying why. */
static long long insert_rule(sqlite3 *db, const char *const values[])
{
	char sql[512], cols[256] = "action", params[128] = "?1";
	sqlite3_stmt *st;
	long long id = -1;
	int i, n = 1;

	for (i = 0; i < RULE_NFIELDS; i++) {
		if (!values[i])
			continue;
		n++;
		snprintf(cols + strlen(cols), sizeof(cols) - strlen(cols), ", %s",
			 rule_fields[i].column);
		snprintf(params + strlen(params), sizeof(params) - strlen(params), ", ?%d", n);
	}
	snprintf(sql, sizeof(sql), "INSERT INTO rules(%s) VALUES (%s) RETURNING id", cols, params);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_refused(values, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, add_action, -1, SQLITE_STATIC);
	for (i = 0, n = 1; i < RULE_NFIELDS; i++)
		if (values[i])
			sqlite3_bind_text(st, ++n, values[i], -1, SQLITE_STATIC);
	/* With RETURNING, the row and its triggers are done in the first step. */
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else
		report_refused(values, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return id;
}

int sluicectl_add_main(int argc, char *argv[])
{
	struct option opts[RULE_NFIELDS + 3];
	const char *values[RULE_NFIELDS] = { 0 };
	const char *path = SLUICE_DEFAULT_POLICY_DB;
	int c, i, conditions = 0;
	long long id;
	sqlite3 *db;

	add_action = argv[0];
	for (i = 0; i < RULE_NFIELDS; i++)
		opts[i] = (struct option){ rule_fields[i].option, required_argument, NULL, i };
	opts[OPT_DB] = (struct option){ "db", required_argument, NULL, OPT_DB };
	opts[OPT_HELP] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[OPT_HELP + 1] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c >= 0 && c < RULE_NFIELDS) {
			if (values[c])
				return sluicectl_usage_error(add_action, "--%s is given twice",
							     rule_fields[c].option);
			values[c] = optarg;
			conditions += rule_fields[c].condition;
		} else if (c == OPT_DB) {
			path = optarg;
		} else if (c == OPT_HELP) {
			add_usage(stdout);
			return SLUICECTL_EXIT_OK;
		} else {
			return sluicectl_usage_error(add_action, "unknown option or missing value \"%s\"",
						     argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sluicectl_usage_error(add_action, "unexpected argument \"%s\" (values follow their option, e.g. --dst %s)",
					     argv[optind], argv[optind]);
	if (!conditions)
		return sluicectl_usage_error(add_action, "give at least one of --direction, --proto, --src, --dst, --port, --domain, --uid, --exe or --unit; a rule without one matches every flow (what unmatched flows get is settings.default_action)");
	if (sluicectl_policy_write(add_action, path, 1, &db) < 0)
		return SLUICECTL_EXIT_FAILED;
	id = insert_rule(db, values);
	sqlite3_close(db);
	if (id < 0)
		return SLUICECTL_EXIT_FAILED;
	printf("%lld\n", id);
	return SLUICECTL_EXIT_OK;
}

/* delete, enable, disable: the statement, and what is printed when done. */
static const struct rule_change {
	const char *command;
	const char *sql;
	const char *done;
	const char *help;
} rule_changes[] = {
	{ "delete", "DELETE FROM rules WHERE id = ?1", "deleted",
	  "Deletes the rule with that id" },
	{ "enable", "UPDATE rules SET enabled = 1 WHERE id = ?1", "enabled",
	  "Puts the rule with that id in force (rules.enabled = 1)" },
	{ "disable", "UPDATE rules SET enabled = 0 WHERE id = ?1", "disabled",
	  "Takes the rule with that id out of force, keeping it (rules.enabled = 0)" },
};

static const struct rule_change *change;	/* for change_usage */

static void change_usage(FILE *f)
{
	fprintf(f, "Usage: sluicectl %s [--db PATH] ID\n"
		"\n"
		"%s. ID is the first column of\n"
		"sluicectl rules; a running sluiced applies the change within a second.\n"
		"\n"
		"  --db PATH   the policy database (default %s)\n",
		change->command, change->help, SLUICE_DEFAULT_POLICY_DB);
}

int sluicectl_change_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = SLUICE_DEFAULT_POLICY_DB;
	sqlite3_stmt *st = NULL;
	long long id;
	sqlite3 *db;
	char *end;
	int c, rc;

	for (change = rule_changes; strcmp(change->command, argv[0]); change++)
		;
	optind = 1;
	opterr = 0;
	/* Options may follow the id: "sluicectl delete 7 --db PATH". */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			path = optarg;
			break;
		case 'h':
			change_usage(stdout);
			return SLUICECTL_EXIT_OK;
		default:
			return sluicectl_usage_error(change->command, "unknown option or missing value \"%s\"",
						     argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return sluicectl_usage_error(change->command, "give the id of one rule (sluicectl rules lists them)");
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (!argv[optind][0] || *end || errno || id < 1)
		return sluicectl_usage_error(change->command, "\"%s\" is not a rule id (a whole number from 1)",
					     argv[optind]);
	if (sluicectl_policy_write(change->command, path, 0, &db) < 0)
		return SLUICECTL_EXIT_FAILED;
	rc = sqlite3_prepare_v2(db, change->sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		fprintf(stderr, "sluicectl %s: rule %lld of %s was not changed: %s\n",
			change->command, id, path, sqlite3_errmsg(db));
	else if (sqlite3_changes(db) == 0)
		fprintf(stderr, "sluicectl %s: %s has no rule with id %lld (sluicectl rules lists them)\n",
			change->command, path, id);
	else
		printf("rule %lld %s\n", id, change->done);
	c = rc == SQLITE_DONE && sqlite3_changes(db) > 0;
	sqlite3_close(db);
	return c ? SLUICECTL_EXIT_OK : SLUICECTL_EXIT_FAILED;
}
