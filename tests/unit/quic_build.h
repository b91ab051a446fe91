/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client Initials built for the unit tests (cmocka): the ClientHello of
 * RFC 9001 A.2 cut into CRYPTO frames, protected as RFC 9001 5 says with
 * libcrypto, so that a test can split a hello over frames and packets.
 */
#ifndef SLUICE_TEST_QUIC_BUILD_H
#define SLUICE_TEST_QUIC_BUILD_H

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/quic.h"

/* The DCID of RFC 9001 A.2. */
static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static inline size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

/* The ClientHello of RFC 9001 A.2 (SNI example.com), 241 bytes. */
static inline size_t rfc_hello(uint8_t *out)
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

/* A CRYPTO frame carrying @n bytes of @hello from @off (both < 16384). */
static inline size_t crypto_frame(uint8_t *p, const uint8_t *hello, size_t off, size_t n)
{
	p[0] = 0x06;
	p[1] = (uint8_t)(0x40 | off >> 8);
	p[2] = (uint8_t)off;
	p[3] = (uint8_t)(0x40 | n >> 8);
	p[4] = (uint8_t)n;
	memcpy(p + 5, hello, n);
	return 5 + n;
}

/* The size of what quic_build_dcid() writes: a 1200-byte datagram. */
#define QUIC_BUILT_LEN	1200

/*
 * Protect the frames @pl (@n bytes, padded to 1162) as a client Initial
 * to the 8-byte @dcid with packet number @pn (2 bytes on the wire).
 */
static inline size_t quic_build_dcid(const uint8_t *dcid, const uint8_t *pl, size_t n,
			      unsigned int pn, uint8_t *out)
{
	static const uint8_t hdr[] = {
		0xc1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0x44, 0x9e - 2,	/* length: 2-byte pn + 1162 + 16 */
	};
	struct sluice_quic_keys k;
	uint8_t plain[1162] = { 0 }, nonce[12], mask[16];
	size_t h = sizeof(hdr), i;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len;

	assert_true(n <= sizeof(plain));
	memcpy(plain, pl, n);
	assert_int_equal(sluice_quic_initial_keys(dcid, 8, &k), 0);
	memcpy(out, hdr, h);
	memcpy(out + 6, dcid, 8);
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

/* The same to the RFC's DCID. */
static inline size_t quic_build(const uint8_t *pl, size_t n, unsigned int pn,
				uint8_t *out)
{
	return quic_build_dcid(rfc_dcid, pl, n, pn, out);
}

/*
 * One Initial to @dcid carrying bytes [@off, @off + @n) of the RFC hello
 * in one CRYPTO frame: the way a hello is split over datagrams.
 */
static inline size_t quic_hello_part(const uint8_t *dcid, size_t off, size_t n,
			      unsigned int pn, uint8_t *out)
{
	uint8_t hello[512], pl[600];
	size_t hn = rfc_hello(hello);

	assert_true(off + n <= hn);
	return quic_build_dcid(dcid, pl, crypto_frame(pl, hello + off, off, n), pn, out);
}

/* Where quic_split() cuts the RFC hello: before its name (at 58). */
#define QUIC_SPLIT_AT	40

/* The RFC hello over two Initials to its DCID, cut before its name. */
struct quic_split {
	uint8_t a[QUIC_BUILT_LEN], b[QUIC_BUILT_LEN];
	size_t na, nb;
};

static inline void quic_split(struct quic_split *s)
{
	uint8_t hello[512];
	size_t hn = rfc_hello(hello);

	s->na = quic_hello_part(rfc_dcid, 0, QUIC_SPLIT_AT, 0, s->a);
	s->nb = quic_hello_part(rfc_dcid, QUIC_SPLIT_AT, hn - QUIC_SPLIT_AT, 1, s->b);
}

#endif
