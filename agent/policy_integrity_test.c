// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy database's integrity (issue 10, items 6 and 7):
 * every row the real sqlite3 CLI accepts compiles, each refusal beside a
 * control that shows the allowed case works; settings belong to the
 * compiled policy; the file is in WAL mode, so that a plain sqlite3 edit
 * commits while the agent compiles a 300 000-name list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "agent/policy.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char path[128];		/* dir/policy.db, a fresh default policy */
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	sqlite3 *db;

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sluice-integrity-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/policy.db", fx->dir);
	if (sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)) < 0) {
		fprintf(stderr, "setup: %s\n", fx->err);
		return -1;
	}
	sqlite3_close(db);
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

/* sql through the real sqlite3 CLI, as a person types it; its exit status. */
static int sqlite3_cli(const struct fixture *fx, const char *sql, char *out, size_t outlen)
{
	char script[160], cmd[512];
	size_t n;
	FILE *f;
	int status;

	snprintf(script, sizeof(script), "%s/script.sql", fx->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(sql, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sqlite3 -bail '%s' < '%s' 2>&1", fx->path, script);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	while (fgetc(f) != EOF)
		;
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ------------------------------------------------------------------ */
/* What sqlite3 accepts, sluiced compiles                               */
/* ------------------------------------------------------------------ */

#define REFUSED	0
#define ALLOWED	1

/* printf('%.Nc', 'a'): N times 'a', in SQL. */
#define A63	"printf('%.63c', 'a')"
#define A64	"printf('%.64c', 'a')"

static const struct odd_row {
	int want;
	const char *sql;
} odd_rows[] = {
	/* Domains: label length, empty labels, total length, characters. */
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', " A64 " || '.test');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', " A63 " || '.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.' || " A64 " || '.test');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.' || " A63 " || '.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'www.' || " A64 ");" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', 'www.' || " A63 " || '.');" },
	/* 254 bytes without a trailing dot is one too many; 253 is fine. */
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', " A63 " || '.' || " A63 " || '.' || " A63 " || '.' || printf('%.62c', 'a'));" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', " A63 " || '.' || " A63 " || '.' || " A63 " || '.' || printf('%.61c', 'a'));" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', " A63 " || '.' || " A63 " || '.' || " A63 " || '.' || printf('%.61c', 'a') || '.');" },
	/* The whole text of a wildcard is held to 254 bytes too. */
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.' || " A63 " || '.' || " A63 " || '.' || " A63 " || '.' || printf('%.61c', 'a'));" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.' || " A63 " || '.' || " A63 " || '.' || " A63 " || '.' || printf('%.60c', 'a'));" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '.');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a..test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '.a.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a.test..');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '*..');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a.test.');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.Example.COM.');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'b' || char(252) || 'cher.test');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', 'xn--bcher-kva.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a' || char(0) || 'b.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a b.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', 'a.*.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', '*.*.test');" },
	{ ALLOWED, "INSERT INTO rules(action, domain) VALUES ('deny', '_dmarc.a-b.test');" },
	{ REFUSED, "INSERT INTO rules(action, domain) VALUES ('deny', x'612e74657374');" },
	/* Addresses: the IPv4 tail of an IPv6 address, NUL bytes, blobs. */
	{ REFUSED, "INSERT INTO rules(action, dst) VALUES ('deny', '::ffff:1.2.3.256');" },
	{ REFUSED, "INSERT INTO rules(action, dst) VALUES ('deny', '::ffff:1.2.3.04');" },
	{ REFUSED, "INSERT INTO rules(action, dst) VALUES ('deny', '::1.2.3.4.5');" },
	{ ALLOWED, "INSERT INTO rules(action, dst) VALUES ('deny', '::ffff:1.2.3.255/120');" },
	{ ALLOWED, "INSERT INTO rules(action, dst) VALUES ('deny', '1:2:3:4:5:6:1.2.3.4');" },
	{ REFUSED, "INSERT INTO rules(action, src) VALUES ('deny', '1:2:3:4:5:6:7:1.2.3.4');" },
	{ REFUSED, "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.1' || char(0) || 'x');" },
	{ REFUSED, "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.0/8' || char(0));" },
	{ REFUSED, "INSERT INTO rules(action, src) VALUES ('deny', x'31302e302e302e31');" },
	{ ALLOWED, "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.1');" },
	{ REFUSED, "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.0/08');" },
	{ ALLOWED, "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.0/8');" },
	/* Ports. */
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', '443' || char(0));" },
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', x'343433');" },
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', ' 443');" },
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', 443.5);" },
	{ ALLOWED, "INSERT INTO rules(action, dst_port) VALUES ('deny', 443);" },
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', '1-2-3');" },
	{ REFUSED, "INSERT INTO rules(action, dst_port) VALUES ('deny', '80-08080');" },
	{ ALLOWED, "INSERT INTO rules(action, dst_port) VALUES ('deny', '80-8080');" },
	/* Programs and the enumerated columns. */
	{ REFUSED, "INSERT INTO rules(action, exe) VALUES ('deny', '/bin/a' || char(0) || 'b');" },
	{ ALLOWED, "INSERT INTO rules(action, exe) VALUES ('deny', '/bin/ab');" },
	{ REFUSED, "INSERT INTO rules(action) VALUES ('deny' || char(0));" },
	{ REFUSED, "INSERT INTO rules(action, proto) VALUES ('deny', x'746370');" },
	{ ALLOWED, "INSERT INTO rules(action, proto) VALUES ('deny', 'tcp');" },
	{ REFUSED, "INSERT INTO rules(action, uid) VALUES ('deny', 4294967295);" },
	{ ALLOWED, "INSERT INTO rules(action, uid, enabled) VALUES ('deny', '4294967294', 1.0);" },
	/* Settings: every key a value it understands, nothing else. */
	{ REFUSED, "INSERT INTO settings VALUES ('sinkhole', 'NULL');" },
	{ ALLOWED, "INSERT INTO settings VALUES ('sinkhole', 'null');" },
	{ ALLOWED, "INSERT INTO settings VALUES ('sinkhole', 'nxdomain');" },
	{ REFUSED, "INSERT INTO settings VALUES ('block_dot', 'true');" },
	{ ALLOWED, "INSERT INTO settings VALUES ('block_dot', 'yes');" },
	{ ALLOWED, "INSERT INTO settings VALUES ('block_dot', 'no');" },
	{ REFUSED, "INSERT INTO settings VALUES ('block_doh', 1);" },
	{ ALLOWED, "INSERT INTO settings VALUES ('block_doh', 'yes');" },
	{ REFUSED, "INSERT INTO settings VALUES ('block-dot', 'yes');" },
	{ REFUSED, "UPDATE settings SET key = 'default-action';" },
	{ REFUSED, "UPDATE settings SET value = 'deny' || char(0);" },
	{ ALLOWED, "UPDATE settings SET value = 'deny';" },
	{ REFUSED, "DELETE FROM settings; INSERT INTO settings VALUES ('sinkhole', x'6e756c6c');" },
	{ ALLOWED, "DELETE FROM settings;" },
	/* Lists. */
	{ REFUSED, "INSERT INTO list_import VALUES ('ads', " A64 " || '.test');" },
	{ ALLOWED, "INSERT INTO list_import VALUES ('ads', " A63 " || '.test');" },
};

/*
 * Each row on a fresh default policy: a refused one must be refused by
 * sqlite3; an allowed one accepted; and whatever sqlite3 accepted must
 * compile. Every mismatch is listed, not only the first.
 */
static void test_every_row_sqlite3_accepts_compiles(void **state)
{
	struct fixture *fx = *state;
	char out[1024], report[16384] = "";
	size_t i, len = 0;
	int bad = 0;

	for (i = 0; i < NCASES(odd_rows); i++) {
		const struct odd_row *c = &odd_rows[i];
		struct sluice_policy *p = NULL;
		const char *problem = NULL;
		sqlite3 *db;
		int rc;

		unlink(fx->path);
		assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
		rc = sqlite3_cli(fx, c->sql, out, sizeof(out));
		if (rc == 0) {
			p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
			if (!p)
				problem = fx->err;
			else if (c->want == REFUSED)
				problem = "sqlite3 accepted it";
		} else if (c->want == ALLOWED) {
			problem = out;
		}
		sluice_policy_free(p);
		sqlite3_close(db);
		if (problem) {
			bad++;
			len += (size_t)snprintf(report + len, len < sizeof(report) ? sizeof(report) - len : 0,
						"\n  %s\n    -> %s", c->sql, problem);
		}
	}
	if (bad) {
		fprintf(stderr, "%d of %zu rows:%s\n", bad, NCASES(odd_rows), report);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* Locking: WAL, and an edit during a long compile                      */
/* ------------------------------------------------------------------ */

static void test_new_and_migrated_files_are_in_wal_mode(void **state)
{
	struct fixture *fx = *state;
	char out[1024], sql[160];
	char *schema, *v3;
	sqlite3 *db;
	FILE *f;
	long n;

	assert_int_equal(sqlite3_cli(fx, "PRAGMA journal_mode;", out, sizeof(out)), 0);
	assert_string_equal(out, "wal\n");

	/* A version 2 file: the schema up to the version 3 part, as sqlite3 makes it. */
	if (access("policy/schema.sql", R_OK) != 0)
		skip();	/* not run from the top of the tree */
	f = fopen("policy/schema.sql", "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	schema = calloc(1, (size_t)n + 256);
	assert_non_null(schema);
	assert_int_equal(fread(schema, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	v3 = strstr(schema, "\n-- @@ schema version 3 @@\n");
	assert_non_null(v3);
	strcpy(v3, "\nPRAGMA user_version = 2;\n"
	       "INSERT INTO settings VALUES ('default_action', 'deny');\n"
	       "INSERT INTO rules(id, action, domain) VALUES (7, 'deny', 'ads.example');\n");
	unlink(fx->path);
	assert_int_equal(sqlite3_cli(fx, schema, out, sizeof(out)), 0);
	free(schema);
	assert_int_equal(sqlite3_cli(fx, "PRAGMA journal_mode;", out, sizeof(out)), 0);
	assert_string_equal(out, "delete\n");

	assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
	sqlite3_close(db);
	assert_int_equal(sqlite3_cli(fx, "PRAGMA journal_mode; PRAGMA user_version;"
				     " SELECT id FROM rules; SELECT value FROM settings;", out, sizeof(out)), 0);
	snprintf(sql, sizeof(sql), "wal\n%d\n7\ndeny\n", SLUICE_POLICY_SCHEMA_VERSION);
	assert_string_equal(out, sql);
	snprintf(sql, sizeof(sql), "%s.bak-v2", fx->path);
	assert_int_equal(access(sql, R_OK), 0);
	/* And the version 3 checks are in force. */
	assert_int_not_equal(sqlite3_cli(fx, "INSERT INTO settings VALUES ('block_dot', 'true');",
					 out, sizeof(out)), 0);
	assert_non_null(strstr(out, "settings.block_dot: must be 'yes' or 'no'"));
}

struct compiler {
	const char *path;
	atomic_int stop;
	atomic_int compiling;		/* inside sluice_policy_compile now */
	atomic_int compiles;		/* finished, all good */
	atomic_int failed;
	char err[512];
};

/* The agent's side: compile the policy again and again until told to stop. */
static void *compile_loop(void *arg)
{
	struct compiler *c = arg;
	sqlite3 *db;

	if (sluice_policy_open(c->path, &db, c->err, sizeof(c->err)) < 0) {
		atomic_store(&c->failed, 1);
		return NULL;
	}
	while (!atomic_load(&c->stop)) {
		struct sluice_policy *p;

		atomic_store(&c->compiling, 1);
		p = sluice_policy_compile(db, c->err, sizeof(c->err));
		atomic_store(&c->compiling, 0);
		if (!p) {
			atomic_store(&c->failed, 1);
			break;
		}
		sluice_policy_free(p);
		atomic_fetch_add(&c->compiles, 1);
	}
	sqlite3_close(db);
	return NULL;
}

static void test_sqlite3_edit_commits_while_a_big_list_compiles(void **state)
{
	struct fixture *fx = *state;
	struct compiler c = { .path = fx->path };
	char out[1024];
	pthread_t t;
	int rc, during, i;

	/* 300 000 names in one list, written the way sqlite3 users would. */
	assert_int_equal(sqlite3_cli(fx,
		"INSERT INTO lists(name) VALUES ('big');"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
		" INSERT INTO list_domains(list_id, domain)"
		"  SELECT (SELECT id FROM lists WHERE name = 'big'), 'host' || i || '.example.test' FROM n;",
		out, sizeof(out)), 0);
	assert_int_equal(pthread_create(&t, NULL, compile_loop, &c), 0);
	while (!atomic_load(&c.compiling) && !atomic_load(&c.failed))
		usleep(1000);
	usleep(20000);
	/* The edits of a person, each one while a compile runs. */
	for (i = 0, during = 0; i < 3; i++) {
		during += atomic_load(&c.compiling);
		rc = sqlite3_cli(fx, "INSERT INTO rules(action, dst_port) VALUES ('deny', '25');",
				 out, sizeof(out));
		during += atomic_load(&c.compiling);
		if (rc != 0)
			break;
	}
	atomic_store(&c.stop, 1);
	pthread_join(t, NULL);
	if (atomic_load(&c.failed))
		fail_msg("compile: %s", c.err);
	if (rc != 0)
		fail_msg("sqlite3 edit %d during a compile failed (exit %d): %s", i + 1, rc, out);
	assert_true(during >= 3);	/* the edits did meet compiles */
	assert_true(atomic_load(&c.compiles) >= 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_row_sqlite3_accepts_compiles),
		T(test_new_and_migrated_files_are_in_wal_mode),
		T(test_sqlite3_edit_commits_while_a_big_list_compiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
