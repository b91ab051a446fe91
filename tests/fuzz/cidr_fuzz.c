// SPDX-License-Identifier: GPL-2.0
/*
 * CIDR text as people type it into rules.src / rules.dst:
 * sluice_cidr_parse(). A parsed prefix has no host bits, contains its own
 * address, and prints back to text that parses to the same prefix.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "agent/cidr.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1);
	char addr[INET6_ADDRSTRLEN], again[INET6_ADDRSTRLEN + 8];
	struct sluice_cidr c, d;
	const char *why = NULL;
	unsigned int bits;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, len);
	text[len] = '\0';
	if (sluice_cidr_parse(text, &c, &why) == 0) {
		FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6);
		FUZZ_CHECK(c.plen <= (c.family == AF_INET ? 32 : 128));
		for (bits = c.plen; bits < 128; bits++)
			FUZZ_CHECK(!(c.addr[bits / 8] & (0x80u >> (bits % 8))));
		FUZZ_CHECK(sluice_cidr_contains(&c, c.family, c.addr));
		FUZZ_CHECK(!sluice_cidr_contains(&c, c.family == AF_INET ? AF_INET6 : AF_INET,
						 c.addr));
		FUZZ_CHECK(inet_ntop(c.family, c.addr, addr, sizeof(addr)) != NULL);
		snprintf(again, sizeof(again), "%s/%u", addr, c.plen);
		FUZZ_CHECK(sluice_cidr_parse(again, &d, &why) == 0);
		FUZZ_CHECK(d.family == c.family && d.plen == c.plen &&
			   memcmp(d.addr, c.addr, 16) == 0);
	} else {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
	}
	free(text);
	return 0;
}
