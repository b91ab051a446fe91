/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzz targets share: a check that aborts (so libFuzzer keeps
 * the input as a crash) with the condition that failed, and exact-size
 * heap copies so AddressSanitizer catches a read one byte too far.
 */
#ifndef SLUICE_FUZZ_CHECK_H
#define SLUICE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

static inline unsigned char *fuzz_copy(const unsigned char *data, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	FUZZ_CHECK(p != NULL);
	if (len)
		memcpy(p, data, len);
	return p;
}

#endif
