// SPDX-License-Identifier: GPL-2.0
/*
 * UDP payloads read as QUIC Initials: sluice_quic_sni(). Most mutations
 * fail the AEAD tag, so the harness also protects the input itself as
 * the frames of a client Initial (first byte odd), which takes the fuzzer
 * into the frame and ClientHello parsers. Besides not crashing: a name
 * handed out is in normal form, and the result is one of sni.h's.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/quic.h"
#include "agent/sni.h"
#include "tests/fuzz/fuzz_name.h"

static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

/* @pl as the frames of a client Initial (2-byte packet number 0) in @out. */
static size_t protect(const uint8_t *pl, size_t n, uint8_t *out)
{
	struct sluice_quic_keys k;
	uint8_t nonce[12], mask[16];
	size_t h = 0, plen = 2 + n + 16;
	EVP_CIPHER_CTX *c;
	int len;

	if (n < 20 || plen > 0x3fff || sluice_quic_initial_keys(dcid, 8, &k) < 0)
		return 0;
	out[h++] = 0xc1;
	out[h++] = 0, out[h++] = 0, out[h++] = 0, out[h++] = 1;
	out[h++] = 8;
	memcpy(out + h, dcid, 8);
	h += 8;
	out[h++] = 0;			/* SCID */
	out[h++] = 0;			/* token */
	out[h++] = (uint8_t)(0x40 | plen >> 8), out[h++] = (uint8_t)plen;
	out[h++] = 0, out[h++] = 0;	/* packet number */
	memcpy(nonce, k.iv, 12);
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return 0;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k.key, nonce) <= 0 ||
	    EVP_EncryptUpdate(c, NULL, &len, out, (int)h) <= 0 ||
	    EVP_EncryptUpdate(c, out + h, &len, pl, (int)n) <= 0 ||
	    EVP_EncryptFinal_ex(c, out + h + n, &len) <= 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + h + n) <= 0 ||
	    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k.hp, NULL) <= 0 ||
	    EVP_EncryptUpdate(c, mask, &len, out + h + 2, 16) <= 0) {
		EVP_CIPHER_CTX_free(c);
		return 0;
	}
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	out[h - 2] ^= mask[1];
	out[h - 1] ^= mask[2];
	return h + n + 16;
}

static void check(const uint8_t *d, size_t len)
{
	char out[SLUICE_DNS_NAME_BUF];
	int rc = sluice_quic_sni(d, len, out, sizeof(out));

	FUZZ_CHECK(rc >= SLUICE_SNI_BAD_NAME && rc <= SLUICE_SNI_ECH);
	if (rc == SLUICE_SNI_FOUND)
		FUZZ_CHECK(out[0] != '\0');
	fuzz_check_name(out);
	(void)sluice_quic_sni(d, len, out, 4);
	(void)sluice_quic_sni(d, len, out, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint8_t pkt[16384 + 64];
	uint8_t *msg = fuzz_copy(data, len);
	size_t n;

	check(msg, len);
	free(msg);
	if (len > 1 && (data[0] & 1) && len - 1 <= 16384) {
		n = protect(data + 1, len - 1, pkt);
		if (n) {
			msg = fuzz_copy(pkt, n);
			check(msg, n);
			free(msg);
		}
	}
	return 0;
}
