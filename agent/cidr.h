/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CIDR prefixes: parsing the text people write in rules.src and rules.dst,
 * and testing an address against a parsed prefix on the hot path.
 */
#ifndef SLUICE_CIDR_H
#define SLUICE_CIDR_H

#include <stdbool.h>
#include <stdint.h>

/* A parsed prefix; the bytes after plen bits are zero. */
struct sluice_cidr {
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 */
	uint8_t plen;		/* 0..32 for IPv4, 0..128 for IPv6 */
	uint8_t family;		/* AF_INET or AF_INET6 */
};

/*
 * Parse "ADDR" or "ADDR/PLEN" (IPv4 dotted quad or any inet_pton IPv6 form).
 * ADDR alone means a single host. PLEN is decimal without leading zeros.
 * Host bits past PLEN are cleared, so "10.1.2.3/8" is 10.0.0.0/8.
 * Returns 0, or -1 with *why set to a static phrase that completes
 * "... is not a CIDR: <why>".
 */
int sluice_cidr_parse(const char *text, struct sluice_cidr *out, const char **why);

/* Is addr (family, network byte order) inside c? Different families: no. */
bool sluice_cidr_contains(const struct sluice_cidr *c, int family, const uint8_t addr[16]);

#endif
