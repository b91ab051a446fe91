// SPDX-License-Identifier: GPL-2.0
/* Unit tests of agent/packet.c: headers as NFQUEUE hands them over. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "agent/packet.h"

/* 10.0.0.1:40000 -> 10.0.0.2:443, TCP, 20-byte TCP header, no data. */
static const uint8_t v4_tcp_syn[] = {
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0, 0,
	10, 0, 0, 1, 10, 0, 0, 2,
	0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff,
	0xff, 0, 0, 0, 0,
};

static void parses_ipv4_tcp_addresses_and_ports(void **state)
{
	struct sluice_flow f;
	const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };

	(void)state;
	assert_int_equal(sluice_packet_parse(v4_tcp_syn, sizeof(v4_tcp_syn), &f), 0);
	assert_int_equal(f.family, AF_INET);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_memory_equal(f.src, src, 4);
	assert_memory_equal(f.dst, dst, 4);
	assert_int_equal(f.sport, 40000);
	assert_int_equal(f.dport, 443);
	assert_int_equal(sluice_packet_payload(v4_tcp_syn, sizeof(v4_tcp_syn)), 40);
}

static void ipv4_copy_cut_before_ports_keeps_addresses(void **state)
{
	struct sluice_flow f;

	(void)state;
	/* Addresses, but which flow it is the copy does not say. */
	assert_int_equal(sluice_packet_parse(v4_tcp_syn, 22, &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.sport, 0);
	assert_int_equal(f.dport, 0);
	assert_int_equal(sluice_packet_payload(v4_tcp_syn, 22), -1);
}

static void ipv4_later_fragment_has_no_ports(void **state)
{
	uint8_t pkt[sizeof(v4_tcp_syn)];
	struct sluice_flow f;

	(void)state;
	memcpy(pkt, v4_tcp_syn, sizeof(pkt));
	pkt[6] = 0x00;
	pkt[7] = 0x10;		/* fragment offset 16 * 8 */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.dport, 0);
}

static void rejects_what_is_not_ip(void **state)
{
	uint8_t pkt[sizeof(v4_tcp_syn)];
	struct sluice_flow f;

	(void)state;
	assert_int_equal(sluice_packet_parse(v4_tcp_syn, 0, &f), -1);
	assert_int_equal(sluice_packet_parse(v4_tcp_syn, 19, &f), -1);
	memcpy(pkt, v4_tcp_syn, sizeof(pkt));
	pkt[0] = 0x44;		/* IHL 16 bytes: too short */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), -1);
	pkt[0] = 0x4f;		/* IHL 60 bytes: longer than the copy */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), -1);
	pkt[0] = 0x55;		/* version 5 */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), -1);
}

/* fd00::1 -> fd00::2, hop-by-hop header then UDP 5353 -> 53. */
static const uint8_t v6_hbh_udp[] = {
	0x60, 0, 0, 0, 0, 16, 0 /* HBH */, 64,
	0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17 /* UDP */, 0, 1, 4, 0, 0, 0, 0,
	0x14, 0xe9, 0x00, 0x35, 0, 8, 0, 0,
};

static void parses_ipv6_over_extension_headers(void **state)
{
	struct sluice_flow f;

	(void)state;
	assert_int_equal(sluice_packet_parse(v6_hbh_udp, sizeof(v6_hbh_udp), &f), 0);
	assert_int_equal(f.family, AF_INET6);
	assert_int_equal(f.proto, IPPROTO_UDP);
	assert_int_equal(f.src[0], 0xfd);
	assert_int_equal(f.src[15], 1);
	assert_int_equal(f.dst[15], 2);
	assert_int_equal(f.sport, 5353);
	assert_int_equal(f.dport, 53);
	assert_int_equal(sluice_packet_payload(v6_hbh_udp, sizeof(v6_hbh_udp)), 56);
}

static void ipv6_extension_chain_past_the_copy_has_no_ports(void **state)
{
	uint8_t pkt[sizeof(v6_hbh_udp)];
	struct sluice_flow f;

	(void)state;
	memcpy(pkt, v6_hbh_udp, sizeof(pkt));
	pkt[41] = 200;		/* HBH length far beyond the packet */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.dport, 0);
	assert_int_equal(sluice_packet_parse(pkt, 41, &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.dport, 0);
	/* The chain whole, the copy ending in the UDP ports. */
	assert_int_equal(sluice_packet_parse(v6_hbh_udp, 50, &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.proto, IPPROTO_UDP);
	assert_int_equal(f.dport, 0);
}

static void ipv6_endless_extension_chain_is_bounded(void **state)
{
	uint8_t pkt[40 + 8 * 16];
	struct sluice_flow f;
	int i;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[6] = IPPROTO_DSTOPTS;
	for (i = 0; i < 16; i++)
		pkt[40 + i * 8] = IPPROTO_DSTOPTS;	/* next: again */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.dport, 0);
}

/*
 * fd00::1:40000 -> fd00::2:7000, a SYN behind @n destination options
 * headers of 8 bytes (PadN) written into @pkt; returns its length.
 */
static size_t v6_syn_behind_dstopts(uint8_t *pkt, int n)
{
	size_t off = 40;
	int i;

	memcpy(pkt, v6_hbh_udp, 40);
	pkt[6] = n ? IPPROTO_DSTOPTS : IPPROTO_TCP;
	for (i = 0; i < n; i++, off += 8) {
		memset(pkt + off, 0, 8);
		pkt[off] = i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_TCP;
		pkt[off + 2] = 1;			/* PadN */
		pkt[off + 3] = 4;
	}
	memcpy(pkt + off, v4_tcp_syn + 20, 20);
	pkt[off + 2] = 7000 >> 8;
	pkt[off + 3] = 7000 & 0xff;
	pkt[4] = (uint8_t)((off - 40 + 20) >> 8);
	pkt[5] = (uint8_t)(off - 40 + 20);
	return off + 20;
}

/*
 * The kernel's conntrack steps over any number of extension headers
 * (ipv6_skip_exthdr()): a parser that gave up after some number judged a
 * SYN behind nine of them as protocol 60 without ports, and its allow
 * became the conntrack verdict of the TCP flow to a denied port.
 */
static void ipv6_any_number_of_extension_headers_reaches_the_ports(void **state)
{
	uint8_t pkt[40 + 8 * 40 + 20];
	struct sluice_flow f;
	size_t len;
	int n;

	(void)state;
	for (n = 0; n <= 40; n += 1) {
		len = v6_syn_behind_dstopts(pkt, n);
		assert_int_equal(sluice_packet_parse(pkt, len, &f), 0);
		assert_int_equal(f.proto, IPPROTO_TCP);
		assert_int_equal(f.sport, 40000);
		assert_int_equal(f.dport, 7000);
		assert_int_equal(sluice_packet_payload(pkt, len), (long)len);
	}
}

/*
 * fd00::1:40000 -> fd00::2:443, a SYN behind one extension header @nh of
 * @ext bytes, all zero but its next header (TCP), written into @pkt.
 */
static void v6_syn_behind(uint8_t *pkt, uint8_t nh, size_t ext)
{
	memcpy(pkt, v6_hbh_udp, 40);
	pkt[5] = (uint8_t)(ext + 20);
	pkt[6] = nh;
	memset(pkt + 40, 0, ext);
	pkt[40] = IPPROTO_TCP;
	memcpy(pkt + 40 + ext, v4_tcp_syn + 20, 20);
}

/*
 * An Authentication Header counts its length in 4-byte words, less 2
 * (RFC 4302); conntrack steps over it to the TCP header behind.
 */
static void ipv6_authentication_header_is_stepped_over(void **state)
{
	uint8_t pkt[40 + 24 + 20];
	struct sluice_flow f;

	(void)state;
	v6_syn_behind(pkt, IPPROTO_AH, 24);
	pkt[41] = 4;			/* 24 bytes: (4 + 2) * 4 */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.sport, 40000);
	assert_int_equal(f.dport, 443);
	assert_int_equal(sluice_packet_payload(pkt, sizeof(pkt)), 84);
	/* An AH cut by the copy: which flow it is, nobody can say. */
	assert_int_equal(sluice_packet_parse(pkt, 60, &f), SLUICE_PACKET_CUT);
	assert_int_equal(f.dport, 0);
}

/*
 * A later fragment ends the chain as it does in conntrack: what follows
 * its header is data of the middle of the packet, not headers.
 */
static void ipv6_later_fragment_ends_the_chain(void **state)
{
	uint8_t pkt[40 + 8 + 20];
	struct sluice_flow f;

	(void)state;
	v6_syn_behind(pkt, IPPROTO_FRAGMENT, 8);
	/* The first fragment: its TCP header is there. */
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.dport, 443);
	/* Offset 8: bytes that look like a TCP header are not one. */
	pkt[43] = 8 << 3;
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.dport, 0);
	assert_int_equal(sluice_packet_payload(pkt, sizeof(pkt)), -1);
	/* Even when they look like more headers. */
	pkt[40] = IPPROTO_DSTOPTS;
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.proto, IPPROTO_DSTOPTS);
	assert_int_equal(f.dport, 0);
}

/* "No next header" ends the chain: there is no transport to judge. */
static void ipv6_no_next_header_has_no_ports(void **state)
{
	uint8_t pkt[40 + 8 + 20];
	struct sluice_flow f;

	(void)state;
	v6_syn_behind_dstopts(pkt, 1);
	pkt[40] = IPPROTO_NONE;
	assert_int_equal(sluice_packet_parse(pkt, sizeof(pkt), &f), 0);
	assert_int_equal(f.proto, IPPROTO_NONE);
	assert_int_equal(f.dport, 0);
	assert_int_equal(sluice_packet_payload(pkt, sizeof(pkt)), -1);
}

static void tcp_sequence_of_the_first_data_byte(void **state)
{
	uint8_t pkt[sizeof(v4_tcp_syn) + 3];
	uint32_t seq;
	uint8_t flags;

	(void)state;
	/* A SYN (seq 1): its data would start one after. */
	assert_int_equal(sluice_packet_tcp(v4_tcp_syn, sizeof(v4_tcp_syn), &seq, &flags), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(flags, SLUICE_TCP_SYN);
	/* A data segment at 0x01020304 with ACK+PSH. */
	memcpy(pkt, v4_tcp_syn, sizeof(v4_tcp_syn));
	pkt[3] = sizeof(pkt);
	pkt[24] = 1, pkt[25] = 2, pkt[26] = 3, pkt[27] = 4;
	pkt[33] = 0x18;
	assert_int_equal(sluice_packet_tcp(pkt, sizeof(pkt), &seq, &flags), 0);
	assert_int_equal(seq, 0x01020304);
	assert_int_equal(flags & SLUICE_TCP_SYN, 0);
	/* The header cut by the copy, or not TCP: nothing. */
	assert_int_equal(sluice_packet_tcp(v4_tcp_syn, 30, &seq, &flags), -1);
	pkt[9] = IPPROTO_UDP;
	assert_int_equal(sluice_packet_tcp(pkt, sizeof(pkt), &seq, &flags), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_ipv4_tcp_addresses_and_ports),
		cmocka_unit_test(ipv4_copy_cut_before_ports_keeps_addresses),
		cmocka_unit_test(ipv4_later_fragment_has_no_ports),
		cmocka_unit_test(rejects_what_is_not_ip),
		cmocka_unit_test(parses_ipv6_over_extension_headers),
		cmocka_unit_test(ipv6_extension_chain_past_the_copy_has_no_ports),
		cmocka_unit_test(ipv6_endless_extension_chain_is_bounded),
		cmocka_unit_test(ipv6_any_number_of_extension_headers_reaches_the_ports),
		cmocka_unit_test(ipv6_authentication_header_is_stepped_over),
		cmocka_unit_test(ipv6_later_fragment_ends_the_chain),
		cmocka_unit_test(ipv6_no_next_header_has_no_ports),
		cmocka_unit_test(tcp_sequence_of_the_first_data_byte),
	};

	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
