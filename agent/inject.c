// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/inject.h"
#include "agent/packet.h"
#include "uapi/sluice.h"

int sluice_inject_open(struct sluice_inject *ij, char *err, size_t errlen)
{
	uint32_t mark = SLUICE_OWN_MARK;

	memset(ij, 0, sizeof(*ij));
	/* IPPROTO_RAW: we write the IP header ourselves (IP_HDRINCL). */
	ij->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	ij->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (ij->fd4 < 0 || ij->fd6 < 0) {
		snprintf(err, errlen,
			 "cannot open raw sockets for DNS sinkhole answers: %s (sluiced needs CAP_NET_RAW)",
			 strerror(errno));
		sluice_inject_close(ij);
		return -1;
	}
	/*
	 * Our answers are marked so that the module lets them out untracked:
	 * judged as a flow, they would leave allow state behind that the
	 * client's next query could ride past the policy.
	 */
	if (setsockopt(ij->fd4, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ||
	    setsockopt(ij->fd6, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		snprintf(err, errlen,
			 "cannot mark the sinkhole sockets as sluice's own: %s (sluiced needs CAP_NET_ADMIN)",
			 strerror(errno));
		sluice_inject_close(ij);
		return -1;
	}
	return 0;
}

void sluice_inject_close(struct sluice_inject *ij)
{
	if (ij->fd4 >= 0)
		close(ij->fd4);
	if (ij->fd6 >= 0)
		close(ij->fd6);
	ij->fd4 = ij->fd6 = -1;
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Write the IP header of a reply to @pkt into @out with the addresses
 * swapped; returns its length and the pseudo-header sum in *pseudo, or -1.
 */
static long reply_ip(const uint8_t *pkt, size_t len, uint8_t proto,
		     size_t l4len, uint8_t *out, size_t outlen, uint32_t *pseudo,
		     int swap)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		if (outlen < 20 + l4len || 20 + l4len > 0xffff)
			return -1;
		memset(out, 0, 20);
		out[0] = 0x45;
		put16(out + 2, (uint16_t)(20 + l4len));
		out[6] = 0x40;			/* don't fragment */
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, pkt + (swap ? 16 : 12), 4);
		memcpy(out + 16, pkt + (swap ? 12 : 16), 4);
		put16(out + 10, fold(sum16(0, out, 20)));
		*pseudo = sum16(sum16(proto + (uint32_t)l4len, out + 12, 4),
				out + 16, 4);
		return 20;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		if (outlen < 40 + l4len || l4len > 0xffff)
			return -1;
		memset(out, 0, 40);
		out[0] = 0x60;
		put16(out + 4, (uint16_t)l4len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, pkt + (swap ? 24 : 8), 16);
		memcpy(out + 24, pkt + (swap ? 8 : 24), 16);
		*pseudo = sum16(sum16(proto + (uint32_t)l4len, out + 8, 16),
				out + 24, 16);
		return 40;
	}
	return -1;
}

/*
 * Offset of the transport header of @pkt if it is @proto, or -1: behind
 * IPv6 extension headers too, so that a question judged behind them is
 * answered like one without. The reply carries none.
 */
static long l4_offset(const uint8_t *pkt, size_t len, uint8_t proto)
{
	uint8_t got;
	long off = sluice_packet_transport(pkt, len, &got);

	return off >= 0 && got == proto ? off : -1;
}

long sluice_build_udp(const uint8_t *pkt, size_t len, const uint8_t *payload,
		      size_t plen, int reply, uint8_t *out, size_t outlen)
{
	long off = l4_offset(pkt, len, IPPROTO_UDP);
	uint32_t pseudo;
	uint16_t csum;
	uint8_t *udp;
	long hl;

	if (off < 0 || (size_t)off + 8 > len)
		return -1;
	hl = reply_ip(pkt, len, IPPROTO_UDP, 8 + plen, out, outlen, &pseudo,
		      reply);
	if (hl < 0)
		return -1;
	udp = out + hl;
	memcpy(udp, pkt + off + (reply ? 2 : 0), 2);
	memcpy(udp + 2, pkt + off + (reply ? 0 : 2), 2);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	csum = fold(sum16(pseudo, udp, 8 + plen));
	put16(udp + 6, csum ? csum : 0xffff);
	return hl + 8 + (long)plen;
}

long sluice_build_tcp_reset(const uint8_t *pkt, size_t len, uint8_t *out,
			    size_t outlen)
{
	long off = l4_offset(pkt, len, IPPROTO_TCP);
	uint32_t pseudo, seq, ack, seglen;
	uint8_t *tcp;
	size_t thl;
	long hl;

	if (off < 0 || (size_t)off + 20 > len)
		return -1;
	thl = (size_t)(pkt[off + 12] >> 4) * 4;
	if (thl < 20 || (size_t)off + thl > len)
		return -1;
	hl = reply_ip(pkt, len, IPPROTO_TCP, 20, out, outlen, &pseudo, 1);
	if (hl < 0)
		return -1;
	/* RFC 793: answer the segment with its ACK as our sequence. */
	seq = (uint32_t)pkt[off + 8] << 24 | (uint32_t)pkt[off + 9] << 16 |
	      (uint32_t)pkt[off + 10] << 8 | pkt[off + 11];
	ack = (uint32_t)pkt[off + 4] << 24 | (uint32_t)pkt[off + 5] << 16 |
	      (uint32_t)pkt[off + 6] << 8 | pkt[off + 7];
	seglen = (uint32_t)(len - (size_t)off - thl);
	if (pkt[off + 13] & 0x02)		/* SYN */
		seglen++;
	tcp = out + hl;
	memset(tcp, 0, 20);
	memcpy(tcp, pkt + off + 2, 2);
	memcpy(tcp + 2, pkt + off, 2);
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	ack += seglen;
	tcp[8] = (uint8_t)(ack >> 24);
	tcp[9] = (uint8_t)(ack >> 16);
	tcp[10] = (uint8_t)(ack >> 8);
	tcp[11] = (uint8_t)ack;
	tcp[12] = 5 << 4;
	tcp[13] = 0x14;				/* RST, ACK */
	put16(tcp + 16, fold(sum16(pseudo, tcp, 20)));
	return hl + 20;
}

static int send_raw(struct sluice_inject *ij, const uint8_t *buf, size_t n)
{
	ssize_t rc;

	if (buf[0] >> 4 == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, buf + 16, 4);
		rc = sendto(ij->fd4, buf, n, 0, (struct sockaddr *)&sin,
			    sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		memcpy(&sin6.sin6_addr, buf + 24, 16);
		rc = sendto(ij->fd6, buf, n, 0, (struct sockaddr *)&sin6,
			    sizeof(sin6));
	}
	if (rc < 0) {
		atomic_fetch_add_explicit(&ij->failed, 1, memory_order_relaxed);
		return -1;
	}
	atomic_fetch_add_explicit(&ij->sent, 1, memory_order_relaxed);
	return 0;
}

int sluice_inject_udp(struct sluice_inject *ij, const uint8_t *pkt, size_t len,
		      const uint8_t *payload, size_t plen, int reply)
{
	uint8_t buf[2048];
	long n = sluice_build_udp(pkt, len, payload, plen, reply, buf,
				  sizeof(buf));

	if (n < 0 || ij->fd4 < 0)
		return -1;
	return send_raw(ij, buf, (size_t)n);
}

int sluice_inject_tcp_reset(struct sluice_inject *ij, const uint8_t *pkt,
			    size_t len)
{
	uint8_t buf[80];
	long n = sluice_build_tcp_reset(pkt, len, buf, sizeof(buf));

	if (n < 0 || ij->fd4 < 0)
		return -1;
	return send_raw(ij, buf, (size_t)n);
}
