// SPDX-License-Identifier: GPL-2.0
/*
 * The policy compiler and its index on random rule sets. The input is
 * lines; a line is one rules row, its columns separated by '|':
 *
 *	priority|action|direction|proto|src|dst|dst_port|domain|uid|exe|unit|enabled
 *
 * (an empty column is NULL), or, starting with 'L', one list:
 * Lname|action|priority|enabled|domain|domain... The rows go into a policy
 * database whose triggers are dropped, so that the compiler's own checks
 * see what the schema would have refused. A compile either fails with a
 * reason or gives a policy; then flows to the rules' own addresses and
 * ports, with and without uid, exe, unit and name, must get from the index
 * exactly what the linear matcher (tests/unit/policy_oracle.h) gives, and
 * a flow agreeing with one on its wildcard mask the same rule.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "agent/policy.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/unit/policy_oracle.h"

static sqlite3 *db;
static sqlite3_stmt *ins_rule, *ins_list, *ins_name;

static void setup(void)
{
	char err[256];

	FUZZ_CHECK(sluice_policy_open_memory(NULL, 1, &db, err, sizeof(err)) == 0);
	/* The triggers refuse bad rows; the compiler must, too. */
	for (;;) {
		sqlite3_stmt *st;
		char sql[256];
		int rc;

		FUZZ_CHECK(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'trigger'",
					      -1, &st, NULL) == SQLITE_OK);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			snprintf(sql, sizeof(sql), "DROP TRIGGER \"%s\"", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			break;
		FUZZ_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	FUZZ_CHECK(sqlite3_prepare_v2(db,
		"INSERT INTO rules(priority, action, direction, proto, src, dst, dst_port,"
		" domain, uid, exe, unit, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		-1, &ins_rule, NULL) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_prepare_v2(db,
		"INSERT INTO lists(name, action, priority, enabled) VALUES (?, ?, ?, ?)",
		-1, &ins_list, NULL) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_prepare_v2(db,
		"INSERT INTO list_domains(list_id, domain) VALUES (?, ?)",
		-1, &ins_name, NULL) == SQLITE_OK);
}

/* Column col of st from field [s, e): NULL when empty; numbers as integers. */
static void bind_field(sqlite3_stmt *st, int col, const char *s, const char *e, int numeric)
{
	char *end;
	long long v;

	if (s == e) {
		sqlite3_bind_null(st, col);
		return;
	}
	if (numeric) {
		char buf[32];
		size_t n = (size_t)(e - s) < sizeof(buf) - 1 ? (size_t)(e - s) : sizeof(buf) - 1;

		memcpy(buf, s, n);
		buf[n] = '\0';
		v = strtoll(buf, &end, 10);
		if (*end == '\0') {
			sqlite3_bind_int64(st, col, v);
			return;
		}
	}
	sqlite3_bind_text(st, col, s, (int)(e - s), SQLITE_TRANSIENT);
}

static void insert_line(const char *s, const char *end)
{
	static const int rule_numeric[12] = { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1 };
	sqlite3_stmt *st = ins_rule;
	int col = 0, list = *s == 'L';
	sqlite3_int64 list_id = 0;

	if (list) {
		st = ins_list;
		s++;
	}
	while (s <= end) {
		const char *e = memchr(s, '|', (size_t)(end - s));

		if (!e)
			e = end;
		if (!list && col < 12) {
			bind_field(st, col + 1, s, e, rule_numeric[col]);
		} else if (list && col < 4) {
			bind_field(st, col + 1, s, e, col >= 2);
		} else if (list) {
			sqlite3_bind_int64(ins_name, 1, list_id);
			bind_field(ins_name, 2, s, e, 0);
			sqlite3_step(ins_name);
			sqlite3_reset(ins_name);
		}
		col++;
		if (list && col == 4) {
			if (sqlite3_step(st) != SQLITE_DONE)
				break;
			list_id = sqlite3_last_insert_rowid(db);
		}
		s = e + 1;
	}
	if (!list)
		sqlite3_step(st);	/* a row the table refuses is no test */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A flow near rule r (or anywhere): its addresses, port, program. */
static void flow_near(const struct sluice_policy *p, struct sluice_flow *f)
{
	static const char *const names[] = { "example.com", "a.example.com", "x.test", NULL };
	static const char *const exes[] = { "/usr/bin/curl", "/usr/bin/x", "/opt/a", NULL };
	static const char *const units[] = { "a.service", "b.service", NULL };
	const struct rule *r = p->nrules ? &p->rules[rnd((uint32_t)p->nrules)] : NULL;
	const struct rule_ident *ident;

	memset(f, 0, sizeof(*f));
	f->family = r && r->family ? r->family : (rnd(2) ? AF_INET : AF_INET6);
	f->direction = (uint8_t)(1 + rnd(3));
	f->proto = (uint8_t)(rnd(2) ? 6 : 17);
	if (r && (r->has & HAS_DST))
		memcpy(f->dst, r->dst.addr, 16);
	if (r && (r->has & HAS_SRC))
		memcpy(f->src, r->src.addr, 16);
	f->dst[15] ^= (uint8_t)rnd(2);
	f->dst[3] ^= (uint8_t)rnd(2);
	f->dport = r && (r->has & HAS_PORT) ? r->port_lo : (uint16_t)rnd(1024);
	f->uid = r && (r->has & HAS_UID) && rnd(2) ? r->uid : (int64_t)rnd(3) - 1;
	ident = r && (r->has & (HAS_EXE | HAS_UNIT)) ? sluice_rule_ident(p, r) : NULL;
	f->exe = ident && ident->exe && rnd(2) ? ident->exe : exes[rnd(4)];
	f->unit = ident && ident->unit && rnd(2) ? ident->unit : units[rnd(3)];
	f->domain = names[rnd(4)];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = (char *)fuzz_copy(data, len);
	struct sluice_policy *p;
	char err[512] = "";
	const char *s = text, *e;
	int i;

	if (!db)
		setup();
	sqlite3_exec(db, "BEGIN; DELETE FROM rules; DELETE FROM list_domains; DELETE FROM lists;",
		     NULL, NULL, NULL);
	while (s < text + len) {
		e = memchr(s, '\n', (size_t)(text + len - s));
		if (!e)
			e = text + len;
		insert_line(s, e);
		s = e + 1;
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	p = sluice_policy_compile(db, err, sizeof(err));
	if (!p) {
		FUZZ_CHECK(err[0] != '\0');
		free(text);
		return 0;
	}
	rng = 0x9e3779b97f4a7c15ULL ^ len;
	for (i = 0; i < 64; i++) {
		struct sluice_flow f, g;
		struct sluice_decision a, b;

		flow_near(p, &f);
		a = sluice_policy_match(p, &f);
		b = oracle_match(p, &f);
		FUZZ_CHECK(a.allow == b.allow && a.rule_id == b.rule_id &&
			   a.partial == b.partial && a.unknown == b.unknown);
		/* Agreeing on the mask: here simply the same flow, other port or names. */
		g = f;
		if (!(a.mask.fields & SLUICE_MASK_DPORT))
			g.dport = (uint16_t)rnd(65536);
		if (!(a.mask.fields & SLUICE_MASK_DOMAIN))
			g.domain = rnd(2) ? "other.example" : NULL;
		if (!(a.mask.fields & SLUICE_MASK_UID))
			g.uid = (int64_t)rnd(3) - 1;
		b = oracle_match(p, &g);
		FUZZ_CHECK(a.rule_id == b.rule_id && a.allow == b.allow);
	}
	sluice_policy_free(p);
	free(text);
	return 0;
}
