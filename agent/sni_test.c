// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of agent/sni.c: ClientHellos captured from real clients
 * (openssl s_client and curl against a listener on 127.0.0.1), cut at every
 * length, split over TLS records and TCP segments, with ECH, without SNI;
 * HTTP/1 requests and the Host header's variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/sni.h"

/* openssl s_client -servername Www.Example.TEST (OpenSSL 3.0.19), as captured on loopback (322 bytes) */
static const uint8_t hello_openssl[] = {
	0x16, 0x03, 0x01, 0x01, 0x3d, 0x01, 0x00, 0x01, 0x39, 0x03, 0x03, 0xbd,
	0xab, 0x53, 0x7b, 0xae, 0x8c, 0x79, 0x57, 0x52, 0xa4, 0x24, 0x50, 0x3b,
	0xad, 0x4a, 0xee, 0xc3, 0x71, 0xc1, 0x49, 0xc4, 0xe8, 0xb0, 0xb9, 0x84,
	0x29, 0xc6, 0xec, 0x91, 0x7c, 0xc6, 0xf7, 0x20, 0x35, 0xef, 0x80, 0x2c,
	0xa5, 0xb0, 0x7a, 0x55, 0x81, 0xa1, 0x6d, 0x88, 0x38, 0x5b, 0x4e, 0xd7,
	0x8c, 0xa3, 0x71, 0xfb, 0xd5, 0x51, 0x8b, 0x1b, 0x90, 0x11, 0xcd, 0x7a,
	0xcc, 0x38, 0xce, 0x46, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb2,
	0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00, 0x10, 0x57, 0x77, 0x77,
	0x2e, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x54, 0x45, 0x53,
	0x54, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00,
	0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00,
	0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00,
	0x23, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00,
	0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08,
	0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08,
	0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03,
	0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00,
	0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01, 0x00, 0x2d,
	0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d,
	0x00, 0x20, 0xf2, 0xc1, 0xf0, 0x15, 0x9d, 0x6d, 0x7e, 0x4f, 0x1e, 0x6b,
	0xf2, 0x88, 0x1b, 0x70, 0x84, 0x52, 0x4c, 0xf5, 0xf9, 0x94, 0xa2, 0x06,
	0x2f, 0xf1, 0x10, 0x65, 0x77, 0x20, 0x7c, 0xef, 0xf6, 0x6d,
};

/* curl https://curl.example.test/ (curl 7.88, OpenSSL 3.0), as captured on loopback (517 bytes) */
static const uint8_t hello_curl[] = {
	0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xbb,
	0x48, 0x96, 0x64, 0xbc, 0x1c, 0x36, 0x30, 0x6c, 0x96, 0x4b, 0x60, 0x87,
	0xbf, 0x78, 0x9e, 0x25, 0x41, 0x91, 0xe5, 0x35, 0x2c, 0xce, 0x90, 0x13,
	0x75, 0x4c, 0xad, 0x76, 0xa7, 0xcd, 0x5b, 0x20, 0xda, 0xe9, 0x0e, 0x33,
	0x52, 0xbc, 0xca, 0x30, 0x46, 0x2a, 0x8b, 0xe0, 0x76, 0x2b, 0x81, 0x34,
	0x51, 0x01, 0x96, 0xdc, 0x0f, 0x36, 0xab, 0xd7, 0x27, 0x6d, 0x56, 0xc1,
	0xd0, 0xd2, 0xa3, 0xbe, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x01, 0x75,
	0x00, 0x00, 0x00, 0x16, 0x00, 0x14, 0x00, 0x00, 0x11, 0x63, 0x75, 0x72,
	0x6c, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65,
	0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a,
	0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19,
	0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04,
	0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74,
	0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17,
	0x00, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28,
	0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09,
	0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01,
	0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02,
	0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03,
	0x03, 0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00,
	0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0xe3, 0x85, 0x7f,
	0x7e, 0x51, 0xf2, 0xba, 0x9a, 0x0d, 0x75, 0x30, 0xf2, 0x13, 0xf0, 0xd2,
	0xc4, 0x57, 0x79, 0xc2, 0x56, 0x85, 0x44, 0x91, 0x68, 0x95, 0x0f, 0x48,
	0x76, 0x6c, 0xd0, 0x2e, 0x6b, 0x00, 0x15, 0x00, 0xac, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

/* openssl s_client -noservername, as captured on loopback (297 bytes) */
static const uint8_t hello_openssl_nosni[] = {
	0x16, 0x03, 0x01, 0x01, 0x24, 0x01, 0x00, 0x01, 0x20, 0x03, 0x03, 0x31,
	0x66, 0x5d, 0x93, 0xe3, 0x3a, 0x55, 0x55, 0x97, 0xa8, 0x2e, 0xf8, 0xdc,
	0xbe, 0xdc, 0x1d, 0x46, 0xc7, 0x8a, 0x12, 0xd0, 0x52, 0x11, 0x1d, 0x51,
	0xa7, 0x1f, 0xaf, 0x86, 0x09, 0xfd, 0x97, 0x20, 0xd1, 0xea, 0xbb, 0x9f,
	0x14, 0x39, 0x4a, 0x5c, 0x01, 0x39, 0xcb, 0xbc, 0xcc, 0x72, 0x5a, 0xd2,
	0xdb, 0x8e, 0xc7, 0xaa, 0x47, 0xd3, 0xbc, 0x2d, 0x4e, 0x0e, 0xa3, 0x53,
	0x17, 0xe2, 0x27, 0x5b, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0x99,
	0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16,
	0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
	0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23,
	0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d,
	0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07,
	0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05,
	0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01,
	0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09,
	0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00,
	0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00,
	0x20, 0x04, 0x36, 0x8a, 0xf6, 0x16, 0xe7, 0x47, 0x88, 0xdd, 0xec, 0x6d,
	0xe7, 0x1d, 0xbe, 0x05, 0x44, 0xa8, 0xf1, 0x4c, 0x8b, 0x64, 0x7a, 0x55,
	0xa0, 0x7c, 0x98, 0xe7, 0x76, 0xb0, 0xb5, 0xbb, 0x04,
};

/* Offset of the extensions' length in a one-record hello. */
static size_t ext_len_offset(const uint8_t *h)
{
	size_t p = 5 + 4 + 2 + 32;

	p += 1 + h[p];				/* session id */
	p += 2 + (size_t)(h[p] << 8 | h[p + 1]);	/* cipher suites */
	p += 1 + h[p];				/* compression */
	return p;
}

static void add_len(uint8_t *p, size_t bytes, size_t add)
{
	size_t v = 0, i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	v += add;
	for (i = bytes; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * @base (a one-record hello) with @ext inserted as the first extension
 * (@first) or appended as the last; lengths fixed up. Returns the length.
 */
static size_t with_extension(const uint8_t *base, size_t blen, const uint8_t *ext,
			     size_t elen, int first, uint8_t *out)
{
	size_t at = ext_len_offset(base);
	size_t ins = first ? at + 2 : blen;

	memcpy(out, base, ins);
	memcpy(out + ins, ext, elen);
	memcpy(out + ins + elen, base + ins, blen - ins);
	add_len(out + 3, 2, elen);
	add_len(out + 6, 3, elen);
	add_len(out + at, 2, elen);
	return blen + elen;
}

/* The handshake of a one-record hello re-framed in records of @chunk bytes. */
static size_t reframe(const uint8_t *h, size_t hlen, size_t chunk, uint8_t *out)
{
	size_t n = 0, p;

	for (p = 5; p < hlen; p += chunk) {
		size_t c = hlen - p < chunk ? hlen - p : chunk;

		out[n++] = 22;
		out[n++] = 3;
		out[n++] = 1;
		out[n++] = (uint8_t)(c >> 8);
		out[n++] = (uint8_t)c;
		memcpy(out + n, h + p, c);
		n += c;
	}
	return n;
}

/* An extension: type, then a body of @n bytes of @fill. */
static size_t ext(uint8_t *out, uint16_t type, size_t n, uint8_t fill)
{
	out[0] = (uint8_t)(type >> 8);
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	memset(out + 4, fill, n);
	return 4 + n;
}

/* A server_name extension with one host_name. */
static size_t sni_ext(uint8_t *out, const char *name)
{
	size_t l = strlen(name);

	out[0] = 0;
	out[1] = 0;
	out[2] = (uint8_t)((l + 5) >> 8);
	out[3] = (uint8_t)(l + 5);
	out[4] = (uint8_t)((l + 3) >> 8);
	out[5] = (uint8_t)(l + 3);
	out[6] = 0;
	out[7] = (uint8_t)(l >> 8);
	out[8] = (uint8_t)l;
	memcpy(out + 9, name, l);
	return 9 + l;
}

/* Call the parser on an exact-size heap copy, so ASan sees any overread. */
static int sni_exact(const uint8_t *d, size_t len, char *out, size_t outlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, d, len);
	rc = sluice_tls_sni(copy, len, out, outlen);
	free(copy);
	return rc;
}

static int host_exact(const char *d, size_t len, char *out, size_t outlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, d, len);
	rc = sluice_http_host(copy, len, out, outlen);
	free(copy);
	return rc;
}

static int host_of(const char *req, char *out)
{
	return host_exact(req, strlen(req), out, 256);
}

static void sni_from_real_client_hellos(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(sni_exact(hello_openssl, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_FOUND);
	assert_string_equal(out, "www.example.test");
	assert_int_equal(sni_exact(hello_curl, sizeof(hello_curl), out, sizeof(out)),
			 SLUICE_SNI_FOUND);
	assert_string_equal(out, "curl.example.test");
	assert_int_equal(sni_exact(hello_openssl_nosni, sizeof(hello_openssl_nosni), out,
				   sizeof(out)), SLUICE_SNI_NONE);
	assert_string_equal(out, "");
}

static void every_prefix_of_a_hello_is_truncated_until_the_name(void **state)
{
	char out[256];
	size_t len;
	int found = 0;

	(void)state;
	for (len = 0; len < sizeof(hello_openssl); len++) {
		int rc = sni_exact(hello_openssl, len, out, sizeof(out));

		if (found) {
			/* Once read, the name stays, whatever comes after. */
			assert_int_equal(rc, SLUICE_SNI_FOUND);
			assert_string_equal(out, "www.example.test");
		} else if (rc == SLUICE_SNI_FOUND) {
			found = 1;
			assert_string_equal(out, "www.example.test");
		} else {
			assert_int_equal(rc, SLUICE_SNI_TRUNCATED);
		}
	}
	assert_true(found);
	for (len = 0; len < sizeof(hello_openssl_nosni); len++)
		assert_int_equal(sni_exact(hello_openssl_nosni, len, out, sizeof(out)),
				 SLUICE_SNI_TRUNCATED);
}

static void hello_split_over_tls_records_is_followed(void **state)
{
	uint8_t buf[4096];
	char out[256];
	size_t n, chunk, len;

	(void)state;
	for (chunk = 1; chunk <= 64; chunk++) {
		n = reframe(hello_curl, sizeof(hello_curl), chunk, buf);
		assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_FOUND);
		assert_string_equal(out, "curl.example.test");
	}
	/* Every prefix of the 7-byte-record version: no crash, no lie. */
	n = reframe(hello_openssl, sizeof(hello_openssl), 7, buf);
	for (len = 0; len < n; len++) {
		int rc = sni_exact(buf, len, out, sizeof(out));

		assert_true(rc == SLUICE_SNI_TRUNCATED || rc == SLUICE_SNI_FOUND);
		if (rc == SLUICE_SNI_FOUND)
			assert_string_equal(out, "www.example.test");
	}
	/* An empty handshake record is forbidden. */
	memcpy(buf, "\x16\x03\x01\x00\x00", 5);
	n = 5 + reframe(hello_curl, sizeof(hello_curl), 100, buf + 5);
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	/* So is another content type in the middle. */
	n = reframe(hello_curl, sizeof(hello_curl), 100, buf);
	buf[105] = 23;
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
}

static void big_hello_with_name_after_first_segment_is_truncated(void **state)
{
	uint8_t pad[2000], buf[4096];
	char out[256];
	size_t n;

	(void)state;
	/* A padding extension first (like a post-quantum key share). */
	n = ext(pad, 21, 1500, 0);
	n = with_extension(hello_openssl, sizeof(hello_openssl), pad, n, 1, buf);
	/* The first 1460-byte segment ends before server_name. */
	assert_int_equal(sni_exact(buf, 1460, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
	/* Both segments joined: found. */
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "www.example.test");
}

static void ech_is_reported_with_the_outer_name(void **state)
{
	uint8_t e[300], buf[1024];
	char out[256];
	size_t n;

	(void)state;
	n = ext(e, 0xfe0d, 200, 0xaa);
	n = with_extension(hello_openssl, sizeof(hello_openssl), e, n, 0, buf);
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_ECH);
	assert_string_equal(out, "www.example.test");
	/* Cut inside the ECH extension: the name and ECH count. */
	assert_int_equal(sni_exact(buf, n - 10, out, sizeof(out)), SLUICE_SNI_ECH);
	assert_string_equal(out, "www.example.test");
	/* Cut before it: the name alone. */
	assert_int_equal(sni_exact(buf, n - 204, out, sizeof(out)), SLUICE_SNI_FOUND);

	n = ext(e, 0xfe0d, 100, 0xaa);
	n = with_extension(hello_openssl_nosni, sizeof(hello_openssl_nosni), e, n, 1, buf);
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_ECH);
	assert_string_equal(out, "");
}

static void two_server_names_or_bad_lengths_are_not_a_hello(void **state)
{
	uint8_t e[300], buf[1024];
	char out[256];
	size_t n, at;

	(void)state;
	n = sni_ext(e, "other.test");
	n = with_extension(hello_openssl, sizeof(hello_openssl), e, n, 1, buf);
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);

	/* Extensions' length one more than the message has. */
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	at = ext_len_offset(buf);
	add_len(buf + at, 2, 1);
	assert_int_equal(sni_exact(buf, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
	/* An odd cipher suites length. */
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	buf[5 + 4 + 2 + 32 + 1 + buf[43] + 1] |= 1;
	assert_int_equal(sni_exact(buf, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
	/* A session id longer than 32. */
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	buf[43] = 33;
	assert_int_equal(sni_exact(buf, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
}

static void what_is_not_a_client_hello(void **state)
{
	uint8_t buf[1024];
	char out[256];

	(void)state;
	assert_int_equal(sni_exact((const uint8_t *)"GET / HTTP/1.1\r\n", 16, out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	buf[5] = 2;					/* ServerHello */
	assert_int_equal(sni_exact(buf, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	buf[0] = 23;					/* application data */
	assert_int_equal(sni_exact(buf, sizeof(hello_openssl), out, sizeof(out)),
			 SLUICE_SNI_NOT_HELLO);
	assert_int_equal(sni_exact(buf, 1, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	memcpy(buf, hello_openssl, sizeof(hello_openssl));
	buf[1] = 2;					/* SSL 2 record version */
	assert_int_equal(sni_exact(buf, 2, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	memcpy(buf, "\x16\x03\x01\x40\x01", 5);		/* record over 2^14 */
	assert_int_equal(sni_exact(buf, 5, out, sizeof(out)), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(sni_exact(buf, 0, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
}

static void bad_server_names(void **state)
{
	static const char *const bad[] = { "exa mple.test", "a..b", "b\303\274cher.de", "" };
	uint8_t e[600], buf[1024], base[512];
	char out[256], big[300];
	size_t i, n, blen;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = sni_ext(e, bad[i]);
		n = with_extension(hello_openssl_nosni, sizeof(hello_openssl_nosni), e, n, 0, buf);
		assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_BAD_NAME);
	}
	/* Longer than any DNS name. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = sni_ext(e, big);
	n = with_extension(hello_openssl_nosni, sizeof(hello_openssl_nosni), e, n, 0, buf);
	assert_int_equal(sni_exact(buf, n, out, sizeof(out)), SLUICE_SNI_BAD_NAME);
	/* Fine, but longer than the caller's buffer. */
	assert_int_equal(sni_exact(hello_openssl, sizeof(hello_openssl), out, 8),
			 SLUICE_SNI_BAD_NAME);
	/* Upper case and a trailing dot are normalized. */
	n = sni_ext(e, "MiXed.Example.");
	blen = with_extension(hello_openssl_nosni, sizeof(hello_openssl_nosni), e, n, 0, base);
	assert_int_equal(sni_exact(base, blen, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "mixed.example");
}

static void http_host_variants(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n"
				 "User-Agent: t\r\n\r\n", out), SLUICE_SNI_FOUND);
	assert_string_equal(out, "example.com");
	assert_int_equal(host_of("POST /x?y HTTP/1.0\r\nAccept: */*\r\nhOsT:  \t www.example.org. \t\r\n\r\nbody",
				 out), SLUICE_SNI_FOUND);
	assert_string_equal(out, "www.example.org");
	/* Bare LF line ends. */
	assert_int_equal(host_of("GET / HTTP/1.1\nHost: lf.example\n\n", out), SLUICE_SNI_FOUND);
	assert_string_equal(out, "lf.example");
	/* HTTP/1.0 without Host. */
	assert_int_equal(host_of("GET / HTTP/1.0\r\n\r\n", out), SLUICE_SNI_NONE);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost:\r\n\r\n", out), SLUICE_SNI_NONE);
	/* IP literals name nothing. */
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", out),
			 SLUICE_SNI_NONE);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", out),
			 SLUICE_SNI_NONE);
	/* Absolute form: the target's authority wins over Host (RFC 9112 3.2.2). */
	assert_int_equal(host_of("GET http://user@Abs.Example:81/p HTTP/1.1\r\n"
				 "Host: other.example\r\n\r\n", out), SLUICE_SNI_FOUND);
	assert_string_equal(out, "abs.example");
	assert_int_equal(host_of("CONNECT tunnel.example:443 HTTP/1.1\r\n\r\n", out),
			 SLUICE_SNI_FOUND);
	assert_string_equal(out, "tunnel.example");
	/* Hosts that are not names. */
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", out),
			 SLUICE_SNI_BAD_NAME);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: a.example:8x\r\n\r\n", out),
			 SLUICE_SNI_BAD_NAME);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: a..example\r\n\r\n", out),
			 SLUICE_SNI_BAD_NAME);
}

static void http_requests_a_server_refuses_are_not_requests(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
				 out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", out),
			 SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/1.1\r\nX: y\r\n folded\r\n\r\n", out),
			 SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/1.1\r\n Host: a.example\r\n\r\n", out),
			 SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/2.0\r\n\r\n", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET  / HTTP/1.1\r\n\r\n", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("\x16\x03\x01\x02\x00\x01", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_exact((const char *)hello_openssl, sizeof(hello_openssl), out,
				    sizeof(out)), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("SSH-2.0-OpenSSH_9.2\r\n", out), SLUICE_SNI_NOT_HELLO);
}

static void http_every_prefix_is_truncated_until_the_empty_line(void **state)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nUser-Agent: t\r\n"
				  "Host: www.example.net\r\nAccept: */*\r\n\r\n";
	char out[256];
	size_t len, host_end = strstr(req, "net\r\n") - req + 5;

	(void)state;
	for (len = 0; len < sizeof(req) - 1; len++) {
		assert_int_equal(host_exact(req, len, out, sizeof(out)), SLUICE_SNI_TRUNCATED);
		/* The host seen so far is offered once its line is whole. */
		if (len >= host_end)
			assert_string_equal(out, "www.example.net");
		else
			assert_string_equal(out, "");
	}
	assert_int_equal(host_exact(req, len, out, sizeof(out)), SLUICE_SNI_FOUND);
	assert_string_equal(out, "www.example.net");
	/* A long line that is no request line is refused before its end. */
	assert_int_equal(host_of("GET / HTTX", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/1.1\rX", out), SLUICE_SNI_NOT_HELLO);
	assert_int_equal(host_of("GET / HTTP/1.1\r", out), SLUICE_SNI_TRUNCATED);
	assert_int_equal(host_of("G", out), SLUICE_SNI_TRUNCATED);
}

static void result_names_for_logs(void **state)
{
	(void)state;
	assert_string_equal(sluice_sni_result_name(SLUICE_SNI_TRUNCATED), "truncated");
	assert_string_equal(sluice_sni_result_name(42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sni_from_real_client_hellos),
		cmocka_unit_test(every_prefix_of_a_hello_is_truncated_until_the_name),
		cmocka_unit_test(hello_split_over_tls_records_is_followed),
		cmocka_unit_test(big_hello_with_name_after_first_segment_is_truncated),
		cmocka_unit_test(ech_is_reported_with_the_outer_name),
		cmocka_unit_test(two_server_names_or_bad_lengths_are_not_a_hello),
		cmocka_unit_test(what_is_not_a_client_hello),
		cmocka_unit_test(bad_server_names),
		cmocka_unit_test(http_host_variants),
		cmocka_unit_test(http_requests_a_server_refuses_are_not_requests),
		cmocka_unit_test(http_every_prefix_is_truncated_until_the_empty_line),
		cmocka_unit_test(result_names_for_logs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
