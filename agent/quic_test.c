// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/quic.c: the client Initial of RFC 9001 Appendix A
 * (keys and the protected packet), the same cut and bit-flipped, and
 * Initials built here (quic_build(): the same protection, done with
 * libcrypto) whose ClientHello is split over CRYPTO frames and packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "agent/quic.h"
#include "agent/sni.h"
#include "tests/unit/quic_rfc9001_a2.h"


static const uint8_t rfc_dcid[] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

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

/* A datagram's packets after the first (coalesced) are not read. */
static void coalesced_packets_after_the_first_are_ignored(void **state)
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

/* The ClientHello of RFC 9001 A.2 (in its CRYPTO frame at offset 4). */
static size_t rfc_hello(uint8_t *out)
{
	static const char h[] =
		"010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
		"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
		"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
		"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
		"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
		"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
		"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
		"75300901100f088394c8f03e51570806048000ffff";

	return unhex(h, out, 512);
}

/* A CRYPTO frame carrying @n bytes of @hello from @off. */
static size_t crypto_frame(uint8_t *p, const uint8_t *hello, size_t off, size_t n)
{
	p[0] = 0x06;
	p[1] = (uint8_t)(0x40 | off >> 8);
	p[2] = (uint8_t)off;
	p[3] = (uint8_t)(0x40 | n >> 8);
	p[4] = (uint8_t)n;
	memcpy(p + 5, hello, n);
	return 5 + n;
}

/*
 * Protect the frames @pl (@n bytes, padded to 1162) as a client Initial
 * to the RFC's DCID with packet number @pn (2 bytes on the wire).
 */
static size_t quic_build(const uint8_t *pl, size_t n, unsigned int pn, uint8_t *out)
{
	static const uint8_t hdr[] = {
		0xc1, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
		0, 0, 0x44, 0x9e - 2,	/* length: 2-byte pn + 1162 + 16 */
	};
	struct sluice_quic_keys k;
	uint8_t plain[1162] = { 0 }, nonce[12], mask[16];
	size_t h = sizeof(hdr), i;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len;

	assert_true(n <= sizeof(plain));
	memcpy(plain, pl, n);
	assert_int_equal(sluice_quic_initial_keys(rfc_dcid, sizeof(rfc_dcid), &k), 0);
	memcpy(out, hdr, h);
	out[h] = (uint8_t)(pn >> 8);
	out[h + 1] = (uint8_t)pn;
	memcpy(nonce, k.iv, 12);
	nonce[10] ^= (uint8_t)(pn >> 8);
	nonce[11] ^= (uint8_t)pn;
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k.key, nonce) > 0);
	assert_true(EVP_EncryptUpdate(c, NULL, &len, out, (int)h + 2) > 0);
	assert_true(EVP_EncryptUpdate(c, out + h + 2, &len, plain, sizeof(plain)) > 0);
	assert_true(EVP_EncryptFinal_ex(c, out + h + 2 + sizeof(plain), &len) > 0);
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
					out + h + 2 + sizeof(plain)) > 0);
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k.hp, NULL) > 0);
	assert_true(EVP_EncryptUpdate(c, mask, &len, out + h + 4, 16) > 0);
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 2; i++)
		out[h + i] ^= mask[1 + i];
	return h + 2 + sizeof(plain) + 16;
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
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	/* STREAM frames have no place in an Initial. */
	n = crypto_frame(pl, hello, 0, hn);
	pl[n++] = 0x08;
	n = quic_build(pl, n, 0, pkt);
	assert_int_equal(sluice_quic_sni(pkt, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(initial_keys_are_those_of_rfc9001_a1),
		cmocka_unit_test(rfc9001_a2_client_initial_names_example_com),
		cmocka_unit_test(rfc_packet_cut_or_flipped_is_never_read),
		cmocka_unit_test(coalesced_packets_after_the_first_are_ignored),
		cmocka_unit_test(a_length_beyond_any_datagram_is_refused),
		cmocka_unit_test(other_packets_are_not_initials),
		cmocka_unit_test(built_initial_matches_the_parser),
		cmocka_unit_test(crypto_frames_out_of_order_are_joined),
		cmocka_unit_test(hello_over_two_initials_is_truncated),
		cmocka_unit_test(conflicting_or_unknown_frames_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
