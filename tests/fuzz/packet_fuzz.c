// SPDX-License-Identifier: GPL-2.0
/*
 * Queued packets as NFQUEUE copies them (from the IP header on, possibly
 * cut short): sluice_packet_parse(), sluice_packet_transport() and
 * sluice_packet_payload().
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "agent/packet.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *pkt = fuzz_copy(data, len);
	struct sluice_flow f;
	uint8_t proto;
	long off;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = sluice_packet_parse(pkt, len, &f);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == SLUICE_PACKET_CUT);
	if (rc >= 0)
		FUZZ_CHECK(f.family == AF_INET || f.family == AF_INET6);
	if (rc == SLUICE_PACKET_CUT)
		FUZZ_CHECK(f.sport == 0 && f.dport == 0);
	off = sluice_packet_transport(pkt, len, &proto);
	FUZZ_CHECK(off == -1 || (off >= 0 && off + 4 <= (long)len));
	if (off >= 0)	/* the header the parse read its ports from */
		FUZZ_CHECK(rc == 0 && proto == f.proto);
	off = sluice_packet_payload(pkt, len);
	FUZZ_CHECK(off >= -1 && off <= (long)len);
	if (off >= 0) {
		/* A payload means a TCP or UDP header the parse saw too. */
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP);
		FUZZ_CHECK(off >= (f.family == AF_INET ? 28 : 48));
	}
	free(pkt);
	return 0;
}
