// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the name cache and its fairness between sources (agent/namecache.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "agent/namecache.h"

static void v4(uint8_t *a, uint32_t n)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(n >> 24);
	a[1] = (uint8_t)(n >> 16);
	a[2] = (uint8_t)(n >> 8);
	a[3] = (uint8_t)n;
}

static void test_learns_and_expires(void **state)
{
	struct sluice_namecache c;
	const struct sluice_namecache_entry *e;
	uint8_t a[16];

	(void)state;
	assert_int_equal(sluice_namecache_init(&c, 64), 0);
	v4(a, 0x0a000001);
	assert_int_equal(sluice_namecache_put(&c, AF_INET, a, "www.test",
					      "cdn.test", 0, 1, 1000), 1);
	e = sluice_namecache_get(&c, AF_INET, a, 1000);
	assert_non_null(e);
	assert_string_equal(e->qname, "www.test");
	assert_string_equal(e->owner, "cdn.test");
	assert_null(sluice_namecache_get(&c, AF_INET6, a, 1000));
	assert_non_null(sluice_namecache_get(&c, AF_INET, a,
					     1000 + SLUICE_NAMECACHE_MIN_TTL * 1000 - 1));
	assert_null(sluice_namecache_get(&c, AF_INET, a,
					 1000 + SLUICE_NAMECACHE_MIN_TTL * 1000));
	assert_int_equal(sluice_namecache_put(&c, 99, a, "x", NULL, 60, 1, 0), 0);
	sluice_namecache_free(&c);
}

/* The home slot of an address, found in an empty @scratch cache. */
static size_t slot_of(struct sluice_namecache *scratch, uint32_t n)
{
	struct sluice_namecache_entry *e;
	uint8_t a[16];
	size_t slot;

	v4(a, n);
	sluice_namecache_put(scratch, AF_INET, a, "probe", NULL, 60, 0, 0);
	e = (struct sluice_namecache_entry *)sluice_namecache_get(scratch, AF_INET, a, 0);
	slot = (size_t)(e - scratch->slots);
	memset(e, 0, sizeof(*e));
	scratch->held[0] = 0;
	return slot;
}

/*
 * One source answering many addresses aimed at the window of another's
 * address evicts its own entries, not the other's.
 */
static void test_flood_evicts_its_own_entries(void **state)
{
	struct sluice_namecache c;
	uint8_t victim[16], a[16];
	uint32_t n, home;
	const unsigned int good = 1, bad = 2;
	int learnt = 0;

	(void)state;
	assert_int_equal(sluice_namecache_init(&c, 1024), 0);
	v4(victim, 0x0a5b0202);
	assert_int_equal(sluice_namecache_put(&c, AF_INET, victim, "ok.test",
					      NULL, 300, good, 0), 1);
	home = (uint32_t)(sluice_namecache_get(&c, AF_INET, victim, 0) - c.slots);

	/* Addresses that land exactly on the victim's slot, from another source. */
	{
		struct sluice_namecache scratch;

		assert_int_equal(sluice_namecache_init(&scratch, 1024), 0);
		for (n = 0x0a010000; learnt < 40 && n < 0x0a020000; n++) {
			if (slot_of(&scratch, n) != home)
				continue;
			v4(a, n);
			sluice_namecache_put(&c, AF_INET, a, "flood.test", NULL,
					     300, bad, 1);
			learnt++;
		}
		sluice_namecache_free(&scratch);
	}
	assert_int_equal(learnt, 40);
	assert_non_null(sluice_namecache_get(&c, AF_INET, victim, 2));
	assert_true(c.held[bad] >= 7);
	sluice_namecache_free(&c);
}

/* A source holds at most its share of the table. */
static void test_source_quota(void **state)
{
	struct sluice_namecache c;
	uint8_t a[16];
	uint32_t n;

	(void)state;
	assert_int_equal(sluice_namecache_init(&c, 256), 0);
	for (n = 0; n < 5000; n++) {
		v4(a, 0x0a000000 + n);
		sluice_namecache_put(&c, AF_INET, a, "flood.test", NULL, 300, 5, 0);
	}
	assert_true(c.held[5] <= 256 / SLUICE_NAMECACHE_SHARE);
	assert_true(c.refused > 0);
	/* Another source still finds room. */
	v4(a, 0x0b000001);
	assert_int_equal(sluice_namecache_put(&c, AF_INET, a, "ok.test", NULL,
					      300, 6, 0), 1);
	/* Once the flood has expired, the sweep gives the room back. */
	for (n = 0; n < 256; n++) {
		v4(a, 0x0c000000 + n);
		sluice_namecache_put(&c, AF_INET, a, "later.test", NULL, 300, 7,
				     400 * 1000);
	}
	assert_true(c.held[5] < 256 / SLUICE_NAMECACHE_SHARE);
	sluice_namecache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learns_and_expires),
		cmocka_unit_test(test_flood_evicts_its_own_entries),
		cmocka_unit_test(test_source_quota),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
