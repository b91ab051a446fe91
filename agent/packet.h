/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bytes of a queued packet, as NFQUEUE hands them over (starting at
 * the IP header), turned into the fields a policy matches on. Hostile
 * input: every length is checked against what was actually copied.
 */
#ifndef SLUICE_PACKET_H
#define SLUICE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "agent/flow.h"

/* sluice_packet_parse(): the copy ends before the flow's ports. */
#define SLUICE_PACKET_CUT	1

/*
 * Fill family, proto, src, dst, sport and dport of @f from @pkt. IPv6
 * extension headers are stepped over as the kernel's conntrack does
 * (ipv6_skip_exthdr(): hop-by-hop, routing, destination options,
 * fragment, authentication, any number of them), so that the flow judged
 * is the flow conntrack keeps the verdict in. Ports stay 0 for protocols
 * without them and for non-first fragments. Returns 0; SLUICE_PACKET_CUT
 * when the copy ends before the end of the header chain or the ports of
 * its protocol (family and addresses are filled, the header reached is in
 * proto): which flow it is cannot be known; or -1 when @pkt is not an
 * IPv4 or IPv6 packet at all (too short, wrong version, bad header length).
 */
int sluice_packet_parse(const uint8_t *pkt, size_t len, struct sluice_flow *f);

/*
 * Offset of the transport header of @pkt, behind IPv6 extension headers
 * as sluice_packet_parse() finds it, and its protocol in @proto; -1 when
 * the copy does not hold its ports (or it has none: a later fragment).
 */
long sluice_packet_transport(const uint8_t *pkt, size_t len, uint8_t *proto);

/* Offset of the transport payload (TCP/UDP data) in @pkt, or -1. */
long sluice_packet_payload(const uint8_t *pkt, size_t len);

/* TCP flags of struct sluice_tcp_info.flags. */
#define SLUICE_TCP_FIN	0x01
#define SLUICE_TCP_SYN	0x02
#define SLUICE_TCP_RST	0x04

/*
 * The sequence number of the first payload byte of the TCP segment @pkt
 * (a SYN's own number counts one), and its flags. 0, or -1 when @pkt is
 * not a TCP segment whose header was copied whole.
 */
int sluice_packet_tcp(const uint8_t *pkt, size_t len, uint32_t *seq, uint8_t *flags);

/*
 * Turn the fields parsed from a packet against its flow (a reply, seen at
 * NF_INET_* @hook) into the flow's: addresses and ports swapped, and the
 * direction of the flow rather than of the packet.
 */
void sluice_flow_reverse(struct sluice_flow *f, uint8_t hook);

#endif
