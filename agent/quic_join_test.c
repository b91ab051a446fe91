// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/quic_join.c: what each datagram of a UDP flow whose
 * ClientHello spans Initials is answered, and the table's bounds (per
 * flow datagrams, flows, time).
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "agent/quic_join.h"
#include "agent/sni.h"
#include "tests/unit/quic_build.h"

static int setup(void **state)
{
	struct sluice_quic_join *t = calloc(1, sizeof(*t));

	if (!t || sluice_quic_join_init(t) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	sluice_quic_join_free(*state);
	free(*state);
	return 0;
}

static struct sluice_flow flow(uint16_t sport)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_UDP,
				 .sport = sport, .dport = 443 };

	f.src[0] = 10, f.src[3] = 1;
	f.dst[0] = 10, f.dst[3] = 2;
	return f;
}

/* The RFC hello: cut before its name (part1, part2), or whole; a PING. */
static struct quic_split split;
static uint8_t *const part1 = split.a, *const part2 = split.b;
static uint8_t ping[QUIC_BUILT_LEN], whole[QUIC_BUILT_LEN];
static size_t n1, n2, np, nw;

static void parts(void)
{
	uint8_t hello[512];

	quic_split(&split);
	n1 = split.na;
	n2 = split.nb;
	np = quic_build((const uint8_t *)"\x01", 1, 2, ping);
	nw = quic_hello_part(rfc_dcid, 0, rfc_hello(hello), 0, whole);
}

static char name[256];

static int feed(struct sluice_quic_join *t, uint16_t sport, const uint8_t *d,
		size_t n, uint64_t now)
{
	struct sluice_flow f = flow(sport);

	return sluice_quic_join_feed(t, &f, d, n, 0, now, name, sizeof(name));
}

static int reply(struct sluice_quic_join *t, uint16_t sport, uint64_t now)
{
	struct sluice_flow f = flow(sport);

	return sluice_quic_join_reply(t, &f, now);
}

static void a_hello_in_two_datagrams_is_named_by_the_second(void **state)
{
	struct sluice_quic_join *t = *state;

	parts();
	assert_int_equal(feed(t, 1000, part1, n1, 5), SLUICE_NAMING_WAIT);
	assert_string_equal(name, "");
	/* The server's ACK meanwhile is dropped; the flow still waits. */
	assert_int_equal(reply(t, 1000, 6), SLUICE_NAMING_HOLD);
	assert_int_equal(feed(t, 1000, part2, n2, 7), SLUICE_NAMING_NAMED);
	assert_string_equal(name, "example.com");
	/* The entry is gone with the verdict: a reply now was never named. */
	assert_int_equal(reply(t, 1000, 8), SLUICE_NAMING_UNREADABLE);
}

static void first_datagrams_that_are_not_initials(void **state)
{
	struct sluice_quic_join *t = *state;
	uint8_t pkt[QUIC_BUILT_LEN];

	parts();
	/* Not QUIC: any UDP flow, judged by its address. */
	assert_int_equal(feed(t, 1000, (const uint8_t *)"hello", 5, 5), SLUICE_NAMING_NO_NAME);
	/* 0-RTT before any Initial: its hello was never read. */
	memcpy(pkt, part1, n1);
	pkt[0] = (uint8_t)((pkt[0] & ~0x30) | 0x10);
	assert_int_equal(feed(t, 1001, pkt, n1, 5), SLUICE_NAMING_UNREADABLE);
}

/* A hello never whole: the flow gets SLUICE_QUIC_DATAGRAMS datagrams. */
static void a_hello_not_whole_within_the_datagram_bound_is_unreadable(void **state)
{
	struct sluice_quic_join *t = *state;
	int i;

	parts();
	assert_int_equal(feed(t, 1000, part1, n1, 5), SLUICE_NAMING_WAIT);
	for (i = 2; i < SLUICE_QUIC_DATAGRAMS; i++)
		assert_int_equal(feed(t, 1000, ping, np, 5), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1000, ping, np, 5), SLUICE_NAMING_UNREADABLE);
	/* Sent again from the start, the flow would be read afresh: the
	 * caller has denied it by then, in the kernel. */
}

/* Anything but this connection's next Initial while the hello waits. */
static void anything_else_while_waiting_is_unreadable(void **state)
{
	struct sluice_quic_join *t = *state;
	static const uint8_t other_dcid[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	uint8_t hello[512], pkt[QUIC_BUILT_LEN];
	size_t hn = rfc_hello(hello), n;

	parts();
	assert_int_equal(feed(t, 1000, part1, n1, 5), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1000, (const uint8_t *)"hello", 5, 6),
			 SLUICE_NAMING_UNREADABLE);
	assert_int_equal(feed(t, 1001, part1, n1, 5), SLUICE_NAMING_WAIT);
	n = quic_hello_part(other_dcid, QUIC_SPLIT_AT, hn - QUIC_SPLIT_AT, 1, pkt);
	assert_int_equal(feed(t, 1001, pkt, n, 6), SLUICE_NAMING_UNREADABLE);
	/* A flow that waits and one that is whole do not mix. */
	assert_int_equal(feed(t, 1002, part1, n1, 5), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1003, part2, n2, 5), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1002, part2, n2, 6), SLUICE_NAMING_NAMED);
}

/* A flow that stops half-way: after the TTL, its next datagram or reply. */
static void a_flow_that_stops_half_way_is_unreadable_later(void **state)
{
	struct sluice_quic_join *t = *state;

	parts();
	assert_int_equal(feed(t, 1000, part1, n1, 1000), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1000, part2, n2, 1000 + SLUICE_QUIC_TTL_MS),
			 SLUICE_NAMING_UNREADABLE);
	assert_int_equal(feed(t, 1001, part1, n1, 1000), SLUICE_NAMING_WAIT);
	assert_int_equal(reply(t, 1001, 1000 + SLUICE_QUIC_TTL_MS), SLUICE_NAMING_UNREADABLE);
}

/*
 * Every slot waits: a new cut hello is dropped (its sender sends it
 * again), none that waits is pushed out; an expired one makes room.
 */
static void a_full_table_holds_new_hellos(void **state)
{
	struct sluice_quic_join *t = *state;
	int i;

	parts();
	for (i = 0; i < SLUICE_QUIC_SLOTS; i++)
		assert_int_equal(feed(t, (uint16_t)(2000 + i), part1, n1, 1000),
				 SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1000, part1, n1, 1000), SLUICE_NAMING_HOLD);
	/* A whole hello needs no slot. */
	assert_int_equal(feed(t, 1001, whole, nw, 1000), SLUICE_NAMING_NAMED);
	assert_int_equal(feed(t, 2000, part2, n2, 1001), SLUICE_NAMING_NAMED);
	assert_int_equal(feed(t, 1000, part1, n1, 1002), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(t, 1001, part1, n1, 1000 + SLUICE_QUIC_TTL_MS + 1),
			 SLUICE_NAMING_WAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(a_hello_in_two_datagrams_is_named_by_the_second),
		T(first_datagrams_that_are_not_initials),
		T(a_hello_not_whole_within_the_datagram_bound_is_unreadable),
		T(anything_else_while_waiting_is_unreadable),
		T(a_flow_that_stops_half_way_is_unreadable_later),
		T(a_full_table_holds_new_hellos),
#undef T
	};

	return cmocka_run_group_tests_name("quic_join", tests, NULL, NULL);
}
