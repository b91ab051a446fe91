// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of `sluicectl import`, driving the built agent/sluicectl binary
 * (or $SLUICECTL) on files in a temporary directory, then reading the
 * policy database it wrote and compiling it as sluiced would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sqlite3.h>

#include "agent/policy.h"

#include "tests/unit/sluicectl_run.h"

/* Run sluicectl import ARGS on the test's database; its exit status. */
static int run_import(struct ctl_fixture *fx, const char *args)
{
	return ctl_run(fx, "import --db '%s' %s", fx->db, args);
}

static void write_file(const struct ctl_fixture *fx, const char *name, const char *text)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The rows sql (one text column, ?1 = name) gives, joined by spaces. */
static void query_rows(const struct ctl_fixture *fx, const char *sql, const char *name,
		       char *buf, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "",
				      (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The patterns of list name, sorted, joined by spaces. */
static void list_patterns(const struct ctl_fixture *fx, const char *name, char *buf, size_t len)
{
	query_rows(fx, "SELECT domain FROM list_domains JOIN lists ON lists.id = list_id"
		   " WHERE lists.name = ?1 ORDER BY domain", name, buf, len);
}

/* "action priority" of list name, or "" when there is none. */
static void list_row(const struct ctl_fixture *fx, const char *name, char *buf, size_t len)
{
	query_rows(fx, "SELECT action || ' ' || priority FROM lists WHERE name = ?1", name, buf, len);
}

static void test_import_hosts_file_format(void **state)
{
	struct ctl_fixture *fx = *state;
	char got[1024];

	write_file(fx, "ads.hosts",
		   "# StevenBlack-style hosts file\r\n"
		   "127.0.0.1 localhost\n"
		   "127.0.0.1 localhost.localdomain\n"
		   "255.255.255.255 broadcasthost\n"
		   "::1 localhost ip6-localhost ip6-loopback\n"
		   "0.0.0.0 0.0.0.0\n"
		   "\n"
		   "0.0.0.0 Ads.Example.COM\r\n"
		   "0.0.0.0\ttracker.example.net   # trailing comment\n"
		   "127.0.0.1 a.example.org b.example.org c.example.org\n"
		   "  0.0.0.0   ads.example.com.\n");
	assert_int_equal(run_import(fx, "ads.hosts"), 0);
	/* The list is named after the file; every name once, localhost skipped. */
	list_patterns(fx, "ads", got, sizeof(got));
	assert_string_equal(got, "a.example.org ads.example.com b.example.org c.example.org tracker.example.net");
	list_row(fx, "ads", got, sizeof(got));
	assert_string_equal(got, "deny 100");
	if (!strstr(fx->out, "list 'ads' (id 1): 5 names added, 1 already there, 0 bad skipped, 7 localhost ignored; 11 lines"))
		fail_msg("summary: %s", fx->out);
	assert_string_equal(fx->err, "");
}

static void test_import_plain_list_and_wildcards(void **state)
{
	struct ctl_fixture *fx = *state;
	char got[1024];

	write_file(fx, "plain.txt",
		   "# one name a line\n"
		   "doubleclick.example\n"
		   "*.Metrics.Example.org\n"
		   "*.metrics.example.org.\n"
		   "x.test y.test\n");
	assert_int_equal(run_import(fx, "--list trackers plain.txt"), 0);
	list_patterns(fx, "trackers", got, sizeof(got));
	assert_string_equal(got, "*.metrics.example.org doubleclick.example x.test y.test");
	/* Importing again adds nothing. */
	assert_int_equal(run_import(fx, "--list trackers plain.txt"), 0);
	if (!strstr(fx->out, "0 names added, 5 already there"))
		fail_msg("summary: %s", fx->out);
}

static void test_import_reports_bad_lines_by_number_and_skips_them(void **state)
{
	struct ctl_fixture *fx = *state;
	char text[4096], got[1024];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "good.example.com\n"			/* 1 */
			      "bad..example.com\n"			/* 2 */
			      "0.0.0.0\n"				/* 3: address, no name */
			      "b\xc3\xbc" "cher.example\n"		/* 4: not ASCII */
			      "0.0.0.0 ok.example.com ex*ample.com\n"	/* 5: one of two bad */
			      "||adblock.example^\n");			/* 6 */
	for (i = 0; i < 8; i++)						/* 7..14 */
		n += (size_t)snprintf(text + n, sizeof(text) - n, "bad_%d!.example\n", i);
	snprintf(text + n, sizeof(text) - n, "last.example.com\n");	/* 15 */
	write_file(fx, "mixed.txt", text);
	assert_int_equal(run_import(fx, "--list mixed mixed.txt"), 0);
	list_patterns(fx, "mixed", got, sizeof(got));
	assert_string_equal(got, "good.example.com last.example.com ok.example.com");
	if (!strstr(fx->err, "mixed.txt:2: 'bad..example.com' is not a domain name: it has an empty label") ||
	    !strstr(fx->err, "mixed.txt:3: '0.0.0.0' is an address without a name after it") ||
	    !strstr(fx->err, "mixed.txt:4: 'b\xc3\xbc" "cher.example' is not ASCII: write an internationalised name in its A-label form") ||
	    !strstr(fx->err, "mixed.txt:5: 'ex*ample.com' is not a domain pattern") ||
	    !strstr(fx->err, "mixed.txt:6: '||adblock.example^' is not a domain name") ||
	    !strstr(fx->err, "mixed.txt:10: 'bad_3!.example'") ||
	    !strstr(fx->err, "mixed.txt:11: 'bad_4!.example'") || strstr(fx->err, "mixed.txt:12:") ||
	    !strstr(fx->err, "mixed.txt: 3 more bad names not shown"))
		fail_msg("stderr: %s", fx->err);
	if (!strstr(fx->out, "3 names added, 0 already there, 13 bad skipped"))
		fail_msg("summary: %s", fx->out);
}

static void test_import_creates_list_with_action_priority_and_replaces(void **state)
{
	struct ctl_fixture *fx = *state;
	char got[1024], cmd[512];

	write_file(fx, "one.txt", "a.example\nb.example\n");
	write_file(fx, "two.txt", "c.example\n");
	assert_int_equal(run_import(fx, "--list=ok --action allow --priority 5 one.txt"), 0);
	list_row(fx, "ok", got, sizeof(got));
	assert_string_equal(got, "allow 5");
	/* An existing list keeps its action unless told; --replace empties it first. */
	assert_int_equal(run_import(fx, "--list ok --replace two.txt"), 0);
	list_row(fx, "ok", got, sizeof(got));
	assert_string_equal(got, "allow 5");
	list_patterns(fx, "ok", got, sizeof(got));
	assert_string_equal(got, "c.example");
	/* Standard input. */
	snprintf(cmd, sizeof(cmd), "--list piped --action deny - < '%s/one.txt'", fx->dir);
	assert_int_equal(run_import(fx, cmd), 0);
	list_patterns(fx, "piped", got, sizeof(got));
	assert_string_equal(got, "a.example b.example");
}

static void test_imported_list_compiles_and_decides(void **state)
{
	struct ctl_fixture *fx = *state;
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 443, .uid = -1 };
	struct sluice_policy *p;
	char err[512];
	sqlite3 *db;

	write_file(fx, "block.txt", "0.0.0.0 ads.example.com\n*.tracker.example\n");
	write_file(fx, "allow.txt", "good.tracker.example\n");
	assert_int_equal(run_import(fx, "block.txt"), 0);
	assert_int_equal(run_import(fx, "--action allow --priority 50 allow.txt"), 0);
	assert_int_equal(sluice_policy_open(fx->db, &db, err, sizeof(err)), 0);
	p = sluice_policy_compile(db, err, sizeof(err));
	if (!p)
		fail_msg("compile: %s", err);
	assert_int_equal(sluice_policy_list_count(p), 2);
	f.domain = "ads.example.com";
	assert_int_equal(sluice_policy_match(p, &f).rule_id, -1);
	f.domain = "x.tracker.example";
	assert_int_equal(sluice_policy_match(p, &f).allow, 0);
	f.domain = "good.tracker.example";
	assert_int_equal(sluice_policy_match(p, &f).rule_id, -2);
	assert_int_equal(sluice_policy_match(p, &f).allow, 1);
	f.domain = "example.com";
	assert_int_equal(sluice_policy_match(p, &f).rule_id, 0);
	sluice_policy_free(p);
	sqlite3_close(db);
}

static void test_import_refuses_bad_command_lines(void **state)
{
	static const struct {
		const char *args, *message;
		int status;
	} bad[] = {
		{ "", "no file given", 2 },
		{ "--action block x.txt", "--action must be deny or allow, not \"block\"", 2 },
		{ "--priority soon x.txt", "--priority must be an integer", 2 },
		{ "--list", "--list needs a value", 2 },
		{ "--frobnicate x.txt", "unknown option \"--frobnicate\"", 2 },
		{ "a.txt b.txt", "one file at a time", 2 },
		{ "missing.txt", "cannot open missing.txt: No such file or directory", 1 },
	};
	struct ctl_fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status = run_import(fx, bad[i].args);

		if (status != bad[i].status || !strstr(fx->err, bad[i].message))
			fail_msg("import %s: status %d, stderr '%s'; want %d and '%s'", bad[i].args,
				 status, fx->err, bad[i].status, bad[i].message);
	}
}

/*
 * The import keeps the schema's checks on: a list row it writes is held
 * to the lists CHECKs like any other (a blank name is refused), while the
 * control beside it, a good name, imports.
 */
static void test_import_keeps_the_checks_of_other_tables(void **state)
{
	struct ctl_fixture *fx = *state;
	char buf[256];

	write_file(fx, "ads.txt", "ads.example.com\n");
	assert_int_equal(run_import(fx, "--list ' ' ads.txt"), 1);
	assert_non_null(strstr(fx->err, "lists.name: must be a non-empty name"));
	query_rows(fx, "SELECT count(*) FROM lists WHERE ?1 IS NULL OR 1", NULL, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	assert_int_equal(run_import(fx, "--list ads ads.txt"), 0);
	list_patterns(fx, "ads", buf, sizeof(buf));
	assert_string_equal(buf, "ads.example.com");
}

#define T(f) cmocka_unit_test_setup_teardown(f, ctl_fixture_setup, ctl_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_import_hosts_file_format),
		T(test_import_plain_list_and_wildcards),
		T(test_import_reports_bad_lines_by_number_and_skips_them),
		T(test_import_creates_list_with_action_priority_and_replaces),
		T(test_imported_list_compiles_and_decides),
		T(test_import_refuses_bad_command_lines),
		T(test_import_keeps_the_checks_of_other_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
