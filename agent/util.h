/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the agent's units. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>

/* Write one sentence into @err (may be NULL or empty: then nothing). */
void sluice_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * What a failure that recurs at every try (a reload, a metrics write, a
 * decision log batch) said last, so that the agent's log gets one line
 * per new error and not one per try.
 */
struct sluice_said {
	char text[512];
};

/* 1 when @text is news (not what was said last), remembered from now on. */
int sluice_said_news(struct sluice_said *s, const char *text);

/* The failure is over: returns 1 when it had been said, and forgets it. */
int sluice_said_clear(struct sluice_said *s);

#endif
