// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/quic.c: the client Initial of RFC 9001 Appendix A
 * (keys and the protected packet), the same cut and bit-flipped, and
 * Initials built here (quic_build(): the same protection, done with
 * libcrypto) whose ClientHello is split over CRYPTO frames and packets.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/quic.h"
#include "agent/sni.h"
#include "tests/unit/quic_build.h"
#include "tests/unit/quic_rfc9001_a2.h"


static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];

	assert_int_equal(unhex(want, w, sizeof(w)), n);
	assert_memory_equal(got, w, n);
}

static size_t rfc_packet(uint8_t *out)
{
	size_t n = unhex(rfc_a2_hex, out, 1200);

	/* unhex() stops at 1200: the rest of @out is the caller's. */

	assert_int_equal(n, 1200);
	return n;
}

/* RFC 9001 A.1 */
static void initial_keys_are_those_of_rfc9001_a1(void **state)
{
	struct sluice_quic_keys k;

	(void)state;
	assert_int_equal(sluice_quic_initial_keys(rfc_dcid, sizeof(rfc_dcid), &k), 0);
	assert_hex(k.secret, 32,
		   "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
	assert_hex(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d");
	assert_hex(k.iv, 12, "fa044b2f42a3fd3b46fb255c");
	assert_hex(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2");
}

static void rfc9001_a2_client_initial_names_example_com(void **state)
{
	uint8_t pkt[1200];
	char out[256];
	size_t n = rfc_packet(pkt);

	(void)state;
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

static void rfc_packet_cut_or_flipped_is_never_read(void **state)
{
	uint8_t pkt[1200];
	char out[256];
	size_t n = rfc_packet(pkt), i;
	int rc;

	(void)state;
	for (i = 0; i < n; i++) {
		rc = sluice_quic_sni(pkt, i, out, sizeof(out));
		assert_true(rc == SLUICE_SNI_NOT_HELLO || rc == SLUICE_SNI_TRUNCATED);
	}
	for (i = 0; i < n * 8; i += 7) {
		pkt[i / 8] ^= (uint8_t)(1u << (i % 8));
		rc = sluice_quic_sni(pkt, n, out, sizeof(out));
		pkt[i / 8] ^= (uint8_t)(1u << (i % 8));
		/* Every bit is authenticated (the AEAD tag covers the header
		 * and payload), so a flip is refused; were it not, the name
		 * read would still be the packet's own. */
		assert_true(rc == SLUICE_SNI_NOT_HELLO || rc == SLUICE_SNI_TRUNCATED ||
			    (rc == SLUICE_SNI_FOUND && !strcmp(out, "example.com")));
	}
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_FOUND);
}

/* A length no UDP payload can have is refused before anything is read. */
static void a_length_beyond_any_datagram_is_refused(void **state)
{
	static uint8_t big[70000];
	char out[256];
	size_t n = rfc_packet(big);

	(void)state;
	assert_int_equal(n, 1200);
	/* length: 4-byte varint 69000 instead of 2-byte 1182 */
	memmove(big + 20, big + 18, n - 18);
	big[16] = 0x80, big[17] = 0x01, big[18] = 0x0d, big[19] = 0x88;
	assert_int_equal(sluice_quic_sni(big, sizeof(big), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
}

/* Bytes after the datagram's QUIC v1 packets (padding, junk) are not read. */
static void bytes_after_the_packets_are_ignored(void **state)
{
	uint8_t pkt[1300];
	char out[256];
	size_t n = rfc_packet(pkt);

	(void)state;
	memset(pkt + n, 0xc3, 100);
	assert_int_equal(sluice_quic_sni(pkt, n + 100, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

static void other_packets_are_not_initials(void **state)
{
	uint8_t pkt[1200];
	char out[256];
	size_t n = rfc_packet(pkt);

	(void)state;
	pkt[0] = (uint8_t)((pkt[0] & ~0x30) | 0x20);	/* Handshake */
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	n = rfc_packet(pkt);
	pkt[0] &= 0x7f;					/* short header */
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	n = rfc_packet(pkt);
	pkt[4] = 2;					/* another version */
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	n = rfc_packet(pkt);
	pkt[4] = 0;					/* version negotiation */
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(sluice_quic_sni(pkt, 0, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
}

static void built_initial_matches_the_parser(void **state)
{
	uint8_t hello[512], pl[600], pkt[1300];
	char out[256];
	size_t hn = rfc_hello(hello), n;

	(void)state;
	n = crypto_frame(pl, hello, 0, hn);
	n = quic_build(pl, n, 7, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

/* Chrome sends its CRYPTO frames shuffled, with PING and PADDING between. */
static void crypto_frames_out_of_order_are_joined(void **state)
{
	uint8_t hello[512], pl[600], pkt[1300];
	char out[256];
	size_t hn = rfc_hello(hello), n = 0;

	(void)state;
	n += crypto_frame(pl + n, hello + 100, 100, hn - 100);
	pl[n++] = 0x01;
	pl[n++] = 0x00;
	n += crypto_frame(pl + n, hello + 40, 40, 70);	/* overlaps, same bytes */
	n += crypto_frame(pl + n, hello, 0, 40);
	n = quic_build(pl, n, 0, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

/* The name in a later packet: this one is truncated, the next alone too. */
static void hello_over_two_initials_is_truncated(void **state)
{
	uint8_t hello[512], pl[600], pkt[1300];
	char out[256];
	size_t hn = rfc_hello(hello), n;

	(void)state;
	n = crypto_frame(pl, hello, 0, 30);
	n = quic_build(pl, n, 0, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	n = crypto_frame(pl, hello + 30, 30, hn - 30);
	n = quic_build(pl, n, 1, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	/* No CRYPTO frame at all (PING and PADDING only). */
	pl[0] = 0x01;
	n = quic_build(pl, 1, 2, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
}

static void conflicting_or_unknown_frames_are_refused(void **state)
{
	uint8_t hello[512], other[512], pl[1200], pkt[1300];
	char out[256];
	size_t hn = rfc_hello(hello), n = 0;

	(void)state;
	memcpy(other, hello, hn);
	memcpy(other + 58, "elpmaxe", 7);	/* "example.com" -> "elpmaxe.com" */
	n += crypto_frame(pl + n, hello, 0, hn);
	n += crypto_frame(pl + n, other, 0, hn);
	n = quic_build(pl, n, 0, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_QUIC_UNREADABLE);
	/* STREAM frames have no place in an Initial. */
	n = crypto_frame(pl, hello, 0, hn);
	pl[n++] = 0x08;
	n = quic_build(pl, n, 0, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_QUIC_UNREADABLE);
}

/* ---- a ClientHello over several Initials: sluice_quic_read() ---------- */

static const uint8_t other_dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static struct sluice_quic_hello gathered;	/* 18 KiB: not on the stack */

/* Read the Initial carrying hello bytes [@off, @off + @n) into gathered. */
static int read_part(const uint8_t *dcid, size_t off, size_t n)
{
	uint8_t pkt[QUIC_BUILT_LEN];
	size_t len = quic_hello_part(dcid, off, n, (unsigned int)off, pkt);

	return sluice_quic_read(&gathered, pkt, len);
}

static int gathered_sni(char *out, size_t outlen)
{
	return sluice_quic_hello_sni(&gathered, out, outlen);
}

/* Chrome's post-quantum hello: two Initials, the name in neither's start. */
static void hello_over_two_initials_is_named_when_whole(void **state)
{
	uint8_t hello[512];
	size_t hn = rfc_hello(hello);
	char out[256];

	(void)state;
	sluice_quic_hello_reset(&gathered);
	assert_int_equal(read_part(rfc_dcid, 0, 40), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	assert_string_equal(out, "");
	assert_int_equal(read_part(rfc_dcid, 40, hn - 40), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

/*
 * Three Initials, last first, one sent twice, two overlapping: judged
 * only once the hello's length is there from its first byte, even when
 * the name was readable before.
 */
static void three_initials_out_of_order_duplicated_and_overlapping(void **state)
{
	uint8_t hello[512];
	size_t hn = rfc_hello(hello);
	char out[256];

	(void)state;
	sluice_quic_hello_reset(&gathered);
	assert_int_equal(read_part(rfc_dcid, 150, hn - 150), 1);
	assert_int_equal(read_part(rfc_dcid, 150, hn - 150), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	assert_int_equal(read_part(rfc_dcid, 0, 100), 1);
	/* The name is in [0, 100), the hello is not whole: wait. */
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	assert_string_equal(out, "");
	assert_int_equal(read_part(rfc_dcid, 60, 120), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
}

/* Coalesced Initials (RFC 9000 12.2): every one of the connection is read. */
static void coalesced_initials_are_all_read(void **state)
{
	static uint8_t d[3 * QUIC_BUILT_LEN];
	uint8_t hello[512];
	size_t hn = rfc_hello(hello), n;
	char out[256];

	(void)state;
	n = quic_hello_part(rfc_dcid, 0, 40, 0, d);
	n += quic_hello_part(rfc_dcid, 40, hn - 40, 1, d + n);
	assert_int_equal(sluice_quic_sni(d, n, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
	/* Then zeros: padding after the packets, not read. */
	memset(d + n, 0, QUIC_BUILT_LEN);
	assert_int_equal(sluice_quic_sni(d, n + QUIC_BUILT_LEN, out, sizeof(out)),
			 SLUICE_SNI_FOUND);
	/* A coalesced packet of another connection: which one names it? */
	n = quic_hello_part(rfc_dcid, 0, hn, 0, d);
	n += quic_hello_part(other_dcid, 0, hn, 0, d + n);
	assert_int_equal(sluice_quic_sni(d, n, out, sizeof(out)), SLUICE_QUIC_UNREADABLE);
}

/* The rest of the hello under another DCID is another connection's. */
static void a_dcid_change_is_unreadable(void **state)
{
	uint8_t hello[512];
	size_t hn = rfc_hello(hello);

	(void)state;
	sluice_quic_hello_reset(&gathered);
	assert_int_equal(read_part(rfc_dcid, 0, 40), 1);
	assert_int_equal(read_part(other_dcid, 40, hn - 40), SLUICE_QUIC_UNREADABLE);
	/* Not an Initial at all: nothing read, nothing changed. */
	assert_int_equal(sluice_quic_read(&gathered, (const uint8_t *)"hello", 5), 0);
	assert_int_equal(gathered.dcid_len, sizeof(rfc_dcid));
}

/* A hello byte sent again with another value, in a later datagram. */
static void a_byte_given_again_differently_is_unreadable(void **state)
{
	uint8_t hello[512], pl[600], pkt[QUIC_BUILT_LEN];
	size_t hn = rfc_hello(hello), n;

	(void)state;
	sluice_quic_hello_reset(&gathered);
	assert_int_equal(read_part(rfc_dcid, 0, 80), 1);
	hello[70] ^= 1;
	n = quic_build(pl, crypto_frame(pl, hello + 60, 60, hn - 60), 1, pkt);
	assert_int_equal(sluice_quic_read(&gathered, pkt, n), SLUICE_QUIC_UNREADABLE);
}

/*
 * A hello that cannot be whole within SLUICE_QUIC_BYTES is unreadable at
 * once; CRYPTO bytes past the bound are not kept, and do not make a hello
 * that fits unreadable.
 */
static void a_hello_longer_than_the_bound_is_unreadable(void **state)
{
	uint8_t hello[512], pl[600], pkt[QUIC_BUILT_LEN];
	size_t hn = rfc_hello(hello), n;
	char out[256];

	(void)state;
	sluice_quic_hello_reset(&gathered);
	assert_int_equal(read_part(rfc_dcid, 0, 40), 1);
	n = crypto_frame(pl, hello, SLUICE_QUIC_BYTES - 10, 100);
	n = quic_build(pl, n, 1, pkt);
	assert_int_equal(sluice_quic_read(&gathered, pkt, n), 1);
	assert_int_equal(read_part(rfc_dcid, 40, hn - 40), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_FOUND);
	/* handshake length 16381: 4 + 16381 > 16384 */
	sluice_quic_hello_reset(&gathered);
	hello[1] = 0x00, hello[2] = 0x3f, hello[3] = 0xfd;
	n = quic_build(pl, crypto_frame(pl, hello, 0, 40), 0, pkt);
	assert_int_equal(sluice_quic_read(&gathered, pkt, n), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_QUIC_UNREADABLE);
	/* 4 + 16380 fits: it waits for the rest. */
	sluice_quic_hello_reset(&gathered);
	hello[3] = 0xfc;
	n = quic_build(pl, crypto_frame(pl, hello, 0, 40), 0, pkt);
	assert_int_equal(sluice_quic_read(&gathered, pkt, n), 1);
	assert_int_equal(gathered_sni(out, sizeof(out)), SLUICE_SNI_TRUNCATED);
}

/*
 * The cipher contexts belong to the thread that read: made once, freed
 * when it exits (LeakSanitizer fails the binary otherwise).
 */
static void *read_in_a_thread(void *arg)
{
	uint8_t pkt[1200];
	char out[256];
	size_t n = rfc_packet(pkt);
	int i;

	for (i = 0; i < 3; i++)
		if (sluice_quic_sni(pkt, n, out, sizeof(out)) != SLUICE_SNI_FOUND)
			return arg;
	return NULL;
}

static void threads_free_their_cipher_contexts(void **state)
{
	static int failed;
	pthread_t t[4];
	void *rc;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, read_in_a_thread, &failed), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(initial_keys_are_those_of_rfc9001_a1),
		cmocka_unit_test(rfc9001_a2_client_initial_names_example_com),
		cmocka_unit_test(rfc_packet_cut_or_flipped_is_never_read),
		cmocka_unit_test(bytes_after_the_packets_are_ignored),
		cmocka_unit_test(a_length_beyond_any_datagram_is_refused),
		cmocka_unit_test(other_packets_are_not_initials),
		cmocka_unit_test(built_initial_matches_the_parser),
		cmocka_unit_test(crypto_frames_out_of_order_are_joined),
		cmocka_unit_test(hello_over_two_initials_is_truncated),
		cmocka_unit_test(conflicting_or_unknown_frames_are_refused),
		cmocka_unit_test(hello_over_two_initials_is_named_when_whole),
		cmocka_unit_test(three_initials_out_of_order_duplicated_and_overlapping),
		cmocka_unit_test(coalesced_initials_are_all_read),
		cmocka_unit_test(a_dcid_change_is_unreadable),
		cmocka_unit_test(a_byte_given_again_differently_is_unreadable),
		cmocka_unit_test(a_hello_longer_than_the_bound_is_unreadable),
		cmocka_unit_test(threads_free_their_cipher_contexts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
