// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/inject.c: the answers built in a server's name,
 * for questions behind IPv6 extension headers as for those without.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/inject.h"

/*
 * fd00::1:5353 -> fd00::2:53, UDP with 4 bytes of payload, behind
 * @ext bytes of extension headers (@nh the first) written by the caller
 * at offset 40; returns the packet's length.
 */
static size_t v6_udp(uint8_t *pkt, uint8_t nh, size_t ext)
{
	size_t off = 40 + ext;

	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	pkt[4] = 0, pkt[5] = (uint8_t)(ext + 12);
	pkt[6] = nh, pkt[7] = 64;
	pkt[8] = 0xfd, pkt[23] = 1;
	pkt[24] = 0xfd, pkt[39] = 2;
	pkt[off] = 5353 >> 8, pkt[off + 1] = 5353 & 0xff;
	pkt[off + 2] = 0, pkt[off + 3] = 53;
	pkt[off + 5] = 12;
	memcpy(pkt + off + 8, "ques", 4);
	return off + 12;
}

static void answer_is_from_the_server_to_the_client(const uint8_t *out, long n)
{
	assert_int_equal(n, 40 + 8 + 3);
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(out[6], IPPROTO_UDP);	/* no extension header */
	assert_int_equal(out[23], 2);		/* from fd00::2 */
	assert_int_equal(out[39], 1);		/* to fd00::1 */
	assert_int_equal(out[40] << 8 | out[41], 53);
	assert_int_equal(out[42] << 8 | out[43], 5353);
	assert_memory_equal(out + 48, "ans", 3);
}

static void a_question_behind_destination_options_is_answered(void **state)
{
	uint8_t pkt[40 + 24 + 12], out[128];
	size_t len;

	(void)state;
	/* Control: the same question without any. */
	len = v6_udp(pkt, IPPROTO_UDP, 0);
	answer_is_from_the_server_to_the_client(out,
		sluice_build_udp(pkt, len, (const uint8_t *)"ans", 3, 1, out, sizeof(out)));
	memset(pkt + 40, 0, 24);
	pkt[40] = IPPROTO_DSTOPTS;		/* hop-by-hop, then dst opts */
	pkt[42] = 1, pkt[43] = 4;
	pkt[48] = IPPROTO_UDP, pkt[49] = 1;	/* 16 bytes */
	pkt[50] = 1, pkt[51] = 4, pkt[56] = 1, pkt[57] = 4;
	len = v6_udp(pkt, IPPROTO_HOPOPTS, 24);
	answer_is_from_the_server_to_the_client(out,
		sluice_build_udp(pkt, len, (const uint8_t *)"ans", 3, 1, out, sizeof(out)));
}

static void a_syn_behind_an_authentication_header_is_reset(void **state)
{
	uint8_t pkt[40 + 24 + 20], out[128];
	long n;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[5] = 24 + 20;
	pkt[6] = IPPROTO_AH, pkt[7] = 64;
	pkt[8] = 0xfd, pkt[23] = 1, pkt[24] = 0xfd, pkt[39] = 2;
	pkt[40] = IPPROTO_TCP, pkt[41] = 4;	/* (4 + 2) * 4 bytes */
	pkt[64] = 0x9c, pkt[65] = 0x40, pkt[66] = 0, pkt[67] = 53;
	pkt[71] = 7;				/* seq 7 */
	pkt[76] = 0x50, pkt[77] = 0x02;		/* SYN */
	n = sluice_build_tcp_reset(pkt, sizeof(pkt), out, sizeof(out));
	assert_int_equal(n, 40 + 20);
	assert_int_equal(out[6], IPPROTO_TCP);
	assert_int_equal(out[40] << 8 | out[41], 53);
	assert_int_equal(out[42] << 8 | out[43], 40000);
	assert_int_equal(out[51], 8);		/* ack: the SYN's seq + 1 */
	assert_int_equal(out[53], 0x14);	/* RST, ACK */
	/* Not TCP behind it: nothing to reset. */
	pkt[40] = IPPROTO_UDP;
	assert_int_equal(sluice_build_tcp_reset(pkt, sizeof(pkt), out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_question_behind_destination_options_is_answered),
		cmocka_unit_test(a_syn_behind_an_authentication_header_is_reset),
	};

	return cmocka_run_group_tests_name("inject", tests, NULL, NULL);
}
