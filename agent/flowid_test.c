// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the identities kept for flows judged again later: keyed
 * by conntrack id and tuple, bounded with the oldest going first, an
 * update keeping the flow's age, a decided flow forgotten.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/flowid.h"

static struct sluice_flow flow_of(uint16_t sport)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .sport = sport, .dport = 443 };

	f.src[0] = 10, f.src[3] = 1;
	f.dst[0] = 192, f.dst[3] = 2;
	return f;
}

static struct sluice_flow_identity id_of(int64_t uid)
{
	struct sluice_flow_identity id = { .uid = uid };

	snprintf(id.exe, sizeof(id.exe), "/usr/bin/p%lld", (long long)uid);
	snprintf(id.unit, sizeof(id.unit), "u%lld.service", (long long)uid);
	return id;
}

static void test_kept_by_conntrack_id_and_tuple(void **state)
{
	static struct sluice_flow_identity got, id;
	struct sluice_flowids t;
	struct sluice_flow f = flow_of(40000), other = flow_of(40001);

	(void)state;
	assert_int_equal(sluice_flowids_init(&t), 0);
	id = id_of(1000);
	assert_int_equal(sluice_flowids_get(&t, 7, &f, &got), -1);
	sluice_flowids_put(&t, 7, &f, &id, 100);
	assert_int_equal(sluice_flowids_get(&t, 7, &f, &got), 0);
	assert_int_equal(got.uid, 1000);
	assert_string_equal(got.exe, "/usr/bin/p1000");
	assert_string_equal(got.unit, "u1000.service");
	/* Another flow under the same id, the same flow under another id. */
	assert_int_equal(sluice_flowids_get(&t, 7, &other, &got), -1);
	assert_int_equal(sluice_flowids_get(&t, 8, &f, &got), -1);
	/* Decided: forgotten. */
	sluice_flowids_drop(&t, 7, &f);
	assert_int_equal(sluice_flowids_get(&t, 7, &f, &got), -1);
	sluice_flowids_free(&t);
}

static void test_bounded_the_oldest_goes_first(void **state)
{
	static struct sluice_flow_identity got, id;
	struct sluice_flowids t;
	struct sluice_flow f;
	uint32_t i;

	(void)state;
	assert_int_equal(sluice_flowids_init(&t), 0);
	for (i = 1; i <= SLUICE_FLOWID_SLOTS; i++) {
		f = flow_of((uint16_t)i);
		id = id_of(i);
		sluice_flowids_put(&t, i, &f, &id, 1000 + i);
	}
	/* Flow 1 is the oldest, but updated now: its age stays, it goes. */
	f = flow_of(1);
	id = id_of(77);
	sluice_flowids_put(&t, 1, &f, &id, 99999);
	f = flow_of(60000);
	id = id_of(60000);
	sluice_flowids_put(&t, 60000, &f, &id, 100000);
	f = flow_of(1);
	assert_int_equal(sluice_flowids_get(&t, 1, &f, &got), -1);
	f = flow_of(2);
	assert_int_equal(sluice_flowids_get(&t, 2, &f, &got), 0);
	assert_int_equal(got.uid, 2);
	f = flow_of(60000);
	assert_int_equal(sluice_flowids_get(&t, 60000, &f, &got), 0);
	assert_int_equal(got.uid, 60000);
	/* The next one pushes out flow 2, the oldest now. */
	f = flow_of(60001);
	sluice_flowids_put(&t, 60001, &f, &id, 100001);
	f = flow_of(2);
	assert_int_equal(sluice_flowids_get(&t, 2, &f, &got), -1);
	f = flow_of(3);
	assert_int_equal(sluice_flowids_get(&t, 3, &f, &got), 0);
	sluice_flowids_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_by_conntrack_id_and_tuple),
		cmocka_unit_test(test_bounded_the_oldest_goes_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
