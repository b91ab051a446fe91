// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the rules on who a flow belongs to (schema version 4):
 * rules.uid, rules.exe and rules.unit as the real sqlite3 CLI checks them
 * and as the compiler reads them, the migration of a version 3 file,
 * matching with known and unknown fields, the exe directory glob, and
 * whether a policy needs the kernel's identity at all.
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
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "agent/policy.h"
#include "agent/policy_sql.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char path[128];
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sluice-identity-policy-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/policy.db", fx->dir);
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

/* sql through the real sqlite3 CLI on fx->path; its exit status. */
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

static struct sluice_policy *fresh_policy(struct fixture *fx, const char *sql)
{
	struct sluice_policy *p;
	sqlite3 *db;

	unlink(fx->path);
	assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
	if (!p)
		fail_msg("compile: %s", fx->err);
	sqlite3_close(db);
	return p;
}

/* ------------------------------------------------------------------ */
/* What the schema refuses, and the compiler                           */
/* ------------------------------------------------------------------ */

static const struct id_value {
	const char *col, *value;	/* value as SQL */
	const char *refusal;		/* what sqlite3 says; NULL: accepted */
	int compiles;			/* written past the checks, it compiles */
} id_values[] = {
	{ "unit", "'nginx.service'", NULL, 1 },
	{ "unit", "'session-2.scope'", NULL, 1 },
	{ "unit", "'demo.slice'", NULL, 1 },
	{ "unit", "'user@1000.service'", NULL, 1 },
	{ "unit", "'systemd-fsck@dev-disk-by\\x2duuid-1.service'", NULL, 1 },
	{ "unit", "printf('%.247c', 'a') || '.service'", NULL, 1 },
	{ "unit", "printf('%.248c', 'a') || '.service'", "rules.unit: must be a systemd unit name of 1 to 255 bytes", 0 },
	{ "unit", "''", "rules.unit: must be a systemd unit name of 1 to 255 bytes", 0 },
	{ "unit", "'nginx'", "rules.unit: must end in .service, .scope or .slice", 0 },
	{ "unit", "'nginx.socket'", "rules.unit: must end in .service, .scope or .slice", 0 },
	{ "unit", "'multi-user.target'", "rules.unit: must end in .service, .scope or .slice", 0 },
	{ "unit", "'.service'", "rules.unit: must end in .service, .scope or .slice", 0 },
	{ "unit", "'ng inx.service'", "rules.unit: may hold only letters, digits", 0 },
	{ "unit", "'a/b.service'", "rules.unit: may hold only letters, digits", 0 },
	{ "unit", "'a@b@c.service'", "rules.unit: may hold only letters, digits", 0 },
	{ "unit", "'ng' || char(239) || 'nx.service'", "rules.unit: may hold only letters, digits", 0 },
	{ "unit", "'@x.service'", "rules.unit: needs a name before its type", 0 },
	{ "unit", "'getty@.service'", "rules.unit: is a template (name@.service), which never runs", 0 },
	{ "unit", "'a' || char(0) || '.service'", "rules.unit: must be text without NUL bytes", 0 },
	{ "unit", "x'612e73657276696365'", "rules.unit: must be text without NUL bytes", 0 },
	{ "unit", "42", "rules.unit: must end in .service, .scope or .slice", 0 },
	{ "exe", "'/usr/bin/curl'", NULL, 1 },
	{ "exe", "'/opt/app/*'", NULL, 1 },
	{ "exe", "'/*'", NULL, 1 },
	{ "exe", "'usr/bin/curl'", "rules.exe: must be an absolute path", 0 },
	{ "exe", "'/opt/*/bin'", "rules.exe: a * may only end the path", 1 },
	{ "exe", "'/opt/app*'", "rules.exe: a * may only end the path", 1 },
	{ "exe", "'/opt/*/*'", "rules.exe: a * may only end the path", 1 },
	{ "exe", "'/opt//app'", "rules.exe: must be a path as the kernel writes it", 1 },
	{ "exe", "'/opt/./app'", "rules.exe: must be a path as the kernel writes it", 1 },
	{ "exe", "'/opt/../app'", "rules.exe: must be a path as the kernel writes it", 1 },
	{ "exe", "'/opt/app/'", "rules.exe: must be a path as the kernel writes it", 1 },
	{ "exe", "'/'", "rules.exe: must be a path as the kernel writes it", 1 },
	{ "exe", "'/' || printf('%.4095c', 'a')", "rules.exe: longer than 4095 bytes", 1 },
	{ "exe", "'/' || printf('%.4094c', 'a')", NULL, 1 },
	{ "uid", "0", NULL, 1 },
	{ "uid", "4294967294", NULL, 1 },
	{ "uid", "'1000'", NULL, 1 },
	{ "uid", "4294967295", "rules.uid: must be an integer 0..4294967294", 0 },
	{ "uid", "-1", "rules.uid: must be an integer 0..4294967294", 0 },
	{ "uid", "'root'", "rules.uid: must be an integer 0..4294967294", 0 },
	{ "uid", "1.5", "rules.uid: must be an integer 0..4294967294", 0 },
};

/*
 * Each value on a fresh policy through sqlite3: refused with its clear
 * message, or accepted and compiled. Written again past the checks
 * (PRAGMA ignore_check_constraints=1), the compiler refuses every unit and
 * uid the schema refuses, naming the row and column, and reads exe rows
 * from before version 4 as it always did.
 */
static void test_schema_and_compiler_refuse_bad_identity_values(void **state)
{
	struct fixture *fx = *state;
	char sql[8192], out[2048], report[16384] = "";
	size_t i, len = 0;
	int bad = 0;

	for (i = 0; i < NCASES(id_values); i++) {
		const struct id_value *c = &id_values[i];
		const char *problem = NULL;
		struct sluice_policy *p;
		sqlite3 *db;
		int rc;

		unlink(fx->path);
		assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
		snprintf(sql, sizeof(sql), "INSERT INTO rules(id, action, %s) VALUES (5, 'deny', %s);",
			 c->col, c->value);
		rc = sqlite3_cli(fx, sql, out, sizeof(out));
		if (c->refusal && (rc == 0 || !strstr(out, c->refusal)))
			problem = rc ? out : "sqlite3 accepted it";
		else if (!c->refusal && rc != 0)
			problem = out;
		if (!problem && rc != 0) {
			snprintf(sql, sizeof(sql), "PRAGMA ignore_check_constraints = 1;"
				 " INSERT INTO rules(id, action, %s) VALUES (5, 'deny', %s);",
				 c->col, c->value);
			assert_int_equal(sqlite3_cli(fx, sql, out, sizeof(out)), 0);
		}
		p = problem ? NULL : sluice_policy_compile(db, fx->err, sizeof(fx->err));
		if (!problem && c->compiles && !p)
			problem = fx->err;
		if (!problem && !c->compiles &&
		    (p || !strstr(fx->err, "rules row 5: ") || !strstr(fx->err, c->col)))
			problem = p ? "the compiler accepted it" : fx->err;
		sluice_policy_free(p);
		sqlite3_close(db);
		if (problem) {
			bad++;
			len += (size_t)snprintf(report + len, len < sizeof(report) ? sizeof(report) - len : 0,
						"\n  %s = %s\n    -> %.300s", c->col, c->value, problem);
		}
	}
	if (bad) {
		fprintf(stderr, "%d of %zu values:%s\n", bad, NCASES(id_values), report);
		fail();
	}
}

/* The compiler's own words on a unit written past the schema. */
static void test_compiler_names_a_bad_unit(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy *p;
	char out[256];
	sqlite3 *db;

	assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(sqlite3_cli(fx, "PRAGMA ignore_check_constraints = 1;"
				     " INSERT INTO rules(id, action, unit) VALUES (9, 'allow', 'getty@.service');",
				     out, sizeof(out)), 0);
	p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
	assert_null(p);
	assert_string_equal(fx->err, "rules row 9: unit 'getty@.service' is a template (name@.service), which never runs; name an instance such as getty@tty1.service");
	sqlite3_close(db);
}

/* ------------------------------------------------------------------ */
/* Migration from version 3                                            */
/* ------------------------------------------------------------------ */

static void test_migration_3_to_4_keeps_every_row(void **state)
{
	static const char v3_rows[] =
		"PRAGMA user_version = 3;\n"
		"INSERT INTO rules VALUES (1, 10, 'deny', 'out', 'tcp', '10.0.0.0/8', '192.0.2.0/24', '25', NULL, NULL, NULL, 1, 'no smtp');\n"
		"INSERT INTO rules VALUES (2, 20, 'allow', 'any', NULL, NULL, NULL, NULL, NULL, 1000, '/usr/bin/curl', 1, 'curl of 1000');\n"
		"INSERT INTO rules VALUES (3, 30, 'deny', 'any', NULL, NULL, NULL, NULL, NULL, NULL, '/opt/a*b/x', 1, 'a star v3 took');\n"
		"INSERT INTO lists(name) VALUES ('ads');\n"
		"INSERT INTO list_domains VALUES (1, 'ads.example');\n"
		"INSERT INTO settings VALUES ('default_action', 'deny');\n";
	static const char cols[] =
		".mode quote\nSELECT id, priority, action, direction, proto, src, dst, dst_port,"
		" domain, uid, exe, enabled, comment FROM rules ORDER BY id;"
		" SELECT * FROM list_domains; SELECT * FROM settings;\n";
	struct fixture *fx = *state;
	char before[2048], after[2048], out[2048], bak[192];
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 443,
				 .uid = 1000, .exe = "/usr/bin/curl" };
	struct sluice_policy *p;
	const char *v4;
	char *v3;
	sqlite3 *db;

	/* A version 3 file: the built-in schema up to the version 4 part. */
	v4 = strstr(sluice_schema_sql, "\n-- @@ schema version 4 @@\n");
	assert_non_null(v4);
	v3 = calloc(1, (size_t)(v4 - sluice_schema_sql) + sizeof(v3_rows) + 2);
	assert_non_null(v3);
	memcpy(v3, sluice_schema_sql, (size_t)(v4 - sluice_schema_sql) + 1);
	strcat(v3, v3_rows);
	assert_int_equal(sqlite3_cli(fx, v3, out, sizeof(out)), 0);
	free(v3);
	assert_int_equal(sqlite3_cli(fx, cols, before, sizeof(before)), 0);
	assert_non_null(strstr(before, "'a star v3 took'"));

	assert_int_equal(sluice_policy_open(fx->path, &db, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(sqlite3_cli(fx, "PRAGMA user_version; SELECT count(*) FROM rules WHERE unit IS NULL;",
				     out, sizeof(out)), 0);
	assert_string_equal(out, "4\n3\n");
	assert_int_equal(sqlite3_cli(fx, cols, after, sizeof(after)), 0);
	assert_string_equal(after, before);
	snprintf(bak, sizeof(bak), "%s.bak-v3", fx->path);
	assert_int_equal(access(bak, R_OK), 0);

	/* The old rows compile (the v3 star too) and decide as before. */
	p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
	if (!p)
		fail_msg("compile: %s", fx->err);
	assert_int_equal(sluice_policy_rule_count(p), 3);
	assert_int_equal(sluice_policy_match(p, &f).rule_id, 2);
	assert_true(sluice_policy_needs_identity(p));
	sluice_policy_free(p);
	/* The version 4 checks are in force. */
	assert_int_not_equal(sqlite3_cli(fx, "INSERT INTO rules(action, unit) VALUES ('deny', 'nginx');",
					 out, sizeof(out)), 0);
	assert_non_null(strstr(out, "rules.unit: must end in .service, .scope or .slice"));
	assert_int_equal(sqlite3_cli(fx, "INSERT INTO rules(action, unit) VALUES ('deny', 'nginx.service');",
				     out, sizeof(out)), 0);
	sqlite3_close(db);
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

static void test_match_uid_exe_unit_known_and_unknown(void **state)
{
	static const struct {
		int64_t uid;
		const char *exe, *unit;
		int64_t rule;
		unsigned int unknown;
	} cases[] = {
		/* rule 1: uid 1000 and curl; 2: nginx.service; 3: below /opt/app */
		{ 1000, "/usr/bin/curl", NULL, 1, 0 },
		{ 1000, "/usr/bin/wget", NULL, 0, SLUICE_UNKNOWN_UNIT },
		{ 1001, "/usr/bin/curl", NULL, 0, SLUICE_UNKNOWN_UNIT },
		{ -1, "/usr/bin/curl", NULL, 0, SLUICE_UNKNOWN_UID | SLUICE_UNKNOWN_UNIT },
		{ 1000, NULL, NULL, 0, SLUICE_UNKNOWN_EXE | SLUICE_UNKNOWN_UNIT },
		{ 5, "/usr/bin/x", "nginx.service", 2, 0 },
		{ 5, "/usr/bin/x", "nginx2.service", 0, 0 },
		{ 5, "/opt/app/bin/run", "x.scope", 3, 0 },
		{ 5, "/opt/app/run", "x.scope", 3, 0 },
		{ 5, "/opt/app", "x.scope", 0, 0 },		/* the directory is no program below it */
		{ 5, "/opt/app/", "x.scope", 0, 0 },
		{ 5, "/opt/apple", "x.scope", 0, 0 },
		{ 5, NULL, "x.scope", 0, SLUICE_UNKNOWN_EXE },
		{ -1, NULL, NULL, 0, SLUICE_UNKNOWN_IDENTITY },
	};
	struct fixture *fx = *state;
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 443 };
	struct sluice_policy *p;
	size_t i;

	p = fresh_policy(fx,
		"INSERT INTO rules(id, priority, action, uid, exe) VALUES (1, 1, 'deny', 1000, '/usr/bin/curl');"
		"INSERT INTO rules(id, priority, action, unit) VALUES (2, 2, 'deny', 'nginx.service');"
		"INSERT INTO rules(id, priority, action, exe) VALUES (3, 3, 'deny', '/opt/app/*');");
	assert_true(sluice_policy_needs_identity(p));
	for (i = 0; i < NCASES(cases); i++) {
		struct sluice_decision d;

		f.uid = cases[i].uid;
		f.exe = cases[i].exe;
		f.unit = cases[i].unit;
		d = sluice_policy_match(p, &f);
		if (d.rule_id != cases[i].rule || d.allow != (cases[i].rule == 0) ||
		    d.unknown != cases[i].unknown || d.partial != (cases[i].unknown != 0))
			fail_msg("case %zu (uid %lld exe %s unit %s): rule %lld unknown %#x partial %d,"
				 " wanted rule %lld unknown %#x", i, (long long)f.uid,
				 f.exe ? f.exe : "?", f.unit ? f.unit : "?", (long long)d.rule_id,
				 d.unknown, d.partial, (long long)cases[i].rule, cases[i].unknown);
	}
	sluice_policy_free(p);
}

/*
 * A rule that fails on a known column was not skipped for an unknown one:
 * it leaves no mark, so that the verdict does not wait for what cannot
 * change its answer.
 */
static void test_unknown_counts_only_rules_that_could_have_matched(void **state)
{
	struct fixture *fx = *state;
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .dport = 443, .uid = 7 };
	struct sluice_decision d;
	struct sluice_policy *p;

	p = fresh_policy(fx,
		"INSERT INTO rules(id, action, uid, domain) VALUES (1, 'deny', 1000, 'example.com');"
		"INSERT INTO rules(id, action, dst_port, exe) VALUES (2, 'deny', '80', '/bin/x');");
	d = sluice_policy_match(p, &f);
	assert_int_equal(d.rule_id, 0);
	assert_int_equal(d.unknown, 0);
	assert_int_equal(d.partial, 0);
	f.uid = 1000;
	d = sluice_policy_match(p, &f);
	assert_int_equal(d.unknown, SLUICE_UNKNOWN_DOMAIN);
	f.domain = "example.com";
	d = sluice_policy_match(p, &f);
	assert_int_equal(d.rule_id, 1);
	sluice_policy_free(p);
}

static void test_policy_without_identity_rules_needs_none(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy *p;

	assert_false(sluice_policy_needs_identity(NULL));
	p = fresh_policy(fx,
		"INSERT INTO rules(action, dst, domain) VALUES ('deny', '10.0.0.0/8', 'a.example');"
		"INSERT INTO list_import VALUES ('ads', 'ads.example');");
	assert_false(sluice_policy_needs_identity(p));
	sluice_policy_free(p);
	/* A disabled identity rule costs nothing either. */
	p = fresh_policy(fx, "INSERT INTO rules(action, uid, enabled) VALUES ('deny', 0, 0);");
	assert_false(sluice_policy_needs_identity(p));
	sluice_policy_free(p);
	p = fresh_policy(fx, "INSERT INTO rules(action, unit) VALUES ('deny', 'x.scope');");
	assert_true(sluice_policy_needs_identity(p));
	sluice_policy_free(p);
	p = fresh_policy(fx, "INSERT INTO rules(action, uid) VALUES ('deny', 0);");
	assert_true(sluice_policy_needs_identity(p));
	sluice_policy_free(p);
}

/* The output of a command line; its exit status. */
static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *f = popen(cmd, "r");
	size_t n;
	int status;

	assert_non_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* sluicectl explain with and without the identity a rule needs. */
static void test_sluicectl_explain_takes_uid_exe_unit(void **state)
{
	struct fixture *fx = *state;
	char cmd[512], out[1024];

	if (access("agent/sluicectl", X_OK) != 0)
		skip();	/* not run from the top of a built tree */
	sluice_policy_free(fresh_policy(fx,
		"INSERT INTO rules(id, action, unit, dst_port) VALUES (4, 'deny', 'nginx.service', '443');"
		"INSERT INTO rules(id, action, exe, uid) VALUES (5, 'deny', '/opt/app/*', 0);"));
	snprintf(cmd, sizeof(cmd), "agent/sluicectl explain --db '%s' tcp 192.0.2.1:443 2>&1", fx->path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "allow default action\n"
			    "uid unknown, unit unknown, exe unknown, name unknown\n"
			    "an earlier rule was skipped only because the flow's uid or exe or unit is unknown\n"
			    "decided by proto dir dport uid unit\n");
	snprintf(cmd, sizeof(cmd), "agent/sluicectl explain --db '%s' --unit nginx.service tcp 192.0.2.1:443 2>&1",
		 fx->path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "deny rule 4\nuid unknown, unit nginx.service, exe unknown, name unknown\n"
			    "decided by proto dir dport unit\n");
	snprintf(cmd, sizeof(cmd), "agent/sluicectl explain --db '%s' --uid 0 --exe /opt/app/bin/x"
		 " --direction in udp '[2001:db8::1]:53' 2>&1", fx->path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "deny rule 5\nuid 0, unit unknown, exe /opt/app/bin/x, name unknown\n"
			    "decided by proto dir dport uid exe\n");
	snprintf(cmd, sizeof(cmd), "agent/sluicectl explain --db '%s' --unit getty@.service tcp 192.0.2.1 2>&1",
		 fx->path);
	assert_int_equal(run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--unit \"getty@.service\" is a template"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_schema_and_compiler_refuse_bad_identity_values),
		T(test_compiler_names_a_bad_unit),
		T(test_migration_3_to_4_keeps_every_row),
		T(test_match_uid_exe_unit_known_and_unknown),
		T(test_unknown_counts_only_rules_that_could_have_matched),
		T(test_policy_without_identity_rules_needs_none),
		T(test_sluicectl_explain_takes_uid_exe_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
