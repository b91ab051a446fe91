// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* After netinet/in.h, so that linux/in.h leaves its definitions alone. */
#include <linux/netfilter.h>

#include "agent/packet.h"

/* IPv6 extension headers we step over to find the transport header. */
static int ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT;
}

/* At most this many extension headers: a chain of them is attacker data. */
#define SLUICE_IPV6_MAX_EXT	8

/*
 * Returns the offset of the transport header, or -1 when the packet is not
 * IP. *proto gets the transport protocol; *ports is cleared when the
 * transport header cannot be trusted to carry ports (a later fragment).
 */
static long transport_offset(const uint8_t *pkt, size_t len, uint8_t *proto,
			     int *family, int *ports)
{
	*ports = 1;
	if (len < 1)
		return -1;
	switch (pkt[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		uint16_t frag;

		if (len < 20 || ihl < 20 || ihl > len)
			return -1;
		*family = AF_INET;
		*proto = pkt[9];
		frag = (uint16_t)((pkt[6] & 0x1f) << 8 | pkt[7]);
		if (frag != 0)
			*ports = 0;
		return (long)ihl;
	}
	case 6: {
		size_t off = 40;
		uint8_t nh;
		int i;

		if (len < 40)
			return -1;
		*family = AF_INET6;
		nh = pkt[6];
		for (i = 0; i < SLUICE_IPV6_MAX_EXT && ipv6_is_ext(nh); i++) {
			if (off + 8 > len) {
				*ports = 0;
				break;
			}
			if (nh == IPPROTO_FRAGMENT) {
				uint16_t fo = (uint16_t)(pkt[off + 2] << 8 |
							 pkt[off + 3]);
				if (fo & 0xfff8)
					*ports = 0;
				nh = pkt[off];
				off += 8;
			} else {
				uint8_t next = pkt[off];

				off += ((size_t)pkt[off + 1] + 1) * 8;
				nh = next;
			}
		}
		if (ipv6_is_ext(nh))
			*ports = 0;
		*proto = nh;
		return (long)off;
	}
	default:
		return -1;
	}
}

int sluice_packet_parse(const uint8_t *pkt, size_t len, struct sluice_flow *f)
{
	long off;
	int ports;

	memset(f->src, 0, sizeof(f->src));
	memset(f->dst, 0, sizeof(f->dst));
	f->sport = 0;
	f->dport = 0;

	off = transport_offset(pkt, len, &f->proto, &f->family, &ports);
	if (off < 0)
		return -1;
	if (f->family == AF_INET) {
		memcpy(f->src, pkt + 12, 4);
		memcpy(f->dst, pkt + 16, 4);
	} else {
		memcpy(f->src, pkt + 8, 16);
		memcpy(f->dst, pkt + 24, 16);
	}

	if (!ports || (size_t)off + 4 > len)
		return 0;
	switch (f->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		f->sport = (uint16_t)(pkt[off] << 8 | pkt[off + 1]);
		f->dport = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
		break;
	default:
		break;
	}
	return 0;
}

long sluice_packet_payload(const uint8_t *pkt, size_t len)
{
	uint8_t proto;
	int family, ports;
	long off;
	size_t hl;

	off = transport_offset(pkt, len, &proto, &family, &ports);
	if (off < 0 || !ports)
		return -1;
	switch (proto) {
	case IPPROTO_UDP:
		hl = 8;
		break;
	case IPPROTO_TCP:
		if ((size_t)off + 13 > len)
			return -1;
		hl = (size_t)(pkt[off + 12] >> 4) * 4;
		if (hl < 20)
			return -1;
		break;
	default:
		return -1;
	}
	if ((size_t)off + hl > len)
		return -1;
	return off + (long)hl;
}

int sluice_packet_tcp(const uint8_t *pkt, size_t len, uint32_t *seq, uint8_t *flags)
{
	long pl = sluice_packet_payload(pkt, len);
	uint8_t proto;
	int family, ports;
	long off = transport_offset(pkt, len, &proto, &family, &ports);
	const uint8_t *th;

	if (pl < 0 || off < 0 || proto != IPPROTO_TCP)
		return -1;
	th = pkt + off;
	*flags = th[13];
	*seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
	       (uint32_t)th[6] << 8 | th[7];
	/* The SYN takes one number: data on a SYN (Fast Open) follows it. */
	if (*flags & SLUICE_TCP_SYN)
		(*seq)++;
	return 0;
}

/*
 * A packet against its flow (a reply) is judged as the flow: the flow's
 * source is the packet's destination, and an answer arriving at LOCAL_IN
 * belongs to a flow that went out.
 */
void sluice_flow_reverse(struct sluice_flow *f, uint8_t hook)
{
	uint8_t a[16];
	uint16_t port;

	memcpy(a, f->src, sizeof(a));
	memcpy(f->src, f->dst, sizeof(a));
	memcpy(f->dst, a, sizeof(a));
	port = f->sport;
	f->sport = f->dport;
	f->dport = port;
	if (hook == NF_INET_LOCAL_IN)
		f->direction = SLUICE_DIR_OUT;
	else if (hook == NF_INET_LOCAL_OUT)
		f->direction = SLUICE_DIR_IN;
}
