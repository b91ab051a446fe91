// SPDX-License-Identifier: GPL-2.0
/*
 * Every command line of sluicectl, and of sluiced, that asks for help or
 * goes wrong: --help prints the usage on stdout and exits 0; a bad option
 * exits 2 with one sentence on stderr, one line; a policy database or a
 * decision log that does not exist exits 1 with one sentence (the commands
 * that add to the policy create it instead, as documented); without the
 * kernel module, status and set exit 1 with one sentence. The exit codes
 * are sluicectl(8)'s: 0 done, 1 the request failed, 2 bad command line.
 * Drives the built binaries (or $SLUICECTL and $SLUICED).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/sluicectl_run.h"

/* Every sluicectl command, and a command line that makes it do its job. */
static const struct {
	const char *cmd;
	const char *args;	/* after "--db DIR/policy.db" where reads_db */
	bool reads_db;		/* exits 1 when the database is missing */
	bool creates_db;	/* creates a missing database instead */
} commands[] = {
	{ "status", "", false, false },
	{ "set", "fail-mode open", false, false },
	{ "import", "list.txt", false, true },
	{ "explain", "tcp 10.0.0.1:80", true, false },
	{ "log", "", false, false },
	{ "top", "--once", false, false },
	{ "report", "--html page.html", false, false },
	{ "rules", "", true, false },
	{ "allow", "--port 80", false, true },
	{ "deny", "--port 81", false, true },
	{ "disable", "1", true, false },
	{ "enable", "1", true, false },
	{ "delete", "1", true, false },	/* last: the_same_commands_work_... */
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* stderr holds exactly one line, and it starts with prefix. */
static void assert_one_line(const struct ctl_fixture *fx, const char *prefix)
{
	if (strncmp(fx->err, prefix, strlen(prefix)) || ctl_count_lines(fx->err) != 1)
		fail_msg("want one line on stderr starting '%s', got '%s'", prefix, fx->err);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void every_command_has_help_on_stdout(void **state)
{
	struct ctl_fixture *fx = *state;
	char usage[64];
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		snprintf(usage, sizeof(usage), "Usage: sluicectl %s", commands[i].cmd);
		if (ctl_run(fx, "%s --help", commands[i].cmd) != 0)
			fail_msg("sluicectl %s --help: not exit 0: %s", commands[i].cmd, fx->err);
		if (strncmp(fx->out, usage, strlen(usage)) || fx->err[0])
			fail_msg("sluicectl %s --help: want '%s...' on stdout and nothing on stderr, got '%s' / '%s'",
				 commands[i].cmd, usage, fx->out, fx->err);
	}
	assert_int_equal(ctl_run(fx, "--help"), 0);
	assert_non_null(strstr(fx->out, "Usage: sluicectl <cmd>"));
	assert_string_equal(fx->err, "");
}

static void every_bad_option_is_one_line_and_exit_two(void **state)
{
	struct ctl_fixture *fx = *state;
	char prefix[64];
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		snprintf(prefix, sizeof(prefix), "sluicectl %s: ", commands[i].cmd);
		if (ctl_run(fx, "%s --no-such-option", commands[i].cmd) != 2)
			fail_msg("sluicectl %s --no-such-option: not exit 2", commands[i].cmd);
		assert_one_line(fx, prefix);
		assert_non_null(strstr(fx->err, "--no-such-option"));
		assert_string_equal(fx->out, "");
	}
	assert_int_equal(ctl_run(fx, "--no-such-option"), 2);
	assert_one_line(fx, "sluicectl: unknown option \"--no-such-option\"");
	assert_int_equal(ctl_run(fx, "frobnicate"), 2);
	assert_one_line(fx, "sluicectl: \"frobnicate\" is not a sluicectl command");
}

static void a_missing_database_is_one_line_and_exit_one(void **state)
{
	struct ctl_fixture *fx = *state;
	char prefix[64];
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		if (!commands[i].reads_db)
			continue;
		snprintf(prefix, sizeof(prefix), "sluicectl %s: ", commands[i].cmd);
		if (ctl_run(fx, "%s --db %s/missing/policy.db %s", commands[i].cmd, fx->dir,
			    commands[i].args) != 1)
			fail_msg("sluicectl %s on a missing database: not exit 1: %s",
				 commands[i].cmd, fx->err);
		assert_one_line(fx, prefix);
		assert_non_null(strstr(fx->err, "missing/policy.db"));
	}
	assert_int_equal(ctl_run(fx, "log --log-db %s/missing/decisions.db", fx->dir), 1);
	assert_one_line(fx, "sluicectl log: cannot read the decision log ");
	assert_int_equal(ctl_run(fx, "top --once --log-db %s/missing/decisions.db", fx->dir), 1);
	assert_one_line(fx, "sluicectl top: cannot read the decision log ");
	assert_int_equal(ctl_run(fx, "report --html page.html --log-db %s/missing/decisions.db",
				 fx->dir), 1);
	assert_one_line(fx, "sluicectl report: cannot read the decision log ");
	/* Nothing was created on the way. */
	assert_false(exists(fx->db) || ctl_run(fx, "rules --db %s/missing", fx->dir) != 1);
}

/* The control: the same command lines work once the database is there. */
static void the_same_commands_work_on_a_database(void **state)
{
	struct ctl_fixture *fx = *state;
	size_t i;

	assert_int_equal(ctl_run(fx, "allow --db '%s' --port 80", fx->db), 0);
	assert_string_equal(fx->out, "1\n");
	for (i = 0; i < N_COMMANDS; i++) {
		if (!commands[i].reads_db)
			continue;
		if (ctl_run(fx, "%s --db '%s' %s", commands[i].cmd, fx->db, commands[i].args) != 0)
			fail_msg("sluicectl %s on a database: not exit 0: %s", commands[i].cmd, fx->err);
	}
}

static void adding_to_a_missing_database_creates_it(void **state)
{
	struct ctl_fixture *fx = *state;
	char path[256], list[256];
	FILE *f;
	size_t i;

	snprintf(list, sizeof(list), "%s/list.txt", fx->dir);
	f = fopen(list, "w");
	assert_non_null(f);
	fputs("ads.example.com\n", f);
	fclose(f);
	for (i = 0; i < N_COMMANDS; i++) {
		if (!commands[i].creates_db)
			continue;
		snprintf(path, sizeof(path), "%s/%s.db", fx->dir, commands[i].cmd);
		assert_false(exists(path));
		if (ctl_run(fx, "%s --db %s %s", commands[i].cmd, path, commands[i].args) != 0)
			fail_msg("sluicectl %s on a missing database: not exit 0: %s",
				 commands[i].cmd, fx->err);
		assert_true(exists(path));
	}
}

/* Is the sluice module loaded in this kernel? (Then there is nothing to test.) */
static bool module_loaded(void)
{
	return exists("/sys/module/sluice") || exists("/proc/net/sluice");
}

static void without_the_module_status_and_set_are_one_line_and_exit_one(void **state)
{
	static const char *const lines[] = {
		"status", "status --json", "set fail-mode open", "set watchdog-ms 250",
		"set hooks in,out",
	};
	struct ctl_fixture *fx = *state;
	size_t i;

	if (module_loaded())
		skip();
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (ctl_run(fx, "%s", lines[i]) != 1)
			fail_msg("sluicectl %s without the module: not exit 1: %s", lines[i], fx->err);
		assert_one_line(fx, "sluicectl");
		assert_non_null(strstr(fx->err, "module is not loaded"));
		assert_string_equal(fx->out, "");
	}
	/* The control: what needs no module still works. */
	assert_int_equal(ctl_run(fx, "explain --db '%s' tcp 10.0.0.1:80", fx->db), 1);
	assert_int_equal(ctl_run(fx, "allow --db '%s' --port 80", fx->db), 0);
	assert_int_equal(ctl_run(fx, "explain --db '%s' tcp 10.0.0.1:80", fx->db), 0);
}

static void log_without_an_agent_is_one_line_and_exit_one(void **state)
{
	struct ctl_fixture *fx = *state;

	if (exists("/run/sluice/status"))
		skip();
	assert_int_equal(ctl_run(fx, "log"), 1);
	assert_one_line(fx, "sluicectl log: no --log-db given");
}

static void sluiced_help_and_bad_options(void **state)
{
	static const char *const bad[] = {
		"--no-such-option", "--queue", "--queue x", "--threads 0", "extra",
	};
	struct ctl_fixture *fx = *state;
	size_t i;

	assert_int_equal(sluiced_run(fx, "--help"), 0);
	assert_true(strncmp(fx->out, "usage: sluiced ", 15) == 0);
	assert_string_equal(fx->err, "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sluiced_run(fx, "%s", bad[i]) != 2)
			fail_msg("sluiced %s: not exit 2: %s", bad[i], fx->err);
		assert_one_line(fx, "sluiced: ");
		assert_string_equal(fx->out, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_command_has_help_on_stdout,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(every_bad_option_is_one_line_and_exit_two,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(a_missing_database_is_one_line_and_exit_one,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(the_same_commands_work_on_a_database,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(adding_to_a_missing_database_creates_it,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(without_the_module_status_and_set_are_one_line_and_exit_one,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(log_without_an_agent_is_one_line_and_exit_one,
						ctl_fixture_setup, ctl_fixture_teardown),
		cmocka_unit_test_setup_teardown(sluiced_help_and_bad_options,
						ctl_fixture_setup, ctl_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
