// SPDX-License-Identifier: GPL-2.0
/* CIDR prefixes: see cidr.h. */
#include "agent/cidr.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* Strict decimal 0..max without sign, spaces or leading zeros. */
static int parse_plen(const char *s, unsigned int max, uint8_t *out)
{
	unsigned int v = 0;
	const char *p;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 3)
			return -1;
		v = v * 10 + (unsigned int)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

int sluice_cidr_parse(const char *text, struct sluice_cidr *out, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int bits;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = "no address before the prefix length";
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	out->family = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, addr, out->addr) != 1) {
		*why = out->family == AF_INET ?
			"the IPv4 address is malformed" :
			"the IPv6 address is malformed";
		return -1;
	}
	bits = out->family == AF_INET ? 32 : 128;
	out->plen = (uint8_t)bits;
	if (slash && parse_plen(slash + 1, bits, &out->plen) < 0) {
		*why = out->family == AF_INET ?
			"the prefix length is not 0..32" :
			"the prefix length is not 0..128";
		return -1;
	}
	/* Clear host bits so that contains() can compare masked bytes. */
	for (bits = out->plen; bits < 128; bits++)
		out->addr[bits / 8] &= (uint8_t)~(0x80u >> (bits % 8));
	return 0;
}

bool sluice_cidr_contains(const struct sluice_cidr *c, int family, const uint8_t addr[16])
{
	unsigned int whole = c->plen / 8, rest = c->plen % 8;

	if (family != c->family)
		return false;
	if (memcmp(c->addr, addr, whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((addr[whole] ^ c->addr[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}
