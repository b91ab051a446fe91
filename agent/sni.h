/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The name a TCP flow asks for in its first payload bytes: the server_name
 * of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3) or the Host of an
 * HTTP/1.x request (RFC 9112 3.2). Hostile input: every length is checked
 * against the bytes given, nothing recurses or allocates.
 *
 * A ClientHello with post-quantum key shares (Chrome, Firefox: about
 * 1.8 kB) does not fit one 1460-byte segment; browsers also shuffle the
 * order of extensions, so server_name may be in the second segment, and a
 * client may cut its hello on purpose. The parsers say so
 * (SLUICE_SNI_TRUNCATED) instead of guessing; the caller (pending.h) keeps
 * the bytes, lets the segment pass and calls again with the next segments
 * joined, on whatever port the flow goes to.
 *
 * A name found is handed out normalized (sluice_dns_name_normalize(): the
 * form domain rules are compared in).
 */
#ifndef SLUICE_SNI_H
#define SLUICE_SNI_H

#include <stddef.h>
#include <stdint.h>

/* Results of sluice_tls_sni() and sluice_http_host(). */
#define SLUICE_SNI_FOUND	0	/* @out holds the name */
#define SLUICE_SNI_NONE		1	/* complete hello / request headers, no name */
#define SLUICE_SNI_TRUNCATED	2	/* the bytes end first: more are needed */
#define SLUICE_SNI_ECH		3	/* Encrypted ClientHello: @out holds the outer
					 * (client-facing server) name, or "" */
#define SLUICE_SNI_NOT_HELLO	(-1)	/* not a ClientHello / not an HTTP/1 request,
					 * or malformed where a server would refuse it */
#define SLUICE_SNI_BAD_NAME	(-2)	/* the name is not a host name, or does not
					 * fit @out */

/*
 * The server_name (type host_name) of the TLS ClientHello at the start of
 * @data, a TCP payload. The handshake message may be split across several
 * TLS records (a trick against filters): the records are followed. Returns
 * SLUICE_SNI_FOUND as soon as server_name is read, even if the hello is cut
 * later (ECH, coming after it, is then not seen); SLUICE_SNI_ECH when the
 * encrypted_client_hello extension (0xfe0d) comes first or the whole hello
 * is there; SLUICE_SNI_NONE only when the whole hello is there. A hello with
 * two server_name extensions is refused by servers: SLUICE_SNI_NOT_HELLO.
 */
int sluice_tls_sni(const uint8_t *data, size_t len, char *out, size_t outlen);

/*
 * The same for a ClientHello handshake message at the start of @data
 * without TLS records around it, as QUIC's CRYPTO frames carry it.
 */
int sluice_tls_hello_sni(const uint8_t *data, size_t len, char *out, size_t outlen);

/*
 * The host an HTTP/1.0 or 1.1 request at the start of @data is for: the
 * authority of an absolute-form target ("GET http://host/ HTTP/1.1", which
 * a server must use instead of Host), else the value of the one "Host:"
 * header (name case-insensitive, spaces around the value and a ":port"
 * stripped). SLUICE_SNI_TRUNCATED until the empty line that ends the
 * headers is in @data (@out then holds the host seen so far, or ""). An IP
 * literal is SLUICE_SNI_NONE. Requests a server must refuse (two Host
 * headers, space before a colon, folded lines) are SLUICE_SNI_NOT_HELLO.
 */
int sluice_http_host(const uint8_t *data, size_t len, char *out, size_t outlen);

/* One word for a result above, for logs: "found", "truncated", ... */
const char *sluice_sni_result_name(int rc);

#endif
