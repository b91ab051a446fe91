/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the agent's units. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>

/* Write one sentence into @err (may be NULL or empty: then nothing). */
void sluice_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
