// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/pending.c: a TCP flow's name from its first payload
 * on any port, with ClientHellos and HTTP requests cut over segments,
 * retransmitted, out of order, endless, and a table that fills up.
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

#include "agent/dns.h"
#include "agent/pending.h"

#define T0	100000		/* a monotonic time in ms */

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A TLS 1.3 ClientHello for @name whose server_name extension comes after
 * @pad bytes of padding (RFC 7685), so that it lands where a test wants.
 */
static size_t build_hello(uint8_t *out, const char *name, size_t pad)
{
	size_t nlen = strlen(name), ext, body, n = 0;

	ext = 4 + pad + 4 + 2 + 3 + nlen;
	body = 2 + 32 + 1 + 2 + 2 + 2 + 2 + ext;
	out[n++] = 0x16, out[n++] = 3, out[n++] = 1;
	put16(out + n, 4 + body), n += 2;
	out[n++] = 1, out[n++] = 0;
	put16(out + n, body), n += 2;
	out[n++] = 3, out[n++] = 3;
	memset(out + n, 0x5a, 32), n += 32;
	out[n++] = 0;				/* session id */
	put16(out + n, 2), n += 2;
	out[n++] = 0x13, out[n++] = 0x01;	/* TLS_AES_128_GCM_SHA256 */
	out[n++] = 1, out[n++] = 0;		/* null compression */
	put16(out + n, ext), n += 2;
	put16(out + n, 0x0015), n += 2;		/* padding */
	put16(out + n, pad), n += 2;
	memset(out + n, 0, pad), n += pad;
	put16(out + n, 0x0000), n += 2;		/* server_name */
	put16(out + n, 2 + 3 + nlen), n += 2;
	put16(out + n, 3 + nlen), n += 2;
	out[n++] = 0;
	put16(out + n, nlen), n += 2;
	memcpy(out + n, name, nlen), n += nlen;
	return n;
}

static const char http_req[] =
	"GET /index.html HTTP/1.1\r\nUser-Agent: t\r\nHost: Web.Example.test:8080\r\n"
	"Accept: */*\r\n\r\n";

static struct sluice_flow flow(uint16_t sport)
{
	struct sluice_flow f = { .family = AF_INET, .proto = IPPROTO_TCP,
				 .direction = SLUICE_DIR_OUT, .uid = -1,
				 .sport = sport, .dport = 8443 };

	f.src[0] = 10, f.src[3] = 1;
	f.dst[0] = 10, f.dst[3] = 2;
	return f;
}

static int setup(void **state)
{
	struct sluice_pending *t = calloc(1, sizeof(*t));

	if (!t || sluice_pending_init(t) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	sluice_pending_free(*state);
	free(*state);
	return 0;
}

static int feed(struct sluice_pending *t, uint16_t sport, uint32_t seq,
		const void *d, size_t len, uint64_t now, char *name)
{
	struct sluice_flow f = flow(sport);

	return sluice_pending_feed(t, &f, seq, d, len, 0, now, name,
				   SLUICE_DNS_NAME_BUF);
}

static void a_whole_hello_on_any_port_names_the_flow(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "Good.Example.test", 0);

	assert_int_equal(feed(*state, 1, 1000, h, n, T0, name), SLUICE_NAMING_NAMED);
	assert_string_equal(name, "good.example.test");
	/* Nothing kept: the server speaking now finds no cut hello. */
	{
		struct sluice_flow f = flow(1);

		assert_int_equal(sluice_pending_reply(*state, &f, T0, name, sizeof(name)),
				 SLUICE_NAMING_NO_NAME);
	}
}

static void an_http_request_names_the_flow_by_its_host(void **state)
{
	char name[SLUICE_DNS_NAME_BUF];

	assert_int_equal(feed(*state, 1, 7, http_req, strlen(http_req), T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "web.example.test");
}

static void other_bytes_name_nothing(void **state)
{
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian\r\n";
	static const uint8_t pg[] = { 0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f };
	char name[SLUICE_DNS_NAME_BUF];

	assert_int_equal(feed(*state, 1, 7, ssh, strlen(ssh), T0, name),
			 SLUICE_NAMING_NO_NAME);
	assert_int_equal(feed(*state, 2, 7, pg, sizeof(pg), T0, name),
			 SLUICE_NAMING_NO_NAME);
	assert_string_equal(name, "");
}

static void a_hello_split_in_two_segments_is_joined(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "split.example.test", 200);

	assert_int_equal(feed(*state, 1, 5000, h, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 5100, h + 100, n - 100, T0 + 300, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "split.example.test");
	/* The entry is gone once the name is read. */
	assert_int_equal(feed(*state, 1, 5000, h, 100, T0 + 400, name), SLUICE_NAMING_WAIT);
}

static void a_retransmission_adds_nothing_twice(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "again.example.test", 200);

	assert_int_equal(feed(*state, 1, 0, h, 100, T0, name), SLUICE_NAMING_WAIT);
	/* The first segment again, then a part of it: nothing new. */
	assert_int_equal(feed(*state, 1, 0, h, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 40, h + 40, 60, T0, name), SLUICE_NAMING_WAIT);
	/* A segment that overlaps what we have and brings more. */
	assert_int_equal(feed(*state, 1, 50, h + 50, 150, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 200, h + 200, n - 200, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "again.example.test");
}

static void a_retransmission_with_other_bytes_keeps_the_first(void **state)
{
	uint8_t h[1024], evil[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "first.example.test", 0);

	build_hello(evil, "later.example.test", 0);
	/* The name's first two letters come in the first segment. */
	assert_int_equal(feed(*state, 1, 0, h, n - 16, T0, name), SLUICE_NAMING_WAIT);
	/*
	 * Sent again with another name: the bytes we had stand (the
	 * receiving TCP keeps its first copy too), the new ones join.
	 */
	assert_int_equal(feed(*state, 1, 0, evil, n, T0, name), SLUICE_NAMING_NAMED);
	assert_string_equal(name, "fiter.example.test");
}

static void a_segment_after_a_gap_is_held_back(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "gap.example.test", 300);

	assert_int_equal(feed(*state, 1, 0, h, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 200, h + 200, n - 200, T0, name),
			 SLUICE_NAMING_HOLD);
	assert_int_equal(feed(*state, 1, 100, h + 100, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 200, h + 200, n - 200, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "gap.example.test");
}

static void sequence_numbers_wrap(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "wrap.example.test", 100);
	uint32_t seq = 0xffffffc0U;

	assert_int_equal(feed(*state, 1, seq, h, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, seq + 100, h + 100, n - 100, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "wrap.example.test");
}

static void flows_do_not_mix(void **state)
{
	uint8_t a[1024], b[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t na = build_hello(a, "a.example.test", 100);
	size_t nb = build_hello(b, "b.example.test", 100);

	assert_int_equal(feed(*state, 1, 0, a, 50, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 2, 0, b, 50, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 2, 50, b + 50, nb - 50, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "b.example.test");
	assert_int_equal(feed(*state, 1, 50, a + 50, na - 50, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "a.example.test");
}

static void an_endless_hello_is_unreadable_at_the_segment_limit(void **state)
{
	uint8_t h[4096];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "slow.example.test", 2000);
	uint32_t i;

	(void)n;
	for (i = 0; i + 1 < SLUICE_PENDING_SEGMENTS; i++)
		assert_int_equal(feed(*state, 1, i * 10, h + i * 10, 10, T0, name),
				 SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, i * 10, h + i * 10, 10, T0, name),
			 SLUICE_NAMING_UNREADABLE);
}

static void an_http_request_cut_after_its_host_is_named_at_the_limit(void **state)
{
	char req[SLUICE_PENDING_BYTES + 100];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n;

	n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: big.example.test\r\nCookie: ");
	memset(req + n, 'a', sizeof(req) - n);
	assert_int_equal(feed(*state, 1, 0, req, 4000, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 1, 4000, req + 4000, sizeof(req) - 4000, T0, name),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "big.example.test");
}

static void a_hello_cut_by_the_copy_is_unreadable(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	struct sluice_flow f = flow(1);

	build_hello(h, "cut.example.test", 200);
	assert_int_equal(sluice_pending_feed(*state, &f, 0, h, 100, 1, T0, name,
					     sizeof(name)),
			 SLUICE_NAMING_UNREADABLE);
}

static void a_server_speaking_during_a_cut_hello(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	struct sluice_flow f1 = flow(1), f2 = flow(2), f3 = flow(3);

	build_hello(h, "cut.example.test", 200);
	/* A TLS server never speaks before the hello is whole. */
	assert_int_equal(feed(*state, 1, 0, h, 100, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(sluice_pending_reply(*state, &f1, T0, name, sizeof(name)),
			 SLUICE_NAMING_UNREADABLE);
	/* An HTTP request cut after its Host is named by it. */
	assert_int_equal(feed(*state, 2, 0, http_req, 72, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(sluice_pending_reply(*state, &f2, T0, name, sizeof(name)),
			 SLUICE_NAMING_NAMED);
	assert_string_equal(name, "web.example.test");
	/* A short word that only looks like the start of a request: no name. */
	assert_int_equal(feed(*state, 3, 0, "hello", 5, T0, name), SLUICE_NAMING_WAIT);
	assert_int_equal(sluice_pending_reply(*state, &f3, T0, name, sizeof(name)),
			 SLUICE_NAMING_NO_NAME);
	/* Each entry is forgotten after the reply. */
	assert_int_equal(sluice_pending_reply(*state, &f1, T0, name, sizeof(name)),
			 SLUICE_NAMING_NO_NAME);
}

static void a_full_table_holds_new_hellos_back_until_entries_expire(void **state)
{
	uint8_t h[1024];
	char name[SLUICE_DNS_NAME_BUF];
	size_t n = build_hello(h, "full.example.test", 200);
	uint16_t i;

	for (i = 0; i < SLUICE_PENDING_SLOTS; i++)
		assert_int_equal(feed(*state, (uint16_t)(i + 1), 0, h, 100, T0, name),
				 SLUICE_NAMING_WAIT);
	/* No waiting entry is pushed out: the newcomer comes back later. */
	assert_int_equal(feed(*state, 9999, 0, h, 100, T0 + 1, name), SLUICE_NAMING_HOLD);
	/* The waiting ones still finish. */
	assert_int_equal(feed(*state, 1, 100, h + 100, n - 100, T0 + 2, name),
			 SLUICE_NAMING_NAMED);
	assert_int_equal(feed(*state, 9999, 0, h, 100, T0 + 3, name), SLUICE_NAMING_WAIT);
	assert_int_equal(feed(*state, 9998, 0, h, 100, T0 + 4, name), SLUICE_NAMING_HOLD);
	/* Once they expire, their slots are free again. */
	assert_int_equal(feed(*state, 9998, 0, h, 100, T0 + SLUICE_PENDING_TTL_MS, name),
			 SLUICE_NAMING_WAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(a_whole_hello_on_any_port_names_the_flow),
		T(an_http_request_names_the_flow_by_its_host),
		T(other_bytes_name_nothing),
		T(a_hello_split_in_two_segments_is_joined),
		T(a_retransmission_adds_nothing_twice),
		T(a_retransmission_with_other_bytes_keeps_the_first),
		T(a_segment_after_a_gap_is_held_back),
		T(sequence_numbers_wrap),
		T(flows_do_not_mix),
		T(an_endless_hello_is_unreadable_at_the_segment_limit),
		T(an_http_request_cut_after_its_host_is_named_at_the_limit),
		T(a_hello_cut_by_the_copy_is_unreadable),
		T(a_server_speaking_during_a_cut_hello),
		T(a_full_table_holds_new_hellos_back_until_entries_expire),
#undef T
	};

	return cmocka_run_group_tests_name("pending", tests, NULL, NULL);
}
