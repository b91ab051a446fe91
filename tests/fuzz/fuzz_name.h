/* SPDX-License-Identifier: GPL-2.0 */
/* For targets that link agent/dns.c: a name handed out is in normal form. */
#ifndef SLUICE_FUZZ_NAME_H
#define SLUICE_FUZZ_NAME_H

#include "agent/dns.h"
#include "tests/fuzz/fuzz_check.h"

/* @name is "" or a normalized name: normalizing it again changes nothing. */
static inline void fuzz_check_name(const char *name)
{
	char again[SLUICE_DNS_NAME_BUF];
	size_t n = strlen(name);

	FUZZ_CHECK(n <= 253);
	if (n)
		FUZZ_CHECK(sluice_dns_name_normalize(name, n, again, sizeof(again)) == (int)n &&
			   strcmp(again, name) == 0);
}

#endif
