// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of what the name cache learns on the verdict path
 * (agent/verdict.c): queued packets, built here byte by byte, go through
 * sluice_verdict_decide() against a policy compiled from the real schema.
 * No raw socket is opened: the tests never make the agent inject.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "agent/packet.h"
#include "agent/policy_sql.h"
#include "agent/verdict.h"

static const uint8_t CLIENT[4] = { 10, 0, 0, 2 }, RESOLVER[4] = { 10, 0, 0, 53 },
	OTHER_RESOLVER[4] = { 10, 0, 0, 54 }, SERVER[4] = { 192, 0, 2, 1 };

struct fixture {
	struct sluice_policy_loader loader;
	struct sluice_verdict_ctx v;
};

/* Default deny; DNS allowed; TCP only to what is named ok.test or dns.google. */
static int setup(void **state)
{
	static const char sql[] =
		"UPDATE settings SET value = 'deny' WHERE key = 'default_action';"
		"INSERT INTO rules(action, proto, dst_port) VALUES ('allow', 'udp', '53');"
		"INSERT INTO rules(action, domain) VALUES ('allow', 'ok.test');"
		"INSERT INTO rules(action, domain) VALUES ('allow', 'dns.google');";
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256];
	sqlite3 *db;

	assert_non_null(fx);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sluice_schema_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sluice_default_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	atomic_store(&fx->loader.current, sluice_policy_compile(db, err, sizeof(err)));
	assert_non_null(fx->loader.current);
	sqlite3_close(db);
	/* sluice_verdict_init() without its raw sockets. */
	fx->v.loader = &fx->loader;
	pthread_mutex_init(&fx->v.names_lock, NULL);
	assert_int_equal(sluice_namecache_init(&fx->v.names, 256), 0);
	assert_int_equal(sluice_queries_init(&fx->v.queries, 64), 0);
	fx->v.inject.fd4 = fx->v.inject.fd6 = -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	sluice_namecache_free(&fx->v.names);
	sluice_queries_free(&fx->v.queries);
	pthread_mutex_destroy(&fx->v.names_lock);
	sluice_policy_free(fx->loader.current);
	free(fx);
	return 0;
}

/* An IPv4 packet with a UDP or TCP header (SYN) and @payload. */
static size_t ip4(uint8_t *out, const uint8_t *src, const uint8_t *dst,
		  uint8_t proto, uint16_t sport, uint16_t dport,
		  const uint8_t *payload, size_t plen)
{
	size_t l4 = proto == IPPROTO_UDP ? 8 : 20, n = 20 + l4 + plen;

	memset(out, 0, 20 + l4);
	out[0] = 0x45;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	out[20] = (uint8_t)(sport >> 8);
	out[21] = (uint8_t)sport;
	out[22] = (uint8_t)(dport >> 8);
	out[23] = (uint8_t)dport;
	if (proto == IPPROTO_UDP) {
		out[24] = (uint8_t)((8 + plen) >> 8);
		out[25] = (uint8_t)(8 + plen);
	} else {
		out[32] = 0x50;
		out[33] = 0x02;
	}
	if (plen)
		memcpy(out + 20 + l4, payload, plen);
	return n;
}

/* A DNS query (@answer 0) or an answer with one A record @addr. */
static size_t dns(uint8_t *out, uint16_t id, const char *qname, int answer,
		  const uint8_t *addr)
{
	size_t n = 12;
	const char *s = qname;

	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = answer ? 0x81 : 0x01;
	out[3] = answer ? 0x80 : 0x00;
	out[5] = 1;
	out[7] = answer ? 1 : 0;
	while (*s) {
		size_t l = strcspn(s, ".");

		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l + (s[l] == '.');
	}
	out[n++] = 0;
	memcpy(out + n, "\0\1\0\1", 4);
	n += 4;
	if (answer) {
		memcpy(out + n, "\xc0\x0c\0\1\0\1\0\0\1\x2c\0\4", 12);
		memcpy(out + n + 12, addr, 4);
		n += 16;
	}
	return n;
}

/* One queued packet through the verdict path, as the queue engine hands it over. */
static int decide(struct fixture *fx, const uint8_t *pkt, size_t len, int reply)
{
	struct sluice_packet p;

	memset(&p, 0, sizeof(p));
	p.data = pkt;
	p.len = len;
	p.hook = reply ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT;
	p.reply = reply;
	p.flow.uid = -1;
	assert_int_equal(sluice_packet_parse(pkt, len, &p.flow), 0);
	p.flow.direction = SLUICE_DIR_OUT;
	if (reply)
		sluice_flow_reverse(&p.flow, p.hook);
	return sluice_verdict_decide(&fx->v, &p);
}

static int query(struct fixture *fx, const uint8_t *resolver, uint16_t port,
		 uint16_t id, const char *name)
{
	uint8_t msg[300], pkt[400];
	size_t m = dns(msg, id, name, 0, NULL);

	return decide(fx, pkt, ip4(pkt, CLIENT, resolver, IPPROTO_UDP, port, 53, msg, m), 0);
}

static int answer(struct fixture *fx, const uint8_t *resolver, uint16_t port,
		  uint16_t id, const char *name, const uint8_t *addr)
{
	uint8_t msg[300], pkt[400];
	size_t m = dns(msg, id, name, 1, addr);

	return decide(fx, pkt, ip4(pkt, resolver, CLIENT, IPPROTO_UDP, 53, port, msg, m), 1);
}

/*
 * A new flow to @addr, judged by the names learnt for it: UDP, since a TCP
 * flow would wait for its first payload to name it while domain rules
 * exist (agent/pending.h).
 */
static int connect_to(struct fixture *fx, const uint8_t *addr)
{
	uint8_t pkt[64];

	return decide(fx, pkt, ip4(pkt, CLIENT, addr, IPPROTO_UDP, 41000, 8080,
				   (const uint8_t *)"x", 1), 0);
}

static void test_answer_to_a_query_seen_teaches(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	assert_int_equal(query(fx, RESOLVER, 40000, 0x1111, "ok.test"), SLUICE_Q_PASS);
	assert_int_equal(answer(fx, RESOLVER, 40000, 0x1111, "ok.test", SERVER), SLUICE_Q_PASS);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_ALLOW);
}

static void test_unasked_answers_teach_nothing(void **state)
{
	struct fixture *fx = *state;

	/* Nobody asked. */
	assert_int_equal(answer(fx, RESOLVER, 40000, 0x1111, "ok.test", SERVER), SLUICE_Q_PASS);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	/* Another id, another question, another port, another server. */
	query(fx, RESOLVER, 40000, 0x2222, "ok.test");
	answer(fx, RESOLVER, 40000, 0x2223, "ok.test", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	query(fx, RESOLVER, 40001, 0x3333, "other.test");
	answer(fx, RESOLVER, 40001, 0x3333, "ok.test", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	query(fx, RESOLVER, 40002, 0x4444, "ok.test");
	answer(fx, RESOLVER, 40003, 0x4444, "ok.test", SERVER);
	answer(fx, OTHER_RESOLVER, 40002, 0x4444, "ok.test", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	/* The true answer still teaches, once: its query is used up. */
	answer(fx, RESOLVER, 40002, 0x4444, "ok.test", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_ALLOW);
	assert_int_equal(fx->v.queries.matched, 1);
}

static void test_trusted_resolvers_limit_learning(void **state)
{
	struct fixture *fx = *state;
	struct sluice_trusted tr;
	char err[128];

	assert_int_equal(sluice_trusted_parse("10.0.0.53", &tr, err, sizeof(err)), 0);
	sluice_verdict_set_trusted(&fx->v, &tr);
	query(fx, OTHER_RESOLVER, 40000, 0x5555, "ok.test");
	assert_int_equal(answer(fx, OTHER_RESOLVER, 40000, 0x5555, "ok.test", SERVER),
			 SLUICE_Q_PASS);	/* the client still gets it */
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	query(fx, RESOLVER, 40000, 0x5556, "ok.test");
	answer(fx, RESOLVER, 40000, 0x5556, "ok.test", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_ALLOW);
}

/* block_doh refuses an address learnt as a DoH server's, whatever the flow says. */
static void test_block_doh_by_learnt_name(void **state)
{
	struct fixture *fx = *state;

	query(fx, RESOLVER, 40000, 0x6666, "dns.google");
	answer(fx, RESOLVER, 40000, 0x6666, "dns.google", SERVER);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_ALLOW);
	atomic_store(&fx->v.block_doh, 1);
	assert_int_equal(connect_to(fx, SERVER), SLUICE_Q_DENY);
	query(fx, RESOLVER, 40001, 0x6667, "ok.test");
	answer(fx, RESOLVER, 40001, 0x6667, "ok.test", OTHER_RESOLVER);
	assert_int_equal(connect_to(fx, OTHER_RESOLVER), SLUICE_Q_ALLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_to_a_query_seen_teaches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unasked_answers_teach_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_resolvers_limit_learning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_doh_by_learnt_name, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
