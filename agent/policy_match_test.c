// SPDX-License-Identifier: GPL-2.0
/*
 * The indexed matcher against the linear one (tests/unit/policy_oracle.h)
 * on random policies and random flows drawn from small pools, so that
 * CIDRs overlap and nest, port ranges cross, priorities tie, rules are
 * disabled, and uid, exe, unit and domain are known or not. Then the
 * wildcard mask: a flow that agrees with a decided one on the masked
 * fields gets the same rule. Again with dense prefixes: addresses near a
 * few seeds, nested at every length from /0 to /32 and /128, and port
 * ranges that cross, in policies large enough for the prefix filter to
 * rule lengths out.
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
#include <sqlite3.h>

#include "agent/policy.h"
#include "tests/unit/policy_oracle.h"

#define POLICIES	300
#define FLOWS		1000	/* per policy: 300 000 cases */
#define DENSE_POLICIES	30
#define DENSE_FLOWS	2000	/* per policy: 60 000 cases */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

static const char *const exes[] = { "/usr/bin/curl", "/usr/bin/*", "/opt/x", "/usr/*" };
static const char *const flow_exes[] = { "/usr/bin/curl", "/usr/bin/wget", "/opt/x", "/usr/bin",
					 "/usr/sbin/nginx" };
static const char *const units[] = { "a.service", "b.service", "user@1000.service" };
static const char *const domains[] = { "example.com", "*.example.com", "a.example.com",
				       "other.test", "*.test" };
static const char *const flow_domains[] = { "example.com", "a.example.com", "b.a.example.com",
					     "other.test", "nomatch.org", "x.other.test" };
static const char *const ports[] = { "22", "53", "80", "443", "8000-8100", "1-1024", "8050" };
static const uint16_t flow_ports[] = { 0, 22, 53, 80, 443, 8000, 8050, 8100, 9000, 1024 };
static const uint8_t flow_protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 47 };
static const unsigned int v4_lens[] = { 0, 8, 16, 22, 24, 30, 32 };
static const unsigned int v6_lens[] = { 0, 32, 48, 64, 120, 128 };

/* Dense pools: prefixes of every length, ports in crossing ranges. */
static int dense;

/* An address near a seed: its last k bits drawn, k small more often. */
static void dense_addr(int family, uint8_t *a)
{
	static const uint8_t v4[][4] = { { 10, 0, 0, 0 }, { 10, 128, 0, 0 }, { 192, 168, 1, 0 } };
	static const uint8_t v6[][16] = { { 0x20, 0x01, 0x0d, 0xb8 },
					  { 0x20, 0x01, 0x0d, 0xb8, 0x80 }, { 0xfe, 0x80 } };
	unsigned int bits = family == AF_INET ? 32 : 128, k = rnd(rnd(bits + 1) + 1), i;

	memset(a, 0, 16);
	memcpy(a, family == AF_INET ? v4[rnd(3)] : v6[rnd(3)], bits / 8);
	for (i = bits - k; i < bits; i++)
		if (rnd(2))
			a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

/* An address from the pool: 10.a.b.c or 2001:db8:a::b:c, a, b small. */
static void pool_addr(int family, uint8_t *a)
{
	if (dense) {
		dense_addr(family, a);
		return;
	}
	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = 10;
		a[1] = (uint8_t)rnd(3);
		a[2] = (uint8_t)rnd(4);
		a[3] = (uint8_t)rnd(8);
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[5] = (uint8_t)rnd(3);
		a[13] = (uint8_t)rnd(4);
		a[15] = (uint8_t)rnd(8);
	}
}

static void cidr_text(int family, char *out, size_t outlen)
{
	uint8_t a[16];
	unsigned int plen = dense ? rnd(family == AF_INET ? 33 : 129) :
			    family == AF_INET ? PICK(v4_lens) : PICK(v6_lens);
	char buf[INET6_ADDRSTRLEN];
	unsigned int i;

	pool_addr(family, a);
	for (i = plen; i < 128; i++)
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	inet_ntop(family, a, buf, sizeof(buf));
	snprintf(out, outlen, "%s/%u", buf, plen);
}

/* One database for every random policy: building the schema is slow. */
static sqlite3 *db;
static sqlite3_stmt *ins_rule, *ins_list, *ins_name;

static void bind_text(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

static void step(sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("random policy row refused: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* One random rule (or list) with id. */
static void random_rule(int id)
{
	static const char *const dirs[] = { "any", "any", "in", "out", "forward" };
	static const char *const protos[] = { NULL, NULL, "tcp", "udp", "icmp", "icmpv6" };
	static const int uids[] = { 0, 1000, 1001 };
	int family = rnd(2) ? AF_INET : AF_INET6;
	char c[64];

	if (rnd(8) == 0) {	/* a list of names */
		sqlite3_bind_int(ins_list, 1, id);
		snprintf(c, sizeof(c), "l%d", id);
		bind_text(ins_list, 2, c);
		bind_text(ins_list, 3, rnd(2) ? "allow" : "deny");
		sqlite3_bind_int(ins_list, 4, (int)rnd(5));
		sqlite3_bind_int(ins_list, 5, rnd(6) != 0);
		step(ins_list);
		sqlite3_bind_int(ins_name, 1, id);
		bind_text(ins_name, 2, PICK(domains));
		step(ins_name);
		sqlite3_bind_int(ins_name, 1, id);
		bind_text(ins_name, 2, rnd(2) ? "nomatch.org" : "zzz.test");
		step(ins_name);
		return;
	}
	sqlite3_bind_int(ins_rule, 1, id);
	sqlite3_bind_int(ins_rule, 2, (int)rnd(5));
	bind_text(ins_rule, 3, rnd(2) ? "allow" : "deny");
	bind_text(ins_rule, 4, PICK(dirs));
	bind_text(ins_rule, 5, PICK(protos));
	if (rnd(3) == 0) {
		cidr_text(family, c, sizeof(c));
		bind_text(ins_rule, 6, c);
	}
	if (rnd(2)) {
		cidr_text(family, c, sizeof(c));
		bind_text(ins_rule, 7, c);
	}
	if (dense && rnd(3)) {
		unsigned int lo = 1 + rnd(100);

		snprintf(c, sizeof(c), "%u-%u", lo, lo + rnd(50));
		bind_text(ins_rule, 8, c);
	} else {
		bind_text(ins_rule, 8, rnd(3) ? NULL : PICK(ports));
	}
	bind_text(ins_rule, 9, rnd(4) ? NULL : PICK(domains));
	if (rnd(5) == 0)
		sqlite3_bind_int(ins_rule, 10, PICK(uids));
	bind_text(ins_rule, 11, rnd(5) ? NULL : PICK(exes));
	bind_text(ins_rule, 12, rnd(5) ? NULL : PICK(units));
	sqlite3_bind_int(ins_rule, 13, rnd(8) != 0);
	step(ins_rule);
}

static void prepare(const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
}

static struct sluice_policy *random_policy(int nrules)
{
	struct sluice_policy *p;
	char err[512];
	int i;

	if (!db) {
		if (sluice_policy_open_memory(NULL, 1, &db, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		prepare("INSERT INTO rules(id, priority, action, direction, proto, src, dst, dst_port,"
			" domain, uid, exe, unit, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			&ins_rule);
		prepare("INSERT INTO lists(id, name, action, priority, enabled) VALUES (?, ?, ?, ?, ?)",
			&ins_list);
		prepare("INSERT INTO list_domains(list_id, domain) VALUES (?, ?)", &ins_name);
	}
	sqlite3_exec(db, "BEGIN; DELETE FROM rules; DELETE FROM list_domains; DELETE FROM lists;",
		     NULL, NULL, NULL);
	sqlite3_exec(db, rnd(3) ? "UPDATE settings SET value = 'allow' WHERE key = 'default_action'" :
		     "UPDATE settings SET value = 'deny' WHERE key = 'default_action'", NULL, NULL, NULL);
	for (i = 1; i <= nrules; i++)
		random_rule(i);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	p = sluice_policy_compile(db, err, sizeof(err));
	if (!p)
		fail_msg("random policy does not compile: %s", err);
	return p;
}

static void random_flow(struct sluice_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = rnd(2) ? AF_INET : AF_INET6;
	f->proto = PICK(flow_protos);
	f->direction = (uint8_t)(1 + rnd(3));
	pool_addr(f->family, f->src);
	pool_addr(f->family, f->dst);
	f->sport = (uint16_t)rnd(65536);
	f->dport = dense ? (uint16_t)rnd(160) : PICK(flow_ports);
	f->uid = rnd(3) ? (int64_t)(rnd(2) ? 1000 : 0) : -1;
	f->exe = rnd(3) ? PICK(flow_exes) : NULL;
	f->unit = rnd(3) ? PICK(units) : NULL;
	f->domain = rnd(2) ? PICK(flow_domains) : NULL;
}

static void same_decision(const struct sluice_decision *a, const struct sluice_decision *b,
			  const char *what, int policy, int flow)
{
	if (a->allow != b->allow || a->rule_id != b->rule_id || a->partial != b->partial ||
	    a->unknown != b->unknown)
		fail_msg("%s: policy %d flow %d: index says rule %lld allow %d unknown %#x,"
			 " oracle rule %lld allow %d unknown %#x", what, policy, flow,
			 (long long)a->rule_id, a->allow, a->unknown,
			 (long long)b->rule_id, b->allow, b->unknown);
}

/* Keep the first len bits of a, draw the rest again from the pool. */
static void redraw_addr(int family, uint8_t *a, unsigned int len)
{
	uint8_t n[16];
	unsigned int i;

	pool_addr(family, n);
	for (i = len; i < (family == AF_INET ? 32u : 128u); i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		a[i / 8] = (uint8_t)((a[i / 8] & ~bit) | (n[i / 8] & bit));
	}
}

/* A flow that agrees with f on what m masks, the rest drawn again. */
static void agreeing_flow(const struct sluice_flow *f, const struct sluice_flow_mask *m,
			  struct sluice_flow *g)
{
	random_flow(g);
	g->family = f->family;
	g->proto = f->proto;
	g->direction = f->direction;
	memcpy(g->src, f->src, 16);
	memcpy(g->dst, f->dst, 16);
	redraw_addr(f->family, g->src, m->src_len);
	redraw_addr(f->family, g->dst, m->dst_len);
	if (m->fields & SLUICE_MASK_DPORT)
		g->dport = f->dport;
	if (m->fields & SLUICE_MASK_UID)
		g->uid = f->uid;
	if (m->fields & SLUICE_MASK_EXE)
		g->exe = f->exe;
	if (m->fields & SLUICE_MASK_UNIT)
		g->unit = f->unit;
	if (m->fields & SLUICE_MASK_DOMAIN)
		g->domain = f->domain;
}

/* f with every column it lacks drawn from the pools: one way it could be. */
static void completed_flow(const struct sluice_flow *f, struct sluice_flow *g)
{
	*g = *f;
	if (g->uid < 0)
		g->uid = rnd(2) ? 1000 : 0;
	if (!g->exe)
		g->exe = PICK(flow_exes);
	if (!g->unit)
		g->unit = PICK(units);
	if (!g->domain)
		g->domain = PICK(flow_domains);
}

/*
 * npolicies random policies of up to small rules (the last sixth: big),
 * nflows random flows each, through both matchers and the mask.
 */
static void agree(int npolicies, int nflows, uint32_t small, uint32_t big)
{
	long cases = 0, matched = 0, partial = 0, masked = 0, settled = 0;
	int i, j, k;

	for (i = 0; i < npolicies; i++) {
		struct sluice_policy *p = random_policy(1 + (int)rnd(i < npolicies * 5 / 6 ?
								      small : big));

		for (j = 0; j < nflows; j++) {
			struct sluice_flow f, g;
			struct sluice_decision a, b;

			random_flow(&f);
			a = sluice_policy_match(p, &f);
			b = oracle_match(p, &f);
			same_decision(&a, &b, "index vs linear", i, j);
			cases++;
			matched += a.rule_id != 0;
			partial += a.partial;
			/* The mask: a flow agreeing on it gets the same rule. */
			agreeing_flow(&f, &a.mask, &g);
			b = oracle_match(p, &g);
			if (b.rule_id != a.rule_id || b.allow != a.allow)
				fail_msg("mask: policy %d flow %d: rule %lld, but a flow agreeing on"
					 " the mask gets rule %lld", i, j, (long long)a.rule_id,
					 (long long)b.rule_id);
			masked++;
			/* Settled: whatever the flow lacked, the same verdict. */
			if (!a.partial || !sluice_decision_settled(p, &a))
				continue;
			settled++;
			for (k = 0; k < 8; k++) {
				completed_flow(&f, &g);
				b = oracle_match(p, &g);
				if (b.allow != a.allow)
					fail_msg("settled: policy %d flow %d: allow %d, but with its"
						 " unknown columns filled in rule %lld says %d",
						 i, j, a.allow, (long long)b.rule_id, b.allow);
			}
		}
		sluice_policy_free(p);
	}
	sqlite3_finalize(ins_rule);
	sqlite3_finalize(ins_list);
	sqlite3_finalize(ins_name);
	sqlite3_close(db);
	db = NULL;
	print_message("%ld cases, %ld decided by a rule, %ld partial (%ld settled), %ld mask checks\n",
		      cases, matched, partial, settled, masked);
	/* Count, don't infer: the pools must give every kind of outcome. */
	assert_true(cases == (long)npolicies * nflows);
	assert_true(matched > cases / 10 && matched < cases - cases / 10);
	assert_true(partial > cases / 100);
	assert_true(settled > 0 && settled < partial);
}

static void index_agrees_with_linear_matcher(void **state)
{
	(void)state;
	dense = 0;
	agree(POLICIES, FLOWS, 40, 200);
}

static void index_agrees_with_dense_prefixes_and_crossing_ports(void **state)
{
	(void)state;
	dense = 1;
	agree(DENSE_POLICIES, DENSE_FLOWS, 300, 1000);
	dense = 0;
}

/* The null policy fails open; a bad family gets the default. */
static void edge_flows_get_the_default(void **state)
{
	struct sluice_policy *p = sluice_policy_compile_sql(
		"UPDATE settings SET value = 'deny' WHERE key = 'default_action';"
		"INSERT INTO rules(action) VALUES ('allow');", NULL, 0);
	struct sluice_flow f = { .family = AF_INET, .direction = SLUICE_DIR_OUT, .uid = -1 };
	struct sluice_decision d;

	(void)state;
	assert_non_null(p);
	d = sluice_policy_match(NULL, &f);
	assert_int_equal(d.allow, 1);
	d = sluice_policy_match(p, &f);
	assert_int_equal(d.allow, 1);			/* control: the rule matches */
	assert_true(d.rule_id > 0);
	f.family = 99;
	d = sluice_policy_match(p, &f);
	assert_int_equal(d.allow, 0);
	assert_int_equal(d.rule_id, 0);
	sluice_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edge_flows_get_the_default),
		cmocka_unit_test(index_agrees_with_linear_matcher),
		cmocka_unit_test(index_agrees_with_dense_prefixes_and_crossing_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
