// SPDX-License-Identifier: GPL-2.0
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* After netinet/in.h, so that linux/in.h leaves its definitions alone. */
#include <linux/netfilter.h>

#include "agent/packet.h"

/*
 * The IPv6 extension headers that conntrack steps over to find the flow
 * (ipv6_skip_exthdr()), and only those: the agent judges the flow whose
 * conntrack entry keeps the verdict, so it reads the chain as the kernel
 * does.
 */
static int ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_AH;
}

/* transport_offset()'s *ports. */
#define PORTS_NONE	0	/* a later fragment: the ports are elsewhere */
#define PORTS_HERE	1	/* at the offset, if the protocol has them */
#define PORTS_CUT	2	/* the copy ends before the chain does */

/*
 * Returns the offset of the transport header, or -1 when the packet is not
 * IP. *proto gets the transport protocol (or the header where the copy
 * ended), *ports one of PORTS_*.
 */
static long transport_offset(const uint8_t *pkt, size_t len, uint8_t *proto,
			     int *family, int *ports)
{
	*ports = PORTS_HERE;
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
			*ports = PORTS_NONE;
		return (long)ihl;
	}
	case 6: {
		size_t off = 40;
		uint8_t nh;

		if (len < 40)
			return -1;
		*family = AF_INET6;
		nh = pkt[6];
		/*
		 * No limit on their number but the copy: conntrack has none,
		 * and each header takes 8 bytes at least, so the copy bounds
		 * the walk.
		 */
		while (ipv6_is_ext(nh)) {
			uint8_t next;

			if (off + 8 > len) {
				*ports = PORTS_CUT;
				break;
			}
			next = pkt[off];
			if (nh == IPPROTO_FRAGMENT) {
				uint16_t fo = (uint16_t)(pkt[off + 2] << 8 |
							 pkt[off + 3]);

				off += 8;
				nh = next;
				/* What follows a later fragment is data. */
				if (fo & 0xfff8) {
					*ports = PORTS_NONE;
					break;
				}
				continue;
			}
			if (nh == IPPROTO_AH)	/* RFC 4302: 4-byte words, less 2 */
				off += ((size_t)pkt[off + 1] + 2) * 4;
			else
				off += ((size_t)pkt[off + 1] + 1) * 8;
			nh = next;
		}
		*proto = nh;
		return (long)off;
	}
	default:
		return -1;
	}
}

/* Does @proto carry ports in its first 4 bytes? */
static int has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP;
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

	if (ports == PORTS_CUT)
		return SLUICE_PACKET_CUT;
	if (ports == PORTS_NONE || !has_ports(f->proto))
		return 0;
	if ((size_t)off + 4 > len)
		return SLUICE_PACKET_CUT;
	f->sport = (uint16_t)(pkt[off] << 8 | pkt[off + 1]);
	f->dport = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
	return 0;
}

long sluice_packet_transport(const uint8_t *pkt, size_t len, uint8_t *proto)
{
	int family, ports;
	long off = transport_offset(pkt, len, proto, &family, &ports);

	if (off < 0 || ports != PORTS_HERE || (size_t)off + 4 > len)
		return -1;
	return off;
}

long sluice_packet_payload(const uint8_t *pkt, size_t len)
{
	uint8_t proto;
	long off;
	size_t hl;

	off = sluice_packet_transport(pkt, len, &proto);
	if (off < 0)
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
	long off = sluice_packet_transport(pkt, len, &proto);
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
