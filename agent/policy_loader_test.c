// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the loader's last good copy: written after every good
 * compile; enforced by a fresh loader whose database does not compile (or
 * cannot be opened), until the database is fixed; the built-in default
 * policy when there is no copy either. And the settings compiled with the
 * rules.
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
#include <unistd.h>
#include <sqlite3.h>

#include "agent/policy.h"

struct fixture {
	char dir[64];
	char path[128];		/* dir/policy.db */
	char copy[160];		/* dir/policy.db.last-good */
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sluice-loader-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/policy.db", fx->dir);
	sluice_policy_last_good_path(fx->path, fx->copy, sizeof(fx->copy));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* sql on the file at path, through a connection of its own (as sqlite3 would). */
static void sql_on(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* The decision for TCP out to 192.0.2.1 port dport. */
static struct sluice_decision decide(struct sluice_policy_loader *l, int dport)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = (uint16_t)dport, .uid = -1 };

	f.dst[0] = 192;
	f.dst[2] = 2;
	f.dst[3] = 1;
	return sluice_policy_match(sluice_policy_loader_current(l), &f);
}

/* A policy denying TCP to port 8081 (rule 1), as an agent started on it saw it. */
static void good_policy_seen_by_an_agent(struct fixture *fx)
{
	struct sluice_policy_loader l;

	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_DATABASE);
	sql_on(fx->path, "INSERT INTO rules(id, action, proto, dst_port) VALUES (1, 'deny', 'tcp', '8081');");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, NULL), SLUICE_RELOAD_SWAPPED);
	assert_string_equal(l.save_error, "");
	sluice_policy_loader_close(&l);
}

static void test_last_good_copy_is_written_after_each_good_compile(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db;
	sqlite3_stmt *st;

	good_policy_seen_by_an_agent(fx);
	/* The copy holds the rule, alone: a plain journal, no -wal beside it. */
	assert_int_equal(sqlite3_open_v2(fx->copy, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT dst_port FROM rules", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "8081");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_fresh_loader_enforces_last_good_until_the_row_is_fixed(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy_loader l;
	struct sluice_policy *retired;

	good_policy_seen_by_an_agent(fx);
	/* Control: a fresh loader on the good database enforces the database. */
	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_DATABASE);
	sluice_policy_loader_close(&l);

	sql_on(fx->path, "PRAGMA ignore_check_constraints = 1;"
	       "INSERT INTO rules(id, action, domain) VALUES (7, 'deny', printf('%.64c', 'a') || '.test');");
	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_LAST_GOOD);
	assert_int_equal(l.source, SLUICE_POLICY_FROM_LAST_GOOD);
	assert_non_null(strstr(l.error, "rules row 7: domain"));
	assert_true(l.source_time > 0);
	assert_int_equal(decide(&l, 8081).rule_id, 1);
	assert_int_equal(decide(&l, 8080).allow, 1);
	/* Nothing changed: it stays so, and the copy is not overwritten. */
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_NONE);

	sql_on(fx->path, "DELETE FROM rules WHERE id = 7;");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	assert_int_equal(l.source, SLUICE_POLICY_FROM_DATABASE);
	assert_string_equal(l.error, "");
	assert_int_equal(decide(&l, 8081).rule_id, 1);
	sluice_policy_loader_close(&l);
}

static void test_unreadable_database_falls_back_to_copy_then_built_in(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy_loader l;
	struct stat sb;
	FILE *f;
	int i;

	good_policy_seen_by_an_agent(fx);
	f = fopen(fx->path, "w");
	assert_non_null(f);
	for (i = 0; i < 4096; i++)
		fputc((i * 131 + 7) & 0xff, f);
	fclose(f);
	snprintf(fx->err, sizeof(fx->err), "%s-wal", fx->path);
	unlink(fx->err);
	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_LAST_GOOD);
	assert_non_null(strstr(l.error, "is not an SQLite database"));
	assert_int_equal(decide(&l, 8081).rule_id, 1);
	sluice_policy_loader_close(&l);

	/* No copy either: the built-in policy, allow or deny as asked. */
	unlink(fx->copy);
	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_BUILT_IN);
	assert_int_equal(decide(&l, 8081).allow, 1);
	assert_int_equal(decide(&l, 8081).rule_id, 0);
	sluice_policy_loader_close(&l);
	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 0, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_BUILT_IN);
	assert_int_equal(decide(&l, 8080).allow, 0);
	sluice_policy_loader_close(&l);
	/* The broken file was left as it was, for someone to look at. */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_size, 4096);
}

static void test_settings_are_compiled_with_the_rules(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy_loader l;
	const struct sluice_policy *p;

	assert_int_equal(sluice_policy_loader_start(&l, fx->path, 1, fx->err, sizeof(fx->err)),
			 SLUICE_POLICY_FROM_DATABASE);
	p = sluice_policy_loader_current(&l);
	assert_int_equal(sluice_policy_sinkhole_null(p) + sluice_policy_block_dot(p) +
			 sluice_policy_block_doh(p), 0);
	sql_on(fx->path, "INSERT INTO settings VALUES ('sinkhole', 'null');"
	       "INSERT INTO settings VALUES ('block_dot', 'yes');"
	       "INSERT INTO settings VALUES ('block_doh', 'no');");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, NULL), SLUICE_RELOAD_SWAPPED);
	p = sluice_policy_loader_current(&l);
	assert_int_equal(sluice_policy_sinkhole_null(p), 1);
	assert_int_equal(sluice_policy_block_dot(p), 1);
	assert_int_equal(sluice_policy_block_doh(p), 0);
	/* A value forced past the schema is refused with the rest of the policy. */
	sql_on(fx->path, "PRAGMA ignore_check_constraints = 1;"
	       "UPDATE settings SET value = 'true' WHERE key = 'block_dot';");
	assert_int_equal(sluice_policy_loader_poll(&l, 0, NULL), SLUICE_RELOAD_FAILED);
	assert_string_equal(l.error, "settings block_dot 'true' is not 'no' or 'yes'");
	assert_int_equal(sluice_policy_block_dot(sluice_policy_loader_current(&l)), 1);
	sluice_policy_loader_close(&l);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_last_good_copy_is_written_after_each_good_compile),
		T(test_fresh_loader_enforces_last_good_until_the_row_is_fixed),
		T(test_unreadable_database_falls_back_to_copy_then_built_in),
		T(test_settings_are_compiled_with_the_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
