// SPDX-License-Identifier: GPL-2.0
/* The SNI of a QUIC v1 client Initial packet: see quic.h. */
#include "agent/quic.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "agent/sni.h"

#define QUIC_LONG_HEADER	0x80
#define QUIC_TYPE_INITIAL	0		/* v1 long packet type */
#define QUIC_TAG_LEN		16
#define QUIC_SAMPLE_LEN		16
#define QUIC_PN_MAX		4
#define QUIC_UDP_MAX		65536		/* a UDP payload is shorter */

/* Frames allowed in an Initial packet (RFC 9000 12.4, 19). */
#define QUIC_FRAME_PADDING	0x00
#define QUIC_FRAME_PING		0x01
#define QUIC_FRAME_ACK		0x02
#define QUIC_FRAME_ACK_ECN	0x03
#define QUIC_FRAME_CRYPTO	0x06
#define QUIC_FRAME_CLOSE	0x1c

/* RFC 9001 5.2 */
static const uint8_t quic_v1_salt[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};

/*
 * Per thread, not on the stack: a datagram's plaintext and the hello put
 * together from its CRYPTO frames can each be 64 KiB (a Initial is only
 * bounded by the UDP payload, and reading less would let a big one pass
 * unnamed). @have marks the hello bytes that a frame filled.
 */
static _Thread_local struct {
	uint8_t plain[QUIC_UDP_MAX];
	uint8_t hello[QUIC_UDP_MAX];
	uint8_t have[QUIC_UDP_MAX / 8];
} quic_buf;

/* A variable-length integer (RFC 9000 16) at *pos; -1 when cut. */
static int varint(const uint8_t *d, size_t len, size_t *pos, uint64_t *v)
{
	size_t n, i;

	if (*pos >= len)
		return -1;
	n = (size_t)1 << (d[*pos] >> 6);
	if (n > len - *pos)
		return -1;
	*v = d[*pos] & 0x3f;
	for (i = 1; i < n; i++)
		*v = *v << 8 | d[*pos + i];
	*pos += n;
	return 0;
}

/* HKDF (RFC 5869) in @mode, with SHA-256. 0 or -1. */
static int hkdf(int mode, const uint8_t *salt, size_t saltlen,
		const uint8_t *key, size_t keylen,
		const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	int ok;

	if (!c)
		return -1;
	ok = EVP_PKEY_derive_init(c) > 0 &&
	     EVP_PKEY_CTX_set_hkdf_mode(c, mode) > 0 &&
	     EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) > 0 &&
	     (!salt || EVP_PKEY_CTX_set1_hkdf_salt(c, salt, (int)saltlen) > 0) &&
	     EVP_PKEY_CTX_set1_hkdf_key(c, key, (int)keylen) > 0 &&
	     (!info || EVP_PKEY_CTX_add1_hkdf_info(c, info, (int)infolen) > 0) &&
	     EVP_PKEY_derive(c, out, &outlen) > 0;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int expand_label(const uint8_t *secret, const char *label,
			uint8_t *out, size_t outlen)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t n = strlen(label), i = 0;

	if (6 + n > 255)
		return -1;
	info[i++] = (uint8_t)(outlen >> 8);
	info[i++] = (uint8_t)outlen;
	info[i++] = (uint8_t)(6 + n);
	memcpy(info + i, "tls13 ", 6);
	memcpy(info + i + 6, label, n);
	i += 6 + n;
	info[i++] = 0;
	return hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, secret, 32,
		    info, i, out, outlen);
}

int sluice_quic_initial_keys(const uint8_t *dcid, size_t dcid_len,
			     struct sluice_quic_keys *k)
{
	uint8_t initial[32];
	int rc;

	/* An empty key is fine for HKDF-Extract, not for OpenSSL's API. */
	static const uint8_t none[1];

	rc = hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, quic_v1_salt,
		  sizeof(quic_v1_salt), dcid_len ? dcid : none, dcid_len,
		  NULL, 0, initial, sizeof(initial));
	if (!rc)
		rc = expand_label(initial, "client in", k->secret, sizeof(k->secret));
	if (!rc)
		rc = expand_label(k->secret, "quic key", k->key, sizeof(k->key));
	if (!rc)
		rc = expand_label(k->secret, "quic iv", k->iv, sizeof(k->iv));
	if (!rc)
		rc = expand_label(k->secret, "quic hp", k->hp, sizeof(k->hp));
	return rc;
}

/* The header protection mask: AES-128-ECB of @sample (RFC 9001 5.4.3). */
static int hp_mask(const uint8_t hp[16], const uint8_t *sample, uint8_t mask[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!c)
		return -1;
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) > 0 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) > 0 &&
	     EVP_EncryptUpdate(c, mask, &n, sample, QUIC_SAMPLE_LEN) > 0 &&
	     n == QUIC_SAMPLE_LEN;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * Open the AES-128-GCM payload @ct (@ctlen bytes, then the tag) into
 * @plain. The AAD is the unprotected header: @first, the header bytes
 * @hdr (after the first byte, up to the packet number) and @pn.
 */
static int open_payload(const struct sluice_quic_keys *k, uint8_t first,
			const uint8_t *hdr, size_t hdrlen,
			const uint8_t *pn, size_t pnlen,
			const uint8_t *ct, size_t ctlen, uint8_t *plain)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int n, ok;
	size_t i;

	if (!c)
		return -1;
	memcpy(nonce, k->iv, sizeof(nonce));
	for (i = 0; i < pnlen; i++)
		nonce[sizeof(nonce) - pnlen + i] ^= pn[i];
	ok = EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) > 0 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) > 0 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) > 0 &&
	     EVP_DecryptUpdate(c, NULL, &n, &first, 1) > 0 &&
	     EVP_DecryptUpdate(c, NULL, &n, hdr, (int)hdrlen) > 0 &&
	     EVP_DecryptUpdate(c, NULL, &n, pn, (int)pnlen) > 0 &&
	     (ctlen == 0 || EVP_DecryptUpdate(c, plain, &n, ct, (int)ctlen) > 0) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
				 (void *)(ct + ctlen)) > 0 &&
	     EVP_DecryptFinal_ex(c, plain + ctlen, &n) > 0;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * Put the CRYPTO frame's @n bytes at @off into the hello buffer. Bytes
 * beyond it cannot join the hello's start within this datagram: ignored.
 * -1 when a byte already placed is given again with another value (which
 * would the server believe?).
 */
static int place(uint64_t off, const uint8_t *data, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n && off + i < QUIC_UDP_MAX; i++) {
		size_t at = (size_t)(off + i);
		uint8_t bit = (uint8_t)(1u << (at % 8));

		if (quic_buf.have[at / 8] & bit) {
			if (quic_buf.hello[at] != data[i])
				return -1;
			continue;
		}
		quic_buf.hello[at] = data[i];
		quic_buf.have[at / 8] |= bit;
	}
	return 0;
}

/* Read the frames of @p (@len bytes); the CRYPTO data goes to place(). */
static int frames(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	uint64_t type, a, b, n, i;

	while (pos < len) {
		if (varint(p, len, &pos, &type) < 0)
			return -1;
		switch (type) {
		case QUIC_FRAME_PADDING:
		case QUIC_FRAME_PING:
			break;
		case QUIC_FRAME_ACK:
		case QUIC_FRAME_ACK_ECN:
			/* largest, delay, range count, first range, ranges */
			if (varint(p, len, &pos, &a) < 0 || varint(p, len, &pos, &a) < 0 ||
			    varint(p, len, &pos, &n) < 0 || varint(p, len, &pos, &a) < 0)
				return -1;
			if (n > len)
				return -1;
			for (i = 0; i < n; i++)
				if (varint(p, len, &pos, &a) < 0 || varint(p, len, &pos, &b) < 0)
					return -1;
			if (type == QUIC_FRAME_ACK_ECN)
				for (i = 0; i < 3; i++)
					if (varint(p, len, &pos, &a) < 0)
						return -1;
			break;
		case QUIC_FRAME_CRYPTO:
			if (varint(p, len, &pos, &a) < 0 || varint(p, len, &pos, &n) < 0 ||
			    n > len - pos || a > (1ull << 62) - 1 - n)
				return -1;
			if (place(a, p + pos, n) < 0)
				return -1;
			pos += (size_t)n;
			break;
		case QUIC_FRAME_CLOSE:
			/* error code, frame type, reason phrase */
			if (varint(p, len, &pos, &a) < 0 || varint(p, len, &pos, &a) < 0 ||
			    varint(p, len, &pos, &n) < 0 || n > len - pos)
				return -1;
			pos += (size_t)n;
			break;
		default:
			return -1;	/* not allowed in an Initial */
		}
	}
	return 0;
}

/* How many hello bytes, from the first, the frames filled. */
static size_t contiguous(void)
{
	size_t n = 0;

	while (n < QUIC_UDP_MAX && quic_buf.have[n / 8] == 0xff)
		n += 8;
	while (n < QUIC_UDP_MAX && (quic_buf.have[n / 8] & (1u << (n % 8))))
		n++;
	return n;
}

int sluice_quic_is_long_v1(const uint8_t *d, size_t len)
{
	return len >= 5 && (d[0] & QUIC_LONG_HEADER) &&
	       ((uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4]) ==
	       SLUICE_QUIC_V1;
}

int sluice_quic_sni(const uint8_t *d, size_t len, char *out, size_t outlen)
{
	struct sluice_quic_keys k;
	uint8_t first, mask[16], pn[QUIC_PN_MAX];
	size_t pos, dcid_len, scid_len, pn_off, pnlen, i, hello;
	uint64_t tok, plen;

	if (outlen)
		out[0] = '\0';
	/* Long header, version 1, type Initial (RFC 9000 17.2, 17.2.2). */
	if (len < 7 || !sluice_quic_is_long_v1(d, len) ||
	    ((d[0] >> 4) & 3) != QUIC_TYPE_INITIAL)
		return SLUICE_SNI_NOT_HELLO;
	pos = 5;
	dcid_len = d[pos++];
	/* A client's first DCID is at least 8 bytes (RFC 9000 7.2). */
	if (dcid_len < 8 || dcid_len > SLUICE_QUIC_CID_MAX || dcid_len >= len - pos)
		return SLUICE_SNI_NOT_HELLO;
	pos += dcid_len;
	scid_len = d[pos++];
	if (scid_len > SLUICE_QUIC_CID_MAX || scid_len > len - pos)
		return SLUICE_SNI_NOT_HELLO;
	pos += scid_len;
	if (varint(d, len, &pos, &tok) < 0 || tok > len - pos)
		return SLUICE_SNI_NOT_HELLO;
	pos += (size_t)tok;
	if (varint(d, len, &pos, &plen) < 0 || plen > len - pos ||
	    plen < QUIC_PN_MAX + QUIC_SAMPLE_LEN || plen > QUIC_UDP_MAX)
		return SLUICE_SNI_NOT_HELLO;
	pn_off = pos;

	if (sluice_quic_initial_keys(d + 6, dcid_len, &k) < 0 ||
	    hp_mask(k.hp, d + pn_off + QUIC_PN_MAX, mask) < 0)
		return SLUICE_SNI_NOT_HELLO;
	first = d[0] ^ (mask[0] & 0x0f);
	pnlen = (size_t)(first & 3) + 1;
	for (i = 0; i < pnlen; i++)
		pn[i] = d[pn_off + i] ^ mask[1 + i];
	if (plen < pnlen + QUIC_TAG_LEN)
		return SLUICE_SNI_NOT_HELLO;
	if (open_payload(&k, first, d + 1, pn_off - 1, pn, pnlen, d + pn_off + pnlen,
			 (size_t)plen - pnlen - QUIC_TAG_LEN, quic_buf.plain) < 0)
		return SLUICE_SNI_NOT_HELLO;

	memset(quic_buf.have, 0, sizeof(quic_buf.have));
	if (frames(quic_buf.plain, (size_t)plen - pnlen - QUIC_TAG_LEN) < 0)
		return SLUICE_SNI_NOT_HELLO;
	hello = contiguous();
	return sluice_tls_hello_sni(quic_buf.hello, hello, out, outlen);
}
