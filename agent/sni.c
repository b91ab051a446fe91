// SPDX-License-Identifier: GPL-2.0
/* TLS SNI and HTTP Host from a flow's first payload: see sni.h. */
#include "agent/sni.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "agent/dns.h"

#define TLS_CONTENT_HANDSHAKE	22
#define TLS_HANDSHAKE_CLIENT_HELLO 1
#define TLS_RECORD_HEADER_LEN	5
#define TLS_RECORD_MAX		16384	/* plaintext fragment, RFC 8446 5.1 */
#define TLS_EXT_SERVER_NAME	0x0000
#define TLS_EXT_ECH		0xfe0d	/* draft-ietf-tls-esni */
#define TLS_NAME_TYPE_HOST	0
/* ClientHello body before extensions, with the shortest vectors. */
#define TLS_HELLO_MIN_BODY	(2 + 32 + 1 + 2 + 2 + 1 + 1)

const char *sluice_sni_result_name(int rc)
{
	switch (rc) {
	case SLUICE_SNI_FOUND:		return "found";
	case SLUICE_SNI_NONE:		return "no name";
	case SLUICE_SNI_TRUNCATED:	return "truncated";
	case SLUICE_SNI_ECH:		return "encrypted client hello";
	case SLUICE_SNI_NOT_HELLO:	return "not a client hello or request";
	case SLUICE_SNI_BAD_NAME:	return "bad name";
	default:			return "unknown";
	}
}

/*
 * The handshake bytes of a TLS stream, read across the records that carry
 * them: a ClientHello may be split over many records, and each record
 * header is checked as it is stepped over. @used counts handshake bytes
 * read, for checking lengths against the message's own.
 */
struct hs_reader {
	const uint8_t *d;
	size_t len, pos;		/* the payload and where we are in it */
	size_t rec_left;		/* bytes left in the current record */
	size_t used;			/* handshake bytes read so far */
};

/* Step into the next record when the current one is used up. */
static int hs_record(struct hs_reader *r)
{
	const uint8_t *h;
	size_t n;

	if (r->rec_left)
		return 0;
	if (r->pos >= r->len)
		return SLUICE_SNI_TRUNCATED;
	h = r->d + r->pos;
	/* Whatever of the header is there must look like one. */
	if (h[0] != TLS_CONTENT_HANDSHAKE || (r->len - r->pos > 1 && h[1] != 3) ||
	    (r->len - r->pos > 2 && h[2] > 4))
		return SLUICE_SNI_NOT_HELLO;
	if (r->len - r->pos < TLS_RECORD_HEADER_LEN)
		return SLUICE_SNI_TRUNCATED;
	n = (size_t)h[3] << 8 | h[4];
	/* Empty handshake fragments are forbidden (RFC 8446 5.1). */
	if (n == 0 || n > TLS_RECORD_MAX)
		return SLUICE_SNI_NOT_HELLO;
	r->pos += TLS_RECORD_HEADER_LEN;
	r->rec_left = n;
	return 0;
}

/* Read @n handshake bytes into @dst, or skip them when @dst is NULL. */
static int hs_read(struct hs_reader *r, size_t n, uint8_t *dst)
{
	while (n) {
		size_t chunk;
		int rc = hs_record(r);

		if (rc)
			return rc;
		if (r->pos >= r->len)
			return SLUICE_SNI_TRUNCATED;
		chunk = r->rec_left;
		if (chunk > r->len - r->pos)
			chunk = r->len - r->pos;
		if (chunk > n)
			chunk = n;
		if (dst) {
			memcpy(dst, r->d + r->pos, chunk);
			dst += chunk;
		}
		r->pos += chunk;
		r->rec_left -= chunk;
		r->used += chunk;
		n -= chunk;
	}
	return 0;
}

/* Read a big-endian integer of @n (1..3) bytes. */
static int hs_uint(struct hs_reader *r, size_t n, size_t *v)
{
	uint8_t b[3];
	size_t i;
	int rc = hs_read(r, n, b);

	if (rc)
		return rc;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/*
 * The server_name extension's body (@n bytes, RFC 6066 3): the first
 * host_name goes to @out. Returns 0 with *found set, or a result.
 */
static int read_server_name(struct hs_reader *r, size_t n, char *out, size_t outlen,
			    int *found)
{
	size_t list, end, type, nlen;
	char name[SLUICE_DNS_NAME_WIRE_MAX];
	int rc;

	if (n < 2 || (rc = hs_uint(r, 2, &list)) != 0)
		return n < 2 ? SLUICE_SNI_NOT_HELLO : rc;
	if (list != n - 2 || list == 0)
		return SLUICE_SNI_NOT_HELLO;
	end = r->used + list;
	while (r->used < end) {
		if (end - r->used < 3)
			return SLUICE_SNI_NOT_HELLO;
		if ((rc = hs_uint(r, 1, &type)) != 0 || (rc = hs_uint(r, 2, &nlen)) != 0)
			return rc;
		if (nlen > end - r->used)
			return SLUICE_SNI_NOT_HELLO;
		if (type != TLS_NAME_TYPE_HOST || *found) {
			if ((rc = hs_read(r, nlen, NULL)) != 0)
				return rc;
			continue;
		}
		if (nlen > sizeof(name)) {
			/* Longer than any DNS name: read it to see the hello is whole. */
			rc = hs_read(r, nlen, NULL);
			return rc ? rc : SLUICE_SNI_BAD_NAME;
		}
		if ((rc = hs_read(r, nlen, (uint8_t *)name)) != 0)
			return rc;
		if (sluice_dns_name_normalize(name, nlen, out, outlen) < 0) {
			if (outlen)
				out[0] = '\0';
			return SLUICE_SNI_BAD_NAME;
		}
		*found = 1;
	}
	return 0;
}

static int hello_sni(struct hs_reader *rd, char *out, size_t outlen);

int sluice_tls_sni(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	struct hs_reader r = { .d = data, .len = len };

	return hello_sni(&r, out, outlen);
}

/* No record layer: the handshake bytes are all there is (QUIC CRYPTO). */
int sluice_tls_hello_sni(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	struct hs_reader r = { .d = data, .len = len, .rec_left = len };

	return hello_sni(&r, out, outlen);
}

static int hello_sni(struct hs_reader *rd, char *out, size_t outlen)
{
	struct hs_reader r = *rd;
	size_t type, body, end, v, n, ext_end;
	int rc, found = 0, seen_sni = 0, ech = 0;

	if (outlen)
		out[0] = '\0';
	if ((rc = hs_uint(&r, 1, &type)) != 0)
		return rc;
	if (type != TLS_HANDSHAKE_CLIENT_HELLO)
		return SLUICE_SNI_NOT_HELLO;
	if ((rc = hs_uint(&r, 3, &body)) != 0)
		goto cut;
	if (body < TLS_HELLO_MIN_BODY)
		return SLUICE_SNI_NOT_HELLO;
	end = r.used + body;

	/* legacy_version: 3.x; random */
	if ((rc = hs_uint(&r, 2, &v)) != 0 || (rc = hs_read(&r, 32, NULL)) != 0)
		goto cut;
	if (v >> 8 != 3)
		return SLUICE_SNI_NOT_HELLO;
	/* legacy_session_id <0..32> */
	if ((rc = hs_uint(&r, 1, &n)) != 0)
		goto cut;
	if (n > 32 || n > end - r.used)
		return SLUICE_SNI_NOT_HELLO;
	if ((rc = hs_read(&r, n, NULL)) != 0)
		goto cut;
	/* cipher_suites <2..2^16-2>, even */
	if (end - r.used < 2 || (rc = hs_uint(&r, 2, &n)) != 0)
		goto cut_or_bad;
	if (n < 2 || n % 2 || n > end - r.used)
		return SLUICE_SNI_NOT_HELLO;
	if ((rc = hs_read(&r, n, NULL)) != 0)
		goto cut;
	/* legacy_compression_methods <1..2^8-1> */
	if (end - r.used < 1 || (rc = hs_uint(&r, 1, &n)) != 0)
		goto cut_or_bad;
	if (n < 1 || n > end - r.used)
		return SLUICE_SNI_NOT_HELLO;
	if ((rc = hs_read(&r, n, NULL)) != 0)
		goto cut;
	/* A hello without extensions (SSL 3.0 style) names nothing. */
	if (r.used == end)
		return SLUICE_SNI_NONE;
	/* extensions <8..2^16-1>: they fill the rest of the message. */
	if (end - r.used < 2 || (rc = hs_uint(&r, 2, &n)) != 0)
		goto cut_or_bad;
	if (n != end - r.used)
		return SLUICE_SNI_NOT_HELLO;
	ext_end = end;
	while (r.used < ext_end) {
		size_t etype, elen;

		if (ext_end - r.used < 4)
			return SLUICE_SNI_NOT_HELLO;
		if ((rc = hs_uint(&r, 2, &etype)) != 0 || (rc = hs_uint(&r, 2, &elen)) != 0)
			goto cut;
		if (elen > ext_end - r.used)
			return SLUICE_SNI_NOT_HELLO;
		if (etype == TLS_EXT_SERVER_NAME) {
			/* Servers refuse a repeated extension (RFC 8446 4.2). */
			if (seen_sni)
				return SLUICE_SNI_NOT_HELLO;
			seen_sni = 1;
			rc = read_server_name(&r, elen, out, outlen, &found);
			if (rc == SLUICE_SNI_TRUNCATED)
				goto cut;
			if (rc)
				return rc;
			continue;
		}
		if (etype == TLS_EXT_ECH)
			ech = 1;
		if ((rc = hs_read(&r, elen, NULL)) != 0)
			goto cut;
	}
	if (ech)
		return SLUICE_SNI_ECH;
	return found ? SLUICE_SNI_FOUND : SLUICE_SNI_NONE;

cut_or_bad:
	/* A length that the message's own length leaves no room for. */
	if (!rc)
		return SLUICE_SNI_NOT_HELLO;
cut:
	if (rc != SLUICE_SNI_TRUNCATED)
		return rc;
	/* The bytes ended: what was read before the cut still counts. */
	if (found)
		return ech ? SLUICE_SNI_ECH : SLUICE_SNI_FOUND;
	return SLUICE_SNI_TRUNCATED;
}

/* RFC 9110 5.6.2 token characters. */
static int tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * The host of an authority "[userinfo@]host[:port]" (@n bytes) into @out.
 * Returns SLUICE_SNI_FOUND, SLUICE_SNI_NONE (empty, or an IP literal) or
 * SLUICE_SNI_BAD_NAME.
 */
static int authority_host(const char *p, size_t n, char *out, size_t outlen)
{
	char v4[INET_ADDRSTRLEN];
	const char *colon;
	struct in_addr a4;
	size_t i;

	/* userinfo runs to the last '@' */
	for (i = n; i > 0; i--) {
		if (p[i - 1] == '@') {
			p += i;
			n -= i;
			break;
		}
	}
	if (n && p[0] == '[')	/* IPv6 literal: a CIDR rule's business */
		return memchr(p, ']', n) ? SLUICE_SNI_NONE : SLUICE_SNI_BAD_NAME;
	colon = memchr(p, ':', n);
	if (colon) {
		const char *d;

		for (d = colon + 1; d < p + n; d++)
			if (*d < '0' || *d > '9')
				return SLUICE_SNI_BAD_NAME;
		n = (size_t)(colon - p);
	}
	if (n == 0)
		return SLUICE_SNI_NONE;
	if (n < sizeof(v4)) {
		memcpy(v4, p, n);
		v4[n] = '\0';
		if (inet_pton(AF_INET, v4, &a4) == 1)
			return SLUICE_SNI_NONE;
	}
	if (sluice_dns_name_normalize(p, n, out, outlen) < 0) {
		if (outlen)
			out[0] = '\0';
		return SLUICE_SNI_BAD_NAME;
	}
	return SLUICE_SNI_FOUND;
}

/*
 * The line at @p (up to @end): its length without the CR LF (or bare LF)
 * in *n, and the start of the next line. NULL when no LF is there yet.
 */
static const char *http_line(const char *p, const char *end, size_t *n)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf)
		return NULL;
	*n = (size_t)(lf - p);
	if (*n && p[*n - 1] == '\r')
		(*n)--;
	return lf + 1;
}

/* The request line (@n bytes): checks it, and finds the target. */
static int http_request_line(const char *p, size_t n, const char **target, size_t *tlen,
			     int *connect)
{
	size_t m = 0, t;

	while (m < n && tchar((uint8_t)p[m]))
		m++;
	if (m == 0 || m == n || p[m] != ' ')
		return SLUICE_SNI_NOT_HELLO;
	*connect = m == 7 && memcmp(p, "CONNECT", 7) == 0;
	for (t = m + 1; t < n && p[t] > 0x20 && p[t] < 0x7f; t++)
		;
	*target = p + m + 1;
	*tlen = t - (m + 1);
	if (*tlen == 0 || n - t != 9 || p[t] != ' ' ||
	    memcmp(p + t + 1, "HTTP/1.", 7) != 0 || p[t + 8] < '0' || p[t + 8] > '9')
		return SLUICE_SNI_NOT_HELLO;
	return 0;
}

/*
 * A request line cut before its LF: does it still look like the start of
 * one (a token, a space, a target, " HTTP/1.")? Without this, any binary
 * first segment would be "truncated HTTP".
 */
static int http_prefix_ok(const char *p, size_t n)
{
	static const char ver[] = " HTTP/1.";	/* then a digit, CR */
	size_t m = 0, t, i;

	while (m < n && tchar((uint8_t)p[m]))
		m++;
	if (m == n)
		return m > 0;
	if (m == 0 || p[m] != ' ')
		return 0;
	for (t = m + 1; t < n && p[t] > 0x20 && p[t] < 0x7f; t++)
		;
	if (t == n)
		return 1;
	if (t == m + 1)
		return 0;		/* empty target */
	for (i = 0; t + i < n; i++) {
		char c = p[t + i];

		if (i < sizeof(ver) - 1 ? c != ver[i] :
		    i == sizeof(ver) - 1 ? c < '0' || c > '9' :
		    i == sizeof(ver) ? c != '\r' : 1)
			return 0;
	}
	return 1;
}

int sluice_http_host(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	const char *p = (const char *)data, *end, *next, *target;
	size_t n, tlen;
	int rc, connect, seen_host = 0, result = SLUICE_SNI_NONE, from_target = 0;

	if (outlen)
		out[0] = '\0';
	if (len == 0)
		return SLUICE_SNI_TRUNCATED;
	end = p + len;
	next = http_line(p, end, &n);
	if (!next)
		return http_prefix_ok(p, len) ? SLUICE_SNI_TRUNCATED : SLUICE_SNI_NOT_HELLO;
	rc = http_request_line(p, n, &target, &tlen, &connect);
	if (rc)
		return rc;
	if (connect) {
		from_target = 1;
		result = authority_host(target, tlen, out, outlen);
	} else if (tlen > 7 && (strncasecmp(target, "http://", 7) == 0 ||
				(tlen > 8 && strncasecmp(target, "https://", 8) == 0))) {
		const char *a = memchr(target, '/', tlen) + 2;
		const char *e = a;

		while (e < target + tlen && *e != '/' && *e != '?' && *e != '#')
			e++;
		from_target = 1;
		result = authority_host(a, (size_t)(e - a), out, outlen);
	}

	for (p = next; (next = http_line(p, end, &n)) != NULL; p = next) {
		const char *colon, *v, *ve;
		size_t i;

		if (n == 0)
			return result;		/* the end of the headers */
		/* Folded lines and space before the colon: RFC 9112 5.1, 5.2. */
		for (i = 0; i < n && tchar((uint8_t)p[i]); i++)
			;
		if (i == 0 || i == n || p[i] != ':')
			return SLUICE_SNI_NOT_HELLO;
		colon = p + i;
		for (v = colon + 1; v < p + n; v++)
			if ((uint8_t)*v < 0x20 && *v != '\t')
				return SLUICE_SNI_NOT_HELLO;
		if (i != 4 || strncasecmp(p, "host", 4) != 0)
			continue;
		if (seen_host++)
			return SLUICE_SNI_NOT_HELLO;	/* RFC 9112 3.2: 400 */
		if (from_target)
			continue;
		v = colon + 1;
		ve = p + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		result = authority_host(v, (size_t)(ve - v), out, outlen);
	}
	/* The headers do not end in these bytes. */
	if (result == SLUICE_SNI_BAD_NAME)
		return result;
	return SLUICE_SNI_TRUNCATED;
}
