// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy: the schema's refusals as the real sqlite3 CLI
 * reports them, the compiler and matcher, reload keeping the last good
 * policy, opening/creating/refusing database files, and change detection.
 * Every test works in its own temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "agent/policy.h"

struct fixture {
	char dir[64];		/* temporary directory of the test */
	char path[128];		/* dir/policy.db, created by setup */
	sqlite3 *db;
	char err[512];
	const void *param;	/* the test's prestate, e.g. a match_suite */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->param = *state;
	strcpy(fx->dir, "/tmp/sluice-policy-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/policy.db", fx->dir);
	if (sluice_policy_open(fx->path, &fx->db, fx->err, sizeof(fx->err)) < 0) {
		fprintf(stderr, "setup: %s\n", fx->err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	sqlite3_close(fx->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/*
 * Run sql through the real sqlite3 CLI on db, as a person would. Returns
 * its exit status; out gets what it printed (stdout and stderr).
 */
static int sqlite_cli(const struct fixture *fx, const char *db, const char *sql,
		      char *out, size_t outlen)
{
	char script[160], cmd[512];
	size_t n = 0;
	FILE *f;
	int status;

	snprintf(script, sizeof(script), "%s/script.sql", fx->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(sql, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sqlite3 -bail '%s' < '%s' 2>&1", db, script);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (out && outlen) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
	}
	while (fgetc(f) != EOF)
		;	/* the rest, so that sqlite3 never dies of SIGPIPE */
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* ------------------------------------------------------------------ */
/* (a) the schema refuses bad rows in the sqlite3 CLI                   */
/* ------------------------------------------------------------------ */

static void test_schema_refuses_each_bad_row_class_in_sqlite3_cli(void **state)
{
	static const struct {
		const char *sql, *message;
	} bad[] = {
		{ "INSERT INTO rules(action) VALUES ('drop');", "rules.action: must be 'allow' or 'deny'" },
		{ "INSERT INTO rules(action, direction) VALUES ('deny', 'inbound');", "rules.direction: must be" },
		{ "INSERT INTO rules(action, proto) VALUES ('deny', 'TCP');", "rules.proto: must be" },
		{ "INSERT INTO rules(action, proto) VALUES ('deny', 'any');", "rules.proto: must be" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', '10.0.0.300/8');", "rules.dst: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', '10.0.0/8');", "rules.dst: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', '010.0.0.0/8');", "rules.dst: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', 'example.com');", "rules.dst: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', '10.0.0.0/33');", "rules.dst: prefix length out of range" },
		{ "INSERT INTO rules(action, dst) VALUES ('deny', '10.0.0.0/');", "rules.dst: prefix length out of range" },
		{ "INSERT INTO rules(action, src) VALUES ('deny', '10.0.0.0/-1');", "rules.src: prefix length out of range" },
		{ "INSERT INTO rules(action, src) VALUES ('deny', '1::2::3');", "rules.src: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, src) VALUES ('deny', '12345::/16');", "rules.src: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, src) VALUES ('deny', '1:2:3:4:5:6:7');", "rules.src: not an IPv4 or IPv6 address" },
		{ "INSERT INTO rules(action, src) VALUES ('deny', '2001:db8::/129');", "rules.src: prefix length out of range" },
		{ "INSERT INTO rules(action, src, dst) VALUES ('deny', '::1', '127.0.0.1');", "one is IPv4 and the other IPv6" },
		{ "INSERT INTO rules(action, dst_port) VALUES ('deny', 'https');", "rules.dst_port: must be a port 1..65535" },
		{ "INSERT INTO rules(action, dst_port) VALUES ('deny', '0');", "rules.dst_port: must be a port 1..65535" },
		{ "INSERT INTO rules(action, dst_port) VALUES ('deny', '65536');", "rules.dst_port: must be a port 1..65535" },
		{ "INSERT INTO rules(action, dst_port) VALUES ('deny', '80-');", "rules.dst_port: must be a port 1..65535" },
		{ "INSERT INTO rules(action, dst_port) VALUES ('deny', '8100-8000');", "rules.dst_port: range lo-hi must have lo <= hi" },
		{ "INSERT INTO rules(action, exe) VALUES ('deny', 'usr/bin/curl');", "rules.exe: must be an absolute path" },
		{ "INSERT INTO rules(action, uid) VALUES ('deny', -1);", "rules.uid: must be an integer" },
		{ "INSERT INTO rules(action, uid) VALUES ('deny', 'root');", "rules.uid: must be an integer" },
		{ "INSERT INTO rules(action, domain) VALUES ('deny', 'ex*ample.com');", "rules.domain: must be a DNS name" },
		{ "INSERT INTO rules(action, domain) VALUES ('deny', 'a..example.com');", "rules.domain: must be a DNS name" },
		{ "INSERT INTO rules(action, priority) VALUES ('deny', 'first');", "rules.priority: must be an integer" },
		{ "INSERT INTO rules(action, enabled) VALUES ('deny', 2);", "rules.enabled: must be 1" },
		{ "INSERT INTO rules(id, action) VALUES (1, 'deny'); UPDATE rules SET dst = '1.2.3.4/40' WHERE id = 1;",
		  "rules.dst: prefix length out of range" },
		{ "UPDATE settings SET value = 'block' WHERE key = 'default_action';",
		  "settings.default_action: must be 'allow' or 'deny'" },
		{ "INSERT INTO settings VALUES ('default_action', 'reject');",
		  "settings.default_action: must be 'allow' or 'deny'" },
	};
	struct fixture *fx = *state;
	char out[1024];
	int64_t n;
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = sqlite_cli(fx, fx->path, bad[i].sql, out, sizeof(out));

		if (rc == 0 || !strstr(out, bad[i].message))
			fail_msg("%s\n  exit %d, printed: %s\n  wanted: %s", bad[i].sql, rc, out,
				 bad[i].message);
	}
	/* Nothing of it was stored: -bail stopped each script at the refusal. */
	assert_int_equal(sqlite3_prepare_v2(fx->db, "SELECT count(*) FROM rules WHERE dst IS NOT NULL"
					    " OR action != 'deny'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(n, 0);
}

static void test_schema_accepts_good_rows_at_the_edges(void **state)
{
	static const char sql[] =
		"INSERT INTO rules(action, dst) VALUES ('deny', '0.0.0.0/0');"
		"INSERT INTO rules(action, dst) VALUES ('deny', '255.255.255.255/32');"
		"INSERT INTO rules(action, dst) VALUES ('deny', '192.0.2.1');"
		"INSERT INTO rules(action, src) VALUES ('deny', '::/0');"
		"INSERT INTO rules(action, src) VALUES ('deny', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128');"
		"INSERT INTO rules(action, src) VALUES ('deny', '::ffff:192.0.2.1');"
		"INSERT INTO rules(action, src, dst) VALUES ('allow', 'fe80::/10', '2001:DB8::/32');"
		"INSERT INTO rules(action, dst_port) VALUES ('deny', '1');"
		"INSERT INTO rules(action, dst_port) VALUES ('deny', 65535);"
		"INSERT INTO rules(action, dst_port) VALUES ('deny', '1-65535');"
		"INSERT INTO rules(action, dst_port) VALUES ('deny', '8080-8080');"
		"INSERT INTO rules(action, direction, proto) VALUES ('deny', 'forward', 'icmpv6');"
		"INSERT INTO rules(action, domain) VALUES ('deny', '*.Example.COM.');"
		"INSERT INTO rules(action, uid, exe) VALUES ('allow', 0, '/usr/bin/curl');"
		"INSERT INTO rules(action, priority, enabled) VALUES ('allow', -5, 0);"
		/* An existing settings key is replaced, not a primary key error. */
		"INSERT INTO settings VALUES ('default_action', 'deny');";
	struct fixture *fx = *state;
	char out[1024];
	struct sluice_policy *p;

	if (sqlite_cli(fx, fx->path, sql, out, sizeof(out)) != 0)
		fail_msg("sqlite3 refused a good row: %s", out);
	p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));
	if (!p)
		fail_msg("%s", fx->err);
	assert_int_equal(sluice_policy_rule_count(p), 14);
	assert_int_equal(sluice_policy_default_allow(p), 0);
	sluice_policy_free(p);
}

/* Every example policy in policy/examples loads through the sqlite3 CLI and compiles. */
static void test_example_policies_load_and_compile(void **state)
{
	static const char *const examples[] = { "deny-by-default.sql", "block-some.sql" };
	struct fixture *fx = *state;
	char path[192], sql[320], out[1024];
	struct sluice_policy *p;
	sqlite3 *db;
	size_t i;

	if (access("policy/examples", R_OK) != 0)
		skip();	/* not run from the top of the tree */
	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		snprintf(path, sizeof(path), "%s/example%zu.db", fx->dir, i);
		assert_int_equal(sluice_policy_open(path, &db, fx->err, sizeof(fx->err)), 0);
		snprintf(sql, sizeof(sql), ".read policy/examples/%s\n", examples[i]);
		if (sqlite_cli(fx, path, sql, out, sizeof(out)) != 0)
			fail_msg("%s: %s", examples[i], out);
		p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
		if (!p)
			fail_msg("%s: %s", examples[i], fx->err);
		assert_true(sluice_policy_rule_count(p) > 0);
		sluice_policy_free(p);
		sqlite3_close(db);
	}
}

/* ------------------------------------------------------------------ */
/* (b) compiler and matcher                                             */
/* ------------------------------------------------------------------ */

struct flow_case {
	const char *name;
	int dir;
	int proto;
	const char *src, *dst;
	int dport;
	int64_t want_rule;	/* 0: default action */
	int want_allow;
};

static struct sluice_flow make_flow(const struct flow_case *c)
{
	struct sluice_flow f = {
		.direction = (uint8_t)c->dir,
		.proto = (uint8_t)c->proto,
		.dport = (uint16_t)c->dport,
		.sport = 40000,
		.uid = -1,
	};

	f.family = strchr(c->dst, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(f.family, c->src, f.src), 1);
	assert_int_equal(inet_pton(f.family, c->dst, f.dst), 1);
	return f;
}

/* Compile the fixture's database and check every case against it. */
static void check_flows(struct fixture *fx, const struct flow_case *cases, size_t n)
{
	struct sluice_policy *p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));
	size_t i;

	if (!p)
		fail_msg("compile: %s", fx->err);
	for (i = 0; i < n; i++) {
		struct sluice_flow f = make_flow(&cases[i]);
		struct sluice_decision d = sluice_policy_match(p, &f);

		if (d.rule_id != cases[i].want_rule || d.allow != cases[i].want_allow)
			fail_msg("%s: got rule %lld allow %d, want rule %lld allow %d", cases[i].name,
				 (long long)d.rule_id, d.allow, (long long)cases[i].want_rule,
				 cases[i].want_allow);
	}
	sluice_policy_free(p);
}

#define OUT SLUICE_DIR_OUT
#define IN SLUICE_DIR_IN
#define FWD SLUICE_DIR_FORWARD
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* Rules to insert, and flows with the decision each must get (not const:
 * cmocka takes a test's initial state as void *). */
struct match_suite {
	const char *rules;
	const struct flow_case *cases;
	size_t ncases;
};

#define SUITE(rules_sql, case_array) \
	{ .rules = rules_sql, .cases = case_array, .ncases = NCASES(case_array) }

static const struct flow_case ipv4_cidr_edges_cases[] = {
	{ "/8 first", OUT, TCP, "192.0.2.1", "10.0.0.0", 80, 1, 0 },
	{ "/8 last", OUT, TCP, "192.0.2.1", "10.255.255.255", 80, 1, 0 },
	{ "/8 just below", OUT, TCP, "192.0.2.1", "9.255.255.255", 80, 0, 1 },
	{ "/8 just above", OUT, TCP, "192.0.2.1", "11.0.0.0", 80, 0, 1 },
	{ "/20 last", OUT, TCP, "192.0.2.1", "172.16.31.255", 80, 2, 0 },
	{ "/20 just above", OUT, TCP, "192.0.2.1", "172.16.32.0", 80, 0, 1 },
	{ "/20 just below", OUT, TCP, "192.0.2.1", "172.16.15.255", 80, 0, 1 },
	{ "/32 itself", OUT, TCP, "192.0.2.1", "198.51.100.7", 80, 3, 0 },
	{ "/32 neighbour", OUT, TCP, "192.0.2.1", "198.51.100.8", 80, 0, 1 },
	{ "src /0 any v4", IN, UDP, "203.0.113.9", "192.0.2.1", 53, 4, 0 },
	{ "src /0 not v6", IN, UDP, "2001:db8::9", "2001:db8::1", 53, 0, 1 },
};
static struct match_suite ipv4_cidr_edges = SUITE(
	"INSERT INTO rules(id, action, dst) VALUES (1, 'deny', '10.0.0.0/8');"
	"INSERT INTO rules(id, action, dst) VALUES (2, 'deny', '172.16.16.0/20');"
	"INSERT INTO rules(id, action, dst) VALUES (3, 'deny', '198.51.100.7/32');"
	"INSERT INTO rules(id, action, direction, src) VALUES (4, 'deny', 'in', '0.0.0.0/0');",
	ipv4_cidr_edges_cases);

static const struct flow_case ipv6_cidr_edges_cases[] = {
	{ "/32 first", OUT, TCP, "::1", "2001:db8::", 443, 1, 0 },
	{ "/32 last", OUT, TCP, "::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 443, 1, 0 },
	{ "/32 just below", OUT, TCP, "::1", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 443, 0, 1 },
	{ "/32 just above", OUT, TCP, "::1", "2001:db9::", 443, 0, 1 },
	{ "/65 inside", OUT, TCP, "::1", "fd00::7fff:ffff:ffff:ffff", 443, 2, 0 },
	{ "/65 outside", OUT, TCP, "::1", "fd00::8000:0:0:0", 443, 0, 1 },
	{ "/128 itself", OUT, TCP, "::1", "fe80::1", 443, 3, 0 },
	{ "/128 neighbour", OUT, TCP, "::1", "fe80::2", 443, 0, 1 },
	{ "::/0 src any v6", FWD, UDP, "ff02::1", "ff02::2", 9, 4, 0 },
	{ "::/0 src not v4", FWD, UDP, "10.0.0.1", "10.0.0.2", 9, 0, 1 },
};
static struct match_suite ipv6_cidr_edges = SUITE(
	"INSERT INTO rules(id, action, dst) VALUES (1, 'deny', '2001:db8::/32');"
	"INSERT INTO rules(id, action, dst) VALUES (2, 'deny', 'fd00::/65');"
	"INSERT INTO rules(id, action, dst) VALUES (3, 'deny', 'fe80::1/128');"
	"INSERT INTO rules(id, action, direction, src) VALUES (4, 'deny', 'forward', '::/0');",
	ipv6_cidr_edges_cases);

static const struct flow_case port_range_edges_cases[] = {
	{ "below range", OUT, TCP, "10.0.0.1", "10.0.0.2", 7999, 0, 1 },
	{ "range low end", OUT, TCP, "10.0.0.1", "10.0.0.2", 8000, 1, 0 },
	{ "range high end", OUT, TCP, "10.0.0.1", "10.0.0.2", 8100, 1, 0 },
	{ "above range", OUT, TCP, "10.0.0.1", "10.0.0.2", 8101, 0, 1 },
	{ "single port", OUT, UDP, "10.0.0.1", "10.0.0.2", 443, 2, 0 },
	{ "single port + 1", OUT, UDP, "10.0.0.1", "10.0.0.2", 444, 0, 1 },
	{ "65535", OUT, UDP, "10.0.0.1", "10.0.0.2", 65535, 3, 0 },
	{ "no port (icmp)", OUT, IPPROTO_ICMP, "10.0.0.1", "10.0.0.2", 0, 0, 1 },
};
static struct match_suite port_range_edges = SUITE(
	"INSERT INTO rules(id, action, dst_port) VALUES (1, 'deny', '8000-8100');"
	"INSERT INTO rules(id, action, dst_port) VALUES (2, 'deny', '443');"
	"INSERT INTO rules(id, action, dst_port) VALUES (3, 'deny', '65535-65535');",
	port_range_edges_cases);

static const struct flow_case priority_order_and_first_match_wins_cases[] = {
	/* rule 1 (prio 100) and 2 (prio 10) both match: 2 is first. */
	{ "lower priority first", OUT, TCP, "10.0.0.1", "192.0.2.5", 22, 2, 1 },
	/* rules 3 and 4 share priority 50: the lower id wins. */
	{ "tie broken by id", OUT, TCP, "10.0.0.1", "198.51.100.5", 22, 3, 0 },
	/* rule 5 is disabled: rule 6 decides. */
	{ "disabled is skipped", OUT, TCP, "10.0.0.1", "203.0.113.5", 22, 6, 1 },
	{ "no match: default deny", OUT, TCP, "10.0.0.1", "100.64.0.1", 22, 0, 0 },
};
static struct match_suite priority_order_and_first_match_wins = SUITE(
	"UPDATE settings SET value = 'deny' WHERE key = 'default_action';"
	"INSERT INTO rules(id, priority, action, dst) VALUES (1, 100, 'deny', '192.0.2.0/24');"
	"INSERT INTO rules(id, priority, action, dst) VALUES (2, 10, 'allow', '192.0.2.0/24');"
	"INSERT INTO rules(id, priority, action, dst) VALUES (4, 50, 'allow', '198.51.100.0/24');"
	"INSERT INTO rules(id, priority, action, dst) VALUES (3, 50, 'deny', '198.51.100.0/24');"
	"INSERT INTO rules(id, priority, action, dst, enabled) VALUES (5, 1, 'deny', '203.0.113.0/24', 0);"
	"INSERT INTO rules(id, priority, action, dst) VALUES (6, 2, 'allow', '203.0.113.0/24');",
	priority_order_and_first_match_wins_cases);

static const struct flow_case direction_and_proto_cases[] = {
	{ "in matches in", IN, TCP, "10.0.0.1", "10.9.0.1", 1, 1, 0 },
	{ "in skips out", OUT, TCP, "10.0.0.1", "10.9.0.1", 1, 0, 1 },
	{ "out matches out", OUT, TCP, "10.0.0.1", "10.9.0.2", 1, 2, 0 },
	{ "out skips forward", FWD, TCP, "10.0.0.1", "10.9.0.2", 1, 0, 1 },
	{ "forward matches forward", FWD, TCP, "10.0.0.1", "10.9.0.3", 1, 3, 0 },
	{ "forward skips in", IN, TCP, "10.0.0.1", "10.9.0.3", 1, 0, 1 },
	{ "any: in", IN, UDP, "10.0.0.1", "10.9.0.4", 1, 4, 0 },
	{ "any: out", OUT, UDP, "10.0.0.1", "10.9.0.4", 1, 4, 0 },
	{ "any: forward", FWD, UDP, "10.0.0.1", "10.9.0.4", 1, 4, 0 },
	{ "tcp rule skips udp", OUT, UDP, "10.0.0.1", "10.9.0.5", 1, 0, 1 },
	{ "tcp rule matches tcp", OUT, TCP, "10.0.0.1", "10.9.0.5", 1, 5, 0 },
	{ "NULL proto: sctp", OUT, IPPROTO_SCTP, "10.0.0.1", "10.9.0.6", 1, 6, 0 },
	{ "NULL proto: icmp", OUT, IPPROTO_ICMP, "10.0.0.1", "10.9.0.6", 0, 6, 0 },
	{ "icmpv6 rule", IN, IPPROTO_ICMPV6, "fe80::1", "fe80::2", 0, 7, 0 },
	{ "icmpv6 rule skips icmp", IN, IPPROTO_ICMP, "10.0.0.1", "10.9.0.7", 0, 0, 1 },
	{ "unknown direction: default", 9, TCP, "10.0.0.1", "10.9.0.4", 1, 0, 1 },
};
static struct match_suite direction_and_proto = SUITE(
	"INSERT INTO rules(id, action, direction, dst) VALUES (1, 'deny', 'in', '10.9.0.1');"
	"INSERT INTO rules(id, action, direction, dst) VALUES (2, 'deny', 'out', '10.9.0.2');"
	"INSERT INTO rules(id, action, direction, dst) VALUES (3, 'deny', 'forward', '10.9.0.3');"
	"INSERT INTO rules(id, action, direction, dst) VALUES (4, 'deny', 'any', '10.9.0.4');"
	"INSERT INTO rules(id, action, proto, dst) VALUES (5, 'deny', 'tcp', '10.9.0.5');"
	"INSERT INTO rules(id, action, proto, dst) VALUES (6, 'deny', NULL, '10.9.0.6');"
	"INSERT INTO rules(id, action, proto) VALUES (7, 'deny', 'icmpv6');",
	direction_and_proto_cases);

/* Insert the suite's rules, compile, and check every flow of it. */
static void run_match_suite(void **state)
{
	struct fixture *fx = *state;
	const struct match_suite *suite = fx->param;

	exec_ok(fx->db, suite->rules);
	check_flows(fx, suite->cases, suite->ncases);
}

static void test_match_default_action_allow_and_deny(void **state)
{
	static const struct flow_case allow[] = {
		{ "empty policy allows", OUT, TCP, "10.0.0.1", "192.0.2.1", 80, 0, 1 },
	};
	static const struct flow_case deny[] = {
		{ "default deny", OUT, TCP, "10.0.0.1", "192.0.2.1", 80, 0, 0 },
	};
	struct fixture *fx = *state;

	check_flows(fx, allow, 1);
	exec_ok(fx->db, "UPDATE settings SET value = 'deny' WHERE key = 'default_action'");
	check_flows(fx, deny, 1);
	exec_ok(fx->db, "DELETE FROM settings");	/* missing: fail open */
	check_flows(fx, allow, 1);
}

static void test_match_uid_exe_domain(void **state)
{
	static const struct {
		int64_t uid;
		const char *exe, *domain;
		int64_t want_rule;
	} cases[] = {
		{ 1000, NULL, NULL, 1 },
		{ 1001, NULL, NULL, 0 },
		{ -1, NULL, NULL, 0 },
		{ 5, "/usr/bin/curl", NULL, 2 },
		{ 5, "/usr/bin/curl2", NULL, 0 },
		{ 5, NULL, "example.com", 3 },
		{ 5, NULL, "EXAMPLE.Com.", 3 },
		{ 5, NULL, "www.example.com", 0 },	/* exact rule only */
		{ 5, NULL, "a.b.example.org", 4 },
		{ 5, NULL, "Mail.Example.ORG.", 4 },
		{ 5, NULL, "example.org", 0 },		/* *. is not the apex */
		{ 5, NULL, "badexample.org", 0 },
		{ 5, NULL, NULL, 0 },
	};
	struct fixture *fx = *state;
	struct sluice_policy *p;
	struct sluice_flow f = { .family = AF_INET, .proto = TCP, .direction = OUT, .dport = 443 };
	size_t i;

	exec_ok(fx->db,
		"INSERT INTO rules(id, action, uid) VALUES (1, 'deny', 1000);"
		"INSERT INTO rules(id, action, exe) VALUES (2, 'deny', '/usr/bin/curl');"
		"INSERT INTO rules(id, action, domain) VALUES (3, 'deny', 'Example.com');"
		"INSERT INTO rules(id, action, domain) VALUES (4, 'deny', '*.example.org.');");
	p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));
	if (!p)
		fail_msg("%s", fx->err);
	for (i = 0; i < NCASES(cases); i++) {
		struct sluice_decision d;

		f.uid = cases[i].uid;
		f.exe = cases[i].exe;
		f.domain = cases[i].domain;
		d = sluice_policy_match(p, &f);
		if (d.rule_id != cases[i].want_rule)
			fail_msg("case %zu (uid %lld exe %s domain %s): rule %lld, want %lld", i,
				 (long long)f.uid, f.exe ? f.exe : "-", f.domain ? f.domain : "-",
				 (long long)d.rule_id, (long long)cases[i].want_rule);
	}
	sluice_policy_free(p);
}

/* Many rules: the bucketed matcher still finds the first matching one. */
static void test_match_many_rules_keeps_first_match(void **state)
{
	static const struct flow_case cases[] = {
		{ "last tcp rule", OUT, TCP, "10.0.0.1", "10.1.19.135", 80, 4999, 1 },
		{ "udp skips tcp rules", OUT, UDP, "10.0.0.1", "10.1.19.135", 80, 5000, 0 },
		{ "unmatched", OUT, TCP, "10.0.0.1", "10.2.0.0", 80, 0, 1 },
	};
	struct fixture *fx = *state;
	struct sluice_policy *p;

	exec_ok(fx->db,
		"BEGIN;"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)"
		" INSERT INTO rules(id, action, proto, dst)"
		" SELECT i, 'allow', 'tcp', printf('10.1.%d.%d', i / 256, i % 256) FROM n;"
		"INSERT INTO rules(id, action, proto, dst) VALUES (5000, 'deny', NULL, '10.1.0.0/16');"
		"COMMIT;");
	check_flows(fx, cases, NCASES(cases));
	p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));
	assert_non_null(p);
	assert_int_equal(sluice_policy_rule_count(p), 5000);
	sluice_policy_free(p);
}

/* ------------------------------------------------------------------ */
/* (c) rows that bypass the schema's checks                             */
/* ------------------------------------------------------------------ */

static void test_compile_names_the_row_of_every_bad_value(void **state)
{
	static const struct {
		const char *values, *message;
	} bad[] = {
		{ "(7, 'deny', 'any', NULL, '10.0.0.300/8', NULL, 1, 100)",
		  "rules row 7: dst '10.0.0.300/8' is not a CIDR: the IPv4 address is malformed" },
		{ "(8, 'deny', 'any', NULL, '10.0.0.0/33', NULL, 1, 100)",
		  "rules row 8: dst '10.0.0.0/33' is not a CIDR: the prefix length is not 0..32" },
		{ "(9, 'deny', 'any', NULL, '2001:db8::/129', NULL, 1, 100)",
		  "rules row 9: dst '2001:db8::/129' is not a CIDR: the prefix length is not 0..128" },
		{ "(10, 'drop', 'any', NULL, NULL, NULL, 1, 100)",
		  "rules row 10: action 'drop' is not 'allow' or 'deny'" },
		{ "(11, 'deny', 'up', NULL, NULL, NULL, 1, 100)",
		  "rules row 11: direction 'up' is not 'in', 'out', 'forward' or 'any'" },
		{ "(12, 'deny', 'any', 'sctp', NULL, NULL, 1, 100)",
		  "rules row 12: proto 'sctp' is not 'tcp', 'udp', 'icmp', 'icmpv6' or NULL" },
		{ "(13, 'deny', 'any', NULL, NULL, '9000-80', 1, 100)",
		  "rules row 13: dst_port '9000-80' is a range whose low end is above its high end" },
		{ "(14, 'deny', 'any', NULL, NULL, '0', 1, 100)",
		  "rules row 14: dst_port '0' is not a port 1..65535" },
		{ "(15, 'deny', 'any', NULL, NULL, NULL, 7, 100)",
		  "rules row 15: enabled '7' is not 1 (in force) or 0 (ignored)" },
		{ "(16, 'deny', 'any', NULL, NULL, NULL, 1, 'soon')",
		  "rules row 16: priority 'soon' is not an integer" },
	};
	struct fixture *fx = *state;
	char sql[512];
	size_t i;

	for (i = 0; i < NCASES(bad); i++) {
		struct sluice_policy *p;

		exec_ok(fx->db, "DELETE FROM rules");
		snprintf(sql, sizeof(sql),
			 "PRAGMA ignore_check_constraints = 1;"
			 "INSERT INTO rules(id, action, direction, proto, dst, dst_port, enabled, priority)"
			 " VALUES %s;"
			 "PRAGMA ignore_check_constraints = 0;", bad[i].values);
		exec_ok(fx->db, sql);
		fx->err[0] = '\0';
		p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));
		if (p || !strstr(fx->err, bad[i].message))
			fail_msg("%s: compiled %p, error '%s', want '%s'", bad[i].values, (void *)p,
				 fx->err, bad[i].message);
	}
}

static void test_compile_refuses_bad_default_action(void **state)
{
	struct fixture *fx = *state;

	exec_ok(fx->db, "PRAGMA ignore_check_constraints = 1;"
		"UPDATE settings SET value = 'block' WHERE key = 'default_action';");
	assert_null(sluice_policy_compile(fx->db, fx->err, sizeof(fx->err)));
	assert_string_equal(fx->err, "settings default_action 'block' is not 'allow' or 'deny'");
}

static void test_reload_keeps_last_good_policy_on_a_bad_row(void **state)
{
	static const struct flow_case dns = { "dns", OUT, UDP, "10.0.0.1", "192.0.2.53", 53, 0, 0 };
	struct fixture *fx = *state;
	struct sluice_policy_loader l;
	struct sluice_policy *retired;
	const struct sluice_policy *good;
	struct sluice_flow f = make_flow(&dns);
	char out[512];

	assert_int_equal(sluice_policy_loader_open(&l, fx->path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	assert_null(retired);
	assert_int_equal(sqlite_cli(fx, fx->path,
				    "INSERT INTO rules(id, action, dst) VALUES (1, 'deny', '192.0.2.53');",
				    out, sizeof(out)), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	good = sluice_policy_loader_current(&l);
	assert_int_equal(sluice_policy_match(good, &f).rule_id, 1);

	/* A row written past the checks, the way a careless script could. */
	assert_int_equal(sqlite_cli(fx, fx->path,
				    "PRAGMA ignore_check_constraints = 1;"
				    "INSERT INTO rules(id, action, dst) VALUES (2, 'deny', '10.0.0.300/8');",
				    out, sizeof(out)), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_FAILED);
	assert_null(retired);
	assert_ptr_equal(sluice_policy_loader_current(&l), good);
	assert_non_null(strstr(l.error, "rules row 2: dst '10.0.0.300/8' is not a CIDR"));
	assert_int_equal(sluice_policy_match(sluice_policy_loader_current(&l), &f).rule_id, 1);
	/* Nothing changed since: no retry, the error stays, so does the policy. */
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_NONE);
	assert_string_not_equal(l.error, "");

	/* Fixing the row brings the new policy in and clears the error. */
	assert_int_equal(sqlite_cli(fx, fx->path, "UPDATE rules SET dst = '10.0.0.0/8' WHERE id = 2;",
				    out, sizeof(out)), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	assert_ptr_equal(retired, good);
	sluice_policy_free(retired);
	assert_string_equal(l.error, "");
	assert_int_equal(sluice_policy_rule_count(sluice_policy_loader_current(&l)), 2);
	assert_int_equal(l.generation, 3);
	sluice_policy_loader_close(&l);
}

/* ------------------------------------------------------------------ */
/* (d) opening database files                                           */
/* ------------------------------------------------------------------ */

static void test_open_creates_missing_file_with_default_policy(void **state)
{
	struct fixture *fx = *state;
	char path[192];
	sqlite3 *db;
	struct sluice_policy *p;
	sqlite3_stmt *st;
	char out[256];

	snprintf(path, sizeof(path), "%s/a/b/policy.db", fx->dir);
	if (sluice_policy_open(path, &db, fx->err, sizeof(fx->err)) < 0)
		fail_msg("%s", fx->err);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), SLUICE_POLICY_SCHEMA_VERSION);
	sqlite3_finalize(st);
	p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
	assert_non_null(p);
	assert_int_equal(sluice_policy_rule_count(p), 0);
	assert_int_equal(sluice_policy_default_allow(p), 1);
	sluice_policy_free(p);
	sqlite3_close(db);
	/* The sqlite3 CLI sees the same defaults. */
	assert_int_equal(sqlite_cli(fx, path, "SELECT value FROM settings WHERE key = 'default_action';",
				    out, sizeof(out)), 0);
	assert_string_equal(out, "allow\n");
}

static void test_open_empty_file_gets_default_policy(void **state)
{
	struct fixture *fx = *state;
	char path[192];
	sqlite3 *db;
	FILE *f;

	snprintf(path, sizeof(path), "%s/empty.db", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	if (sluice_policy_open(path, &db, fx->err, sizeof(fx->err)) < 0)
		fail_msg("%s", fx->err);
	sqlite3_close(db);
}

/* Open path, expect failure with one sentence that names path and problem. */
static void expect_open_refused(struct fixture *fx, const char *path, const char *problem)
{
	sqlite3 *db = (sqlite3 *)1;

	fx->err[0] = '\0';
	assert_int_equal(sluice_policy_open(path, &db, fx->err, sizeof(fx->err)), -1);
	assert_null(db);
	if (!strstr(fx->err, path) || !strstr(fx->err, problem) || strchr(fx->err, '\n'))
		fail_msg("error '%s' should name %s and say '%s'", fx->err, path, problem);
}

static void test_open_refuses_garbage_file(void **state)
{
	struct fixture *fx = *state;
	char path[192];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 4096; i++)
		fputc((i * 131 + 7) & 0xff, f);
	fclose(f);
	expect_open_refused(fx, path, "is not an SQLite database");
}

static void test_open_refuses_corrupt_database(void **state)
{
	struct fixture *fx = *state;
	char path[192];
	FILE *f;
	int i;

	/* A valid header followed by wrecked pages. */
	snprintf(path, sizeof(path), "%s/corrupt.db", fx->dir);
	assert_int_equal(sqlite_cli(fx, path, "CREATE TABLE t(x); INSERT INTO t VALUES (zeroblob(20000));",
				    NULL, 0), 0);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 4096, SEEK_SET);
	for (i = 0; i < 8192; i++)
		fputc(0xa5, f);
	fclose(f);
	expect_open_refused(fx, path, "corrupt");
}

static void test_open_refuses_newer_schema_version(void **state)
{
	struct fixture *fx = *state;
	char want[96];

	assert_int_equal(sqlite_cli(fx, fx->path, "PRAGMA user_version = 99;", NULL, 0), 0);
	snprintf(want, sizeof(want), "has policy schema version 99, newer than version %d",
		 SLUICE_POLICY_SCHEMA_VERSION);
	expect_open_refused(fx, fx->path, want);
}

static void test_open_refuses_other_sqlite_database(void **state)
{
	struct fixture *fx = *state;
	char path[192];

	snprintf(path, sizeof(path), "%s/other.db", fx->dir);
	assert_int_equal(sqlite_cli(fx, path, "CREATE TABLE t(x);", NULL, 0), 0);
	expect_open_refused(fx, path, "not a sluice policy");
	expect_open_refused(fx, fx->dir, "is not a regular file");
}

/* ------------------------------------------------------------------ */
/* (e) noticing changes                                                 */
/* ------------------------------------------------------------------ */

static void test_changed_detects_commit_by_sqlite3_cli(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy_watch w = { 0 };

	assert_int_equal(sluice_policy_changed(fx->db, &w), SLUICE_POLICY_CHANGED);
	assert_int_equal(sluice_policy_changed(fx->db, &w), SLUICE_POLICY_UNCHANGED);
	assert_int_equal(sqlite_cli(fx, fx->path, "INSERT INTO rules(action) VALUES ('deny');", NULL, 0), 0);
	assert_int_equal(sluice_policy_changed(fx->db, &w), SLUICE_POLICY_CHANGED);
	assert_int_equal(sluice_policy_changed(fx->db, &w), SLUICE_POLICY_UNCHANGED);
	/* A read-only session changes nothing. */
	assert_int_equal(sqlite_cli(fx, fx->path, "SELECT * FROM rules;", NULL, 0), 0);
	assert_int_equal(sluice_policy_changed(fx->db, &w), SLUICE_POLICY_UNCHANGED);
}

static void test_replaced_file_is_reopened_by_loader(void **state)
{
	struct fixture *fx = *state;
	struct sluice_policy_loader l;
	struct sluice_policy *retired;
	char next[192], cmd[512];
	sqlite3 *db;

	assert_int_equal(sluice_policy_loader_open(&l, fx->path, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	assert_int_equal(sluice_policy_rule_count(sluice_policy_loader_current(&l)), 0);

	/* Build a new policy beside it and move it over the old name. */
	snprintf(next, sizeof(next), "%s/next.db", fx->dir);
	assert_int_equal(sluice_policy_open(next, &db, fx->err, sizeof(fx->err)), 0);
	exec_ok(db, "INSERT INTO rules(action, dst) VALUES ('deny', '192.0.2.0/24')");
	sqlite3_close(db);
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s'", next, fx->path);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_SWAPPED);
	sluice_policy_free(retired);
	assert_int_equal(sluice_policy_rule_count(sluice_policy_loader_current(&l)), 1);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_NONE);

	/* A replacement that is garbage: refused, the last good stays. */
	snprintf(cmd, sizeof(cmd), "head -c 2048 /dev/urandom > '%s.new' && mv '%s.new' '%s'",
		 fx->path, fx->path, fx->path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sluice_policy_loader_poll(&l, 0, &retired), SLUICE_RELOAD_FAILED);
	assert_non_null(strstr(l.error, "is not an SQLite database"));
	assert_int_equal(sluice_policy_rule_count(sluice_policy_loader_current(&l)), 1);
	sluice_policy_loader_close(&l);
}


/* ------------------------------------------------------------------ */
/* (f) lists: blocklists of domains, sqlite3 .import, migration 1 -> 2   */
/* ------------------------------------------------------------------ */

/* The decision for a TCP/443 flow out to 192.0.2.1 with name domain. */
static struct sluice_decision decide_name(const struct sluice_policy *p, const char *domain,
					  int dport)
{
	struct sluice_flow f = { .family = AF_INET, .proto = TCP, .direction = OUT,
				 .dport = (uint16_t)dport, .uid = -1, .domain = domain };

	f.dst[0] = 192;
	f.dst[3] = 1;
	return sluice_policy_match(p, &f);
}

static struct sluice_policy *compile_ok(struct fixture *fx)
{
	struct sluice_policy *p = sluice_policy_compile(fx->db, fx->err, sizeof(fx->err));

	if (!p)
		fail_msg("compile: %s", fx->err);
	return p;
}

static void test_lists_compile_and_match_by_domain(void **state)
{
	static const struct {
		const char *domain;
		int64_t want_rule;
		int want_allow;
	} cases[] = {
		{ "ads.example.com", -1, 0 },
		{ "ADS.example.com.", -1, 0 },
		{ "x.ads.example.com", 0, 1 },		/* exact pattern only */
		{ "a.b.Tracker.test.", -1, 0 },
		{ "tracker.test", 0, 1 },		/* "*." is not the suffix itself */
		{ "cdn.good.test", -2, 1 },		/* allowlist */
		{ "off.example.com", 0, 1 },		/* its list is disabled */
		{ "elsewhere.test", 0, 1 },
		{ NULL, 0, 1 },				/* no name: lists cannot match */
	};
	struct fixture *fx = *state;
	struct sluice_policy *p;
	struct sluice_decision d;
	size_t i;

	exec_ok(fx->db,
		"INSERT INTO lists(id, name) VALUES (1, 'ads');"
		"INSERT INTO list_domains VALUES (1, 'ads.example.com'), (1, '*.tracker.test');"
		"INSERT INTO lists(id, name, action) VALUES (2, 'good', 'allow');"
		"INSERT INTO list_domains VALUES (2, '*.good.test');"
		"INSERT INTO lists(id, name, enabled) VALUES (3, 'off', 0);"
		"INSERT INTO list_domains VALUES (3, 'off.example.com');");
	p = compile_ok(fx);
	assert_int_equal(sluice_policy_rule_count(p), 0);
	assert_int_equal(sluice_policy_list_count(p), 2);
	assert_int_equal(sluice_policy_domain_count(p), 3);
	for (i = 0; i < NCASES(cases); i++) {
		d = decide_name(p, cases[i].domain, 443);
		if (d.rule_id != cases[i].want_rule || d.allow != cases[i].want_allow)
			fail_msg("%s: rule %lld allow %d, want rule %lld allow %d",
				 cases[i].domain ? cases[i].domain : "(no name)", (long long)d.rule_id,
				 d.allow, (long long)cases[i].want_rule, cases[i].want_allow);
	}
	/* A list that could have matched a flow without a name makes it partial. */
	assert_int_equal(decide_name(p, NULL, 443).partial, 1);
	sluice_policy_free(p);
}

/*
 * One first-match order: priority, then rules before lists, then id. A
 * rule that names the domain but fails on another column lets the scan
 * go on to the list.
 */
static void test_lists_and_rules_interleave_by_priority(void **state)
{
	static const struct {
		const char *domain;
		int dport;
		int64_t want_rule;
		int want_allow;
	} cases[] = {
		{ "mail.ads.test", 80, 10, 1 },		/* rule 10 (prio 100) beats list 1 (prio 100) */
		{ "www.ads.test", 80, -1, 0 },		/* only list 1 */
		{ "cdn.ads.test", 80, -2, 1 },		/* list 2 (prio 50) beats list 1 */
		{ "pay.ads.test", 443, 11, 0 },		/* rule 11 (prio 40) beats list 2 (50) */
		{ "mail.ads.test", 443, 11, 0 },	/* ... and rule 10 */
		{ "pay.ads.test", 80, -2, 1 },		/* rule 11 wants port 443: on to list 2 */
		{ "ads.test", 80, 12, 0 },		/* rule 12 only */
		{ "deep.cdn.ads.test", 80, -1, 0 },	/* list 2's pattern is exact */
		{ "x.y.z", 80, 0, 1 },
	};
	struct fixture *fx = *state;
	struct sluice_policy *p;
	size_t i;

	exec_ok(fx->db,
		"INSERT INTO lists(id, name, priority) VALUES (1, 'ads', 100);"
		"INSERT INTO list_domains VALUES (1, '*.ads.test'), (1, 'pay.ads.test');"
		"INSERT INTO lists(id, name, action, priority) VALUES (2, 'exceptions', 'allow', 50);"
		"INSERT INTO list_domains VALUES (2, 'cdn.ads.test'), (2, 'pay.ads.test');"
		"INSERT INTO rules(id, action, priority, domain) VALUES (10, 'allow', 100, 'mail.ads.test');"
		"INSERT INTO rules(id, action, priority, domain, dst_port) VALUES (11, 'deny', 40, '*.ads.test', '443');"
		"INSERT INTO rules(id, action, priority, domain) VALUES (12, 'deny', 100, 'ads.test');");
	p = compile_ok(fx);
	assert_int_equal(sluice_policy_rule_count(p), 3);
	assert_int_equal(sluice_policy_list_count(p), 2);
	for (i = 0; i < NCASES(cases); i++) {
		struct sluice_decision d = decide_name(p, cases[i].domain, cases[i].dport);

		if (d.rule_id != cases[i].want_rule || d.allow != cases[i].want_allow)
			fail_msg("%s port %d: rule %lld allow %d, want rule %lld allow %d",
				 cases[i].domain, cases[i].dport, (long long)d.rule_id, d.allow,
				 (long long)cases[i].want_rule, cases[i].want_allow);
	}
	sluice_policy_free(p);
}

static void test_compile_names_the_list_of_a_bad_domain(void **state)
{
	struct fixture *fx = *state;

	exec_ok(fx->db,
		"INSERT INTO lists(id, name) VALUES (4, 'ads');"
		"PRAGMA ignore_check_constraints = 1;"
		"INSERT INTO list_domains VALUES (4, 'a..example.com');"
		"PRAGMA ignore_check_constraints = 0;");
	assert_null(sluice_policy_compile(fx->db, fx->err, sizeof(fx->err)));
	if (!strstr(fx->err, "list 'ads' (lists row 4): domain 'a..example.com' is not a domain name"))
		fail_msg("error: %s", fx->err);
	/* Disabled, its rows are not even looked at. */
	exec_ok(fx->db, "UPDATE lists SET enabled = 0");
	sluice_policy_free(compile_ok(fx));
}

static void test_schema_refuses_bad_list_rows_in_sqlite3_cli(void **state)
{
	static const struct {
		const char *sql, *message;
	} bad[] = {
		{ "INSERT INTO lists(name, action) VALUES ('x', 'block');", "lists.action: must be 'allow' or 'deny'" },
		{ "INSERT INTO lists(name, priority) VALUES ('x', 'soon');", "lists.priority: must be an integer" },
		{ "INSERT INTO lists(name, enabled) VALUES ('x', 2);", "lists.enabled: must be 1" },
		{ "INSERT INTO lists(name) VALUES ('  ');", "lists.name: must be a non-empty name" },
		{ "INSERT INTO lists(name) VALUES ('ads');", "UNIQUE constraint failed: lists.name" },
		{ "INSERT INTO list_domains VALUES (99, 'x.com');", "list_domains.list_id: no list has this id" },
		{ "INSERT INTO list_domains VALUES (1, 'a..example.com');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, 'ads.*.com');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, '*.');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, 'x.com..');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, 'Ads.example.com');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, 'ads.example.com.');", "list_domains.domain: must be a lower-case DNS name" },
		{ "INSERT INTO list_domains VALUES (1, 'b\xc3\xbc" "cher.example');", "list_domains.domain: is not ASCII; write an internationalised name in its A-label form" },
		{ "INSERT INTO list_domains VALUES (1, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com');", "list_domains.domain: a label" },
		{ "INSERT INTO list_import VALUES (NULL, 'x.com');", "list_import.list: must name the list" },
		{ "INSERT INTO list_import VALUES ('ads', 'x\"y.com');", "list_import.domain: contains a double quote" },
	};
	struct fixture *fx = *state;
	char sql[512], out[1024];
	size_t i;

	exec_ok(fx->db, "INSERT INTO lists(id, name) VALUES (1, 'ads')");
	for (i = 0; i < NCASES(bad); i++) {
		snprintf(sql, sizeof(sql), "%s\n", bad[i].sql);
		if (sqlite_cli(fx, fx->path, sql, out, sizeof(out)) == 0 || !strstr(out, bad[i].message))
			fail_msg("%s: sqlite3 said '%s', want '%s'", bad[i].sql, out, bad[i].message);
	}
	/* Through list_import good rows are stored in their normal form,
	 * once; deleting a list takes its domains along even without PRAGMA
	 * foreign_keys. */
	if (sqlite_cli(fx, fx->path,
		       "INSERT INTO list_import VALUES ('ads', ' Ads.Example.COM. '), ('ads', 'ads.example.com');"
		       "INSERT INTO list_import VALUES ('ads', '*.Tracker.Test');"
		       "SELECT group_concat(domain, ' ') FROM (SELECT domain FROM list_domains ORDER BY 1);"
		       "DELETE FROM lists WHERE id = 1;"
		       "SELECT count(*) FROM list_domains;",
		       out, sizeof(out)) != 0)
		fail_msg("sqlite3 refused good list rows: %s", out);
	assert_string_equal(out, "*.tracker.test ads.example.com\n0\n");
}

/* Count of list_domains rows of list name, through the CLI's eyes. */
static int64_t list_size(struct fixture *fx, const char *name)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(fx->db, "SELECT count(*) FROM list_domains JOIN lists"
					    " ON lists.id = list_id WHERE lists.name = ?1",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The recipes written in policy/schema.sql, run with the real sqlite3 CLI. */
static void test_list_import_view_takes_sqlite3_dot_import(void **state)
{
	struct fixture *fx = *state;
	char csv[192], hosts[192], cmd[1024], out[2048];
	struct sluice_policy *p;
	FILE *f;
	size_t n;

	snprintf(csv, sizeof(csv), "%s/lists.csv", fx->dir);
	f = fopen(csv, "w");
	assert_non_null(f);
	fputs("ads,one.example.com\nads,Two.Example.COM.\ntrack,*.tracker.test\nads,bad..name\nads,three.example.com\n", f);
	fclose(f);
	snprintf(hosts, sizeof(hosts), "%s/hosts.txt", fx->dir);
	f = fopen(hosts, "w");
	assert_non_null(f);
	fputs("# a hosts file\n127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n\n"
	      "0.0.0.0 h1.example.net  # comment\n0.0.0.0\th2.example.net h3.example.net\r\n"
	      "plain.example.org\n*.wild.example.org\nex*ample.org\n", f);
	fclose(f);

	snprintf(cmd, sizeof(cmd),
		 "sqlite3 '%s' \".import --csv %s list_import\" 2>&1 && "
		 "sed 's/^/hosts|/' '%s' | sqlite3 '%s' \".import /dev/stdin list_import\" 2>&1",
		 fx->path, csv, hosts, fx->path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	/* Each bad line is reported with its line number; the rest went in. */
	if (!strstr(out, "lists.csv:4: INSERT failed: CHECK constraint failed: list_domains.domain: must be a lower-case DNS name") ||
	    !strstr(out, "stdin:9: INSERT failed: CHECK constraint failed: list_domains.domain"))
		fail_msg("sqlite3 said: %s", out);
	assert_int_equal(list_size(fx, "ads"), 3);
	assert_int_equal(list_size(fx, "track"), 1);
	assert_int_equal(list_size(fx, "hosts"), 5);
	p = compile_ok(fx);
	assert_int_equal(sluice_policy_list_count(p), 3);
	assert_int_equal(decide_name(p, "two.example.com", 443).allow, 0);
	assert_int_equal(decide_name(p, "h3.example.net", 443).allow, 0);
	assert_int_equal(decide_name(p, "a.wild.example.org", 443).allow, 0);
	assert_int_equal(decide_name(p, "localhost", 443).allow, 1);
	sluice_policy_free(p);
}

/* The schema objects of a database, one "type name sql" line each. */
static void schema_of(const char *path, char *out, size_t outlen)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name",
					    -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "%s %s %s\n", sqlite3_column_text(st, 0),
				      sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Every row of rules and settings as text, in id/key order. */
static void rows_of(struct fixture *fx, const char *path, char *out, size_t outlen)
{
	/* The columns of version 1: later versions add their own. */
	char sql[] = ".mode quote\nSELECT id, priority, action, direction, proto, src, dst,"
		     " dst_port, domain, uid, exe, enabled, comment FROM rules ORDER BY id;\n"
		     "SELECT * FROM settings ORDER BY key;\n";

	assert_int_equal(sqlite_cli(fx, path, sql, out, outlen), 0);
}

static void test_migration_1_to_2_keeps_every_row(void **state)
{
	static const char v1_rows[] =
		"INSERT INTO rules VALUES (1, 10, 'deny', 'out', 'tcp', '10.0.0.0/8', '192.0.2.0/24', '25', NULL, NULL, NULL, 1, 'no smtp');"
		"INSERT INTO rules VALUES (2, 20, 'allow', 'any', NULL, NULL, '2001:db8::/32', '8000-8100', '*.Example.COM.', 1000, '/usr/bin/curl', 0, 'it''s off');"
		"INSERT INTO rules(id, action, domain) VALUES (7, 'deny', 'ads.example.net');"
		"INSERT INTO settings VALUES ('default_action', 'deny');"
		"INSERT INTO settings VALUES ('custom', 'kept');";
	struct fixture *fx = *state;
	char old[192], bak[224], fresh[192], sql[1024];
	char before[2048], after[2048], saved[2048], s1[32768], s2[32768];
	struct sluice_policy *p;
	int64_t version;
	sqlite3 *db;

	if (access("policy/schema-v1.sql", R_OK) != 0)
		skip();	/* not run from the top of the tree */
	snprintf(old, sizeof(old), "%s/v1.db", fx->dir);
	snprintf(bak, sizeof(bak), "%s.bak-v1", old);
	snprintf(sql, sizeof(sql), ".read policy/schema-v1.sql\n%s", v1_rows);
	if (sqlite_cli(fx, old, sql, before, sizeof(before)) != 0)
		fail_msg("building the version 1 database: %s", before);
	rows_of(fx, old, before, sizeof(before));
	assert_non_null(strstr(before, "'no smtp'"));

	assert_int_equal(sluice_policy_open(old, &db, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(sqlite3_exec(db, "SELECT 1", NULL, NULL, NULL), SQLITE_OK);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		version = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	assert_int_equal(version, SLUICE_POLICY_SCHEMA_VERSION);
	/* Every row as it was, in the migrated file and in the saved copy. */
	rows_of(fx, old, after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(access(bak, R_OK), 0);
	rows_of(fx, bak, saved, sizeof(saved));
	assert_string_equal(saved, before);
	assert_int_equal(sqlite_cli(fx, bak, "PRAGMA user_version;", saved, sizeof(saved)), 0);
	assert_string_equal(saved, "1\n");

	/* Same schema as a database created at version 2 (bar user_version's text). */
	snprintf(fresh, sizeof(fresh), "%s/fresh.db", fx->dir);
	sqlite3_close(fx->db);
	assert_int_equal(sluice_policy_open(fresh, &fx->db, fx->err, sizeof(fx->err)), 0);
	schema_of(old, s1, sizeof(s1));
	schema_of(fresh, s2, sizeof(s2));
	assert_string_equal(s1, s2);

	/* The lists work, and the old rules still decide. */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO list_import VALUES ('ads', 'x.example.org')",
				      NULL, NULL, NULL), SQLITE_OK);
	p = sluice_policy_compile(db, fx->err, sizeof(fx->err));
	if (!p)
		fail_msg("compile: %s", fx->err);
	assert_int_equal(sluice_policy_rule_count(p), 2);
	assert_int_equal(decide_name(p, "x.example.org", 443).rule_id, -1);
	assert_int_equal(decide_name(p, "ads.example.net", 443).rule_id, 7);
	assert_int_equal(sluice_policy_default_allow(p), 0);
	sluice_policy_free(p);
	sqlite3_close(db);

	/* Opening again: nothing left to migrate, the backup is untouched. */
	assert_int_equal(sluice_policy_open(old, &db, fx->err, sizeof(fx->err)), 0);
	sqlite3_close(db);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_schema_refuses_each_bad_row_class_in_sqlite3_cli),
		T(test_schema_accepts_good_rows_at_the_edges),
		T(test_example_policies_load_and_compile),
		{ "test_match_ipv4_cidr_edges", run_match_suite, setup, teardown, &ipv4_cidr_edges },
		{ "test_match_ipv6_cidr_edges", run_match_suite, setup, teardown, &ipv6_cidr_edges },
		{ "test_match_port_range_edges", run_match_suite, setup, teardown, &port_range_edges },
		{ "test_match_priority_order_and_first_match_wins", run_match_suite, setup, teardown, &priority_order_and_first_match_wins },
		{ "test_match_direction_and_proto", run_match_suite, setup, teardown, &direction_and_proto },
		T(test_match_default_action_allow_and_deny),
		T(test_match_uid_exe_domain),
		T(test_match_many_rules_keeps_first_match),
		T(test_compile_names_the_row_of_every_bad_value),
		T(test_compile_refuses_bad_default_action),
		T(test_reload_keeps_last_good_policy_on_a_bad_row),
		T(test_open_creates_missing_file_with_default_policy),
		T(test_open_empty_file_gets_default_policy),
		T(test_open_refuses_garbage_file),
		T(test_open_refuses_corrupt_database),
		T(test_open_refuses_newer_schema_version),
		T(test_open_refuses_other_sqlite_database),
		T(test_changed_detects_commit_by_sqlite3_cli),
		T(test_replaced_file_is_reopened_by_loader),
		T(test_lists_compile_and_match_by_domain),
		T(test_lists_and_rules_interleave_by_priority),
		T(test_compile_names_the_list_of_a_bad_domain),
		T(test_schema_refuses_bad_list_rows_in_sqlite3_cli),
		T(test_list_import_view_takes_sqlite3_dot_import),
		T(test_migration_1_to_2_keeps_every_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
