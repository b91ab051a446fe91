/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The name a QUIC connection asks for: the server_name of the TLS
 * ClientHello that the client's Initial packets carry in their CRYPTO
 * frames (RFC 9000 17.2.2, RFC 9001 4 and 5). Initial packets are
 * encrypted, but with keys anyone can derive from the Destination
 * Connection ID in the clear header (RFC 9001 5.2), so a filter can read
 * them as the server does.
 *
 * A ClientHello often spans several Initials (Chrome's post-quantum key
 * shares: about 1.8 kB over two datagrams), in any order, sent again
 * when lost. struct sluice_quic_hello gathers the CRYPTO bytes of one
 * connection's Initials by offset, up to SLUICE_QUIC_BYTES; the hello is
 * judged once it is whole (its handshake length is there from its first
 * byte). quic_join.h keeps one per waiting flow.
 *
 * Hostile input: every length is checked against the bytes given; a
 * packet must authenticate (AES-128-GCM tag) before its frames are read.
 * Only QUIC version 1 is read; other versions are not Initials to us.
 *
 * Threads: any number. Each thread keeps its cipher contexts and its
 * plaintext buffer to itself (thread-local, allocated on first use and
 * freed when the thread exits).
 */
#ifndef SLUICE_QUIC_H
#define SLUICE_QUIC_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_QUIC_V1		0x00000001u
#define SLUICE_QUIC_CID_MAX	20
#define SLUICE_QUIC_BYTES	16384	/* hello bytes gathered per connection */

/*
 * A result of sluice_quic_sni() and sluice_quic_hello_sni() besides those
 * of sni.h: what the client's Initials say cannot be read as its server
 * would read it (a hello byte given twice with other values, a frame not
 * allowed in an Initial, a coalesced packet for another connection, a
 * hello longer than SLUICE_QUIC_BYTES). A name could hide in it.
 */
#define SLUICE_QUIC_UNREADABLE	(-3)

/* Client Initial secrets of one connection (RFC 9001 5.2), AES-128-GCM. */
struct sluice_quic_keys {
	uint8_t secret[32];		/* client_initial_secret */
	uint8_t key[16], iv[12], hp[16];
};

/* The CRYPTO stream of one connection's client Initials, as gathered. */
struct sluice_quic_hello {
	uint8_t dcid[SLUICE_QUIC_CID_MAX];
	uint8_t dcid_len;		/* 0: no Initial read yet */
	struct sluice_quic_keys keys;	/* derived from dcid */
	uint8_t have[SLUICE_QUIC_BYTES / 8];	/* which bytes a frame gave */
	uint8_t bytes[SLUICE_QUIC_BYTES];
};

/* Derive @k from the client's first Destination Connection ID. 0 or -1. */
int sluice_quic_initial_keys(const uint8_t *dcid, size_t dcid_len,
			     struct sluice_quic_keys *k);

/* Start @h afresh (no Initial read). */
void sluice_quic_hello_reset(struct sluice_quic_hello *h);

/*
 * Add to @h the CRYPTO frames of the client Initials in the UDP payload
 * @d: the first packet must be a QUIC v1 Initial; every coalesced Initial
 * after it is read too (RFC 9000 12.2), other packet types are skipped. A
 * packet that fails to authenticate is skipped, as its server drops it.
 * The Initials must go to @h's DCID (the first read sets it).
 * Returns 1 when an Initial was read, 0 when none was (not QUIC v1, not
 * an Initial, nothing authenticates: @h is as it was), or
 * SLUICE_QUIC_UNREADABLE (@h is then only fit to be thrown away).
 */
int sluice_quic_read(struct sluice_quic_hello *h, const uint8_t *d, size_t len);

/*
 * The server_name of the ClientHello gathered in @h, with the result
 * codes of sni.h once the hello is whole: SLUICE_SNI_FOUND (@out holds
 * the name, normalized), NONE, ECH, BAD_NAME, NOT_HELLO (not a
 * ClientHello; its server refuses it) as for sluice_tls_hello_sni().
 * SLUICE_SNI_TRUNCATED while bytes of it are still missing;
 * SLUICE_QUIC_UNREADABLE when it can never be whole within
 * SLUICE_QUIC_BYTES.
 */
int sluice_quic_hello_sni(const struct sluice_quic_hello *h, char *out, size_t outlen);

/*
 * The same for the one datagram @udp_payload read by itself (the usual
 * case: a hello that fits one Initial); SLUICE_SNI_NOT_HELLO when
 * sluice_quic_read() reads no Initial in it. Uses a thread-local
 * struct sluice_quic_hello.
 */
int sluice_quic_sni(const uint8_t *udp_payload, size_t len, char *out, size_t outlen);

/* Does @udp_payload start with a QUIC v1 long header (any packet type)? */
int sluice_quic_is_long_v1(const uint8_t *udp_payload, size_t len);

#endif
