// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of `sluicectl top` and `sluicectl report --html`, driving the
 * built agent/sluicectl binary (or $SLUICECTL) on a decision log made by
 * the agent's own code (sluice_log_open) and filled with known rows: the
 * snapshot's order and counts are compared whole, and the page is read
 * by python3's html.parser and xml.etree, whose findings (charts, bars
 * and their counts, tags, links) are compared with the rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sqlite3.h>

#include "agent/decision_log.h"

#include "tests/unit/sluicectl_run.h"

static const char injected[] = "<script>alert(1)</script>";

static void log_path(const struct ctl_fixture *fx, char *out, size_t len)
{
	snprintf(out, len, "%s/log.db", fx->dir);
}

static void exec_sql(const char *path, const char *sql)
{
	char *err = NULL;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

static void add(const char *path, int64_t age_s, const char *exe, const char *unit,
		const char *dst, int dport, const char *domain, const char *action, int rule)
{
	char *sql = sqlite3_mprintf(
		"INSERT INTO decisions(time, direction, proto, src, dst, sport, dport, domain,"
		" uid, exe, unit, action, rule_id) VALUES (CAST(strftime('%%s', 'now') AS INTEGER) * 1000"
		" - %lld, 'out', 'tcp', '10.0.0.1', %Q, 40000, %d, %Q, 1000, %Q, %Q, %Q, nullif(%d, 0))",
		(long long)age_s * 1000, dst, dport, domain, exe, unit, action, rule);

	exec_sql(path, sql);
	sqlite3_free(sql);
}

/*
 * The known rows, all in the last few seconds but one two hours old:
 *   curl: 4 denied ads.example (rule 7), 1 allowed example.org (default)
 *   wget: 2 denied tracker.example (rule 7), 3 allowed example.org (rule 2)
 *   x.service, no exe: 1 denied, a name that is a script tag (default)
 *   /old/prog: 1 denied, two hours ago
 * and the agent's history: a start, a refused edit whose error carries
 * markup, a stop and a start again.
 */
static int fill_setup(void **state)
{
	struct ctl_fixture *fx;
	struct sluice_log *l;
	char path[192], err[256];
	int i;

	if (ctl_fixture_setup(state))
		return -1;
	fx = *state;
	log_path(fx, path, sizeof(path));
	l = sluice_log_open(path, NULL, err, sizeof(err));
	if (!l)
		return -1;
	sluice_log_close(l);
	for (i = 0; i < 4; i++)
		add(path, 3, "/usr/bin/curl", NULL, "10.0.0.2", 443, "ads.example", "deny", 7);
	add(path, 3, "/usr/bin/curl", NULL, "10.0.0.3", 443, "example.org", "allow", 0);
	for (i = 0; i < 2; i++)
		add(path, 2, "/usr/bin/wget", NULL, "10.0.0.4", 80, "tracker.example", "deny", 7);
	for (i = 0; i < 3; i++)
		add(path, 2, "/usr/bin/wget", NULL, "10.0.0.3", 443, "example.org", "allow", 2);
	add(path, 1, NULL, "x.service", "fd00::2", 8080, injected, "deny", 0);
	add(path, 7200, "/old/prog", NULL, "10.9.9.9", 22, NULL, "deny", 9);
	exec_sql(path,
		 "INSERT INTO events(time, kind, detail) VALUES"
		 " (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 600000, 'start', NULL),"
		 " (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 500000, 'refused',"
		 "  'rules row 3: <img src=x onerror=alert(2)>'),"
		 " (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 400000, 'stop', NULL),"
		 " (CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 300000, 'start', NULL)");
	return 0;
}

/* Everything after the first line of a snapshot (which names the path). */
static const char *body(const char *out)
{
	const char *nl = strchr(out, '\n');

	return nl ? nl : "";
}

static void test_top_snapshot_lists_the_busiest_in_order_with_counts(void **state)
{
	struct ctl_fixture *fx = *state;
	char path[192], head[256];

	log_path(fx, path, sizeof(path));
	/* stdout is a file here: one snapshot, then exit 0. */
	assert_int_equal(ctl_run(fx, "top --log-db log.db"), 0);
	snprintf(head, sizeof(head), "sluicectl top: last 60s of log.db: 11 decisions, 7 denied, 4 allowed\n");
	assert_true(!strncmp(fx->out, head, strlen(head)));
	assert_string_equal(body(fx->out),
		"\n\n  DENIED  ALLOWED  PROGRAM\n"
		"       4        1  /usr/bin/curl\n"
		"       2        3  /usr/bin/wget\n"
		"       1        0  x.service\n"
		"\n  DENIED  ALLOWED  DESTINATION\n"
		"       4        0  10.0.0.2:443\n"
		"       0        4  10.0.0.3:443\n"
		"       2        0  10.0.0.4:80\n"
		"       1        0  [fd00::2]:8080\n"
		"\n  DENIED  ALLOWED  NAME\n"
		"       4        0  ads.example\n"
		"       0        4  example.org\n"
		"       2        0  tracker.example\n"
		"       1        0  <script>alert(1)</script>\n"
		"\n  DENIED  ALLOWED  RULE\n"
		"       6        0  rule 7\n"
		"       0        3  rule 2\n"
		"       1        1  default action\n");
	assert_string_equal(fx->err, "");
}

/* The window counts: the two-hour-old row is out of 60 s, in 3 h. */
static void test_top_window_leaves_out_older_decisions(void **state)
{
	struct ctl_fixture *fx = *state;

	assert_int_equal(ctl_run(fx, "top --log-db log.db"), 0);
	assert_null(strstr(fx->out, "/old/prog"));
	assert_int_equal(ctl_run(fx, "top --once --window 3h --limit 2 --log-db log.db"), 0);
	assert_non_null(strstr(fx->out, "last 10800s of log.db: 12 decisions, 8 denied, 4 allowed\n"));
	assert_null(strstr(fx->out, "/old/prog"));	/* --limit 2: third of three */
	assert_int_equal(ctl_run(fx, "top --window 3h --log-db log.db"), 0);
	assert_non_null(strstr(fx->out, "       1        0  /old/prog\n"));
	assert_non_null(strstr(fx->out, "       1        0  rule 9\n"));
}

static void test_top_errors_are_one_sentence_with_their_exit_code(void **state)
{
	struct ctl_fixture *fx = *state;
	char other[192];

	assert_int_equal(ctl_run(fx, "top --interval 0 --log-db log.db"), 2);
	ctl_assert_usage_error(fx, "top");
	assert_int_equal(ctl_run(fx, "top --interval 1 --log-db log.db"), 0);	/* control */
	assert_int_equal(ctl_run(fx, "top --window 2x --log-db log.db"), 2);
	ctl_assert_usage_error(fx, "top");
	assert_int_equal(ctl_run(fx, "top --bogus --log-db log.db"), 2);
	ctl_assert_usage_error(fx, "top");
	assert_int_equal(ctl_run(fx, "top --log-db missing.db"), 1);
	ctl_assert_one_sentence(fx, "sluicectl top: cannot read the decision log missing.db: ");
	snprintf(other, sizeof(other), "%s/missing.db", fx->dir);
	assert_int_equal(access(other, F_OK), -1);	/* never created */
	/* A database that is not a decision log: no decisions table. */
	snprintf(other, sizeof(other), "%s/other.db", fx->dir);
	exec_sql(other, "CREATE TABLE t(x)");
	assert_int_equal(ctl_run(fx, "top --log-db other.db"), 1);
	ctl_assert_one_sentence(fx, "sluicectl top: cannot read the decision log other.db: no such table: decisions");
	assert_int_equal(ctl_run(fx, "top --help"), 0);
	assert_non_null(strstr(fx->out, "Usage: sluicectl top "));
	assert_non_null(strstr(fx->out, "not a terminal"));
}

/*
 * Without --log-db: the log the running agent's status file names (here
 * $SLUICE_STATUS_FILE in place of /run/sluice/status), and one sentence
 * when there is no such file.
 */
static void test_without_log_db_the_agents_log_is_read(void **state)
{
	struct ctl_fixture *fx = *state;
	char status[192], path[192];
	FILE *f;

	snprintf(status, sizeof(status), "%s/status", fx->dir);
	log_path(fx, path, sizeof(path));
	setenv("SLUICE_STATUS_FILE", status, 1);
	assert_int_equal(ctl_run(fx, "top"), 1);
	ctl_assert_one_sentence(fx, "sluicectl top: no --log-db given, and no sluiced running in this namespace names a decision log in ");
	assert_int_equal(ctl_run(fx, "report --html r.html"), 1);
	ctl_assert_one_sentence(fx, "sluicectl report: no --log-db given, and no sluiced running in this namespace");
	/* Control: the agent's status file names the log. */
	f = fopen(status, "w");
	assert_non_null(f);
	fprintf(f, "pid=1\nlog_db=%s\n", path);
	fclose(f);
	assert_int_equal(ctl_run(fx, "top"), 0);
	assert_non_null(strstr(fx->out, "11 decisions, 7 denied, 4 allowed\n"));
	assert_int_equal(ctl_run(fx, "report --html r.html"), 0);
	unsetenv("SLUICE_STATUS_FILE");
}

/*
 * What tests/unit/report_check.py (python3's parsers) finds on the page
 * @page of the fixture, with how often @text shows as text.
 */
static void check_page(struct ctl_fixture *fx, const char *page, const char *text,
		       char *out, size_t len)
{
	char py[PATH_MAX], cmd[PATH_MAX + 512];
	FILE *f;
	size_t n;

	if (!realpath("tests/unit/report_check.py", py))
		fail_msg("tests/unit/report_check.py: not found from here");
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s/%s' '%s' 2>&1", py, fx->dir, page, text);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	if (pclose(f) != 0)
		fail_msg("python3 could not parse the report: %s", out);
}

static void test_report_charts_match_the_rows_and_escape_the_database(void **state)
{
	struct ctl_fixture *fx = *state;
	char found[8192];

	assert_int_equal(ctl_run(fx, "report --html r.html --since 1h --log-db log.db"), 0);
	assert_string_equal(fx->out, "");
	assert_string_equal(fx->err, "");
	check_page(fx, "r.html", injected, found, sizeof(found));
	assert_string_equal(found,
		"svg 5 xml-ok 5\n"
		"script 0 img 0 links 0 http 0\n"
		"totals 11 7 4\n"
		"top-denied-names deny ads.example 4\n"
		"top-denied-names deny tracker.example 2\n"
		"top-denied-names deny <script>alert(1)</script> 1\n"
		"top-programs deny /usr/bin/curl 4\n"
		"top-programs allow /usr/bin/curl 1\n"
		"top-programs deny /usr/bin/wget 2\n"
		"top-programs allow /usr/bin/wget 3\n"
		"top-programs deny x.service 1\n"
		"top-rules deny rule 7 6\n"
		"top-rules allow rule 2 3\n"
		"top-rules deny default action 1\n"
		"top-rules allow default action 1\n"
		"history away stopped\n"
		"event start\nevent refused\nevent stop\nevent start\n"
		"over-time deny 7 allow 4\n"
		"text-count 2\n");	/* the names chart's label and its bar's title */
	/* The refused edit's error: as text in the history's tick and its table. */
	check_page(fx, "r.html", "<img src=x onerror=alert(2)>", found, sizeof(found));
	assert_non_null(strstr(found, "\ntext-count 2\n"));
}

/*
 * --since counts: 3 h takes the old row in. Without the stop event, the
 * start after it is a gap from the last sign of life (the refused edit)
 * on: an agent killed, not stopped.
 */
static void test_report_since_and_history(void **state)
{
	struct ctl_fixture *fx = *state;
	char found[8192], path[192];

	assert_int_equal(ctl_run(fx, "report --html r.html --since 3h --log-db log.db"), 0);
	check_page(fx, "r.html", "", found, sizeof(found));
	assert_non_null(strstr(found, "totals 12 8 4\n"));
	assert_non_null(strstr(found, "top-programs deny /old/prog 1\n"));
	assert_non_null(strstr(found, "over-time deny 8 allow 4\n"));
	assert_non_null(strstr(found, "\nhistory away stopped\nevent start\n"));
	log_path(fx, path, sizeof(path));
	exec_sql(path, "DELETE FROM events WHERE kind = 'stop'");
	assert_int_equal(ctl_run(fx, "report --html r.html --since 3h --log-db log.db"), 0);
	check_page(fx, "r.html", "", found, sizeof(found));
	assert_non_null(strstr(found, "\nhistory away ended without a stop (killed or crashed)\nevent start\n"));
	/* And with no history at all, no gap is made up. */
	exec_sql(path, "DELETE FROM events");
	assert_int_equal(ctl_run(fx, "report --html r.html --since 3h --log-db log.db"), 0);
	check_page(fx, "r.html", "", found, sizeof(found));
	assert_null(strstr(found, "history away"));
	assert_non_null(strstr(found, "svg 5 xml-ok 5\n"));
}

static void test_report_errors_are_one_sentence_and_leave_no_file(void **state)
{
	struct ctl_fixture *fx = *state;
	char page[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_int_equal(ctl_run(fx, "report --log-db log.db"), 2);
	ctl_assert_usage_error(fx, "report");
	assert_int_equal(ctl_run(fx, "report --html r.html --since soon --log-db log.db"), 2);
	ctl_assert_usage_error(fx, "report");
	assert_int_equal(ctl_run(fx, "report --html r.html --log-db missing.db"), 1);
	ctl_assert_one_sentence(fx, "sluicectl report: cannot read the decision log missing.db: ");
	assert_int_equal(ctl_run(fx, "report --html no/such/dir/r.html --log-db log.db"), 1);
	ctl_assert_one_sentence(fx, "sluicectl report: cannot write no/such/dir/r.html: No such file or directory");
	/* A directory where the page should go: refused, the directory kept. */
	assert_int_equal(ctl_run(fx, "report --html . --log-db log.db"), 1);
	ctl_assert_one_sentence(fx, "sluicectl report: cannot write .: ");
	/* Control: the same command with a good path works and replaces the file. */
	snprintf(page, sizeof(page), "%s/r.html", fx->dir);
	assert_int_equal(access(page, F_OK), -1);	/* no failed run wrote it */
	assert_int_equal(ctl_run(fx, "report --html r.html --log-db log.db"), 0);
	assert_int_equal(ctl_run(fx, "report --html r.html --log-db log.db"), 0);
	/* No temporary file left behind by any of the runs above. */
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, ".sluice-report", 14);
	closedir(d);
	assert_int_equal(n, 0);
	assert_int_equal(access(page, R_OK), 0);
	assert_int_equal(ctl_run(fx, "report --help"), 0);
	assert_non_null(strstr(fx->out, "Usage: sluicectl report --html FILE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_top_snapshot_lists_the_busiest_in_order_with_counts,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_top_window_leaves_out_older_decisions,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_top_errors_are_one_sentence_with_their_exit_code,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_without_log_db_the_agents_log_is_read,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_report_charts_match_the_rows_and_escape_the_database,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_report_since_and_history,
						fill_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_report_errors_are_one_sentence_and_leave_no_file,
						fill_setup, ctl_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
