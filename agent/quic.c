// SPDX-License-Identifier: GPL-2.0
/* The SNI of a QUIC v1 client Initial packet: see quic.h. */
#include "agent/quic.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "agent/sni.h"

#define QUIC_LONG_HEADER	0x80
#define QUIC_TYPE_INITIAL	0		/* v1 long packet types */
#define QUIC_TYPE_RETRY		3
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
 * Per thread, not on the stack: a datagram's plaintext can be 64 KiB (an
 * Initial is only bounded by the UDP payload, and reading less would let
 * a big one pass unnamed); @one is what sluice_quic_sni() gathers.
 */
static _Thread_local uint8_t quic_plain[QUIC_UDP_MAX];
static _Thread_local struct sluice_quic_hello quic_one;

/*
 * The cipher contexts of this thread, made on its first Initial and
 * freed by quic_ciphers_free() when it exits (a pthread key's destructor;
 * the key itself lives as long as the process).
 */
struct quic_ciphers {
	EVP_CIPHER_CTX *gcm;		/* payload, AES-128-GCM */
	EVP_CIPHER_CTX *ecb;		/* header protection, AES-128-ECB */
};
static _Thread_local struct quic_ciphers quic_ciphers;
static pthread_key_t quic_ciphers_key;
static pthread_once_t quic_ciphers_once = PTHREAD_ONCE_INIT;
static int quic_ciphers_keyed;

static void quic_ciphers_free(void *arg)
{
	struct quic_ciphers *c = arg;

	EVP_CIPHER_CTX_free(c->gcm);
	EVP_CIPHER_CTX_free(c->ecb);
	c->gcm = NULL;
	c->ecb = NULL;
}

static void quic_ciphers_key_create(void)
{
	quic_ciphers_keyed = pthread_key_create(&quic_ciphers_key, quic_ciphers_free) == 0;
}

/* This thread's contexts, or NULL when they cannot be had. */
static struct quic_ciphers *ciphers(void)
{
	struct quic_ciphers *c = &quic_ciphers;

	if (c->gcm)
		return c;
	pthread_once(&quic_ciphers_once, quic_ciphers_key_create);
	if (!quic_ciphers_keyed)
		return NULL;
	c->gcm = EVP_CIPHER_CTX_new();
	c->ecb = EVP_CIPHER_CTX_new();
	if (!c->gcm || !c->ecb ||
	    pthread_setspecific(quic_ciphers_key, c) != 0) {
		quic_ciphers_free(c);
		return NULL;
	}
	return c;
}

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
static int hp_mask(EVP_CIPHER_CTX *c, const uint8_t hp[16], const uint8_t *sample,
		   uint8_t mask[16])
{
	int n = 0;

	return EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) > 0 &&
	       EVP_CIPHER_CTX_set_padding(c, 0) > 0 &&
	       EVP_EncryptUpdate(c, mask, &n, sample, QUIC_SAMPLE_LEN) > 0 &&
	       n == QUIC_SAMPLE_LEN ? 0 : -1;
}

/*
 * Open the AES-128-GCM payload @ct (@ctlen bytes, then the tag) into
 * @plain. The AAD is the unprotected header: @first, the header bytes
 * @hdr (after the first byte, up to the packet number) and @pn.
 */
static int open_payload(EVP_CIPHER_CTX *c, const struct sluice_quic_keys *k,
			uint8_t first, const uint8_t *hdr, size_t hdrlen,
			const uint8_t *pn, size_t pnlen,
			const uint8_t *ct, size_t ctlen, uint8_t *plain)
{
	uint8_t nonce[12];
	int n, ok;
	size_t i;

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
	return ok ? 0 : -1;
}

/*
 * Put the CRYPTO frame's @n bytes at @off into @h. Bytes at or past
 * SLUICE_QUIC_BYTES are not kept (a hello that needs them is refused by
 * sluice_quic_hello_sni()). -1 when a byte already placed is given again
 * with another value: which one would the server believe?
 */
static int place(struct sluice_quic_hello *h, uint64_t off,
		 const uint8_t *data, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n && off + i < SLUICE_QUIC_BYTES; i++) {
		size_t at = (size_t)(off + i);
		uint8_t bit = (uint8_t)(1u << (at % 8));

		if (h->have[at / 8] & bit) {
			if (h->bytes[at] != data[i])
				return -1;
			continue;
		}
		h->bytes[at] = data[i];
		h->have[at / 8] |= bit;
	}
	return 0;
}

/* Read the frames of @p (@len bytes); the CRYPTO data goes to place(). */
static int frames(struct sluice_quic_hello *h, const uint8_t *p, size_t len)
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
			if (place(h, a, p + pos, n) < 0)
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
static size_t contiguous(const struct sluice_quic_hello *h)
{
	size_t n = 0;

	while (n < SLUICE_QUIC_BYTES && h->have[n / 8] == 0xff)
		n += 8;
	while (n < SLUICE_QUIC_BYTES && (h->have[n / 8] & (1u << (n % 8))))
		n++;
	return n;
}

int sluice_quic_is_long_v1(const uint8_t *d, size_t len)
{
	return len >= 5 && (d[0] & QUIC_LONG_HEADER) &&
	       ((uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4]) ==
	       SLUICE_QUIC_V1;
}

/* The clear parts of one v1 long header packet that has a Length field. */
struct quic_packet {
	unsigned int type;		/* QUIC_TYPE_* */
	const uint8_t *dcid;
	size_t dcid_len;
	size_t pn_off;			/* where the packet number starts */
	size_t end;			/* its length, header included */
};

/*
 * The long header at the start of @d (RFC 9000 17.2): an Initial, 0-RTT
 * or Handshake packet of version 1 that fits in @len bytes. 0 or -1.
 */
static int long_header(const uint8_t *d, size_t len, struct quic_packet *pk)
{
	size_t pos = 5, scid_len;
	uint64_t tok = 0, plen;

	if (len < 7 || !sluice_quic_is_long_v1(d, len))
		return -1;
	pk->type = (d[0] >> 4) & 3;
	if (pk->type == QUIC_TYPE_RETRY)
		return -1;		/* no Length: never the client's */
	pk->dcid_len = d[pos++];
	if (pk->dcid_len > SLUICE_QUIC_CID_MAX || pk->dcid_len >= len - pos)
		return -1;
	pk->dcid = d + pos;
	pos += pk->dcid_len;
	scid_len = d[pos++];
	if (scid_len > SLUICE_QUIC_CID_MAX || scid_len > len - pos)
		return -1;
	pos += scid_len;
	if (pk->type == QUIC_TYPE_INITIAL &&
	    (varint(d, len, &pos, &tok) < 0 || tok > len - pos))
		return -1;
	pos += (size_t)tok;
	if (varint(d, len, &pos, &plen) < 0 || plen > len - pos ||
	    plen < QUIC_PN_MAX + QUIC_SAMPLE_LEN || plen > QUIC_UDP_MAX)
		return -1;
	pk->pn_off = pos;
	pk->end = pos + (size_t)plen;
	return 0;
}

/*
 * Open the Initial @p (header @pk) with @k and add its CRYPTO frames to
 * @h: 1, 0 when it does not authenticate, SLUICE_QUIC_UNREADABLE.
 */
static int read_initial(struct sluice_quic_hello *h, const struct sluice_quic_keys *k,
			const uint8_t *p, const struct quic_packet *pk)
{
	struct quic_ciphers *c = ciphers();
	uint8_t first, mask[16], pn[QUIC_PN_MAX];
	size_t plen = pk->end - pk->pn_off, pnlen, i;

	if (!c || hp_mask(c->ecb, k->hp, p + pk->pn_off + QUIC_PN_MAX, mask) < 0)
		return 0;
	first = p[0] ^ (mask[0] & 0x0f);
	pnlen = (size_t)(first & 3) + 1;
	for (i = 0; i < pnlen; i++)
		pn[i] = p[pk->pn_off + i] ^ mask[1 + i];
	if (plen < pnlen + QUIC_TAG_LEN ||
	    open_payload(c->gcm, k, first, p + 1, pk->pn_off - 1, pn, pnlen,
			 p + pk->pn_off + pnlen, plen - pnlen - QUIC_TAG_LEN,
			 quic_plain) < 0)
		return 0;
	if (frames(h, quic_plain, plen - pnlen - QUIC_TAG_LEN) < 0)
		return SLUICE_QUIC_UNREADABLE;
	return 1;
}

void sluice_quic_hello_reset(struct sluice_quic_hello *h)
{
	h->dcid_len = 0;
	memset(h->have, 0, sizeof(h->have));
}

static int same_dcid(const struct quic_packet *a, const uint8_t *dcid, size_t len)
{
	return a->dcid_len == len && !memcmp(a->dcid, dcid, len);
}

int sluice_quic_read(struct sluice_quic_hello *h, const uint8_t *d, size_t len)
{
	struct sluice_quic_keys fresh;
	const struct sluice_quic_keys *k = &h->keys;
	struct quic_packet first, pk;
	size_t pos = 0;
	int rc, read = 0;

	/* A client's first DCID is at least 8 bytes (RFC 9000 7.2). */
	if (long_header(d, len, &first) < 0 || first.type != QUIC_TYPE_INITIAL ||
	    first.dcid_len < 8)
		return 0;
	if (!h->dcid_len) {
		if (sluice_quic_initial_keys(first.dcid, first.dcid_len, &fresh) < 0)
			return 0;
		k = &fresh;
	} else if (!same_dcid(&first, h->dcid, h->dcid_len)) {
		return SLUICE_QUIC_UNREADABLE;	/* another connection's hello */
	}
	/* Every packet of the datagram, while they are v1 long headers. */
	for (pk = first; ; ) {
		if (!same_dcid(&pk, first.dcid, first.dcid_len))
			return SLUICE_QUIC_UNREADABLE;
		if (pk.type == QUIC_TYPE_INITIAL) {
			rc = read_initial(h, k, d + pos, &pk);
			if (rc < 0)
				return rc;
			read |= rc;
		}
		pos += pk.end;
		if (long_header(d + pos, len - pos, &pk) < 0)
			break;
	}
	if (read && !h->dcid_len) {
		memcpy(h->dcid, first.dcid, first.dcid_len);
		h->dcid_len = (uint8_t)first.dcid_len;
		h->keys = fresh;
	}
	return read;
}

int sluice_quic_hello_sni(const struct sluice_quic_hello *h, char *out, size_t outlen)
{
	size_t n = contiguous(h), total;
	int rc;

	if (outlen)
		out[0] = '\0';
	if (n >= 4) {
		/* A handshake message: type, 3-byte length, body. */
		total = 4 + ((size_t)h->bytes[1] << 16 | (size_t)h->bytes[2] << 8 |
			     h->bytes[3]);
		if (n >= total)
			return sluice_tls_hello_sni(h->bytes, total, out, outlen);
		if (total > SLUICE_QUIC_BYTES && h->bytes[0] == 1)
			return SLUICE_QUIC_UNREADABLE;
	}
	/* Not whole yet: judged once it is, unless it is no hello at all. */
	rc = sluice_tls_hello_sni(h->bytes, n, out, outlen);
	if (outlen)
		out[0] = '\0';
	return rc == SLUICE_SNI_NOT_HELLO ? rc : SLUICE_SNI_TRUNCATED;
}

int sluice_quic_sni(const uint8_t *d, size_t len, char *out, size_t outlen)
{
	int rc;

	if (outlen)
		out[0] = '\0';
	sluice_quic_hello_reset(&quic_one);
	rc = sluice_quic_read(&quic_one, d, len);
	if (rc <= 0)
		return rc < 0 ? rc : SLUICE_SNI_NOT_HELLO;
	return sluice_quic_hello_sni(&quic_one, out, outlen);
}
