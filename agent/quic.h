/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The name a QUIC connection asks for: the server_name of the TLS
 * ClientHello in the client's first Initial packet (RFC 9000 17.2.2,
 * RFC 9001 4 and 5). Initial packets are encrypted, but with keys anyone
 * can derive from the Destination Connection ID in the clear header
 * (RFC 9001 5.2), so a filter can read them as the server does.
 *
 * Hostile input: every length is checked against the bytes given; the
 * packet must authenticate (AES-128-GCM tag) before its frames are read.
 * Only QUIC version 1 is read; other versions are not Initials to us.
 * A datagram may carry coalesced packets: the first one is read.
 */
#ifndef SLUICE_QUIC_H
#define SLUICE_QUIC_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_QUIC_V1		0x00000001u
#define SLUICE_QUIC_CID_MAX	20

/* Client Initial secrets of one connection (RFC 9001 5.2), AES-128-GCM. */
struct sluice_quic_keys {
	uint8_t secret[32];		/* client_initial_secret */
	uint8_t key[16], iv[12], hp[16];
};

/* Derive @k from the client's first Destination Connection ID. 0 or -1. */
int sluice_quic_initial_keys(const uint8_t *dcid, size_t dcid_len,
			     struct sluice_quic_keys *k);

/*
 * The server_name of the ClientHello in the QUIC v1 Initial packet at the
 * start of @udp_payload, with the result codes of sni.h:
 * SLUICE_SNI_FOUND (@out holds the name, normalized), NONE, ECH, BAD_NAME
 * as for sluice_tls_sni(); SLUICE_SNI_TRUNCATED when this packet's CRYPTO
 * frames do not hold the hello from its first byte up to the name (it
 * goes on in a later Initial); SLUICE_SNI_NOT_HELLO when the datagram is
 * not a client's QUIC v1 Initial that authenticates and parses (a server
 * drops such a packet too).
 */
int sluice_quic_sni(const uint8_t *udp_payload, size_t len, char *out, size_t outlen);

/* Does @udp_payload start with a QUIC v1 long header (any packet type)? */
int sluice_quic_is_long_v1(const uint8_t *udp_payload, size_t len);

#endif
