/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Answers the agent sends in the name of a server: the sinkhole reply to
 * a denied DNS query (so the client is told at once instead of waiting
 * for a timeout) and a TCP reset for a refused DNS/TCP stream. Sent from
 * raw sockets (CAP_NET_RAW) in the agent's network namespace, built from
 * the packet they answer: addresses and ports swapped.
 */
#ifndef SLUICE_INJECT_H
#define SLUICE_INJECT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct sluice_inject {
	int fd4, fd6;
	/* Every verdict thread sends through the same sockets. */
	atomic_uint_fast64_t sent, failed;
};

/* 0, or -1 with one sentence in @err. */
int sluice_inject_open(struct sluice_inject *ij, char *err, size_t errlen);
void sluice_inject_close(struct sluice_inject *ij);

/*
 * Send @payload in a UDP datagram built from the packet @pkt (IP header
 * on): with @reply, from its destination to its source (answering it);
 * without, along the same way (replacing it). 0 or -1.
 */
int sluice_inject_udp(struct sluice_inject *ij, const uint8_t *pkt, size_t len,
		      const uint8_t *payload, size_t plen, int reply);

/* Reset the TCP connection of segment @pkt towards its sender. 0 or -1. */
int sluice_inject_tcp_reset(struct sluice_inject *ij, const uint8_t *pkt,
			    size_t len);

/* The packets built, for tests: return the length written to @out or -1. */
long sluice_build_udp(const uint8_t *pkt, size_t len, const uint8_t *payload,
		      size_t plen, int reply, uint8_t *out, size_t outlen);
long sluice_build_tcp_reset(const uint8_t *pkt, size_t len, uint8_t *out,
			    size_t outlen);

#endif
