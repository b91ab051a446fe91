// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/dns.c: messages built by hand the way resolvers
 * send them (compression, CNAME chains, several answers), every prefix of
 * them, hostile pointers and lengths, and the sinkhole builder checked by
 * our parser and by dig talking to this test over loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/dns.h"

/* A message being written by a test. */
struct msg {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct msg *m, uint8_t v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}

static void u16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, (uint16_t)(v >> 16));
	u16(m, (uint16_t)v);
}

static void header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		   uint16_t ns, uint16_t ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

/* Labels of dotted @name, then a pointer to @ptr if nonzero, else the root. */
static void name_ptr(struct msg *m, const char *name, uint16_t ptr)
{
	while (*name) {
		size_t l = strcspn(name, ".");

		u8(m, (uint8_t)l);
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	if (ptr)
		u16(m, (uint16_t)(0xc000 | ptr));
	else
		u8(m, 0);
}

static void name(struct msg *m, const char *n)
{
	name_ptr(m, n, 0);
}

/* Owner already written; type, class IN, ttl, rdlength. */
static void rr_fixed(struct msg *m, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	u16(m, type);
	u16(m, SLUICE_DNS_CLASS_IN);
	u32(m, ttl);
	u16(m, rdlen);
}

/* Header and the question @qname IN A of a response with @an answers. */
static void response(struct msg *m, uint16_t id, uint16_t flags, uint16_t an, const char *qname)
{
	header(m, id, flags, 1, an, 0, 0);
	name(m, qname);
	u16(m, SLUICE_DNS_TYPE_A);
	u16(m, SLUICE_DNS_CLASS_IN);
}

/* @n answers "A 10.0.0.i" owned by the question's name. */
static void a_records(struct msg *m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u16(m, 0xc00c);
		rr_fixed(m, SLUICE_DNS_TYPE_A, 5, 4);
		u32(m, 0x0a000000 + i);
	}
}

static void query(struct msg *m, uint16_t id, const char *qname, uint16_t qtype, int edns)
{
	header(m, id, SLUICE_DNS_FLAG_RD, 1, 0, 0, edns ? 1 : 0);
	name(m, qname);
	u16(m, qtype);
	u16(m, SLUICE_DNS_CLASS_IN);
	if (edns) {
		u8(m, 0);
		u16(m, SLUICE_DNS_TYPE_OPT);
		u16(m, 4096);
		u32(m, 0x8000);		/* DO */
		u16(m, 0);
	}
}

/*
 * What a recursive resolver answers for www.example.com A:
 *   www.example.com.      CNAME cdn.example.net.
 *   cdn.example.net.      CNAME edge.cdn.example.net.   (compressed twice)
 *   edge.cdn.example.net. A 192.0.2.1, A 192.0.2.2, AAAA 2001:db8::1
 * with compression the way resolvers use it.
 */
static void rich_answer(struct msg *m)
{
	size_t cdn, edge;

	response(m, 0xbeef, 0x8180, 5, "www.example.com");	/* qname at 12 */
	u16(m, 0xc00c);
	rr_fixed(m, SLUICE_DNS_TYPE_CNAME, 300, 17);
	cdn = m->n;
	name(m, "cdn.example.net");			/* 17 bytes */
	u16(m, (uint16_t)(0xc000 | cdn));
	rr_fixed(m, SLUICE_DNS_TYPE_CNAME, 0x80000005u, 7);	/* top bit: TTL 0 */
	edge = m->n;
	name_ptr(m, "edge", (uint16_t)cdn);
	u16(m, (uint16_t)(0xc000 | edge));
	rr_fixed(m, SLUICE_DNS_TYPE_A, 20, 4);
	u32(m, 0xc0000201);
	u16(m, (uint16_t)(0xc000 | edge));
	rr_fixed(m, SLUICE_DNS_TYPE_A, 20, 4);
	u32(m, 0xc0000202);
	u16(m, (uint16_t)(0xc000 | edge));
	rr_fixed(m, SLUICE_DNS_TYPE_AAAA, 30, 16);
	u32(m, 0x20010db8);
	u32(m, 0);
	u32(m, 0);
	u32(m, 1);
}

static struct sluice_dns_answer ans;	/* 5 kB: not on the test's stack */

static void parses_plain_query_lowercase_without_trailing_dot(void **state)
{
	struct sluice_dns_query q;
	struct msg m;

	(void)state;
	query(&m, 0x1234, "WWW.Example.COM", SLUICE_DNS_TYPE_AAAA, 0);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, SLUICE_DNS_FLAG_RD);
	assert_string_equal(q.qname, "www.example.com");
	assert_int_equal(q.qtype, SLUICE_DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, SLUICE_DNS_CLASS_IN);
	assert_int_equal(q.question_len, 17 + 4);
	assert_int_equal(q.edns, 0);

	/* Trailing bytes after the last record are ignored. */
	u16(&m, 0xdead);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
}

static void parses_query_edns_and_root_and_idna(void **state)
{
	struct sluice_dns_query q;
	struct msg m;

	(void)state;
	query(&m, 7, "xn--bcher-kva.example", SLUICE_DNS_TYPE_A, 1);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
	assert_string_equal(q.qname, "xn--bcher-kva.example");
	assert_int_equal(q.edns, 1);
	assert_int_equal(q.edns_udp_size, 4096);
	assert_int_equal(q.edns_version, 0);

	query(&m, 8, "", 2 /* NS */, 0);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
	assert_string_equal(q.qname, "");
}

static void query_rejects_responses_other_opcodes_and_question_counts(void **state)
{
	struct sluice_dns_query q;
	struct msg m;

	(void)state;
	query(&m, 1, "example.com", SLUICE_DNS_TYPE_A, 0);
	m.b[2] |= 0x80;					/* QR */
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
	query(&m, 1, "example.com", SLUICE_DNS_TYPE_A, 0);
	m.b[2] |= 2 << 3;				/* opcode STATUS */
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
	query(&m, 1, "example.com", SLUICE_DNS_TYPE_A, 0);
	m.b[5] = 0;					/* QDCOUNT 0 */
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
	m.b[5] = 2;					/* QDCOUNT 2, one there */
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
	query(&m, 1, "example.com", SLUICE_DNS_TYPE_A, 1);
	m.b[11] = 2;					/* ARCOUNT 2, one there */
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
}

static void query_with_unusual_bytes_is_bad_name_not_malformed(void **state)
{
	static const char *const bad[] = {
		"exa mple.com", "a.b\\c", "ex\xc3\xa4mple.com", "a.b\x01", "dotXin.label",
	};
	struct sluice_dns_query q;
	struct msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *x;

		query(&m, 9, bad[i], SLUICE_DNS_TYPE_A, 0);
		x = memchr(m.b + 12, 'X', m.n - 12);
		if (x)
			*x = '.';	/* a dot inside the label "dot.in" */
		assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), SLUICE_DNS_BAD_NAME);
		assert_string_equal(q.qname, "");
		assert_int_equal(q.id, 9);
	}
	/* '_' (service labels), '*' and '/' (RFC 2317) are fine. */
	query(&m, 9, "_dmarc.*.0/25.2.0.192.in-addr.arpa", SLUICE_DNS_TYPE_A, 0);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
	assert_string_equal(q.qname, "_dmarc.*.0/25.2.0.192.in-addr.arpa");
}

static void name_and_label_lengths_are_bounded(void **state)
{
	char l63[64], l62[63], l61[62], big[300];
	struct sluice_dns_query q;
	struct msg m;

	(void)state;
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l62, 'b', 62);
	l62[62] = '\0';
	memset(l61, 'c', 61);
	l61[61] = '\0';

	/* 63-byte labels, 255 bytes on the wire, 253 as text: the maximum. */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", l63, l63, l63, l61);
	query(&m, 1, big, SLUICE_DNS_TYPE_A, 0);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
	assert_int_equal(strlen(q.qname), 253);
	assert_string_equal(q.qname, big);

	/* One byte more: 256 on the wire. */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", l63, l63, l63, l62);
	query(&m, 1, big, SLUICE_DNS_TYPE_A, 0);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);

	/* A 64-byte label has the length byte 0x40: an obsolete label type. */
	query(&m, 1, "x.example", SLUICE_DNS_TYPE_A, 0);
	m.b[12] = 0x40;
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
	m.b[12] = 0x80;
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);
}

static void answer_follows_compressed_cname_chain_to_addresses(void **state)
{
	const char *chain[8];
	char text[INET6_ADDRSTRLEN];
	struct msg m;
	size_t n;

	(void)state;
	rich_answer(&m);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.id, 0xbeef);
	assert_int_equal(ans.rcode, 0);
	assert_int_equal(ans.qtype, SLUICE_DNS_TYPE_A);
	assert_int_equal(ans.n_names, 3);
	assert_string_equal(ans.names[0], "www.example.com");
	assert_string_equal(ans.names[1], "cdn.example.net");
	assert_string_equal(ans.names[2], "edge.cdn.example.net");
	assert_int_equal(ans.parent[1], 0);
	assert_int_equal(ans.parent[2], 1);
	assert_int_equal(ans.cname_ttl[1], 300);
	assert_int_equal(ans.cname_ttl[2], 0);		/* top bit set */
	assert_int_equal(ans.n_addrs, 3);
	assert_int_equal(ans.skipped, 0);
	assert_int_equal(ans.addrs[0].family, AF_INET);
	assert_int_equal(ans.addrs[0].ttl, 20);
	assert_string_equal(inet_ntop(AF_INET, ans.addrs[1].addr, text, sizeof(text)),
			    "192.0.2.2");
	assert_int_equal(ans.addrs[2].family, AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, ans.addrs[2].addr, text, sizeof(text)),
			    "2001:db8::1");

	n = sluice_dns_answer_chain(&ans, 2, chain, 8);
	assert_int_equal(n, 3);
	assert_string_equal(chain[0], "edge.cdn.example.net");
	assert_string_equal(chain[1], "cdn.example.net");
	assert_string_equal(chain[2], "www.example.com");
	assert_int_equal(sluice_dns_answer_chain(&ans, 2, chain, 1), 1);
	assert_int_equal(sluice_dns_answer_chain(&ans, 3, chain, 8), 0);
}

static void answer_chain_given_out_of_order_is_followed(void **state)
{
	const char *chain[4];
	struct msg m;

	(void)state;
	response(&m, 2, 0x8180, 3, "a.test");
	name(&m, "c.test");
	rr_fixed(&m, SLUICE_DNS_TYPE_A, 5, 4);
	u32(&m, 0x0a000001);
	name(&m, "b.test");
	rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 6, 8);
	name(&m, "c.test");
	u16(&m, 0xc00c);
	rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 7, 8);
	name(&m, "B.TEST");
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_names, 3);
	assert_int_equal(ans.n_addrs, 1);
	assert_int_equal(sluice_dns_answer_chain(&ans, 0, chain, 4), 3);
	assert_string_equal(chain[0], "c.test");
	assert_string_equal(chain[1], "b.test");
	assert_string_equal(chain[2], "a.test");
}

static void answer_ignores_records_unrelated_to_the_question(void **state)
{
	struct msg m;

	(void)state;
	response(&m, 3, 0x8180, 4, "ads.test");
	name(&m, "bank.test");				/* poison */
	rr_fixed(&m, SLUICE_DNS_TYPE_A, 5, 4);
	u32(&m, 0x0a000002);
	name(&m, "x.test");				/* poison link */
	rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 5, 2);
	u16(&m, 0xc00c);
	u16(&m, 0xc00c);				/* loop back to itself */
	rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 5, 2);
	u16(&m, 0xc00c);
	u16(&m, 0xc00c);
	rr_fixed(&m, SLUICE_DNS_TYPE_A, 5, 5);		/* bad length */
	u32(&m, 0x0a000003);
	u8(&m, 0);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_names, 1);
	assert_int_equal(ans.n_addrs, 0);
	assert_int_equal(ans.skipped, 4);
}

static void answer_keeps_rcode_and_at_most_the_table_sizes(void **state)
{
	struct msg m;
	unsigned int i;

	(void)state;
	response(&m, 4, 0x8183, 0, "nx.test");
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.rcode, SLUICE_DNS_RCODE_NXDOMAIN);
	assert_int_equal(ans.n_addrs, 0);

	response(&m, 5, 0x8180, 40, "many.test");
	a_records(&m, 40);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_addrs, SLUICE_DNS_MAX_ADDRS);
	assert_int_equal(ans.skipped, 40 - SLUICE_DNS_MAX_ADDRS);

	/* Records after the first SLUICE_DNS_MAX_RECORDS are not looked at. */
	response(&m, 5, 0x8180, 150, "many.test");
	a_records(&m, 150);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_addrs, SLUICE_DNS_MAX_ADDRS);
	assert_int_equal(ans.skipped, SLUICE_DNS_MAX_RECORDS - SLUICE_DNS_MAX_ADDRS);

	/* A chain longer than the table: the rest is skipped, not an error. */
	response(&m, 6, 0x8180, 20, "c0.test");
	for (i = 0; i < 20; i++) {
		char owner[16], target[16];

		snprintf(owner, sizeof(owner), "c%u.test", i);
		snprintf(target, sizeof(target), "c%u.test", i + 1);
		name(&m, owner);
		rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 5, (uint16_t)(strlen(target) + 2));
		name(&m, target);
	}
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_names, SLUICE_DNS_MAX_NAMES);
	assert_int_equal(ans.skipped, 20 - SLUICE_DNS_MAX_CNAMES);
}

static void every_prefix_of_an_answer_is_refused_or_consistent(void **state)
{
	struct sluice_dns_query q;
	struct msg m;
	size_t len;
	unsigned int last = 0;

	(void)state;
	rich_answer(&m);
	for (len = 0; len < m.n; len++) {
		/* Copy to a buffer of exactly len bytes so ASan sees overreads. */
		uint8_t *cut = malloc(len ? len : 1);

		memcpy(cut, m.b, len);
		assert_int_equal(sluice_dns_parse_answer(cut, len, &ans), -1);
		assert_int_equal(sluice_dns_parse_query(cut, len, &q), -1);
		free(cut);
	}
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);

	/* Marked truncated (TC): whole records before the cut are used. */
	m.b[2] |= SLUICE_DNS_FLAG_TC >> 8;
	for (len = 0; len <= m.n; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		int rc;

		memcpy(cut, m.b, len);
		rc = sluice_dns_parse_answer(cut, len, &ans);
		if (len < 12 + 17 + 4) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_true(ans.n_addrs >= last);
			last = ans.n_addrs;
		}
		free(cut);
	}
	assert_int_equal(last, 3);
}

static void every_prefix_of_a_query_is_refused(void **state)
{
	struct sluice_dns_query q;
	struct msg m;
	size_t len;

	(void)state;
	query(&m, 0x4242, "www.example.com", SLUICE_DNS_TYPE_A, 1);
	for (len = 0; len < m.n; len++) {
		uint8_t *cut = malloc(len ? len : 1);

		memcpy(cut, m.b, len);
		assert_int_equal(sluice_dns_parse_query(cut, len, &q), -1);
		assert_true(sluice_dns_build_sinkhole(cut, len, 0, m.b + 1024, 512) == -1);
		free(cut);
	}
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), 0);
}

static void compression_loops_and_forward_pointers_are_refused(void **state)
{
	struct sluice_dns_query q;
	struct msg m;
	size_t at;

	(void)state;
	/* The question's name points to itself. */
	header(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);

	/* ... forward, to a name after it. */
	header(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc012);
	u16(&m, 1);
	u16(&m, 1);
	name(&m, "x.test");
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);

	/* ... into the header. */
	m.b[13] = 0x02;
	assert_int_equal(sluice_dns_parse_query(m.b, m.n, &q), -1);

	/* Two names in the answer pointing at each other. */
	response(&m, 1, 0x8180, 1, "q.test");
	at = m.n;
	u8(&m, 1);
	u8(&m, 'a');
	u16(&m, (uint16_t)(0xc000 | (at + 6)));		/* forward to the next */
	rr_fixed(&m, SLUICE_DNS_TYPE_A, 1, 4);
	u32(&m, 0);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);
	m.b[at + 3] = (uint8_t)at;				/* to itself */
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);

	/* Two pointers pointing at each other, entered from a later owner. */
	response(&m, 1, 0x8180, 2, "q.test");
	u16(&m, 0xc00c);
	rr_fixed(&m, 16 /* TXT */, 1, 4);
	at = m.n;
	u16(&m, (uint16_t)(0xc000 | (at + 2)));
	u16(&m, (uint16_t)(0xc000 | at));
	u16(&m, (uint16_t)(0xc000 | (at + 2)));
	rr_fixed(&m, SLUICE_DNS_TYPE_A, 1, 4);
	u32(&m, 0);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);

	/* A CNAME target pointing into its own record data. */
	response(&m, 1, 0x8180, 1, "q.test");
	u16(&m, 0xc00c);
	rr_fixed(&m, SLUICE_DNS_TYPE_CNAME, 1, 2);
	u16(&m, (uint16_t)(0xc000 | (m.n)));
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);

	/* A pointer cut in half at the end. */
	response(&m, 1, 0x8180, 1, "q.test");
	u8(&m, 0xc0);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);
}

/*
 * An answer whose second record's owner enters a chain of @k pointers, each
 * pointing at the one before it and the first at the question's name: all
 * go backwards. The chain stands in the data of a TXT record before it.
 */
static void pointer_chain(struct msg *m, unsigned int k)
{
	size_t prev = 12, i;

	response(m, 1, 0x8180, 2, "q.test");
	u16(m, 0xc00c);
	rr_fixed(m, 16 /* TXT */, 1, (uint16_t)(2 * k));
	for (i = 0; i < k; i++) {
		u16(m, (uint16_t)(0xc000 | prev));
		prev = m->n - 2;
	}
	u16(m, (uint16_t)(0xc000 | prev));
	rr_fixed(m, SLUICE_DNS_TYPE_A, 1, 4);
	u32(m, 0x0a000001);
}

static void pointer_chains_are_bounded(void **state)
{
	struct msg m;

	(void)state;
	/* The owner's pointer and k in the chain: k + 1 jumps. */
	pointer_chain(&m, SLUICE_DNS_MAX_JUMPS - 1);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), 0);
	assert_int_equal(ans.n_addrs, 1);
	pointer_chain(&m, SLUICE_DNS_MAX_JUMPS);
	assert_int_equal(sluice_dns_parse_answer(m.b, m.n, &ans), -1);
}

static void builds_nxdomain_sinkhole_that_parses_back(void **state)
{
	struct sluice_dns_query q;
	uint8_t out[512];
	struct msg m;
	ssize_t n;

	(void)state;
	query(&m, 0xabcd, "Ads.Example.TEST", SLUICE_DNS_TYPE_A, 1);
	m.b[3] |= SLUICE_DNS_FLAG_CD;
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NXDOMAIN, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xcd);
	/* QR, opcode 0, RD; RA, CD, rcode 3 */
	assert_int_equal(out[2], 0x81);
	assert_int_equal(out[3], 0x80 | SLUICE_DNS_FLAG_CD | 3);
	/* The question with its letter case, then the OPT record. */
	assert_memory_equal(out + 12, m.b + 12, 18 + 4);
	assert_int_equal(out[11], 1);
	assert_int_equal(n, 12 + 22 + 11);
	assert_int_equal(sluice_dns_parse_answer(out, (size_t)n, &ans), 0);
	assert_int_equal(ans.rcode, SLUICE_DNS_RCODE_NXDOMAIN);
	assert_string_equal(ans.names[0], "ads.example.test");
	assert_int_equal(ans.n_addrs, 0);
	/* It is not a query: no sinkhole for a sinkhole. */
	assert_int_equal(sluice_dns_parse_query(out, (size_t)n, &q), -1);
	assert_true(sluice_dns_build_sinkhole(out, (size_t)n, 0, out, sizeof(out)) == -1);
	/* Too small a buffer. */
	assert_true(sluice_dns_build_sinkhole(m.b, m.n, 0, out, (size_t)n - 1) == -1);
	assert_true(sluice_dns_build_sinkhole(m.b, m.n, 7, out, sizeof(out)) == -1);
}

static void builds_null_sinkhole_for_a_aaaa_and_nodata_otherwise(void **state)
{
	uint8_t out[512];
	struct msg m;
	ssize_t n;

	(void)state;
	query(&m, 1, "ads.test", SLUICE_DNS_TYPE_A, 0);
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NULL, out, sizeof(out));
	assert_int_equal(n, 12 + 14 + 16);
	assert_int_equal(sluice_dns_parse_answer(out, (size_t)n, &ans), 0);
	assert_int_equal(ans.rcode, 0);
	assert_int_equal(ans.n_addrs, 1);
	assert_int_equal(ans.addrs[0].family, AF_INET);
	assert_int_equal(ans.addrs[0].ttl, SLUICE_DNS_SINKHOLE_TTL);
	assert_int_equal(ans.addrs[0].name, 0);
	assert_memory_equal(ans.addrs[0].addr, "\0\0\0\0", 4);

	query(&m, 1, "ads.test", SLUICE_DNS_TYPE_AAAA, 0);
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NULL, out, sizeof(out));
	assert_int_equal(n, 12 + 14 + 28);
	assert_int_equal(sluice_dns_parse_answer(out, (size_t)n, &ans), 0);
	assert_int_equal(ans.n_addrs, 1);
	assert_int_equal(ans.addrs[0].family, AF_INET6);

	query(&m, 1, "ads.test", 15 /* MX */, 0);
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NULL, out, sizeof(out));
	assert_int_equal(n, 12 + 14);
	assert_int_equal(sluice_dns_parse_answer(out, (size_t)n, &ans), 0);
	assert_int_equal(ans.rcode, 0);
	assert_int_equal(ans.n_addrs, 0);

	/* A sound query with a strange name still gets its sinkhole. */
	query(&m, 1, "a d.test", SLUICE_DNS_TYPE_A, 0);
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NXDOMAIN, out, sizeof(out));
	assert_int_equal(n, 12 + 14);
	assert_int_equal(sluice_dns_parse_answer(out, (size_t)n, &ans), SLUICE_DNS_BAD_NAME);
}

static void builds_sinkhole_replacing_a_response_in_place(void **state)
{
	uint8_t question[64];
	struct msg m;
	size_t qlen;
	ssize_t n;

	(void)state;
	rich_answer(&m);
	m.b[12 + 1] = 'W';				/* 0x20 case from the client */
	qlen = 17 + 4;
	memcpy(question, m.b + 12, qlen);
	n = sluice_dns_build_sinkhole_reply(m.b, m.n, SLUICE_DNS_SINKHOLE_NXDOMAIN, m.b,
					    sizeof(m.b));
	assert_int_equal(n, 12 + qlen);
	assert_int_equal(m.b[0] << 8 | m.b[1], 0xbeef);
	assert_int_equal(m.b[2], 0x81);
	assert_int_equal(m.b[3], 0x83);
	assert_memory_equal(m.b + 12, question, qlen);
	assert_int_equal(sluice_dns_parse_answer(m.b, (size_t)n, &ans), 0);
	assert_int_equal(ans.rcode, SLUICE_DNS_RCODE_NXDOMAIN);
	assert_int_equal(ans.n_addrs, 0);

	/* A cut response (TC) still gets one; a query does not. */
	rich_answer(&m);
	m.b[2] |= SLUICE_DNS_FLAG_TC >> 8;
	n = sluice_dns_build_sinkhole_reply(m.b, m.n - 7, SLUICE_DNS_SINKHOLE_NULL, m.b + 2048,
					    512);
	assert_int_equal(n, 12 + qlen + 16);
	query(&m, 1, "ads.test", SLUICE_DNS_TYPE_A, 0);
	assert_true(sluice_dns_build_sinkhole_reply(m.b, m.n, 0, m.b + 2048, 512) == -1);
}

static void edns_of_another_version_is_dropped(void **state)
{
	uint8_t out[512];
	struct msg m;
	ssize_t n;

	(void)state;
	query(&m, 1, "ads.test", SLUICE_DNS_TYPE_A, 1);
	m.b[m.n - 5] = 1;				/* EDNS version 1 */
	n = sluice_dns_build_sinkhole(m.b, m.n, SLUICE_DNS_SINKHOLE_NXDOMAIN, out, sizeof(out));
	assert_int_equal(n, 12 + 14);
	assert_int_equal(out[11], 0);
}

static void tcp_framing_and_tcp_sinkhole(void **state)
{
	uint8_t stream[600], out[600];
	const uint8_t *msg;
	size_t msglen;
	struct msg m;
	ssize_t n;

	(void)state;
	query(&m, 0x5151, "ads.test", SLUICE_DNS_TYPE_A, 0);
	stream[0] = (uint8_t)(m.n >> 8);
	stream[1] = (uint8_t)m.n;
	memcpy(stream + 2, m.b, m.n);
	assert_int_equal(sluice_dns_tcp_message(stream, 1, &msg, &msglen), 1);
	assert_int_equal(sluice_dns_tcp_message(stream, m.n + 1, &msg, &msglen), 1);
	assert_int_equal(sluice_dns_tcp_message(stream, m.n + 2, &msg, &msglen), 0);
	assert_ptr_equal(msg, stream + 2);
	assert_int_equal(msglen, m.n);
	n = sluice_dns_build_sinkhole_tcp(stream, m.n + 2, 0, out, sizeof(out));
	assert_int_equal(n, 2 + 12 + 14);
	assert_int_equal(out[0] << 8 | out[1], n - 2);
	assert_int_equal(sluice_dns_parse_answer(out + 2, (size_t)n - 2, &ans), 0);
	assert_int_equal(ans.id, 0x5151);
	stream[0] = 0;
	stream[1] = 11;
	assert_int_equal(sluice_dns_tcp_message(stream, sizeof(stream), &msg, &msglen), -1);
}

static void name_normalize_rules(void **state)
{
	char out[256], big[300];

	(void)state;
	assert_int_equal(sluice_dns_name_normalize("WWW.Example.COM.", 16, out, sizeof(out)), 15);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(sluice_dns_name_normalize("xn--bcher-kva.DE", 16, out, sizeof(out)), 16);
	assert_string_equal(out, "xn--bcher-kva.de");
	assert_int_equal(sluice_dns_name_normalize("", 0, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize(".", 1, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("a..b", 4, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize(".a", 2, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("a.b..", 5, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("b\303\274cher.de", 10, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("a b", 3, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("a\0b", 3, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize("abc", 3, out, 3), -1);
	assert_int_equal(sluice_dns_name_normalize("abc", 3, out, 4), 3);
	memset(big, 'a', sizeof(big));
	assert_int_equal(sluice_dns_name_normalize(big, 64, out, sizeof(out)), -1);
	assert_int_equal(sluice_dns_name_normalize(big, 63, out, sizeof(out)), 63);
	/* In place. */
	strcpy(big, "MiXeD.Case.");
	assert_int_equal(sluice_dns_name_normalize(big, strlen(big), big, sizeof(big)), 10);
	assert_string_equal(big, "mixed.case");
}

/*
 * dig, the real client, asks a server that is this test on 127.0.0.1 and
 * gets our sinkhole: it must accept it (matching id, question) and show
 * the status and the null address.
 */
static int dig_against_sinkhole(int tcp, int mode, uint16_t qtype, const char *expect1,
				const char *expect2)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, peer;
	socklen_t sl = sizeof(sa), pl = sizeof(peer);
	struct timeval tv = { .tv_sec = 5 };
	uint8_t buf[1024], out[1024];
	char cmd[256], line[512], idtext[32], seen[8192] = "";
	struct sluice_dns_query q;
	int s, c = -1, ok1 = 0, ok2 = 0, okid = 0;
	ssize_t n, r;
	FILE *dig;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	if (tcp)
		assert_int_equal(listen(s, 1), 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(cmd, sizeof(cmd),
		 "dig @127.0.0.1 -p %u %s +tries=1 +time=3 Blocked.Example.Test %s 2>&1",
		 ntohs(sa.sin_port), tcp ? "+tcp" : "+notcp", qtype == 28 ? "AAAA" : "A");
	dig = popen(cmd, "r");
	assert_non_null(dig);
	if (tcp) {
		c = accept(s, NULL, NULL);
		assert_true(c >= 0);
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = 0;
		while ((r = recv(c, buf + n, sizeof(buf) - (size_t)n, 0)) > 0) {
			const uint8_t *msg;
			size_t ml;

			n += r;
			if (sluice_dns_tcp_message(buf, (size_t)n, &msg, &ml) == 0)
				break;
		}
		assert_true(n > 2);
		assert_int_equal(sluice_dns_parse_query(buf + 2, (size_t)n - 2, &q), 0);
		r = sluice_dns_build_sinkhole_tcp(buf, (size_t)n, mode, out, sizeof(out));
		assert_true(r > 0);
		assert_int_equal(send(c, out, (size_t)r, 0), r);
	} else {
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl);
		assert_true(n > 0);
		assert_int_equal(sluice_dns_parse_query(buf, (size_t)n, &q), 0);
		r = sluice_dns_build_sinkhole(buf, (size_t)n, mode, out, sizeof(out));
		assert_true(r > 0);
		assert_int_equal(sendto(s, out, (size_t)r, 0, (struct sockaddr *)&peer, pl), r);
	}
	assert_string_equal(q.qname, "blocked.example.test");
	snprintf(idtext, sizeof(idtext), "id: %u\n", q.id);
	while (fgets(line, sizeof(line), dig)) {
		if (strlen(seen) + strlen(line) < sizeof(seen))
			strcat(seen, line);
		ok1 |= strstr(line, expect1) != NULL;
		ok2 |= strstr(line, expect2) != NULL;
		okid |= strstr(line, idtext) != NULL;
	}
	pclose(dig);
	if (c >= 0)
		close(c);
	close(s);
	if (!(ok1 && ok2 && okid))
		print_message("%s\ndig did not show \"%s\", \"%s\" and \"%s\":\n%s", cmd,
			      expect1, expect2, idtext, seen);
	return ok1 && ok2 && okid;
}

static void dig_accepts_the_sinkhole_over_udp_and_tcp(void **state)
{
	(void)state;
	if (system("command -v dig >/dev/null 2>&1") != 0)
		skip();
	assert_true(dig_against_sinkhole(0, SLUICE_DNS_SINKHOLE_NXDOMAIN, 1,
					 "status: NXDOMAIN", "Blocked.Example.Test."));
	assert_true(dig_against_sinkhole(1, SLUICE_DNS_SINKHOLE_NXDOMAIN, 1,
					 "status: NXDOMAIN", "Blocked.Example.Test."));
	assert_true(dig_against_sinkhole(0, SLUICE_DNS_SINKHOLE_NULL, 1,
					 "status: NOERROR", "60\tIN\tA\t0.0.0.0"));
	assert_true(dig_against_sinkhole(0, SLUICE_DNS_SINKHOLE_NULL, 28,
					 "status: NOERROR", "60\tIN\tAAAA\t::"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_plain_query_lowercase_without_trailing_dot),
		cmocka_unit_test(parses_query_edns_and_root_and_idna),
		cmocka_unit_test(query_rejects_responses_other_opcodes_and_question_counts),
		cmocka_unit_test(query_with_unusual_bytes_is_bad_name_not_malformed),
		cmocka_unit_test(name_and_label_lengths_are_bounded),
		cmocka_unit_test(answer_follows_compressed_cname_chain_to_addresses),
		cmocka_unit_test(answer_chain_given_out_of_order_is_followed),
		cmocka_unit_test(answer_ignores_records_unrelated_to_the_question),
		cmocka_unit_test(answer_keeps_rcode_and_at_most_the_table_sizes),
		cmocka_unit_test(every_prefix_of_an_answer_is_refused_or_consistent),
		cmocka_unit_test(every_prefix_of_a_query_is_refused),
		cmocka_unit_test(compression_loops_and_forward_pointers_are_refused),
		cmocka_unit_test(pointer_chains_are_bounded),
		cmocka_unit_test(builds_nxdomain_sinkhole_that_parses_back),
		cmocka_unit_test(builds_null_sinkhole_for_a_aaaa_and_nodata_otherwise),
		cmocka_unit_test(builds_sinkhole_replacing_a_response_in_place),
		cmocka_unit_test(edns_of_another_version_is_dropped),
		cmocka_unit_test(tcp_framing_and_tcp_sinkhole),
		cmocka_unit_test(name_normalize_rules),
		cmocka_unit_test(dig_accepts_the_sinkhole_over_udp_and_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
