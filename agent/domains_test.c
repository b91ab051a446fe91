// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the compiled domain set: what a pattern may be, what it
 * matches (exact, "*." below but not at the suffix, case, trailing dot),
 * which payload a lookup answers when several patterns match (the lowest),
 * repeated patterns, and 100,000 random names against a naive reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "agent/domains.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static struct sluice_domains *build(const char *const *patterns, size_t n)
{
	struct sluice_domains *d = sluice_domains_new(0);
	const char *why;
	size_t i;

	assert_non_null(d);
	for (i = 0; i < n; i++)
		if (sluice_domains_add(d, patterns[i], strlen(patterns[i]), (uint32_t)i, &why) != 0)
			fail_msg("add '%s': %s", patterns[i], why);
	assert_int_equal(sluice_domains_finish(d), 0);
	return d;
}

static uint32_t lookup(const struct sluice_domains *d, const char *name)
{
	return sluice_domains_lookup(d, name, strlen(name));
}

static void test_normalise_accepts_and_lowers_patterns(void **state)
{
	static const struct {
		const char *in, *out;
		bool wild;
	} good[] = {
		{ "example.com", "example.com", false },
		{ "Example.COM.", "example.com", false },
		{ "*.Ads.Example.com", "ads.example.com", true },
		{ "*.example.org.", "example.org", true },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", false },
		{ "_dmarc.example.com", "_dmarc.example.com", false },
		{ "localhost", "localhost", false },
		{ "*.com", "com", true },
	};
	char out[SLUICE_DOMAIN_MAX + 1];
	const char *why;
	size_t i, n;
	bool wild;

	(void)state;
	for (i = 0; i < NCASES(good); i++) {
		if (sluice_domain_normalise(good[i].in, strlen(good[i].in), out, &n, &wild, &why) != 0)
			fail_msg("'%s' refused: %s", good[i].in, why);
		assert_string_equal(out, good[i].out);
		assert_int_equal(n, strlen(good[i].out));
		assert_int_equal(wild, good[i].wild);
	}
}

static void test_normalise_refuses_bad_patterns_with_a_reason(void **state)
{
	char label64[80], long_name[300];
	const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "empty" },
		{ ".", "empty" },
		{ "*.", "'*' is only allowed" },
		{ "*", "'*' is only allowed" },
		{ "*.*", "'*' is only allowed" },
		{ "ex*ample.com", "'*' is only allowed" },
		{ "a.*.example.com", "'*' is only allowed" },
		{ "a..example.com", "empty label" },
		{ ".example.com", "empty label" },
		{ "example.com..", "empty label" },
		{ "exa mple.com", "only letters, digits" },
		{ "ads.example.com^", "only letters, digits" },
		{ "b\xc3\xbc" "cher.example", "A-label form" },
		{ label64, "longer than 63" },
		{ long_name, "longer than 253" },
	};
	char out[SLUICE_DOMAIN_MAX + 1];
	const char *why;
	size_t i, n;
	bool wild;

	(void)state;
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	for (i = 0; i < 127; i++)
		memcpy(long_name + 2 * i, "a.", 2);
	strcpy(long_name + 254, "b");	/* 255 bytes */
	for (i = 0; i < NCASES(bad); i++) {
		why = NULL;
		if (sluice_domain_normalise(bad[i].in, strlen(bad[i].in), out, &n, &wild, &why) == 0)
			fail_msg("'%.40s' accepted", bad[i].in);
		if (!why || !strstr(why, bad[i].why))
			fail_msg("'%.40s': reason '%s', want '%s'", bad[i].in, why ? why : "(none)",
				 bad[i].why);
	}
}

static void test_lookup_exact_wildcard_case_and_trailing_dot(void **state)
{
	static const char *const patterns[] = {
		"example.com",		/* 0 */
		"*.example.org",	/* 1 */
		"*.Ads.Example.NET.",	/* 2 */
		"tracker.example.net",	/* 3 */
	};
	static const struct {
		const char *name;
		uint32_t want;
	} cases[] = {
		{ "example.com", 0 },
		{ "EXAMPLE.Com.", 0 },
		{ "www.example.com", SLUICE_DOMAINS_NONE },	/* exact only */
		{ "badexample.com", SLUICE_DOMAINS_NONE },
		{ "example.com.evil", SLUICE_DOMAINS_NONE },
		{ "a.example.org", 1 },
		{ "A.B.C.Example.Org.", 1 },
		{ "example.org", SLUICE_DOMAINS_NONE },	/* "*." is not the suffix itself */
		{ "example.org.", SLUICE_DOMAINS_NONE },
		{ "badexample.org", SLUICE_DOMAINS_NONE },
		{ "x.ads.example.net", 2 },
		{ "ads.example.net", SLUICE_DOMAINS_NONE },
		{ "tracker.example.net", 3 },
		{ "x.tracker.example.net", SLUICE_DOMAINS_NONE },
		{ "", SLUICE_DOMAINS_NONE },
		{ ".", SLUICE_DOMAINS_NONE },
		{ "org", SLUICE_DOMAINS_NONE },
		{ ".example.org", 1 },	/* an empty label still sits below example.org */
		{ "b\xc3\xbc" "cher.example.org", 1 },	/* bytes are bytes: below *.example.org */
	};
	struct sluice_domains *d = build(patterns, NCASES(patterns));
	size_t i;

	(void)state;
	assert_int_equal(sluice_domains_count(d), 4);
	for (i = 0; i < NCASES(cases); i++) {
		uint32_t got = lookup(d, cases[i].name);

		if (got != cases[i].want)
			fail_msg("'%s': payload %u, want %u", cases[i].name, got, cases[i].want);
	}
	sluice_domains_free(d);
}

/* The answer is the lowest payload of all matching patterns, deep or not. */
static void test_lookup_answers_the_lowest_payload_of_all_matches(void **state)
{
	struct sluice_domains *d = sluice_domains_new(0);
	const char *why;

	(void)state;
	assert_int_equal(sluice_domains_add(d, "*.example.com", 13, 5, &why), 0);
	assert_int_equal(sluice_domains_add(d, "a.b.example.com", 15, 9, &why), 0);
	assert_int_equal(sluice_domains_add(d, "*.b.example.com", 15, 7, &why), 0);
	assert_int_equal(sluice_domains_add(d, "*.com", 5, 20, &why), 0);
	assert_int_equal(sluice_domains_finish(d), 0);
	/* Shallow *.example.com (5) beats deeper *.b (7) and exact (9). */
	assert_int_equal(lookup(d, "a.b.example.com"), 5);
	assert_int_equal(sluice_domains_lookup_from(d, "a.b.example.com", 15, 6), 7);
	assert_int_equal(sluice_domains_lookup_from(d, "a.b.example.com", 15, 8), 9);
	assert_int_equal(sluice_domains_lookup_from(d, "a.b.example.com", 15, 10), 20);
	assert_int_equal(sluice_domains_lookup_from(d, "a.b.example.com", 15, 21), SLUICE_DOMAINS_NONE);
	assert_int_equal(lookup(d, "example.com"), 20);		/* only *.com */
	assert_int_equal(lookup(d, "com"), SLUICE_DOMAINS_NONE);
	sluice_domains_free(d);
}

/* One pattern added with many payloads keeps them all, ascending, once. */
static void test_repeated_pattern_keeps_every_payload(void **state)
{
	static const uint32_t payloads[] = { 40, 3, 17, 3, 99, 0, 17, 58 };
	static const uint32_t sorted[] = { 0, 3, 17, 40, 58, 99 };
	struct sluice_domains *d = sluice_domains_new(0);
	const char *why;
	uint32_t from = 0;
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(payloads); i++) {
		assert_int_equal(sluice_domains_add(d, "*.ads.test", 10, payloads[i], &why), 0);
		assert_int_equal(sluice_domains_add(d, "other.test", 10, payloads[i] + 1, &why), 0);
	}
	assert_int_equal(sluice_domains_finish(d), 0);
	assert_int_equal(sluice_domains_count(d), 2);
	for (i = 0; i < NCASES(sorted); i++) {
		assert_int_equal(sluice_domains_lookup_from(d, "x.ads.test", 10, from), sorted[i]);
		from = sorted[i] + 1;
	}
	assert_int_equal(sluice_domains_lookup_from(d, "x.ads.test", 10, from), SLUICE_DOMAINS_NONE);
	assert_int_equal(lookup(d, "other.test"), 1);
	/* Adding after finish is refused. */
	assert_int_equal(sluice_domains_add(d, "late.test", 9, 1, &why), -EINVAL);
	sluice_domains_free(d);
}

static void test_lookup_refuses_names_longer_than_253(void **state)
{
	static const char *const patterns[] = { "*.test" };
	struct sluice_domains *d = build(patterns, 1);
	char name[300];

	(void)state;
	memset(name, 'a', sizeof(name));
	memcpy(name + 248, ".test", 5);		/* 253 bytes */
	assert_int_equal(sluice_domains_lookup(d, name, 253), 0);
	name[253] = '.';
	assert_int_equal(sluice_domains_lookup(d, name, 254), 0);	/* trailing dot */
	memset(name, 'a', sizeof(name));
	memcpy(name + 249, ".test", 5);		/* 254 bytes */
	assert_int_equal(sluice_domains_lookup(d, name, 254), SLUICE_DOMAINS_NONE);
	sluice_domains_free(d);
}

/* ------------------------------------------------------------------ */
/* Random names against a naive reference                               */
/* ------------------------------------------------------------------ */

#define NPATTERNS	1000
#define NNAMES		100000

static uint64_t rng_state = 0x5eed1234abcdull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A name of 1..4 labels over a small alphabet, so that names collide. */
static void random_name(char *buf, size_t *len)
{
	static const char *const labels[] = {
		"a", "b", "ads", "cdn", "www", "x1", "y-2", "track", "img", "api",
		"example", "test", "net", "com", "org", "io", "mail", "z", "Q", "sUb",
	};
	size_t n = 0, k = 1 + rnd(4), i;

	for (i = 0; i < k; i++) {
		const char *l = labels[rnd(NCASES(labels))];

		if (i)
			buf[n++] = '.';
		memcpy(buf + n, l, strlen(l));
		n += strlen(l);
	}
	if (rnd(8) == 0)
		buf[n++] = '.';		/* trailing dot now and then */
	buf[n] = '\0';
	*len = n;
}

struct ref_pattern {
	char name[64];
	bool wild;
	uint32_t payload;
};

/* Naive: does name (any case, maybe a trailing dot) match pattern p? */
static bool ref_matches(const struct ref_pattern *p, const char *name)
{
	size_t n = strlen(name), m = strlen(p->name);

	if (n && name[n - 1] == '.')
		n--;
	if (!p->wild)
		return n == m && strncasecmp(name, p->name, m) == 0;
	return n > m && name[n - m - 1] == '.' && strncasecmp(name + n - m, p->name, m) == 0;
}

static void test_random_names_agree_with_naive_reference(void **state)
{
	struct ref_pattern *ref = calloc(NPATTERNS, sizeof(*ref));
	struct sluice_domains *d = sluice_domains_new(0);
	char name[64], pattern[70];
	size_t i, j, len, hits = 0;
	const char *why;

	(void)state;
	assert_non_null(ref);
	for (i = 0; i < NPATTERNS; i++) {
		do
			random_name(name, &len);
		while (!strchr(name, '.') || name[len - 1] == '.');	/* two labels or more */
		ref[i].wild = rnd(3) == 0;
		ref[i].payload = rnd(5000);
		strcpy(ref[i].name, name);
		for (j = 0; j < len; j++)
			ref[i].name[j] = (char)(ref[i].name[j] | 0x20);	/* letters, digits, '-', '.' */
		snprintf(pattern, sizeof(pattern), "%s%s", ref[i].wild ? "*." : "", name);
		if (sluice_domains_add(d, pattern, strlen(pattern), ref[i].payload, &why) != 0)
			fail_msg("add '%s': %s", pattern, why);
	}
	assert_int_equal(sluice_domains_finish(d), 0);
	for (i = 0; i < NNAMES; i++) {
		uint32_t want = SLUICE_DOMAINS_NONE, got;

		random_name(name, &len);
		for (j = 0; j < NPATTERNS; j++)
			if (ref[j].payload < want && ref_matches(&ref[j], name))
				want = ref[j].payload;
		got = sluice_domains_lookup(d, name, len);
		if (got != want)
			fail_msg("'%s': payload %u, reference says %u", name, got, want);
		hits += want != SLUICE_DOMAINS_NONE;
	}
	/* The alphabet is small enough that both outcomes are common. */
	if (hits < NNAMES / 10 || hits > NNAMES * 9 / 10)
		fail_msg("%zu of %d names matched: the test would prove little", hits, NNAMES);
	sluice_domains_free(d);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_accepts_and_lowers_patterns),
		cmocka_unit_test(test_normalise_refuses_bad_patterns_with_a_reason),
		cmocka_unit_test(test_lookup_exact_wildcard_case_and_trailing_dot),
		cmocka_unit_test(test_lookup_answers_the_lowest_payload_of_all_matches),
		cmocka_unit_test(test_repeated_pattern_keeps_every_payload),
		cmocka_unit_test(test_lookup_refuses_names_longer_than_253),
		cmocka_unit_test(test_random_names_agree_with_naive_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
