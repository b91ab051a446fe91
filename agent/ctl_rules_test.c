// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of `sluicectl rules`, `allow`, `deny`, `delete`, `enable` and
 * `disable`, driving the built agent/sluicectl binary (or $SLUICECTL) on
 * policy databases in a temporary directory; the rows it wrote are read
 * back with SQLite, and the policy loader sluiced uses is shown to take
 * each edit up.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "agent/policy.h"

#include "tests/unit/sluicectl_run.h"

/* The one integer sql gives on the test's database; -1 when it has none. */
static long long query_int(const struct ctl_fixture *fx, const char *sql)
{
	long long v = -1;
	sqlite3_stmt *st;
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static long long count_rules(const struct ctl_fixture *fx)
{
	return query_int(fx, "SELECT count(*) FROM rules");
}

/* An error of one sentence: "sluicectl CMD: ..." on one line, nothing after it. */
static void assert_one_sentence(const struct ctl_fixture *fx, const char *cmd)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "sluicectl %s: ", cmd);
	ctl_assert_one_sentence(fx, prefix);
}

/* Add a rule and return the id it printed (and checked it is the row's). */
static long long add_rule(struct ctl_fixture *fx, const char *action, const char *args)
{
	long long id;
	char *end;

	if (ctl_run(fx, "%s --db '%s' %s", action, fx->db, args) != 0)
		fail_msg("%s %s: %s", action, args, fx->err);
	id = strtoll(fx->out, &end, 10);
	if (id < 1 || strcmp(end, "\n"))
		fail_msg("%s %s printed '%s', not an id", action, args, fx->out);
	assert_string_equal(fx->err, "");
	return id;
}

static void test_deny_stores_every_option_in_its_column(void **state)
{
	struct ctl_fixture *fx = *state;
	char sql[1024];
	long long id;

	id = add_rule(fx, "deny", "--direction out --proto tcp --src 192.0.2.0/24 --dst 10.0.0.0/8"
		      " --port 8000-8100 --domain '*.example.com' --uid 1000 --exe /usr/bin/curl"
		      " --unit nginx.service --priority 7 --comment 'no \"curl\"'");
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM rules WHERE id = %lld AND action = 'deny' AND direction = 'out'"
		 " AND proto = 'tcp' AND src = '192.0.2.0/24' AND dst = '10.0.0.0/8'"
		 " AND dst_port = '8000-8100' AND domain = '*.example.com' AND uid = 1000"
		 " AND typeof(uid) = 'integer' AND exe = '/usr/bin/curl' AND unit = 'nginx.service'"
		 " AND priority = 7 AND typeof(priority) = 'integer' AND enabled = 1"
		 " AND comment = 'no \"curl\"'", id);
	assert_int_equal(query_int(fx, sql), 1);
	/* What was not given keeps the schema's default. */
	id = add_rule(fx, "allow", "--dst 2001:db8::/32");
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM rules WHERE id = %lld AND action = 'allow' AND direction = 'any'"
		 " AND priority = 100 AND proto IS NULL AND dst_port IS NULL AND comment IS NULL", id);
	assert_int_equal(query_int(fx, sql), 1);
	assert_int_equal(count_rules(fx), 2);
}

static void test_rules_lists_every_rule_in_aligned_columns(void **state)
{
	struct ctl_fixture *fx = *state;
	const char *line2, *line3;

	add_rule(fx, "deny", "--proto udp --port 53 --comment 'plain DNS'");
	add_rule(fx, "allow", "--dst 203.0.113.7 --priority 5");
	assert_int_equal(ctl_run(fx, "disable --db '%s' 1", fx->db), 0);
	assert_int_equal(ctl_run(fx, "rules --db '%s'", fx->db), 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(ctl_count_lines(fx->out), 3);
	if (strncmp(fx->out, "id  priority  action  direction  proto  src  dst          dst_port"
		    "  domain  uid  exe  unit  enabled  comment\n", 107))
		fail_msg("header: %s", fx->out);
	/* In the agent's order: priority 5 first; "-" for any; the comment last. */
	line2 = strchr(fx->out, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	if (strncmp(line2, "2   5         allow   any        -      -    203.0.113.7  -         "
		    "-       -    -    -     1        -\n", 103) ||
	    strncmp(line3, "1   100       deny    any        udp    -    -            53        "
		    "-       -    -    -     0        plain DNS\n", 111))
		fail_msg("rows:\n%s", fx->out);
}

/* python3 parses every line as JSON; prints "N KEYS-OF-THE-FIRST". */
static void json_summary(struct ctl_fixture *fx, char *buf, size_t len)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules.json", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(fx->out, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/summary", fx->dir);
	snprintf(fx->out, sizeof(fx->out),
		 "python3 -c 'import json, sys\n"
		 "rows = [json.loads(l) for l in open(sys.argv[1])]\n"
		 "print(len(rows), \",\".join(rows[0]), rows[0][\"uid\"] + 1, rows[1][\"comment\"] is None, rows[0][\"comment\"])"
		 "' '%s/rules.json' > '%s'", fx->dir, path);
	if (system(fx->out) != 0)
		fail_msg("python3 could not parse the lines of rules --json");
	ctl_slurp(path, buf, len);
}

static void test_rules_json_is_one_object_a_line(void **state)
{
	struct ctl_fixture *fx = *state;
	char got[512];

	add_rule(fx, "deny", "--uid 1000 --priority 1 --comment 'a \"quote\", a \\ and a tab\t.'");
	add_rule(fx, "allow", "--domain example.com");
	add_rule(fx, "deny", "--exe /bin/nc");
	assert_int_equal(ctl_run(fx, "rules --json --db '%s'", fx->db), 0);
	assert_int_equal(ctl_count_lines(fx->out), 3);
	json_summary(fx, got, sizeof(got));
	assert_string_equal(got, "3 id,priority,action,direction,proto,src,dst,dst_port,domain,uid,"
			    "exe,unit,enabled,comment 1001 True a \"quote\", a \\ and a tab\t.\n");
}

/*
 * Every value the schema refuses comes back as one sentence naming the
 * option and the column, exit 1, and the rules table is as it was; the
 * control beside each, a good value of the same option, is stored.
 */
static void test_schema_refusals_name_the_field_and_write_nothing(void **state)
{
	static const struct {
		const char *option, *bad, *good, *column;
	} cases[] = {
		{ "direction", "sideways", "in", "rules.direction:" },
		{ "proto", "sctp", "icmp", "rules.proto:" },
		{ "src", "10.0.0.300", "10.0.0.3", "rules.src:" },
		{ "dst", "10.0.0.0/33", "10.0.0.0/31", "rules.dst:" },
		{ "port", "70000", "7000", "rules.dst_port:" },
		{ "port", "90-80", "80-90", "rules.dst_port:" },
		{ "domain", "bad..example", "good.example", "rules.domain:" },
		{ "uid", "root", "0", "rules.uid:" },
		{ "exe", "curl", "/usr/bin/curl", "rules.exe:" },
		{ "unit", "nginx", "nginx.service", "rules.unit:" },
		{ "priority", "soon", "-3", "rules.priority:" },
	};
	struct ctl_fixture *fx = *state;
	long long before;
	char want[128];
	size_t i;

	add_rule(fx, "deny", "--proto tcp");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *action = i % 2 ? "allow" : "deny";
		const char *other = strcmp(cases[i].option, "exe") ? "--exe /bin/true" : "--uid 5";

		before = count_rules(fx);
		/* The rule has a second, good condition, so that only the bad value is at fault. */
		if (ctl_run(fx, "%s --db '%s' %s --%s '%s'", action, fx->db, other,
			    cases[i].option, cases[i].bad) != 1)
			fail_msg("--%s %s: not refused: %s", cases[i].option, cases[i].bad, fx->out);
		assert_one_sentence(fx, action);
		snprintf(want, sizeof(want), "--%s \"%s\" refused: %s", cases[i].option, cases[i].bad,
			 cases[i].column);
		if (!strstr(fx->err, want))
			fail_msg("want '%s' in '%s'", want, fx->err);
		assert_string_equal(fx->out, "");
		assert_int_equal(count_rules(fx), before);
		/* Control: a good value of the same option. */
		if (ctl_run(fx, "%s --db '%s' %s --%s '%s'", action, fx->db, other,
			    cases[i].option, cases[i].good) != 0)
			fail_msg("--%s %s refused: %s", cases[i].option, cases[i].good, fx->err);
		assert_int_equal(count_rules(fx), before + 1);
	}
}

static void test_a_refused_direction_names_it(void **state)
{
	struct ctl_fixture *fx = *state;

	assert_int_equal(ctl_run(fx, "deny --db '%s' --direction sideways", fx->db), 1);
	assert_one_sentence(fx, "deny");
	assert_non_null(strstr(fx->err, "--direction \"sideways\" refused: rules.direction: must be"));
	/* The database was created (as import does) but holds no rule. */
	assert_int_equal(count_rules(fx), 0);
	assert_int_equal(ctl_run(fx, "deny --db '%s' --direction in", fx->db), 0);
	assert_int_equal(count_rules(fx), 1);
}

static void test_bad_command_lines_exit_2_and_write_nothing(void **state)
{
	static const struct {
		const char *cmd, *args, *message;
	} cases[] = {
		{ "deny", "--frobnicate 1", "unknown option or missing value \"--frobnicate\"" },
		{ "deny", "--dst", "unknown option or missing value \"--dst\"" },
		{ "allow", "--dst 10.0.0.1 10.0.0.2", "unexpected argument \"10.0.0.2\"" },
		{ "allow", "--dst 10.0.0.1 --dst 10.0.0.2", "--dst is given twice" },
		{ "deny", "--comment 'everything'", "give at least one of --direction" },
		{ "deny", "--priority 1", "give at least one of --direction" },
		{ "delete", "", "give the id of one rule" },
		{ "delete", "1 2", "give the id of one rule" },
		{ "enable", "one", "\"one\" is not a rule id" },
		{ "disable", "0", "\"0\" is not a rule id" },
		{ "disable", "--json 1", "unknown option or missing value \"--json\"" },
		{ "rules", "--jsn", "unknown option or missing value \"--jsn\"" },
		{ "rules", "extra", "unexpected argument \"extra\"" },
	};
	struct ctl_fixture *fx = *state;
	size_t i;

	add_rule(fx, "deny", "--proto tcp");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ctl_run(fx, "%s --db '%s' %s", cases[i].cmd, fx->db, cases[i].args) != 2)
			fail_msg("%s %s: want exit 2, stderr '%s'", cases[i].cmd, cases[i].args, fx->err);
		ctl_assert_usage_error(fx, cases[i].cmd);
		if (!strstr(fx->err, cases[i].message))
			fail_msg("%s %s: want '%s' in '%s'", cases[i].cmd, cases[i].args,
				 cases[i].message, fx->err);
		assert_int_equal(count_rules(fx), 1);
		assert_int_equal(query_int(fx, "SELECT enabled FROM rules WHERE id = 1"), 1);
	}
	/* Controls: the same commands with good command lines. */
	assert_int_equal(ctl_run(fx, "disable --db '%s' 1", fx->db), 0);
	assert_int_equal(ctl_run(fx, "enable 1 --db '%s'", fx->db), 0);
	assert_int_equal(ctl_run(fx, "rules --json --db '%s'", fx->db), 0);
	add_rule(fx, "allow", "--dst 10.0.0.1 --comment x");
	assert_int_equal(ctl_run(fx, "delete --db '%s' 2", fx->db), 0);
	assert_int_equal(count_rules(fx), 1);
}

static void test_delete_enable_disable_change_one_row(void **state)
{
	struct ctl_fixture *fx = *state;
	long long a, b;

	a = add_rule(fx, "deny", "--proto tcp --port 25");
	b = add_rule(fx, "deny", "--proto udp --port 53");
	assert_int_equal(ctl_run(fx, "disable --db '%s' %lld", fx->db, a), 0);
	assert_int_equal(query_int(fx, "SELECT sum(enabled * id) FROM rules"), b);
	assert_int_equal(ctl_run(fx, "enable --db '%s' %lld", fx->db, a), 0);
	assert_int_equal(query_int(fx, "SELECT sum(enabled) FROM rules"), 2);
	assert_int_equal(ctl_run(fx, "delete --db '%s' %lld", fx->db, a), 0);
	assert_int_equal(query_int(fx, "SELECT group_concat(id) FROM rules"), b);
	/* The id is gone now: each command says so, exit 1, nothing changes. */
	assert_int_equal(ctl_run(fx, "delete --db '%s' %lld", fx->db, a), 1);
	assert_one_sentence(fx, "delete");
	assert_non_null(strstr(fx->err, "has no rule with id"));
	assert_int_equal(ctl_run(fx, "enable --db '%s' %lld", fx->db, a), 1);
	assert_one_sentence(fx, "enable");
	assert_int_equal(ctl_run(fx, "disable --db '%s' 999", fx->db), 1);
	assert_one_sentence(fx, "disable");
	assert_int_equal(count_rules(fx), 1);
	assert_int_equal(query_int(fx, "SELECT sum(enabled) FROM rules"), 1);
	/* Control: the id that exists. */
	assert_int_equal(ctl_run(fx, "disable --db '%s' %lld", fx->db, b), 0);
	assert_int_equal(query_int(fx, "SELECT sum(enabled) FROM rules"), 0);
}

/* A rule whose row the schema would now refuse cannot be enabled. */
static void test_enable_is_checked_by_the_schema(void **state)
{
	struct ctl_fixture *fx = *state;
	sqlite3 *db;

	add_rule(fx, "deny", "--proto tcp");
	add_rule(fx, "deny", "--proto udp");
	assert_int_equal(ctl_run(fx, "disable --db '%s' 1", fx->db), 0);
	assert_int_equal(ctl_run(fx, "disable --db '%s' 2", fx->db), 0);
	assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA ignore_check_constraints = 1;"
				      " UPDATE rules SET proto = 'sctp' WHERE id = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ctl_run(fx, "enable --db '%s' 1", fx->db), 1);
	assert_one_sentence(fx, "enable");
	assert_non_null(strstr(fx->err, "rules.proto: must be"));
	assert_int_equal(query_int(fx, "SELECT enabled FROM rules WHERE id = 1"), 0);
	assert_int_equal(ctl_run(fx, "enable --db '%s' 2", fx->db), 0);
	assert_int_equal(query_int(fx, "SELECT enabled FROM rules WHERE id = 2"), 1);
}

static void test_missing_database(void **state)
{
	static const char *const readers[] = { "rules", "delete 1", "enable 1", "disable 1" };
	struct ctl_fixture *fx = *state;
	struct stat sb;
	size_t i;

	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		char cmd[16];

		assert_int_equal(ctl_run(fx, "%s --db '%s'", readers[i], fx->db), 1);
		snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(readers[i], " "), readers[i]);
		assert_one_sentence(fx, cmd);
		assert_non_null(strstr(fx->err, "there is no policy database"));
		assert_int_equal(stat(fx->db, &sb), -1);
	}
	/* A write creates it from the default policy, as sluiced and import do. */
	assert_int_equal(add_rule(fx, "deny", "--port 23"), 1);
	assert_int_equal(query_int(fx, "SELECT count(*) FROM settings WHERE key = 'default_action'"), 1);
	assert_int_equal(ctl_run(fx, "rules --db '%s'", fx->db), 0);
	assert_int_equal(ctl_count_lines(fx->out), 2);
	assert_int_equal(ctl_run(fx, "delete --db '%s' 1", fx->db), 0);
}

static void test_every_command_has_help(void **state)
{
	static const char *const cmds[] = { "rules", "allow", "deny", "delete", "enable", "disable" };
	struct ctl_fixture *fx = *state;
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(ctl_run(fx, "%s --help", cmds[i]), 0);
		snprintf(want, sizeof(want), "Usage: sluicectl %s ", cmds[i]);
		if (strncmp(fx->out, want, strlen(want)) || !strstr(fx->out, "--db"))
			fail_msg("%s --help: %s", cmds[i], fx->out);
		assert_string_equal(fx->err, "");
	}
	assert_int_equal(ctl_run(fx, "--help"), 0);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "\n  %-8s ", cmds[i]);
		if (!strstr(fx->out, want))
			fail_msg("sluicectl --help does not list %s: %s", cmds[i], fx->out);
	}
}

/* True once @pid sleeps in a nanosleep: SQLite's busy handler waiting. */
static int asleep_in_busy_wait(pid_t pid)
{
	char path[64], sc[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(sc, sizeof(sc), f))
		sc[0] = '\0';
	fclose(f);
	/* clock_nanosleep (230) or nanosleep (35) on x86-64 */
	return !strncmp(sc, "230 ", 4) || !strncmp(sc, "35 ", 3);
}

/*
 * An edit waits for a writer holding the database (the busy timeout).
 * The lock is let go only once sluicectl is seen sleeping in its busy
 * wait: a fixed pause instead could end before a slow start of sluicectl
 * on a busy machine reached the lock, and the test then passed without
 * anything having waited.
 */
static void test_a_write_waits_for_a_lock_held_by_another(void **state)
{
	struct ctl_fixture *fx = *state;
	char exe[PATH_MAX];
	int out[2], status = 0, asleep = 0, exited = 0, i;
	sqlite3 *db;
	FILE *p;
	pid_t pid;

	add_rule(fx, "deny", "--port 1");
	ctl_binary(exe);
	assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO rules(action, proto)"
				      " VALUES ('allow', 'udp')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		close(out[0]);
		close(out[1]);
		execl(exe, exe, "deny", "--db", fx->db, "--port", "2", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* At most 30 s; sluicectl's own busy timeout is 2 s once it sleeps. */
	for (i = 0; i < 3000 && !asleep && !exited; i++) {
		asleep = asleep_in_busy_wait(pid);
		if (!asleep && !(exited = waitpid(pid, &status, WNOHANG) == pid))
			usleep(10 * 1000);
	}
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	p = fdopen(out[0], "r");
	assert_non_null(p);
	if (!fgets(fx->out, sizeof(fx->out), p))
		fx->out[0] = '\0';
	fclose(p);
	if (!exited)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!asleep)
		fail_msg("sluicectl never waited for the lock (it said: %s)", fx->out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* It waited for the COMMIT, then wrote after the other writer's row. */
	assert_string_equal(fx->out, "3\n");
	assert_int_equal(count_rules(fx), 3);
}

/* The loader sluiced runs takes each edit up, and the compiled policy follows it. */
static void test_the_agents_loader_takes_each_edit_up(void **state)
{
	struct ctl_fixture *fx = *state;
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 8080, .uid = -1 };
	struct sluice_policy_loader l;
	struct sluice_policy *retired;
	struct sluice_decision d;
	long long deny, allow;
	char err[512];

	f.dst[0] = 10, f.dst[3] = 9;
	assert_int_equal(sluice_policy_loader_start(&l, fx->db, 1, err, sizeof(err)),
			 SLUICE_POLICY_FROM_DATABASE);
	d = sluice_policy_match(sluice_policy_loader_current(&l), &f);
	assert_int_equal(d.allow, 1);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_NONE);

	deny = add_rule(fx, "deny", "--proto tcp --dst 10.0.0.9 --port 8080");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	d = sluice_policy_match(sluice_policy_loader_current(&l), &f);
	assert_int_equal(d.allow, 0);
	assert_int_equal(d.rule_id, deny);

	allow = add_rule(fx, "allow", "--dst 10.0.0.0/8 --priority 10");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	d = sluice_policy_match(sluice_policy_loader_current(&l), &f);
	assert_int_equal(d.allow, 1);
	assert_int_equal(d.rule_id, allow);

	assert_int_equal(ctl_run(fx, "disable --db '%s' %lld", fx->db, allow), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	d = sluice_policy_match(sluice_policy_loader_current(&l), &f);
	assert_int_equal(d.rule_id, deny);

	assert_int_equal(ctl_run(fx, "delete --db '%s' %lld", fx->db, deny), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	d = sluice_policy_match(sluice_policy_loader_current(&l), &f);
	assert_int_equal(d.allow, 1);
	assert_int_equal(d.rule_id, 0);
	/* A refused edit changes nothing the loader sees. */
	assert_int_equal(ctl_run(fx, "deny --db '%s' --dst 10.0.0.999", fx->db), 1);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_NONE);
	sluice_policy_loader_close(&l);
}

#define T(f) cmocka_unit_test_setup_teardown(f, ctl_fixture_setup, ctl_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_deny_stores_every_option_in_its_column),
		T(test_rules_lists_every_rule_in_aligned_columns),
		T(test_rules_json_is_one_object_a_line),
		T(test_schema_refusals_name_the_field_and_write_nothing),
		T(test_a_refused_direction_names_it),
		T(test_bad_command_lines_exit_2_and_write_nothing),
		T(test_delete_enable_disable_change_one_row),
		T(test_enable_is_checked_by_the_schema),
		T(test_missing_database),
		T(test_every_command_has_help),
		T(test_a_write_waits_for_a_lock_held_by_another),
		T(test_the_agents_loader_takes_each_edit_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
