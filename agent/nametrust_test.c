// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the pending-query table and trusted_resolvers (agent/nametrust.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/nametrust.h"

static struct sluice_dns_tuple tuple(const char *client, uint16_t cport,
				     const char *server)
{
	struct sluice_dns_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = strchr(client, ':') ? AF_INET6 : AF_INET;
	t.proto = IPPROTO_UDP;
	t.client_port = cport;
	t.server_port = 53;
	assert_int_equal(inet_pton(t.family, client, t.client), 1);
	assert_int_equal(inet_pton(t.family, server, t.server), 1);
	return t;
}

static void test_answer_matches_only_its_query_once(void **state)
{
	struct sluice_queries p;
	struct sluice_dns_tuple t = tuple("10.0.0.2", 40000, "10.0.0.53");
	struct sluice_dns_tuple other;

	(void)state;
	assert_int_equal(sluice_queries_init(&p, 64), 0);
	sluice_queries_add(&p, &t, 0x1234, 1, 1, "ok.test", 1000);

	assert_int_equal(sluice_queries_take(&p, &t, 0x1235, 1, 1, "ok.test", 1001), 0);
	assert_int_equal(sluice_queries_take(&p, &t, 0x1234, 1, 1, "ok2.test", 1001), 0);
	assert_int_equal(sluice_queries_take(&p, &t, 0x1234, 28, 1, "ok.test", 1001), 0);
	other = t;
	other.client_port = 40001;
	assert_int_equal(sluice_queries_take(&p, &other, 0x1234, 1, 1, "ok.test", 1001), 0);
	other = t;
	other.server[3] = 54;
	assert_int_equal(sluice_queries_take(&p, &other, 0x1234, 1, 1, "ok.test", 1001), 0);
	other = t;
	other.proto = IPPROTO_TCP;
	assert_int_equal(sluice_queries_take(&p, &other, 0x1234, 1, 1, "ok.test", 1001), 0);

	assert_int_equal(sluice_queries_take(&p, &t, 0x1234, 1, 1, "ok.test", 1001), 1);
	/* Consumed: a second answer to the same query teaches nothing. */
	assert_int_equal(sluice_queries_take(&p, &t, 0x1234, 1, 1, "ok.test", 1002), 0);
	sluice_queries_free(&p);
}

static void test_pending_query_expires(void **state)
{
	struct sluice_queries p;
	struct sluice_dns_tuple t = tuple("fd00::2", 5353, "fd00::53");

	(void)state;
	assert_int_equal(sluice_queries_init(&p, 64), 0);
	sluice_queries_add(&p, &t, 7, 28, 1, "v6.test", 1000);
	assert_int_equal(sluice_queries_take(&p, &t, 7, 28, 1, "v6.test",
					     1000 + SLUICE_PENDING_TTL_MS), 0);
	sluice_queries_add(&p, &t, 7, 28, 1, "v6.test", 50000);
	assert_int_equal(sluice_queries_take(&p, &t, 7, 28, 1, "v6.test",
					     50000 + SLUICE_PENDING_TTL_MS - 1), 1);
	sluice_queries_free(&p);
}

/* A flood of queries stays bounded and the newest ones are answered. */
static void test_pending_flood_is_bounded(void **state)
{
	struct sluice_queries p;
	struct sluice_dns_tuple t = tuple("10.0.0.2", 40000, "10.0.0.53");
	unsigned int id, found = 0;

	(void)state;
	assert_int_equal(sluice_queries_init(&p, 16), 0);
	for (id = 0; id < 5000; id++)
		sluice_queries_add(&p, &t, (uint16_t)id, 1, 1, "x.test", 1000 + id);
	assert_true(p.overwritten > 0);
	sluice_queries_add(&p, &t, 9999, 1, 1, "last.test", 7000);
	assert_int_equal(sluice_queries_take(&p, &t, 9999, 1, 1, "last.test", 7001), 1);
	for (id = 0; id < 5000; id++)
		found += (unsigned int)sluice_queries_take(&p, &t, (uint16_t)id, 1, 1,
							 "x.test", 7001);
	assert_true(found <= 16);
	sluice_queries_free(&p);
}

static void test_trusted_resolvers_parse(void **state)
{
	struct sluice_trusted tr;
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	char err[200] = "";

	(void)state;
	assert_int_equal(sluice_trusted_parse(NULL, &tr, err, sizeof(err)), 0);
	assert_int_equal(tr.set, 0);
	assert_int_equal(sluice_trusted_parse(" ,  ", &tr, err, sizeof(err)), 0);
	assert_int_equal(tr.set, 0);
	inet_pton(AF_INET, "192.0.2.53", a);
	assert_true(sluice_trusted_allows(&tr, AF_INET, a));	/* not set: anyone */

	assert_int_equal(sluice_trusted_parse("192.0.2.53, 2001:db8::53 10.0.0.1",
					      &tr, err, sizeof(err)), 0);
	assert_int_equal(tr.set, 1);
	assert_int_equal(tr.n, 3);
	assert_true(sluice_trusted_allows(&tr, AF_INET, a));
	inet_pton(AF_INET6, "2001:db8::53", b);
	assert_true(sluice_trusted_allows(&tr, AF_INET6, b));
	b[15] = 0x54;
	assert_false(sluice_trusted_allows(&tr, AF_INET6, b));
	a[3] = 54;
	assert_false(sluice_trusted_allows(&tr, AF_INET, a));

	/* A typo trusts fewer servers, never more. */
	assert_int_equal(sluice_trusted_parse("192.0.2.530,192.0.2.53", &tr, err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, "'192.0.2.530' is not an IP address"));
	assert_int_equal(tr.set, 1);
	assert_int_equal(tr.n, 1);
	assert_int_equal(sluice_trusted_parse("nonsense", &tr, err, sizeof(err)), -1);
	assert_int_equal(tr.set, 1);
	assert_false(sluice_trusted_allows(&tr, AF_INET, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_matches_only_its_query_once),
		cmocka_unit_test(test_pending_query_expires),
		cmocka_unit_test(test_pending_flood_is_bounded),
		cmocka_unit_test(test_trusted_resolvers_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
