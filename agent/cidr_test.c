// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the CIDR parser and matcher (agent/cidr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/cidr.h"

static void test_cidr_parse_accepts_and_normalizes(void **state)
{
	static const struct {
		const char *text, *addr;
		int plen;
	} ok[] = {
		{ "10.0.0.0/8", "10.0.0.0", 8 },
		{ "10.1.2.3/8", "10.0.0.0", 8 },	/* host bits cleared */
		{ "0.0.0.0/0", "0.0.0.0", 0 },
		{ "192.0.2.1", "192.0.2.1", 32 },	/* no prefix: one host */
		{ "255.255.255.255/32", "255.255.255.255", 32 },
		{ "10.0.31.255/20", "10.0.16.0", 20 },
		{ "::/0", "::", 0 },
		{ "::1", "::1", 128 },
		{ "2001:db8::/32", "2001:db8::", 32 },
		{ "2001:db8:ffff:ffff::1/33", "2001:db8:8000::", 33 },
		{ "::ffff:192.0.2.1/128", "::ffff:192.0.2.1", 128 },
	};
	struct sluice_cidr c;
	const char *why;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sluice_cidr_parse(ok[i].text, &c, &why), 0);
		assert_int_equal(c.plen, ok[i].plen);
		assert_non_null(inet_ntop(c.family, c.addr, buf, sizeof(buf)));
		assert_string_equal(buf, ok[i].addr);
	}
}

static void test_cidr_parse_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/-1",
		"10.0.0.0/8/8", "10.0.0.256", "10.0.0", "010.0.0.0", "10.0.0.0 /8",
		"1.2.3.4.5", "::/129", "::/1280", "1::2::3", "12345::", "g::1",
		"2001:db8::/ 32", "example.com", "1:2:3:4:5:6:7:8:9",
	};
	struct sluice_cidr c;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (sluice_cidr_parse(bad[i], &c, &why) == 0)
			fail_msg("'%s' was accepted as a CIDR", bad[i]);
		assert_non_null(why);
	}
}

/* Each prefix against addresses just inside and just outside it. */
static void test_cidr_contains_edges(void **state)
{
	static const struct {
		const char *cidr, *addr;
		int in;
	} cases[] = {
		{ "10.0.0.0/8", "10.0.0.0", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "10.0.16.0/20", "10.0.31.255", 1 },
		{ "10.0.16.0/20", "10.0.32.0", 0 },
		{ "10.0.16.0/20", "10.0.15.255", 0 },
		{ "192.0.2.7/32", "192.0.2.7", 1 },
		{ "192.0.2.7/32", "192.0.2.6", 0 },
		{ "192.0.2.7/32", "192.0.2.8", 0 },
		{ "0.0.0.0/0", "255.255.255.255", 1 },
		{ "0.0.0.0/0", "::", 0 },		/* other family */
		{ "::/0", "0.0.0.0", 0 },
		{ "::/0", "ffff::1", 1 },
		{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/32", "2001:db9::", 0 },
		{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/65", "2001:db8::8000:0:0:0", 0 },
		{ "2001:db8::1/128", "2001:db8::1", 1 },
		{ "2001:db8::1/128", "2001:db8::2", 0 },
		{ "2001:db8::1/128", "2001:db8::", 0 },
	};
	struct sluice_cidr c;
	uint8_t addr[16];
	const char *why;
	int family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(addr, 0, sizeof(addr));
		family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(family, cases[i].addr, addr), 1);
		assert_int_equal(sluice_cidr_parse(cases[i].cidr, &c, &why), 0);
		if (sluice_cidr_contains(&c, family, addr) != cases[i].in)
			fail_msg("%s in %s: expected %d", cases[i].addr, cases[i].cidr, cases[i].in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_accepts_and_normalizes),
		cmocka_unit_test(test_cidr_parse_refuses_malformed),
		cmocka_unit_test(test_cidr_contains_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
