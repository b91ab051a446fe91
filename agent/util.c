// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/util.h"

void sluice_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sluice_said_news(struct sluice_said *s, const char *text)
{
	if (!strncmp(s->text, text, sizeof(s->text) - 1))
		return 0;
	snprintf(s->text, sizeof(s->text), "%s", text);
	return 1;
}

int sluice_said_clear(struct sluice_said *s)
{
	int said = s->text[0] != '\0';

	s->text[0] = '\0';
	return said;
}
