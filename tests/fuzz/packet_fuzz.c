// SPDX-License-Identifier: GPL-2.0
/*
 * Queued packets as NFQUEUE copies them (from the IP header on, possibly
 * cut short): sluice_packet_parse() and sluice_packet_payload().
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
	long off;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = sluice_packet_parse(pkt, len, &f);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		FUZZ_CHECK(f.family == AF_INET || f.family == AF_INET6);
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
