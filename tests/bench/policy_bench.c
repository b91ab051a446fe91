// SPDX-License-Identifier: GPL-2.0
/*
 * Policy at scale: compile time, memory and lookups per second of the
 * compiled policy for 10 000, 100 000 and 1 000 000 random CIDR/port rules
 * and a list of 1 000 000 names; and, for comparison, the linear matcher
 * sluice had before (tests/unit/policy_oracle.h) at 10 000 and 100 000.
 * One core, no threads. Every figure is one line
 *
 *	policy_bench: <key> <value> <unit>
 *
 * so that a script can collect them. Nothing is judged here: figures only.
 *
 *	build/policy_bench [MAX_RULES [rules]]	(default 1000000)
 *
 * With "rules", the indexed matcher's figures only (no linear matcher, no
 * names): a quick before-and-after on a busy machine.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sqlite3.h>

#include "agent/policy.h"
#include "tests/unit/policy_oracle.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void figure(const char *key, double value, const char *unit)
{
	printf("policy_bench: %s %.6g %s\n", key, value, unit);
	fflush(stdout);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "policy_bench: %s: %s\n", what, why);
	exit(1);
}

/* A random rule's dst: 1.0.0.0 .. 223.255.255.255 masked to /16../32. */
static uint32_t rule_net(unsigned int *plen)
{
	uint32_t a = (rnd32() % (223u << 24)) + (1u << 24);

	*plen = 16 + rnd32() % 17;
	return *plen == 32 ? a : a & ~(0xffffffffu >> *plen);
}

/* n random CIDR/port rules into a fresh in-memory policy; nets[] gets them. */
static sqlite3 *rules_db(size_t n, uint32_t *nets)
{
	static const char *const protos[] = { "tcp", "udp" };
	sqlite3_stmt *st;
	char err[256], dst[32], port[16];
	sqlite3 *db;
	size_t i;

	if (sluice_policy_open_memory(NULL, 1, &db, err, sizeof(err)) < 0)
		die("open", err);
	sqlite3_exec(db, "BEGIN; DELETE FROM rules", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO rules(priority, action, proto, dst, dst_port)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	for (i = 0; i < n; i++) {
		unsigned int plen;
		uint32_t net = rule_net(&plen);
		struct in_addr a = { htonl(net) };
		unsigned int lo = 1 + rnd32() % 60000;

		nets[i] = net;
		snprintf(dst, sizeof(dst), "%s/%u", inet_ntoa(a), plen);
		if (rnd32() % 4)
			snprintf(port, sizeof(port), "%u", lo);
		else
			snprintf(port, sizeof(port), "%u-%u", lo, lo + rnd32() % 1000);
		sqlite3_bind_int(st, 1, (int)(rnd32() % 1000));
		sqlite3_bind_text(st, 2, rnd32() % 2 ? "allow" : "deny", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, protos[rnd32() % 2], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, dst, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, port, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return db;
}

/* Compile db, saying how long it took and how much heap the result holds. */
static struct sluice_policy *timed_compile(sqlite3 *db, const char *what, size_t n,
					   const char *per)
{
	struct sluice_policy *p;
	struct mallinfo2 before, after;
	long long sql_before, sql_after;
	char key[96], err[256];
	double t;

	malloc_trim(0);
	before = mallinfo2();
	sql_before = sqlite3_memory_used();
	t = now();
	p = sluice_policy_compile(db, err, sizeof(err));
	t = now() - t;
	if (!p)
		die("compile", err);
	after = mallinfo2();
	sql_after = sqlite3_memory_used();
	snprintf(key, sizeof(key), "%s_compile", what);
	figure(key, t * 1e3, "ms");
	snprintf(key, sizeof(key), "%s_bytes_per_%s", what, per);
	/* Heap in use, mmap()ed blocks included, less what SQLite holds more. */
	figure(key, ((double)(after.uordblks + after.hblkhd) -
		     (double)(before.uordblks + before.hblkhd) -
		     (double)(sql_after - sql_before)) / (double)n, "B");
	snprintf(key, sizeof(key), "%s_index_bytes_per_%s", what, per);
	figure(key, (double)sluice_policy_index_bytes(p) / (double)n, "B");
	return p;
}

static void flow_to(struct sluice_flow *f, uint32_t dst, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	f->family = AF_INET;
	f->proto = rnd32() % 2 ? IPPROTO_TCP : IPPROTO_UDP;
	f->direction = SLUICE_DIR_OUT;
	dst = htonl(dst);
	memcpy(f->dst, &dst, 4);
	f->src[0] = 192;
	f->src[1] = 168;
	f->src[3] = 2;
	f->sport = 40000;
	f->dport = dport;
	f->uid = -1;
}

typedef struct sluice_decision (*matcher)(const struct sluice_policy *, const struct sluice_flow *);

/* Lookups per second: hits go into a rule's net, misses to 240.0.0.0/4. */
static void lookups(const struct sluice_policy *p, matcher m, const uint32_t *nets, size_t n,
		    const char *what, size_t count)
{
	static struct sluice_flow flows[4096];
	size_t i, decided = 0;
	char key[96];
	int hit;
	double t;

	for (hit = 1; hit >= 0; hit--) {
		for (i = 0; i < 4096; i++)
			flow_to(&flows[i], hit ? nets[rnd32() % n] | (rnd32() & 0xff) :
				0xf0000000u | (rnd32() & 0x0fffffff), (uint16_t)(1 + rnd32() % 60000));
		t = now();
		for (i = 0; i < count; i++)
			decided += m(p, &flows[i % 4096]).rule_id != 0;
		t = now() - t;
		snprintf(key, sizeof(key), "%s_%s", what, hit ? "lookups_any" : "lookups_miss");
		figure(key, (double)count / t, "per_s");
	}
	if (decided > 2 * count)
		printf("unreachable\n");
}

static void rules_at(size_t n, int linear)
{
	uint32_t *nets = malloc(n * sizeof(*nets));
	struct sluice_policy *p;
	char what[32];
	sqlite3 *db;

	if (!nets)
		die("memory", "out of memory");
	db = rules_db(n, nets);
	snprintf(what, sizeof(what), "rules_%zuk", n / 1000);
	p = timed_compile(db, what, n, "rule");
	sqlite3_close(db);
	lookups(p, sluice_policy_match, nets, n, what, 1000000);
	if (linear && n <= 100000) {
		snprintf(what, sizeof(what), "linear_rules_%zuk", n / 1000);
		lookups(p, oracle_match, nets, n, what, n <= 10000 ? 20000 : 2000);
	}
	sluice_policy_free(p);
	free(nets);
}

static void names_at(size_t n)
{
	struct sluice_policy *p;
	struct sluice_flow f;
	sqlite3_stmt *st;
	char err[256], name[64], what[32], key[64];
	size_t i, hits = 0;
	sqlite3 *db;
	double t;

	if (sluice_policy_open_memory(NULL, 1, &db, err, sizeof(err)) < 0)
		die("open", err);
	sqlite3_exec(db, "BEGIN; INSERT INTO lists(id, name, action) VALUES (1, 'big', 'deny')",
		     NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO list_domains(list_id, domain) VALUES (1, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "h%zu.d%zu.example", i, i % 1000);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	snprintf(what, sizeof(what), "names_%zuk", n / 1000);
	p = timed_compile(db, what, n, "name");
	sqlite3_close(db);
	flow_to(&f, 0x01020304, 443);
	t = now();
	for (i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "h%zu.d%zu.example", i * 7919 % (2 * n), i % 1000);
		f.domain = name;
		hits += sluice_policy_match(p, &f).rule_id != 0;
	}
	t = now() - t;
	snprintf(key, sizeof(key), "%s_lookups", what);
	figure(key, 1e6 / t, "per_s");
	snprintf(key, sizeof(key), "%s_hit_share", what);
	figure(key, (double)hits / 1e6, "ratio");
	sluice_policy_free(p);
}

int main(int argc, char **argv)
{
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, n;
	int all = argc < 3 || strcmp(argv[2], "rules") != 0;

	for (n = 10000; n <= max; n *= 10)
		rules_at(n, all);
	if (all)
		names_at(max < 1000000 ? max : 1000000);
	return 0;
}
