// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's small helpers: a failure that recurs at every try is news
 * once per new error, and again after it was over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/util.h"

static void a_recurring_error_is_news_once(void **state)
{
	struct sluice_said s = { 0 };
	char longer[600];

	(void)state;
	/* Nothing failing, nothing said: "" is never news. */
	assert_int_equal(sluice_said_news(&s, ""), 0);
	assert_int_equal(sluice_said_clear(&s), 0);

	assert_int_equal(sluice_said_news(&s, "disk full"), 1);
	assert_int_equal(sluice_said_news(&s, "disk full"), 0);
	assert_int_equal(sluice_said_news(&s, "disk full"), 0);
	/* A different error while failing is news, once. */
	assert_int_equal(sluice_said_news(&s, "I/O error"), 1);
	assert_int_equal(sluice_said_news(&s, "I/O error"), 0);
	/* Over: said, and the same error again later is news again. */
	assert_int_equal(sluice_said_clear(&s), 1);
	assert_int_equal(sluice_said_clear(&s), 0);
	assert_int_equal(sluice_said_news(&s, "I/O error"), 1);

	/* An error longer than what is kept is still said once, not at every try. */
	memset(longer, 'e', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(sluice_said_news(&s, longer), 1);
	assert_int_equal(sluice_said_news(&s, longer), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_recurring_error_is_news_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
