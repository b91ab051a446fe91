// SPDX-License-Identifier: GPL-2.0
/*
 * UDP payloads read as QUIC Initials: sluice_quic_sni(). Most mutations
 * fail the AEAD tag, so the harness also protects the input itself as
 * the frames of a client Initial (first byte odd), which takes the fuzzer
 * into the frame and ClientHello parsers.
 *
 * With the first byte's bit 1 set, the rest is several datagrams of one
 * flow, each "length (2 bytes), flags (1 byte), bytes": flags bit 0
 * protects the bytes as an Initial's frames (packet number: the
 * datagram's index), bit 1 to another DCID, bit 2 makes it a reply from
 * the server. They go through the join of quic_join.h and through
 * sluice_quic_read() into one gathered hello.
 *
 * Besides not crashing: a name handed out is in normal form, and the
 * result is one of sni.h's (or SLUICE_QUIC_UNREADABLE), one of
 * SLUICE_NAMING_* for the join.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent/quic.h"
#include "agent/quic_join.h"
#include "agent/sni.h"
#include "tests/fuzz/fuzz_name.h"

static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t other_dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* @pl as the frames of a client Initial to @dcid, packet number @pn. */
static size_t protect_to(const uint8_t *dcid, unsigned int pn,
			 const uint8_t *pl, size_t n, uint8_t *out)
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
	out[h++] = (uint8_t)(pn >> 8), out[h++] = (uint8_t)pn;
	memcpy(nonce, k.iv, 12);
	nonce[10] ^= (uint8_t)(pn >> 8);
	nonce[11] ^= (uint8_t)pn;
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

static size_t protect(const uint8_t *pl, size_t n, uint8_t *out)
{
	return protect_to(rfc_dcid, 0, pl, n, out);
}

static void check(const uint8_t *d, size_t len)
{
	char out[SLUICE_DNS_NAME_BUF];
	int rc = sluice_quic_sni(d, len, out, sizeof(out));

	FUZZ_CHECK(rc >= SLUICE_QUIC_UNREADABLE && rc <= SLUICE_SNI_ECH);
	if (rc == SLUICE_SNI_FOUND)
		FUZZ_CHECK(out[0] != '\0');
	fuzz_check_name(out);
	(void)sluice_quic_sni(d, len, out, 4);
	(void)sluice_quic_sni(d, len, out, 0);
}

/* One datagram of flow @sport: through the join and into @gathered. */
static void feed(struct sluice_quic_join *t, struct sluice_quic_hello *gathered,
		 uint16_t sport, const uint8_t *d, size_t len, int reply, uint64_t now)
{
	struct sluice_flow f = { .family = 2 /* AF_INET */, .proto = 17,
				 .sport = sport, .dport = 443 };
	char out[SLUICE_DNS_NAME_BUF];
	int rc;

	if (reply) {
		rc = sluice_quic_join_reply(t, &f, now);
		FUZZ_CHECK(rc == SLUICE_NAMING_HOLD || rc == SLUICE_NAMING_UNREADABLE);
		return;
	}
	rc = sluice_quic_join_feed(t, &f, d, len, 0, now, out, sizeof(out));
	FUZZ_CHECK(rc >= SLUICE_NAMING_NAMED && rc <= SLUICE_NAMING_UNREADABLE);
	FUZZ_CHECK(rc == SLUICE_NAMING_NAMED || out[0] == '\0' ||
		   rc == SLUICE_NAMING_NO_NAME);
	fuzz_check_name(out);
	rc = sluice_quic_read(gathered, d, len);
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == SLUICE_QUIC_UNREADABLE);
	if (rc < 0) {
		sluice_quic_hello_reset(gathered);
		return;
	}
	rc = sluice_quic_hello_sni(gathered, out, sizeof(out));
	FUZZ_CHECK(rc >= SLUICE_QUIC_UNREADABLE && rc <= SLUICE_SNI_ECH);
	fuzz_check_name(out);
}

/*
 * One table for every input (made once: 4.7 MiB), each input a new flow
 * and a later time, so that what earlier inputs left has expired.
 */
static void several(const uint8_t *data, size_t len)
{
	static uint8_t pkt[16384 + 64];
	static struct sluice_quic_hello gathered;
	static struct sluice_quic_join t;
	static uint64_t runs;
	uint64_t base = ++runs * 2 * SLUICE_QUIC_TTL_MS;
	unsigned int i = 0;
	size_t n, pos = 0;
	uint8_t *msg;

	if (!t.hello && sluice_quic_join_init(&t) < 0)
		return;
	sluice_quic_hello_reset(&gathered);
	while (len - pos >= 3 && i < 64) {
		const uint8_t *d = data + pos + 3;
		uint8_t flags = data[pos + 2];

		n = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 3;
		if (n > len - pos)
			n = len - pos;
		pos += n;
		if (flags & 1) {
			n = protect_to(flags & 2 ? other_dcid : rfc_dcid, i, d, n, pkt);
			d = pkt;
		}
		msg = fuzz_copy(d, n);
		feed(&t, &gathered, (uint16_t)runs, msg, n, flags & 4, base + 100 * i);
		free(msg);
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint8_t pkt[16384 + 64];
	uint8_t *msg = fuzz_copy(data, len);
	size_t n;

	check(msg, len);
	free(msg);
	if (len > 1 && (data[0] & 2)) {
		several(data + 1, len - 1);
		return 0;
	}
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
